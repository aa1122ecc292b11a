#!/usr/bin/env bash
# `make bench` (docs/BENCHMARKS.md): builds bench/bench.c against the staged library, then
# scripts/bench.py runs it workload by workload, alternating with PyTorch and ONNX Runtime from
# build/bench-venv (`make bench-setup`) when that exists. Not a test: nothing here fails on timing.
#
#     scripts/bench.sh [--quick] [--rounds N] [--threads 1,2] [--workloads w1,w4,...] [--w7]
#     scripts/bench.sh --ours-only [--quick]    the previous single table, ours alone, one process
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
cc -std=c99 -O2 -Wall -Wextra -Iinclude -o build/bench/bench bench/bench.c -Lbuild/lib -Wl,-rpath,"$PWD/build/lib" -lautoencoders -lm
if [ "${1:-}" = "--ours-only" ]; then
    shift
    exec build/bench/bench data "$@"
fi
exec python3 scripts/bench.py "$@"
