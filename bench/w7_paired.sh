#!/usr/bin/env bash
# W7 (docs/BENCHMARKS.md): ours (bench/bench.c --w7) and PyTorch (bench/pytorch_w7.py) measured
# alternately in the same window, ROUNDS rounds at 1 and 2 threads, so that the load of a shared
# machine falls on both alike. Needs `make library` and PyTorch in build/bench-venv
# (python3 -m venv build/bench-venv && build/bench-venv/bin/pip install torch numpy), or in $PYTHON.
#
#     bench/w7_paired.sh [ROUNDS] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
epochs=${2:-3}
mkdir -p build/bench
cc -std=c99 -O2 -Wall -Wextra -Iinclude -o build/bench/bench bench/bench.c -Lbuild/lib -Wl,-rpath,"$PWD/build/lib" -lautoencoders -lm
for round in $(seq "$rounds"); do
    for threads in 1 2; do
        build/bench/bench --w7 "$threads" "$epochs"
        "${PYTHON:-build/bench-venv/bin/python}" bench/pytorch_w7.py "$threads" "$epochs"
    done
done
