"""Just enough TIFF to find a slide's level-0 tiles: where each tile's
compressed bytes lie in the file (classic TIFF and BigTIFF, either byte
order). The corrupt trials damage those bytes and nothing else."""

import struct

TYPES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}
IMAGE_WIDTH, IMAGE_LENGTH = 256, 257
TILE_WIDTH, TILE_LENGTH, TILE_OFFSETS, TILE_BYTE_COUNTS = 322, 323, 324, 325


class Level0:
    """Level 0 of a tiled TIFF: its size, tile size and each tile's bytes."""

    def __init__(self, width, height, tile_w, tile_h, offsets, counts):
        self.width, self.height = width, height
        self.tile_w, self.tile_h = tile_w, tile_h
        self.offsets, self.counts = offsets, counts

    @property
    def across(self):
        return -(-self.width // self.tile_w)

    def tile_rect(self, i):
        """(x0, y0, x1, y1) in level-0 pixels of tile `i`."""
        r, c = divmod(i, self.across)
        return (c * self.tile_w, r * self.tile_h, (c + 1) * self.tile_w, (r + 1) * self.tile_h)


def read_level0(path):
    with open(path, "rb") as f:
        data = f.read()
    order = {b"II": "<", b"MM": ">"}[data[:2]]
    magic = struct.unpack(order + "H", data[2:4])[0]
    if magic == 42:
        ifd = struct.unpack(order + "I", data[4:8])[0]
        count_fmt, entry_size, value_size = "H", 12, 4
    elif magic == 43:
        ifd = struct.unpack(order + "Q", data[8:16])[0]
        count_fmt, entry_size, value_size = "Q", 20, 8
    else:
        raise ValueError(f"{path}: not a TIFF (magic {magic})")
    n = struct.unpack_from(order + count_fmt, data, ifd)[0]
    start = ifd + struct.calcsize(count_fmt)
    tags = {}
    for k in range(n):
        at = start + k * entry_size
        tag, typ = struct.unpack_from(order + "HH", data, at)
        count = struct.unpack_from(order + ("I" if magic == 42 else "Q"), data, at + 4)[0]
        if typ not in TYPES:
            continue
        fmt, size = TYPES[typ]
        value_at = at + 4 + (4 if magic == 42 else 8)
        if count * size > value_size:
            value_at = struct.unpack_from(order + ("I" if magic == 42 else "Q"), data, value_at)[0]
        tags[tag] = list(struct.unpack_from(order + fmt * count, data, value_at))
    if TILE_OFFSETS not in tags:
        raise ValueError(f"{path}: level 0 is not tiled")
    return Level0(tags[IMAGE_WIDTH][0], tags[IMAGE_LENGTH][0], tags[TILE_WIDTH][0],
                  tags[TILE_LENGTH][0], tags[TILE_OFFSETS], tags[TILE_BYTE_COUNTS])
