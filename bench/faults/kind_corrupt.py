"""corrupt: damage one input or output of a run, the way a bad disk or a bad
copy does, and demand that slidescale either says so or is unaffected —
never a different heatmap with exit 0.

* slide: a copy of the slide with 4 KiB of one level-0 tile's JPEG data
  zeroed, one bit flipped in each of 50 bytes of one tile, or the file cut
  inside a tile. `run` must fail with a clear error naming the slide and
  leave no store, or (the damage missed every byte that matters) give the
  reference heatmap.
* store: a finished work directory whose store has one bit flipped in one
  tile chunk, or is cut short (modification time kept, as bit rot keeps
  it). `status --verify` must report it; with that group's result deleted,
  `process` of the group must fail or reproduce the reference result, and
  `run --resume` fail or give the reference heatmap.
* result: one group result of a finished run has a bit flipped in its data,
  a NaN written over a score, or is cut short (time kept). `status --verify`
  must report it, `stitch` must refuse or give the reference heatmap, and
  `run --resume` must recompute it: exit 0, the reference result and heatmap.
"""

import os
import shutil
import struct

import h5py
import numpy as np

from common import copy_work, keep_mtime
from tiff import read_level0

SLIDE_DAMAGE = ("zero4k", "flip50", "truncate")
BAD_INPUT = 65


def run_trial(t):
    target = t.rng.choice(("slide", "store", "result"))
    {"slide": corrupt_slide, "store": corrupt_store, "result": corrupt_result}[target](t)


# --- slide -----------------------------------------------------------------

def tiles_read(t, level0):
    """Indices of the level-0 TIFF tiles that some tissue tile's 448×448
    context reaches: damage there changes pixels split reads."""
    with h5py.File(t.ref.work / f"{t.ref.name}.h5", "r") as f:
        mask = f["tissue_mask"][()]
    hit = set()
    for r, c in zip(*np.nonzero(mask)):
        x0, y0 = 224 * c - 112, 224 * r - 112
        for ty in range(max(0, y0) // level0.tile_h, (y0 + 448 - 1) // level0.tile_h + 1):
            for tx in range(max(0, x0) // level0.tile_w, (x0 + 448 - 1) // level0.tile_w + 1):
                if tx < level0.across:
                    hit.add(ty * level0.across + tx)
    return sorted(i for i in hit if i < len(level0.offsets) and level0.counts[i] > 0)


def damage_slide(t, path, how):
    level0 = read_level0(path)
    read = tiles_read(t, level0)
    if read and t.rng.random() < 0.8:
        tile = t.rng.choice(read)
    else:
        tile = t.rng.choice([i for i, n in enumerate(level0.counts) if n > 0])
    start, count = level0.offsets[tile], level0.counts[tile]
    t.note(f"slide {how} in level-0 tile {tile} ({'tissue' if tile in read else 'not read'})")
    if how == "truncate":
        os.truncate(path, start + t.rng.randrange(count))
        return
    with open(path, "r+b") as f:
        if how == "zero4k":
            n = min(4096, count)
            at = start + t.rng.randrange(count - n + 1)
            f.seek(at)
            f.write(bytes(n))
        else:
            for at in t.rng.sample(range(start, start + count), min(50, count)):
                f.seek(at)
                byte = f.read(1)[0]
                f.seek(at)
                f.write(bytes([byte ^ (1 << t.rng.randrange(8))]))


def corrupt_slide(t):
    slide = t.dir / t.ss.slide.name
    shutil.copyfile(t.ss.slide, slide)
    damage_slide(t, slide, t.rng.choice(SLIDE_DAMAGE))
    work = t.dir / "work"
    r = t.ss.run(t.ss.run_argv(work, slide=slide))
    store = work / f"{t.ref.name}.h5"
    if r.rc == 0:
        diff = t.heatmap_difference(work)
        t.expect(diff is None, "a clear error naming the slide, or (the damage missed every byte "
                 "that matters) the reference heatmap", f"exit 0 and a different heatmap: {diff}")
        t.note("no effect" if diff is None else "silently different")
    else:
        t.note(f"refused, {r.describe().split(':')[0]}")
        t.expect(r.rc == BAD_INPUT, f"exit {BAD_INPUT} (bad input: do not retry)", r.describe())
        t.expect(slide.name in r.err or t.ref.name in r.err,
                 "the error to name the slide", r.describe())
        t.expect(not store.exists(), "no store of the damaged slide",
                 f"{store.name} was written")
    if work.exists():
        t.expect_readable(work, "after `run` on the damaged slide")


# --- store -----------------------------------------------------------------

def flip_chunk_bit(t, store, group):
    with h5py.File(store, "r") as f:
        ds = f[f"groups/{group:06d}/tiles"]
        chunk = t.rng.randrange(ds.id.get_num_chunks())
        info = ds.id.get_chunk_info(chunk)
    at = info.byte_offset + t.rng.randrange(info.size)
    bit = t.rng.randrange(8)
    with open(store, "r+b") as f:
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ (1 << bit)]))
    t.note(f"bit {bit} of byte {at - info.byte_offset}/{info.size} of tile chunk {chunk}")


def corrupt_store(t):
    work = t.dir / "work"
    copy_work(t.ref.work, work)
    store = work / f"{t.ref.name}.h5"
    group = t.rng.randint(1, t.ref.n_groups)
    how = t.rng.choice(("bitflip", "truncate"))
    with keep_mtime(store):
        if how == "bitflip":
            t.note(f"store bit flip in group {group}")
            flip_chunk_bit(t, store, group)
        else:
            size = store.stat().st_size
            at = t.rng.randrange(size)
            t.note(f"store cut to {at}/{size} bytes, group {group}")
            os.truncate(store, at)
    t.verify(work, f"in the store ({how})")
    os.remove(work / "results" / t.ref.name / f"{group:06d}.npy")
    shutil.rmtree(work / "heatmaps")
    r = t.ss.run(t.ss.process_argv(store, group))
    if r.rc == 0:
        t.expect_reference_result(work, group, "from `process` of the damaged store (or a refusal)")
    else:
        t.note("process refused")
    r = t.ss.run(t.ss.run_argv(work, extra=["--resume"]))
    if r.rc == 0:
        t.expect_reference_heatmap(work, "from `run --resume` on the damaged store (or a refusal)")
    else:
        t.note("run --resume refused")
    # The damaged store is ours, not slidescale's: unless a rerun replaced
    # it, it is left out of the walk.
    t.expect_readable(work, "after the runs", skip={f"{t.ref.name}.h5"} if r.rc else ())


# --- result ----------------------------------------------------------------

def npy_data_offset(path):
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(f)
        else:
            np.lib.format.read_array_header_2_0(f)
        return f.tell()


def damage_result(t, path, how):
    size = path.stat().st_size
    if how == "truncate":
        at = t.rng.randrange(size)
        t.note(f"cut to {at}/{size} bytes")
        os.truncate(path, at)
        return
    start = npy_data_offset(path)
    with open(path, "r+b") as f:
        if how == "bitflip":
            at = t.rng.randrange(start, size)
            bit = t.rng.randrange(8)
            f.seek(at)
            byte = f.read(1)[0]
            f.seek(at)
            f.write(bytes([byte ^ (1 << bit)]))
            t.note(f"bit {bit} of data byte {at - start}")
        else:
            k = t.rng.randrange((size - start) // 4)
            f.seek(start + 4 * k)
            f.write(struct.pack("<f", float("nan")))
            t.note(f"NaN at score {k}")


def corrupt_result(t):
    work = t.dir / "work"
    copy_work(t.ref.work, work)
    group = t.rng.randint(1, t.ref.n_groups)
    how = t.rng.choice(("bitflip", "nan", "truncate"))
    path = work / "results" / t.ref.name / f"{group:06d}.npy"
    t.note(f"result {how} in group {group}")
    with keep_mtime(path):
        damage_result(t, path, how)
    t.verify(work, f"in a result ({how})")
    store = work / f"{t.ref.name}.h5"
    r = t.ss.run(t.ss.stitch_argv(store))
    if r.rc == 0:
        t.expect_reference_heatmap(work, "from `stitch` over the damaged result (or a refusal)")
    else:
        t.note("stitch refused")
    r = t.ss.run(t.ss.run_argv(work, extra=["--resume"]))
    t.expect_success(r, "`run --resume` to recompute the damaged result")
    t.expect_reference_result(work, group, "after `run --resume`")
    t.expect_reference_heatmap(work, "after `run --resume`")
    t.expect_readable(work, "after `run --resume`")
