#!/usr/bin/env bash
# Prints the benchmark figures (docs/BENCHMARKS.md). Not a test: nothing here fails on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
cc -std=c99 -O2 -Wall -Wextra -Iinclude -o build/bench/bench bench/bench.c -Lbuild/lib -Wl,-rpath,"$PWD/build/lib" -lautoencoders -lm
build/bench/bench data "$@"
