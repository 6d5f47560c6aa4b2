"""Slides for the resolution tests, made from CMU-1-Small-Region.svs.

usage: make_slides.py CMU.svs OUTDIR

flat.tif     CMU's level 0 (RGBA composited on white), one level, lossless
             (deflate, 256-px tiles), 0.499 µm/px in its resolution tags;
double.tif   the same pixels repeated 2x2 (nearest upsampling), 0.2495 µm/px:
             a slide at twice the resolution whose 2x box average is CMU;
pyramid.tif  flat.tif with a libvips pyramid: levels 1110x1483, 555x741, ...
             (OpenSlide's level-1 downsample is 2.000337, the mean of
             2220/1110 and 2967/1483);
even.tif     CMU cropped to 2048x2944 with a libvips pyramid: every level
             downsample a power of two exactly.
"""
import subprocess
import sys

import numpy as np
import openslide
import tifffile

src, out = sys.argv[1], sys.argv[2]
slide = openslide.OpenSlide(src)
rgba = np.asarray(slide.read_region((0, 0), 0, slide.dimensions))
a = rgba[..., 3:4].astype(np.float32) / 255.0
rgb = np.rint(rgba[..., :3] * a + 255.0 * (1 - a)).astype(np.uint8)
mpp = float(slide.properties["openslide.mpp-x"])


def save(path, image, mpp):
    px_per_cm = 1e4 / mpp
    tifffile.imwrite(path, image, tile=(256, 256), compression="zlib", photometric="rgb",
                     resolution=(px_per_cm, px_per_cm), resolutionunit="CENTIMETER")


save(f"{out}/flat.tif", rgb, mpp)
save(f"{out}/double.tif", rgb.repeat(2, axis=0).repeat(2, axis=1), mpp / 2)
def pyramid(src, dst):
    subprocess.run(["vips", "tiffsave", src, dst, "--tile", "--pyramid", "--compression",
                    "deflate", "--tile-width", "256", "--tile-height", "256"], check=True)


pyramid(f"{out}/flat.tif", f"{out}/pyramid.tif")
save(f"{out}/even-flat.tif", rgb[:2944, :2048], mpp)
pyramid(f"{out}/even-flat.tif", f"{out}/even.tif")
print(mpp)
