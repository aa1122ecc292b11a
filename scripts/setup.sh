#!/usr/bin/env bash
# Installs what building, testing and the demo need on a fresh Debian machine (run as root, or
# with sudo available): OpenBLAS, valgrind, and numpy + Pillow for the demo's pictures.
# The Swift toolchain (6.x) must already be on PATH.
set -euo pipefail

need_apt=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || need_apt+=(libopenblas-dev)
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc g++)
if [ ${#need_apt[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 -c "import numpy, PIL" 2>/dev/null || python3 -m pip install --quiet numpy pillow
python3 -c "import pytest" 2>/dev/null || python3 -m pip install --quiet pytest

command -v swift >/dev/null 2>&1 || { echo "setup: swift is not on PATH (Swift 6.x is required)" >&2; exit 1; }
echo "setup: ready (OpenBLAS $(dpkg -s libopenblas-dev | awk '/^Version/ {print $2}'), $(swift --version 2>&1 | head -n 1))"
