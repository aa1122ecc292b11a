#!/usr/bin/env bash
# `make bench-startup` (docs/BENCHMARKS.md, "Start-up and memory"): where the cold start's
# milliseconds and W1 training's MiB go, stage by stage (bench/startup.c), with OpenBLAS as the
# environment sets it and again with OPENBLAS_NUM_THREADS=1; then bench's own two figures (cold
# start, median of 7 processes; peak RSS of a W1 training child). Figures only, never a test.
#
#     bench/startup.sh [RUNS]        (default 51 processes per configuration)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-51}
mkdir -p build/bench
cc -std=c11 -O2 -Wall -Wextra -Iinclude -o build/bench/startup bench/startup.c -ldl
cc -std=c99 -O2 -Wall -Wextra -Iinclude -o build/bench/bench bench/bench.c -Lbuild/lib -Wl,-rpath,"$PWD/build/lib" -lautoencoders -lm
library=$PWD/build/lib/libautoencoders.so.0
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(build/bench/bench --info)"
echo
build/bench/startup --library "$library" --runs "$runs" --data data
echo
OPENBLAS_NUM_THREADS=1 build/bench/startup --library "$library" --runs "$runs"
echo
build/bench/bench data --workload cold-start 1
build/bench/bench data --workload peak-memory 1
