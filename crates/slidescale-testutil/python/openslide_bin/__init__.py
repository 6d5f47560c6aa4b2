"""Test-only stand-in for the openslide-bin package, so the Python references
read slides with the same OpenSlide library as slidescale under test.

openslide-python loads ``openslide_bin.libopenslide1`` before any system
library. When ``SLIDESCALE_OPENSLIDE`` names a library (e.g. Debian's 3.4.1),
``slidescale_testutil::run_python`` puts this folder first on PYTHONPATH, so
both sides load that file; without it, both load the real openslide-bin's.
"""

import ctypes
import os

libopenslide1 = ctypes.CDLL(os.environ["SLIDESCALE_OPENSLIDE"])
