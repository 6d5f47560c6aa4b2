#!/usr/bin/env bash
# Install everything slidescale needs to build, run and test on Debian 12:
# system libraries (apt), a Python venv at .venv with the reference packages,
# and ONNX Runtime's shared library where slidescale looks for it.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[setup] %s\n' "$*" >&2; }

# r-cran-proc: R's pROC, the reference for the AUC confidence interval (DeLong).
# libopenslide0: the system OpenSlide 3.4.1, slidescale's last fall-back.
# libturbojpeg0: wsidicomizer's JPEG library (the DICOM test makes its slide).
APT_PKGS=(pkg-config libopenslide-dev libopenslide0 libturbojpeg0 libhdf5-dev libvips-tools python3-venv python3-pip r-base-core r-cran-proc)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
if ! cmp -s scripts/requirements-dev.txt .venv/.requirements-installed; then
  log "pip install -r scripts/requirements-dev.txt"
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-dev.txt
  cp scripts/requirements-dev.txt .venv/.requirements-installed
fi

# Link (copy) SRC into slidescale's install location as NAME when it differs.
LIBDIR=${SLIDESCALE_HOME:-$HOME/.local/share/slidescale}/lib
mkdir -p "$LIBDIR"
install_lib() {
  local src=$1 name=$2
  if ! cmp -s "$src" "$LIBDIR/$name"; then
    cp -f "$src" "$LIBDIR/$name.$$.partial"
    mv -f "$LIBDIR/$name.$$.partial" "$LIBDIR/$name"
    log "$name installed at $LIBDIR/$name"
  fi
}

# ONNX Runtime: slidescale loads libonnxruntime.so at run time (ort's
# load-dynamic). Its own install location is $SLIDESCALE_HOME/lib
# (default ~/.local/share/slidescale/lib); link the wheel's library there.
ORT_SRC=$(ls "$ROOT"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -1)
install_lib "$ORT_SRC" libonnxruntime.so

# OpenSlide 4 (DICOM): slidescale loads libopenslide at run time too, from
# the same place ahead of the system's 3.4.1. The openslide-bin wheel ships
# one self-contained libopenslide.so.1 (its dependencies are linked in).
OS_SRC=$(ls "$ROOT"/.venv/lib/python3*/site-packages/openslide_bin/libopenslide.so.1 | head -1)
install_lib "$OS_SRC" libopenslide.so.1
