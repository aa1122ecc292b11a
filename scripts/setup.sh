#!/usr/bin/env bash
# Installs what building, testing and the demo need on a fresh Debian machine (run as root, or
# with sudo available): OpenBLAS, valgrind, and numpy + Pillow + pytest for the pictures and the
# Python tests. The Swift toolchain (6.x) must already be on PATH.
#
# Python packages go where the `python3` on PATH (the one the Makefile and the scripts call) finds
# them: nowhere if it already imports them; from Debian's packages when it is Debian's own
# /usr/bin/python3, which refuses pip (PEP 668, "externally managed"); with pip otherwise (a
# pyenv, conda or venv python).
set -euo pipefail

# Debian packages needed, each added only when missing. Extend `need_apt` for a new suite.
need_apt=()
need_package() { dpkg -s "$1" >/dev/null 2>&1 || need_apt+=("$1"); }
need_package libopenblas-dev
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc g++)
# The install suite (Tests/install): pkg-config and CMake consumers of `make install`.
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
# The distributed suite (docs/DISTRIBUTED.md): Open MPI's mpirun and mpicc.
need_package openmpi-bin
need_package libopenmpi-dev

# Python: numpy, Pillow, pytest.
python=$(command -v python3 || true)
python_pip=()
managed=0
[ -z "$python" ] || managed=$("$python" -c 'import os, sysconfig; print(int(os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))' 2>/dev/null || echo 0)
if [ -z "$python" ]; then
    need_apt+=(python3 python3-numpy python3-pil python3-pytest)
elif ! "$python" -c "import numpy, PIL, pytest" 2>/dev/null; then
    if [ "$(readlink -f "$python")" = "$(readlink -f /usr/bin/python3)" ] || [ "$managed" = 1 ]; then
        if [ "$(readlink -f "$python")" != "$(readlink -f /usr/bin/python3)" ]; then
            echo "setup: $python is externally managed (PEP 668) and is not Debian's /usr/bin/python3;" \
                 "install numpy, Pillow and pytest for it yourself, or put a venv's python3 first on PATH" >&2
            exit 1
        fi
        need_apt+=(python3-numpy python3-pil python3-pytest)
    else
        python_pip=(numpy pillow pytest)
    fi
fi

# The distributed suite: mpi4py (over Open MPI) and Dask's arrays and distributed scheduler, the
# same way: Debian's packages for Debian's python3, pip for another (mpi4py then compiles against
# libopenmpi-dev, installed above).
if [ -n "$python" ] && ! "$python" -c "import mpi4py, dask.array, distributed" 2>/dev/null; then
    if [ "$(readlink -f "$python")" = "$(readlink -f /usr/bin/python3)" ]; then
        need_apt+=(python3-mpi4py python3-dask python3-distributed)
    elif [ "$managed" != 1 ]; then
        python_pip+=(mpi4py "dask[array]" distributed)
    fi
elif [ -z "$python" ]; then
    need_apt+=(python3-mpi4py python3-dask python3-distributed)
fi

# The interoperability tests (docs/INTEROP.md): onnx and onnxruntime run the ONNX export tests,
# with pip for a pip-capable python3. Debian packages no onnxruntime, so with Debian's own
# python3 those tests skip. torch is not installed: the PyTorch-in tests read a committed
# fixture (scripts/make_torch_interop_fixture.py); only their live variant needs torch.
onnx_pip=0
if [ -n "$python" ] && [ "$managed" != 1 ] && [ "$(readlink -f "$python")" != "$(readlink -f /usr/bin/python3)" ] \
        && ! "$python" -c "import onnx, onnxruntime" 2>/dev/null; then
    python_pip+=(onnx onnxruntime)
    onnx_pip=1
fi

# The install suite makes throwaway venvs (the wheel test, pip from a git URL); Debian's own
# python3 can do so only with python3-venv.
if [ -z "$python" ] || [ "$(readlink -f "$python")" = "$(readlink -f /usr/bin/python3)" ]; then
    need_package python3-venv
fi

if [ ${#need_apt[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ${#python_pip[@]} -gt 0 ]; then
    "$python" -m pip install --quiet "${python_pip[@]}"
fi
python3 -c "import numpy, PIL, pytest" || { echo "setup: $(command -v python3) still cannot import numpy, PIL and pytest" >&2; exit 1; }
python3 -c "import mpi4py, dask.array, distributed" || { echo "setup: $(command -v python3) still cannot import mpi4py, dask.array and distributed" >&2; exit 1; }
[ "$onnx_pip" = 0 ] || python3 -c "import onnx, onnxruntime" || { echo "setup: $(command -v python3) still cannot import onnx and onnxruntime" >&2; exit 1; }
command -v mpirun >/dev/null 2>&1 || { echo "setup: mpirun is not on PATH after installing openmpi-bin" >&2; exit 1; }

command -v swift >/dev/null 2>&1 || { echo "setup: swift is not on PATH (Swift 6.x is required)" >&2; exit 1; }
echo "setup: ready (OpenBLAS $(dpkg -s libopenblas-dev | awk '/^Version/ {print $2}'), $(python3 --version), numpy $(python3 -c 'import numpy; print(numpy.__version__)'), $(swift --version 2>&1 | head -n 1))"
