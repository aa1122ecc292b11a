#!/usr/bin/env bash
# The main job: trains two autoencoders on the fixed MNIST split from C, saves them, reloads them
# from another C program, prints the quality figures against PCA and writes pictures to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/demo
mkdir -p "$out"

echo "== 1. train (examples/c/train_mnist.c)"
examples/c/train_mnist data "$out" "${LINEAR_EPOCHS:-200}" "${DEEP_EPOCHS:-100}"
echo
echo "== 2. reload and evaluate on the 1,000 test images (examples/c/evaluate_mnist.c)"
examples/c/evaluate_mnist data "$out/linear.aem" "$out/deep.aem"
echo
echo "== 3. compare with PCA and draw (scripts/demo_report.py)"
python3 scripts/demo_report.py data "$out"
echo
echo "== 4. the same model from the command-line tool"
build/bin/autoencoders inspect --model "$out/deep.aem" | head -n 12
