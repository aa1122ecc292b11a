#!/usr/bin/env bash
# W2 (docs/BENCHMARKS.md): ours (bench/bench.c --w2) and PyTorch (bench/pytorch_w2.py) measured
# alternately in the same window, ROUNDS rounds at 1 and 2 threads, so that the load of a shared
# machine falls on both alike; every line carries the load average. Needs `make library` and
# PyTorch + numpy in the Python named by $PYTHON (default build/bench-venv/bin/python).
#
#     bench/w2_paired.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
python=${PYTHON:-build/bench-venv/bin/python}
mkdir -p build/bench
cc -std=c99 -O2 -Wall -Wextra -Iinclude -o build/bench/bench bench/bench.c -Lbuild/lib -Wl,-rpath,"$PWD/build/lib" -lautoencoders -lm
for round in $(seq "$rounds"); do
    for threads in 1 2; do
        build/bench/bench --w2 "$threads" 1 data
        "$python" bench/pytorch_w2.py --threads "$threads" --repeats 1
    done
done
