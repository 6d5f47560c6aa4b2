"""Reference side of tests/masks.rs (run by the test, not by hand).

  reference REFDIR OUT TIFF...          the CAMELYON16 script's
      computeEvaluationMask / computeITCList on each TIFF, plus what
      OpenSlide and tifffile see: OUT/NAME.labels (uint32), OUT/NAME.ch0
      (channel 0 of level 5 as openslide-python reads it), JSON on stdout.
"""
import json
import os
import sys
import types

import numpy as np

LEVEL, MPP = 5, 0.243


def load_reference(refdir):
    os.environ.setdefault("MPLBACKEND", "Agg")
    # The shims the reference README lists for today's NumPy and SciPy.
    np.object = object
    from scipy import ndimage

    if not hasattr(getattr(ndimage, "morphology", None), "binary_fill_holes"):
        ndimage.morphology = types.SimpleNamespace(binary_fill_holes=ndimage.binary_fill_holes)
    sys.path.insert(0, refdir)
    sys.dont_write_bytecode = True  # leave the shared reference folder as it is
    import Evaluation_FROC

    return Evaluation_FROC


def reference(refdir, out, tiffs):
    import openslide
    import tifffile

    ref = load_reference(refdir)
    result = {}
    for path in tiffs:
        name = os.path.splitext(os.path.basename(path))[0]
        labels = ref.computeEvaluationMask(path, MPP, LEVEL)
        itc = ref.computeITCList(labels, MPP, LEVEL)
        labels.astype("<u4").tofile(os.path.join(out, name + ".labels"))
        slide = openslide.open_slide(path)
        dims = slide.level_dimensions[LEVEL]
        ch0 = np.array(slide.read_region((0, 0), LEVEL, dims))[:, :, 0]
        ch0.astype(np.uint8).tofile(os.path.join(out, name + ".ch0"))
        with tifffile.TiffFile(path) as tif:
            pages = [
                {"shape": list(p.shape), "tiled": p.is_tiled, "compression": int(p.compression)}
                for p in tif.pages
            ]
        result[name] = {
            "shape": list(labels.shape),
            "itc": [int(i) for i in itc],
            "max_label": int(labels.max()),
            "openslide_vendor": slide.properties.get("openslide.vendor"),
            "openslide_levels": [list(d) for d in slide.level_dimensions],
            "tifffile_pages": pages,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "reference":
        reference(args[0], args[1], args[2:])
    else:
        sys.exit("unknown command " + command)
