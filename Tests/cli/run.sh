#!/usr/bin/env bash
# End-to-end test of the command-line tool: builds it, trains a small MNIST model, runs every
# subcommand on it and checks exit codes, messages and output files. Prints "N passed, M failed"
# and exits non-zero on any failure. Needs python3 with numpy. Run from anywhere:
#
#     Tests/cli/run.sh
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

echo "building autoencoders-cli (release)..."
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
if ! make -s -C "$(dirname "$0")/../.." swift-release >"$T/build.log" 2>&1; then   # the Makefile's release flags
    cat "$T/build.log"; echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
BIN="$(swift build -c release --product autoencoders-cli --show-bin-path 2>/dev/null)/autoencoders-cli"

passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; sed 's/^/      | /' "$T/err" | head -n 8; }

# run ARGS...: runs the tool with stdout in $T/out and stderr in $T/err (never a terminal); $rc.
run() { "$BIN" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# check NAME EXPECTED_RC [GREP_PATTERN_IN_STDERR]: checks the last run.
check() {
    local name=$1 want=$2 pattern=${3:-}
    if [ "$rc" -ne "$want" ]; then fail "$name (exit $rc, expected $want)"; return; fi
    if [ -n "$pattern" ] && ! grep -qF -- "$pattern" "$T/err"; then fail "$name (stderr lacks '$pattern')"; return; fi
    ok "$name"
}
# assert NAME COMMAND...: passes when the command succeeds.
assert() { local name=$1; shift; if "$@" >"$T/assert" 2>&1; then ok "$name"; else cp "$T/assert" "$T/err"; fail "$name"; fi; }
# shape FILE: the .npy file's shape as "500,28,28".
shape() { python3 -c "import numpy as np, sys; print(','.join(map(str, np.load(sys.argv[1]).shape)))" "$1"; }
has_shape() { [ "$(shape "$1")" = "$2" ]; }

# ---- data -----------------------------------------------------------------------------------
python3 - "$T" <<'PY'
import sys, numpy as np
t = sys.argv[1]
x = np.load("data/mnist5k_train_X.npy")[:500]                    # uint8 [500, 28, 28]
np.save(f"{t}/x.npy", x)
flat = x.reshape(500, -1)[:200].astype(np.float32)
np.savetxt(f"{t}/x.csv", flat, delimiter=",", fmt="%g",
           header=",".join(f"p{i}" for i in range(784)), comments="")   # with a header line
np.savetxt(f"{t}/small.csv", np.random.default_rng(0).random((64, 100), dtype=np.float32), delimiter=",", fmt="%.6f")
bad = x[:10].astype(np.float32); bad[3, 5, 7] = np.nan
np.save(f"{t}/nan.npy", bad)
np.save(f"{t}/wrong.npy", np.zeros((10, 100), np.float32))
PY
SPEC=examples/specs/mnist_dense.json
MODEL="$T/model.aem"

# ---- train ----------------------------------------------------------------------------------
run train --spec "$SPEC" --data "$T/x.npy" --out "$MODEL" --epochs 3 --batch-size 64 --divide-by 255 --validation-split 0.1
check "train: 3 epochs on 500 MNIST rows" 0
assert "train: model file written" test -s "$MODEL"
assert "train: summary names epochs, stop reason, loss, time, samples/s" \
    grep -qE '^epochs +3 of 3 \(completed\)' "$T/out"
assert "train: summary has loss and val_loss" grep -qE '^loss +[0-9.]+, val_loss [0-9.]+$' "$T/out"
assert "train: summary has samples/s" grep -qE '^time +[0-9.]+s \([0-9]+ samples/s\)$' "$T/out"
assert "progress (not a terminal): one plain line per epoch" \
    test "$(grep -cE '^epoch [1-3]/3 loss [0-9.]+ val_loss [0-9.]+ lr 0.001 time [0-9.]+s$' "$T/err")" -eq 3
assert "progress (not a terminal): nothing else, no carriage returns" \
    test "$(wc -l <"$T/err")" -eq 3 -a "$(tr -cd '\r' <"$T/err" | wc -c)" -eq 0

# On a terminal (a pseudo-terminal from script(1), when available): a bar redrawn with "\r", and
# a permanent line per finished epoch (more in new_user.sh).
if command -v script >/dev/null 2>&1; then
    script -qec "'$BIN' train --resume '$MODEL' --data '$T/x.npy' --out '$T/tty.aem' --epochs 2 --batch-size 16" /dev/null >"$T/tty" 2>&1
    rc=$?; cp "$T/tty" "$T/err"
    # The bar is drawn at each epoch's first batch (how far later redraws get depends on timing).
    if [ "$rc" -eq 0 ] && grep -qE "epoch 2/2 \[[#-]+\] +[0-9]+% loss" "$T/tty" \
        && [ "$(tr -cd '\r' <"$T/tty" | wc -c)" -gt 2 ] && grep -qE 'epoch 1/2 loss [0-9.]+ lr' "$T/tty"; then
        ok "progress (terminal): a bar redrawn in place, a line kept per epoch"
    else
        fail "progress (terminal): a bar redrawn in place, a line kept per epoch"
    fi
else
    echo "skip  progress (terminal): script(1) is not installed"
fi

run train --spec "$SPEC" --data "$T/x.npy" --out "$T/quiet.aem" --epochs 1 --divide-by 255 --quiet
check "train --quiet" 0
assert "train --quiet: empty stderr, summary on stdout" test ! -s "$T/err" -a -s "$T/out"

# ---- encode / decode / reconstruct / score ----------------------------------------------------
run encode --model "$MODEL" --data "$T/x.npy" --out "$T/codes.npy"
check "encode" 0
assert "encode: codes of shape [500, 32]" has_shape "$T/codes.npy" "500,32"

run decode --model "$MODEL" --data "$T/codes.npy" --out "$T/decoded.npy"
check "decode" 0
assert "decode: shape [500, 784]" has_shape "$T/decoded.npy" "500,784"

run reconstruct --model "$MODEL" --data "$T/x.npy" --out "$T/xhat.npy"
check "reconstruct" 0
assert "reconstruct: shape [500, 28, 28] (the input's per-sample shape)" has_shape "$T/xhat.npy" "500,28,28"
assert "reconstruct: in pixel units (input scaling undone) and equal to decode(encode(x))" python3 -c "
import numpy as np
r = np.load('$T/xhat.npy'); d = np.load('$T/decoded.npy')
assert 0 <= r.min() and r.max() <= 255 and r.max() > 1, (r.min(), r.max())
assert np.allclose(r.reshape(500, -1), d, atol=1e-3)"

run score --model "$MODEL" --data "$T/x.npy" --out "$T/scores.npy"
check "score" 0
assert "score: prints count, mean, median, p95, max" \
    test "$(grep -cE '^(count +500|(mean|median|p95|max) +[0-9.e+-]+)$' "$T/out")" -eq 5
assert "score: writes [500] scores matching the printed statistics" python3 -c "
import numpy as np
s = np.load('$T/scores.npy'); assert s.shape == (500,)
stats = dict(l.split() for l in open('$T/out'))
assert abs(float(stats['median']) - np.median(s)) <= 1e-5 * max(1, np.median(s))
assert abs(float(stats['p95']) - np.percentile(s, 95)) <= 1e-5 * max(1, np.percentile(s, 95))"

# ---- inspect ---------------------------------------------------------------------------------
run inspect --model "$MODEL"
check "inspect" 0
assert "inspect: epochs, optimizer step, input scaling, parameter table" bash -c "
grep -qE '^epochs completed +3$' '$T/out' && grep -qE '^optimizer +adam, lr 0.001, step 24$' '$T/out' &&
grep -qE '^input scaling +offset \[0, 0,.*scale \[255, 255,' '$T/out' &&
grep -qE '^  encoder.0.weight +\[512, 784\] +401,408$' '$T/out' && grep -qE '^parameters +944,176 in 12 tensors$' '$T/out'"
run inspect --model "$MODEL" --json
check "inspect --json" 0
assert "inspect --json: valid JSON with consistent totals" python3 -c "
import json
j = json.load(open('$T/out'))
assert j['format_version'] == 2 and j['epochs_completed'] == 3 and j['code_shape'] == [32]
assert j['total_parameters'] == sum(p['count'] for p in j['parameters']) == 944176
assert j['input_scaling']['scale_first'][0] == 255 and j['optimizer'] == {'name': 'adam', 'learning_rate': 0.001, 'step': 24}
assert j['spec']['loss'] == 'bce'"

run inspect --system
check "inspect --system" 0
assert "inspect --system: CPU, GEMM kernel with its reason, OpenBLAS core" bash -c "
grep -qE '^cpu +.+ logical CPUs$' '$T/out' && grep -qE '^gemm kernel +(avx512|avx2|openblas)$' '$T/out' &&
grep -qE '^gemm +(avx512|avx2|openblas) \(.*(automatically|AE_GEMM).*core .*OPENBLAS_CORETYPE=' '$T/out'"
AE_GEMM=openblas "$BIN" inspect --system --json >"$T/out" 2>"$T/err"; rc=$?
check "AE_GEMM=openblas inspect --system --json" 0
assert "inspect --system --json: the kernel AE_GEMM asked for" python3 -c "
import json
j = json.load(open('$T/out'))
assert j['gemm_kernel'] == 'openblas' and 'AE_GEMM=openblas' in j['gemm'] and j['environment']['AE_GEMM'] == 'openblas'"
AE_GEMM=avx1024 "$BIN" inspect --system >"$T/out" 2>"$T/err"; rc=$?
check "AE_GEMM=avx1024 inspect --system: runs with the automatic choice" 0
assert "AE_GEMM=avx1024: refused on stderr with the reason" grep -q 'AE_GEMM=avx1024 refused: unknown GEMM kernel' "$T/err"
run inspect --system --model "$MODEL"
check "inspect --system --model: usage error" 2

# ---- resume ----------------------------------------------------------------------------------
run train --resume "$MODEL" --data "$T/x.npy" --out "$T/resumed.aem" --epochs 2 --batch-size 64 --validation-split 0.1
check "train --resume" 0
assert "train --resume: summary counts 5 epochs in total" grep -qE '^saved .* \(5 epochs in total\)$' "$T/out"
run inspect --model "$T/resumed.aem" --json
assert "train --resume: 3 + 2 epochs, optimizer continued, scaling kept" python3 -c "
import json
j = json.load(open('$T/out'))
assert j['epochs_completed'] == 5 and j['optimizer']['step'] == 24 + 16, j
assert j['input_scaling']['scale_first'][0] == 255"

# ---- CSV input -------------------------------------------------------------------------------
run score --model "$MODEL" --data "$T/x.csv" --out "$T/scores_csv.npy"
check "score on CSV with a header" 0
assert "CSV scores equal the .npy scores of the same rows" python3 -c "
import numpy as np
assert np.allclose(np.load('$T/scores_csv.npy'), np.load('$T/scores.npy')[:200], rtol=1e-4, atol=1e-6)"
run reconstruct --model "$MODEL" --data "$T/x.csv" --out "$T/xhat_csv.npy"
check "reconstruct on CSV" 0
assert "reconstruct on CSV: shape [200, 784]" has_shape "$T/xhat_csv.npy" "200,784"
run train --spec examples/specs/classic_100_50_25_10.json --data "$T/small.csv" --out "$T/classic.aem" --epochs 2 --scale standardize
check "train the classic spec on a CSV without header, standardized" 0

# ---- anomaly detection: threshold / predict ---------------------------------------------------
run inspect --model "$MODEL"
assert "inspect: a model without a threshold shows 'anomaly threshold none'" grep -qE '^anomaly threshold +none$' "$T/out"
run inspect --model "$MODEL" --json
assert "inspect --json: anomaly_threshold is null without one" python3 -c "
import json; assert json.load(open('$T/out'))['anomaly_threshold'] is None"
run predict --model "$MODEL" --data "$T/x.npy"
check "predict on a model without a threshold: exit 1" 1 "has no anomaly threshold"
assert "predict without a threshold: the message says how to fit one" \
    grep -qF "fit one with 'autoencoders threshold --model $MODEL --data" "$T/err"

cp "$MODEL" "$T/anomaly.aem"
run threshold --model "$T/anomaly.aem" --data "$T/x.npy"
check "threshold: default quantile, in place" 0
cp "$T/out" "$T/threshold99.txt"
assert "threshold: prints the threshold, quantile 0.99 of 500 scores and the file" \
    grep -qE "^threshold [0-9.e+-]+ \(quantile 0.99 of 500 scores\), saved in $T/anomaly.aem$" "$T/threshold99.txt"
run inspect --model "$T/anomaly.aem" --json
cp "$T/out" "$T/inspect99.json"
assert "threshold: the file's threshold is numpy's 0.99 quantile of 'score --out', as printed" python3 -c "
import json, numpy as np
s = np.load('$T/scores.npy').astype(np.float64)
t = json.load(open('$T/inspect99.json'))['anomaly_threshold']
q = np.quantile(s, 0.99)
assert abs(t - q) <= 1e-6 * q, (t, q)
printed = float(open('$T/threshold99.txt').read().split()[1])
assert abs(printed - t) <= 1e-5 * t, (printed, t)"
run inspect --model "$T/anomaly.aem"
assert "inspect: shows the anomaly threshold" bash -c "
grep -qE '^anomaly threshold +[0-9.e+-]+$' '$T/out' &&
test \"\$(sed -nE 's/^anomaly threshold +//p' '$T/out')\" = \"\$(cut -d' ' -f2 '$T/threshold99.txt')\""
run score --model "$T/anomaly.aem" --data "$T/x.npy" --out "$T/scores_anomaly.npy"
assert "threshold in place leaves the weights alone: same scores" python3 -c "
import numpy as np
assert np.array_equal(np.load('$T/scores_anomaly.npy'), np.load('$T/scores.npy'))"

run threshold --model "$T/anomaly.aem" --data "$T/x.npy" --quantile 0.9 --out "$T/anomaly90.aem"
check "threshold --quantile 0.9 --out" 0
assert "threshold --out: prints quantile 0.9 and the new file" \
    grep -qE "^threshold [0-9.e+-]+ \(quantile 0.9 of 500 scores\), saved in $T/anomaly90.aem$" "$T/out"
run inspect --model "$T/anomaly90.aem" --json
cp "$T/out" "$T/inspect90.json"
run inspect --model "$T/anomaly.aem" --json
assert "threshold --out: the new file has the 0.9 quantile, the source keeps its 0.99 threshold" python3 -c "
import json, numpy as np
s = np.load('$T/scores.npy').astype(np.float64)
t90 = json.load(open('$T/inspect90.json'))['anomaly_threshold']
assert abs(t90 - np.quantile(s, 0.9)) <= 1e-6 * np.quantile(s, 0.9), (t90, np.quantile(s, 0.9))
assert json.load(open('$T/out'))['anomaly_threshold'] == json.load(open('$T/inspect99.json'))['anomaly_threshold']"

run predict --model "$T/anomaly90.aem" --data "$T/x.npy" --out "$T/labels.npy"
check "predict --out" 0
cp "$T/out" "$T/predict.txt"
assert "predict: prints 'anomalies K of 500 (threshold T)'" \
    grep -qE '^anomalies [0-9]+ of 500 \(threshold [0-9.e+-]+\)$' "$T/predict.txt"
assert "predict --out: labels [500] of 0/1 equal to score > threshold (numpy), K as printed" python3 -c "
import json, re, numpy as np
l = np.load('$T/labels.npy'); s = np.load('$T/scores.npy'); assert l.dtype == np.int32, l.dtype
t = np.float32(json.load(open('$T/inspect90.json'))['anomaly_threshold'])
assert l.shape == (500,), l.shape
assert set(np.unique(l).tolist()) <= {0, 1}, np.unique(l)
assert np.array_equal(l.astype(bool), s > t), (l.sum(), (s > t).sum())
k = int(re.match(r'anomalies (\d+) of 500', open('$T/predict.txt').read()).group(1))
assert k == int(l.sum()) and 40 <= k <= 60, k"
run predict --model "$T/anomaly.aem" --data "$T/x.npy"
check "predict without --out (threshold 0.99)" 0
assert "predict: about 1% flagged at the 0.99 quantile" python3 -c "
import re
k = int(re.match(r'anomalies (\d+) of 500', open('$T/out').read()).group(1)); assert 1 <= k <= 10, k"
run predict --model "$T/anomaly90.aem" --data "$T/x.csv" --out "$T/labels_csv.npy"
check "predict on CSV" 0
assert "predict on CSV: the labels of the same rows" python3 -c "
import numpy as np
assert np.array_equal(np.load('$T/labels_csv.npy'), np.load('$T/labels.npy')[:200])"

cp "$T/anomaly.aem" "$T/anomaly_before.aem"
for q in 1.5 -0.1 abc nan inf; do
    run threshold --model "$T/anomaly.aem" --data "$T/x.npy" --quantile="$q"
    check "threshold --quantile $q: exit 2" 2 "--quantile"
done
assert "bad --quantile: the model file is untouched" cmp -s "$T/anomaly.aem" "$T/anomaly_before.aem"
run threshold --model "$T/anomaly.aem" --data "$T/x.npy" --quantile 1.5
check "threshold --quantile 1.5: says the range" 2 "--quantile must be in [0, 1]"
run threshold --model "$T/anomaly.aem"
check "threshold without --data: exit 2" 2 "--data"
run threshold --model "$T/anomaly.aem" --data "$T/wrong.npy"
check "threshold with the wrong input size: exit 1" 1 "input size of $T/anomaly.aem is 784"
run threshold --model "$T/anomaly.aem" --data "$T/nan.npy"
check "threshold on NaN data: exit 1" 1 "nan.npy: element [3, 5, 7] is nan"
run threshold --model "$T/anomaly.aem" --data "$T/x.npy" --out "$T/no/such/dir/m.aem"
check "threshold to an unwritable --out: exit 1" 1 "does not exist"
assert "failed threshold runs leave the model file untouched" cmp -s "$T/anomaly.aem" "$T/anomaly_before.aem"
run predict --model "$T/anomaly90.aem" --data "$T/wrong.npy"
check "predict with the wrong input size: exit 1" 1 "input size of $T/anomaly90.aem is 784"
run predict --model "$T/anomaly90.aem" --data "$T/nan.npy"
check "predict on NaN data: exit 1" 1 "nan.npy: element [3, 5, 7] is nan"
run predict --model "$T/anomaly90.aem" --data "$T/x.npy" --quantile 0.9
check "predict --quantile (a threshold option): exit 2" 2 "unknown option '--quantile'"

# ---- the new families from the command line --------------------------------------------------
python3 - "$T" <<'PY'
import copy, json, sys
t = sys.argv[1]
base = json.load(open("examples/specs/mnist_dense.json"))
spec = copy.deepcopy(base)
spec["encoder"] = [{"type": "dense", "units": 128, "activation": "relu"},
                   {"type": "dense", "units": 32, "activation": "sigmoid"}]
spec["decoder"] = [{"type": "dense", "units": 128, "activation": "relu"},
                   {"type": "dense", "units": 784, "activation": "sigmoid"}]
spec["noise"] = {"type": "gaussian", "stddev": 0.5}
spec["regularization"] = {"sparsity": {"type": "kl", "target": 0.05, "weight": 0.1}}
json.dump(spec, open(f"{t}/denoising_sparse.json", "w"))
bad = copy.deepcopy(spec); bad["encoder"][1]["activation"] = "relu"
json.dump(bad, open(f"{t}/kl_relu.json", "w"))
ks = copy.deepcopy(base)
ks["encoder"] = [{"type": "dense", "units": 128, "activation": "relu"}, {"type": "dense", "units": 32},
                 {"type": "k_sparse", "k": 5}]
ks["decoder"] = [{"type": "dense", "units": 128, "activation": "relu"},
                 {"type": "dense", "units": 784, "activation": "sigmoid"}]
ks["loss"] = {"type": "correntropy", "sigma": 1}
ks["noise"] = {"type": "masking", "fraction": 0.25}
json.dump(ks, open(f"{t}/ksparse.json", "w"))
PY
run train --spec "$T/denoising_sparse.json" --data "$T/x.npy" --out "$T/dsae.aem" --epochs 2 --batch-size 64 --divide-by 255
check "train: gaussian noise (denoising) with a KL-sparse sigmoid code" 0
assert "denoising + KL: 2 epochs completed with a finite loss" bash -c "
grep -qE '^epochs +2 of 2 \(completed\)' '$T/out' && grep -qE '^loss +[0-9.]+' '$T/out'"
run inspect --model "$T/dsae.aem" --json
assert "denoising + KL: the file's spec keeps the noise and the sparsity" python3 -c "
import json
spec = json.load(open('$T/out'))['spec']
assert spec['noise']['type'] == 'gaussian' and spec['noise']['stddev'] == 0.5, spec['noise']
s = spec['regularization']['sparsity']; assert s['type'] == 'kl' and s['target'] == 0.05 and s['weight'] == 0.1, s"
run reconstruct --model "$T/dsae.aem" --data "$T/x.npy" --out "$T/dsae1.npy"
check "denoising model: reconstruct" 0
run reconstruct --model "$T/dsae.aem" --data "$T/x.npy" --out "$T/dsae2.npy"
assert "denoising model: no noise at inference (two reconstructions are identical)" python3 -c "
import numpy as np
a = np.load('$T/dsae1.npy'); b = np.load('$T/dsae2.npy')
assert a.shape == (500, 28, 28) and np.isfinite(a).all() and np.array_equal(a, b)"
run encode --model "$T/dsae.aem" --data "$T/x.npy" --out "$T/dsae_codes.npy"
assert "denoising + KL: sigmoid codes in (0, 1)" python3 -c "
import numpy as np
c = np.load('$T/dsae_codes.npy'); assert c.shape == (500, 32) and (c > 0).all() and (c < 1).all()"
run train --spec "$T/kl_relu.json" --data "$T/x.npy" --out "$T/m.aem" --epochs 1 --divide-by 255
check "KL sparsity on a relu code: exit 1 with the JSON path" 1 "regularization.sparsity"
run train --spec "$T/ksparse.json" --data "$T/x.npy" --out "$T/ksparse.aem" --epochs 2 --batch-size 64 --divide-by 255
check "train: k_sparse code, correntropy loss, masking noise" 0
run encode --model "$T/ksparse.aem" --data "$T/x.npy" --out "$T/ksparse_codes.npy"
assert "k_sparse: at most 5 non-zero code values per sample" python3 -c "
import numpy as np
c = np.load('$T/ksparse_codes.npy'); nz = (c != 0).sum(axis=1)
assert c.shape == (500, 32) and nz.max() <= 5 and nz.min() >= 1, (nz.min(), nz.max())"

# ---- convolutional models and segmentation -------------------------------------------------
python3 - "$T" <<'PY'
import json, sys, numpy as np
t = sys.argv[1]
x = np.load("data/mnist5k_train_X.npy")[:300]                    # uint8 [300, 28, 28]
np.save(f"{t}/x300.npy", x)
y = (x > 127).astype(np.uint8)                                   # foreground pixels: class 1
np.save(f"{t}/y300.npy", y)
np.save(f"{t}/y300_flat_float.npy", y.reshape(300, -1).astype(np.float32))
bad = y.astype(np.int64); bad[4, 10, 12] = 2; np.save(f"{t}/y_class2.npy", bad)
half = y.astype(np.float32); half[4, 10, 12] = 0.5; np.save(f"{t}/y_half.npy", half)
np.save(f"{t}/y_short.npy", y[:200])
np.save(f"{t}/y_cropped.npy", y[:, :14, :])
ignored = y.astype(np.int32); ignored[:, :2, :] = 255; np.save(f"{t}/y_ignore255.npy", ignored)
np.save(f"{t}/x14.npy", x[:, ::2, ::2])
conv = {"input_shape": [1, 28, 28],
        "encoder": [{"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"},
                    {"type": "max_pool2d", "kernel": 2},
                    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                    {"type": "max_pool2d", "kernel": 2, "name": "pool"}],
        "decoder": [{"type": "max_unpool2d", "indices_from": "pool"},
                    {"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"},
                    {"type": "upsample_nearest2d", "scale": 2},
                    {"type": "conv_transpose2d", "filters": 1, "kernel": 3, "padding": 1, "activation": "sigmoid"}],
        "loss": "bce", "optimizer": {"type": "adam", "lr": 0.005}, "seed": 1}
json.dump(conv, open(f"{t}/conv.json", "w"))
seg = {"input_shape": [1, 28, 28],
       "encoder": [{"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"}],
       "decoder": [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": 1}],
       "loss": "cross_entropy", "optimizer": {"type": "adam", "lr": 0.01}, "seed": 2}
json.dump(seg, open(f"{t}/seg.json", "w"))
seg["loss"] = {"type": "cross_entropy", "ignore_index": 255}
json.dump(seg, open(f"{t}/seg255.json", "w"))
flat = dict(conv, input_shape=[784])
json.dump(flat, open(f"{t}/conv_flat.json", "w"))
PY

run train --spec "$T/conv.json" --data "$T/x300.npy" --out "$T/conv.aem" --epochs 3 --batch-size 32 --divide-by 255
check "conv autoencoder: trains on 300 MNIST rows [300, 28, 28] for input_shape [1, 28, 28]" 0
assert "conv autoencoder: 3 epochs completed, the loss goes down" python3 -c "
import re
losses = [float(m.group(1)) for m in re.finditer(r'^epoch \d/3 loss ([0-9.]+)', open('$T/err').read(), re.M)]
assert len(losses) == 3 and losses[2] < losses[0], losses
assert re.search(r'^epochs +3 of 3 \(completed\)$', open('$T/out').read(), re.M)"
run reconstruct --model "$T/conv.aem" --data "$T/x300.npy" --out "$T/conv_xhat.npy"
check "conv autoencoder: reconstruct" 0
assert "conv autoencoder: reconstructions of shape [300, 28, 28]" has_shape "$T/conv_xhat.npy" "300,28,28"
assert "conv autoencoder: reconstructions in pixel units that follow the inputs" python3 -c "
import numpy as np
r = np.load('$T/conv_xhat.npy').astype(np.float64); x = np.load('$T/x300.npy').astype(np.float64)
assert np.isfinite(r).all() and r.min() >= 0 and r.max() <= 255 and r.max() > 1, (r.min(), r.max())
assert np.corrcoef(r.ravel(), x.ravel())[0, 1] > 0.5
assert ((r - x) ** 2).mean() < ((x - x.mean(axis=0)) ** 2).mean()   # better than the mean image"
run encode --model "$T/conv.aem" --data "$T/x300.npy" --out "$T/conv_codes.npy"
check "conv autoencoder: encode" 0
assert "conv autoencoder: codes of shape [300, 4, 7, 7]" has_shape "$T/conv_codes.npy" "300,4,7,7"
run decode --model "$T/conv.aem" --data "$T/conv_codes.npy" --out "$T/conv_decoded.npy"
check "conv autoencoder with max-unpooling links: decode exits 1" 1 "cannot decode from codes alone"
run inspect --model "$T/conv.aem"
check "conv autoencoder: inspect" 0
assert "inspect: task reconstruction, input [1, 28, 28], code [4, 7, 7], 4-D conv weights" bash -c "
grep -qE '^task +reconstruction$' '$T/out' && grep -qE '^input shape +\[1, 28, 28\]$' '$T/out' &&
grep -qE '^code shape +\[4, 7, 7\]$' '$T/out' && grep -qE '^can decode +no' '$T/out' &&
grep -qE '^  encoder.0.weight +\[8, 1, 3, 3\] +72$' '$T/out'"
run train --spec "$T/conv.json" --data "$T/x14.npy" --out "$T/m.aem" --divide-by 255
check "conv autoencoder: [N, 14, 14] data for input_shape [1, 28, 28]: exit 1" 1 "input size of $T/conv.json is 784"
run train --spec "$T/conv_flat.json" --data "$T/x300.npy" --out "$T/m.aem"
check "conv2d on an input_shape of [784]: exit 1 with the JSON path" 1 "encoder[0]"

run train --spec "$T/seg.json" --data "$T/x300.npy" --labels "$T/y300.npy" --out "$T/seg.aem" --epochs 4 --batch-size 32 --divide-by 255 --validation-split 0.1
check "segmentation: trains with --labels (uint8 [300, 28, 28], pixel > 127)" 0
assert "segmentation: summary with loss and val_loss" bash -c "
grep -qE '^epochs +4 of 4 \(completed\)$' '$T/out' && grep -qE '^loss +[0-9.]+, val_loss [0-9.]+$' '$T/out'"
run segment --model "$T/seg.aem" --data "$T/x300.npy" --out "$T/seg_labels.npy"
check "segment" 0
cp "$T/out" "$T/segment.txt"
assert "segment: int32 labels of shape [300, 28, 28] in {0, 1}, accuracy > 0.9" python3 -c "
import numpy as np
l = np.load('$T/seg_labels.npy'); y = np.load('$T/y300.npy')
assert l.dtype == np.int32 and l.shape == (300, 28, 28), (l.dtype, l.shape)
assert set(np.unique(l).tolist()) <= {0, 1}, np.unique(l)
accuracy = (l == y).mean(); assert accuracy > 0.9, accuracy
assert accuracy > 1 - y.mean() + 0.05, (accuracy, 1 - y.mean())   # better than all background"
assert "segment: prints the share of each class, as in the file" python3 -c "
import re, numpy as np
text = open('$T/segment.txt').read(); l = np.load('$T/seg_labels.npy')
assert re.search(r'^segmented 300 samples of \[28, 28\] positions into 2 classes$', text, re.M), text
shares = {int(c): float(p) for c, p in re.findall(r'^class (\d) +([0-9.]+)%$', text, re.M)}
assert set(shares) == {0, 1} and all(abs(shares[c] - 100 * (l == c).mean()) < 0.01 for c in shares), shares"
run inspect --model "$T/seg.aem"
check "segmentation: inspect" 0
assert "inspect: task segmentation with 2 classes, output [2, 28, 28], loss cross_entropy" bash -c "
grep -qE '^task +segmentation, 2 classes of \[28, 28\] positions, ignore label -100$' '$T/out' &&
grep -qE '^output shape +\[2, 28, 28\]' '$T/out' && grep -qE '^loss +cross_entropy$' '$T/out' &&
grep -qE '^can decode +no \(use segment\)$' '$T/out'"
run inspect --model "$T/seg.aem" --json
assert "inspect --json: task, classes, ignore_index, label_shape" python3 -c "
import json
j = json.load(open('$T/out'))
assert j['task'] == 'segmentation' and j['classes'] == 2 and j['ignore_index'] == -100, j
assert j['label_shape'] == [28, 28] and j['can_decode'] is False and j['spec']['loss'] == 'cross_entropy'"
run inspect --model "$T/conv.aem" --json
assert "inspect --json: a reconstruction model has task reconstruction, classes 0" python3 -c "
import json
j = json.load(open('$T/out')); assert j['task'] == 'reconstruction' and j['classes'] == 0 and 'ignore_index' not in j, j"

run reconstruct --model "$T/seg.aem" --data "$T/x300.npy" --out "$T/r.npy"
check "reconstruct on a segmentation model: exit 1" 1 "is a segmentation model"
assert "reconstruct on a segmentation model: the message points to segment" \
    grep -qF "use 'autoencoders segment --model $T/seg.aem" "$T/err"
assert "reconstruct on a segmentation model: no output file" test ! -e "$T/r.npy"
for command in score threshold predict; do
    run "$command" --model "$T/seg.aem" --data "$T/x300.npy"
    check "$command on a segmentation model: exit 1" 1 "is a segmentation model"
done
run decode --model "$T/seg.aem" --data "$T/x300.npy" --out "$T/r.npy"
check "decode on a segmentation model: exit 1" 1 "is a segmentation model"
run segment --model "$T/conv.aem" --data "$T/x300.npy" --out "$T/l.npy"
check "segment on a reconstruction model: exit 1" 1 "reconstructs its input"
run segment --model "$T/seg.aem" --data "$T/x300.npy"
check "segment without --out: exit 2" 2 "--out"
run segment --model "$T/seg.aem" --data "$T/x14.npy" --out "$T/l.npy"
check "segment with the wrong input size: exit 1" 1 "input size of $T/seg.aem is 784"

# --labels: required for segmentation, refused for reconstruction, checked against the data.
run train --spec "$T/seg.json" --data "$T/x300.npy" --out "$T/m.aem" --divide-by 255
check "segmentation spec without --labels: exit 1" 1 "give --labels"
run train --spec "$T/conv.json" --data "$T/x300.npy" --labels "$T/y300.npy" --out "$T/m.aem" --divide-by 255
check "--labels for a reconstruction spec: exit 1" 1 "trains without labels"
run train --spec "$T/seg.json" --data "$T/x300.npy" --labels "$T/y_class2.npy" --out "$T/m.aem" --divide-by 255
check "a label outside the classes: exit 1 with its position" 1 "y_class2.npy: element [4, 10, 12] is 2"
run train --spec "$T/seg.json" --data "$T/x300.npy" --labels "$T/y_half.npy" --out "$T/m.aem" --divide-by 255
check "a fractional label: exit 1 with its position" 1 "y_half.npy: element [4, 10, 12] is 0.5"
run train --spec "$T/seg.json" --data "$T/x300.npy" --labels "$T/y_short.npy" --out "$T/m.aem" --divide-by 255
check "labels for fewer samples than the data: exit 1" 1 "labels for 200 samples"
run train --spec "$T/seg.json" --data "$T/x300.npy" --labels "$T/y_cropped.npy" --out "$T/m.aem" --divide-by 255
check "labels of the wrong spatial size: exit 1 naming the expected shapes" 1 "expected shape [300, 28, 28] or [300, 784]"
run train --spec "$T/seg.json" --data "$T/x300.npy" --labels "$T/y300.npy" --validation "$T/x300.npy" --out "$T/m.aem"
check "--validation (no labels) for a segmentation model: exit 1" 1 "--validation-split"
assert "failed segmentation runs write no model" test ! -e "$T/m.aem"
run train --spec "$T/seg.json" --data "$T/x300.npy" --labels "$T/y300_flat_float.npy" --out "$T/seg_float.aem" --epochs 4 --batch-size 32 --divide-by 255 --validation-split 0.1
check "segmentation: float32 labels of shape [300, 784]" 0
run segment --model "$T/seg_float.aem" --data "$T/x300.npy" --out "$T/seg_float_labels.npy"
assert "float [N, 784] labels train the same model as uint8 [N, 28, 28] ones" python3 -c "
import numpy as np
assert np.array_equal(np.load('$T/seg_float_labels.npy'), np.load('$T/seg_labels.npy'))"
run train --spec "$T/seg255.json" --data "$T/x300.npy" --labels "$T/y_ignore255.npy" --out "$T/seg255.aem" --epochs 2 --divide-by 255
check "segmentation: the spec's ignore_index (255) is accepted as a label" 0
run inspect --model "$T/seg255.aem" --json
assert "inspect --json: ignore_index 255" python3 -c "
import json; assert json.load(open('$T/out'))['ignore_index'] == 255"
run train --resume "$T/seg.aem" --data "$T/x300.npy" --labels "$T/y300.npy" --out "$T/seg_resumed.aem" --epochs 1
check "segmentation: train --resume with --labels" 0
assert "segmentation: resumed to 5 epochs in total" grep -qE '^saved .* \(5 epochs in total\)$' "$T/out"
run train --resume "$T/seg.aem" --data "$T/x300.npy" --out "$T/seg_resumed.aem" --epochs 1
check "segmentation: train --resume without --labels: exit 1" 1 "give --labels"

# ---- volumes: the 3-D U-Net with a VAE branch (examples/specs/brain_unet3d_vae.json) ---------
python3 scripts/make_brain_phantoms.py --out "$T/phantoms" --train 4 --test 2 --seed 3 >/dev/null
run train --spec examples/specs/brain_unet3d_vae.json --data "$T/phantoms/phantoms_train_X.npy" \
    --labels "$T/phantoms/phantoms_train_y.npy" --out "$T/brain.aem" --epochs 1 --batch-size 2
check "3-D U-Net with a VAE branch: trains two steps on [4, 1, 32, 32, 32] volumes" 0
assert "3-D U-Net: summary after one epoch" grep -qE '^epochs +1 of 1 \(completed\)$' "$T/out"
run segment --model "$T/brain.aem" --data "$T/phantoms/phantoms_test_X.npy" --out "$T/brain_labels.npy"
check "3-D U-Net: segment" 0
assert "3-D U-Net: labels of shape [2, 32, 32, 32] in {0, 1}" python3 -c "
import numpy as np; l = np.load('$T/brain_labels.npy')
assert l.shape == (2, 32, 32, 32) and set(np.unique(l)) <= {0, 1}, (l.shape, np.unique(l))"
run inspect --model "$T/brain.aem"
check "3-D U-Net: inspect" 0
assert "inspect: loss dice_cross_entropy, 5-D conv3d weights" bash -c "
grep -qE '^loss +dice_cross_entropy' '$T/out' && grep -qE '^  stem.weight +\[8, 1, 3, 3, 3\] +216$' '$T/out'"

# ---- variational autoencoders: generate / interpolate --------------------------------------
python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
vae = {"input_size": 784,
       "encoder": [{"type": "dense", "units": 128, "activation": "relu"},
                   {"type": "variational", "units": 8, "beta": 1, "kl_warmup_epochs": 0}],
       "decoder": [{"type": "dense", "units": 128, "activation": "relu"},
                   {"type": "dense", "units": 784, "activation": "sigmoid"}],
       "loss": "bce", "optimizer": {"type": "adam", "lr": 0.002}, "seed": 3}
json.dump(vae, open(f"{t}/vae.json", "w"))
seg = {"input_shape": [1, 28, 28],
       "encoder": [{"type": "conv2d", "name": "enc", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"}],
       "decoder": [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": 1}],
       "loss": "cross_entropy",
       "branches": [{"name": "vae", "weight": 0.01, "loss": "mse",
                     "layers": [{"type": "max_pool2d", "kernel": 4, "inputs": ["enc"]}, {"type": "flatten"},
                                {"type": "variational", "units": 4},
                                {"type": "dense", "units": 784, "activation": "sigmoid"},
                                {"type": "reshape", "shape": [1, 28, 28]}]}],
       "optimizer": {"type": "adam", "lr": 0.01}, "seed": 2}
json.dump(seg, open(f"{t}/seg_vae.json", "w"))
bad = json.loads(json.dumps(vae)); del bad["encoder"][1]["units"]
json.dump(bad, open(f"{t}/vae_no_units.json", "w"))
PY
VAE="$T/vae.aem"
run train --spec "$T/vae.json" --data "$T/x300.npy" --out "$VAE" --epochs 3 --batch-size 32 --divide-by 255
check "VAE: trains on 300 MNIST rows for 3 epochs" 0
cp "$T/err" "$T/vae_train_err"; cp "$T/out" "$T/vae_train_out"
assert "VAE: the epoch lines show kl (positive), and the loss goes down" python3 -c "
import re
lines = open('$T/vae_train_err').read().splitlines()
found = [re.fullmatch(r'epoch (\d)/3 loss ([0-9.]+) kl ([0-9.]+) lr 0.002 time [0-9.]+s', l) for l in lines]
assert len(lines) == 3 and all(found), lines
losses = [float(m.group(2)) for m in found]; kls = [float(m.group(3)) for m in found]
assert losses[2] < losses[0] and all(k > 0 for k in kls), (losses, kls)"
assert "VAE: the summary adds the KL and reconstruction terms of the last epoch's loss" python3 -c "
import re
text = open('$T/vae_train_out').read()
loss = float(re.search(r'^loss +([0-9.]+)$', text, re.M).group(1))
m = re.search(r'^kl +([0-9.]+) per sample \(reconstruction ([0-9.]+)\)$', text, re.M)
assert m and float(m.group(1)) > 0, text
assert abs(float(m.group(1)) + float(m.group(2)) - loss) < 1e-4 * loss, (m.groups(), loss)
last = open('$T/vae_train_err').read().splitlines()[-1]
assert f' kl {m.group(1)} ' in last, (last, m.group(1))"
run train --spec "$SPEC" --data "$T/x300.npy" --out "$T/plain.aem" --epochs 1 --divide-by 255
assert "a model that is not a VAE: no kl in its epoch lines or summary" bash -c "
grep -qE '^epoch 1/1 loss [0-9.]+ lr ' '$T/err' && ! grep -q ' kl ' '$T/err' && ! grep -qE '^kl ' '$T/out'"

if command -v script >/dev/null 2>&1; then
    script -qec "'$BIN' train --resume '$VAE' --data '$T/x300.npy' --out '$T/vae_tty.aem' --epochs 1 --batch-size 32" /dev/null >"$T/tty" 2>&1
    rc=$?; cp "$T/tty" "$T/err"
    if [ "$rc" -eq 0 ] && grep -qE "epoch 1/1 \[#*-*\] +[0-9]+% loss [0-9.]+ kl [0-9.]+ lr" "$T/tty" \
        && grep -qE "epoch 1/1 loss [0-9.]+ kl [0-9.]+ lr" "$T/tty"; then
        ok "VAE progress (terminal): the bar and the epoch's line show kl"
    else
        fail "VAE progress (terminal): the bar and the epoch's line show kl"
    fi
else
    echo "skip  VAE progress (terminal): script(1) is not installed"
fi

run inspect --model "$VAE"
check "VAE: inspect" 0
assert "inspect: marks the variational code and its beta" bash -c "
grep -qE '^code shape +\[8\]$' '$T/out' && grep -qE '^code +variational, beta 1, KL warm-up 0 epochs$' '$T/out' &&
grep -qE '^  encoder.1.mu.weight +\[8, 128\] +1,024$' '$T/out'"
run inspect --model "$VAE" --json
assert "inspect --json: variational {units, beta, kl_warmup_epochs}" python3 -c "
import json
j = json.load(open('$T/out'))
assert j['variational'] == {'units': 8, 'beta': 1, 'kl_warmup_epochs': 0}, j['variational']
assert j['task'] == 'reconstruction' and j['can_decode'] is True and j['code_shape'] == [8]"
run inspect --model "$MODEL" --json
assert "inspect --json: variational is null for a model that is not a VAE" python3 -c "
import json; assert json.load(open('$T/out'))['variational'] is None"
run inspect --model "$MODEL"
assert "inspect: no code row for a model that is not a VAE" bash -c "! grep -qE '^code +variational' '$T/out'"

run encode --model "$VAE" --data "$T/x.npy" --out "$T/vae_mean.npy" --logvar "$T/vae_logvar.npy"
check "encode --logvar: the mean and log-variance of q(z|x)" 0
run encode --model "$VAE" --data "$T/x.npy" --out "$T/vae_sample3.npy" --sample --seed 3
check "encode --sample --seed 3" 0
run encode --model "$VAE" --data "$T/x.npy" --out "$T/vae_sample3b.npy" --sample --seed 3
assert "encode --sample: same seed, same codes; draws are mean + std * N(0, 1)" python3 -c "
import numpy as np
m, l = np.load('$T/vae_mean.npy'), np.load('$T/vae_logvar.npy')
a, b = np.load('$T/vae_sample3.npy'), np.load('$T/vae_sample3b.npy')
assert m.shape == l.shape == a.shape and np.array_equal(a, b)
eps = (a - m) / np.exp(l / 2)
assert abs(eps.mean()) < 0.2 and 0.8 < eps.std() < 1.2, (eps.mean(), eps.std())"
run encode --model "$MODEL" --data "$T/x.npy" --out "$T/nope.npy" --sample
check "encode --sample on a model that is not variational" 1 "not a variational model"

run generate --model "$VAE" --count 16 --seed 7 --out "$T/gen7.npy"
check "generate --count 16 --seed 7" 0
assert "generate: prints what it wrote" grep -qxF "generated 16 samples of [784] from seed 7: $T/gen7.npy" "$T/out"
assert "generate: [16, 784] float32 samples in pixel units (the model's /255 scaling undone)" python3 -c "
import numpy as np
g = np.load('$T/gen7.npy')
assert g.shape == (16, 784) and g.dtype == np.float32, (g.shape, g.dtype)
assert np.isfinite(g).all() and g.min() >= 0 and g.max() <= 255 and g.max() > 1, (g.min(), g.max())
assert len({row.tobytes() for row in g}) == 16   # 16 different samples"
run generate --model "$VAE" --count 16 --seed 7 --out "$T/gen7b.npy"
check "generate again with the same seed" 0
assert "generate: the same seed gives the same samples" cmp -s "$T/gen7.npy" "$T/gen7b.npy"
run generate --model "$VAE" --count 16 --seed 8 --out "$T/gen8.npy"
assert "generate: another seed gives other samples" python3 -c "
import numpy as np
assert not np.array_equal(np.load('$T/gen7.npy'), np.load('$T/gen8.npy'))"
run generate --model "$VAE" --count 3 --out "$T/gen_default.npy"
run generate --model "$VAE" --count 3 --seed 0 --out "$T/gen0.npy"
assert "generate: the default seed is 0" cmp -s "$T/gen_default.npy" "$T/gen0.npy"
run generate --model "$VAE" --count 2 --seed 18446744073709551615 --out "$T/gen_max.npy"
check "generate: the largest 64-bit seed" 0

run interpolate --model "$VAE" --data "$T/x300.npy" --from 0 --to 1 --out "$T/path.npy"
check "interpolate --from 0 --to 1 (8 steps by default)" 0
assert "interpolate: prints what it wrote" grep -qxF "interpolated 8 samples from sample 0 to sample 1 of $T/x300.npy: $T/path.npy" "$T/out"
run reconstruct --model "$VAE" --data "$T/x300.npy" --out "$T/vae_xhat.npy"
assert "interpolate: [8, 28, 28] in pixel units, from the reconstruction of sample 0 to that of sample 1" python3 -c "
import numpy as np
p = np.load('$T/path.npy').astype(np.float64); r = np.load('$T/vae_xhat.npy').astype(np.float64)
assert p.shape == (8, 28, 28), p.shape
assert np.isfinite(p).all() and p.min() >= 0 and p.max() <= 255 and p.max() > 1
assert np.allclose(p[0], r[0], rtol=1e-4, atol=1e-3) and np.allclose(p[-1], r[1], rtol=1e-4, atol=1e-3)
assert not np.allclose(p[0], p[-1]) and len({row.tobytes() for row in p}) == 8"
run interpolate --model "$VAE" --data "$T/x300.npy" --from 5 --to 5 --steps 3 --out "$T/path_same.npy"
# One code decoded at three positions of a batch: equal up to the GEMM's rounding (OpenBLAS may
# round a row differently at another position), not bit for bit.
assert "interpolate from a sample to itself: 3 equal rows (up to rounding)" python3 -c "
import numpy as np
p = np.load('$T/path_same.npy').astype(np.float64); assert p.shape == (3, 28, 28)
assert np.allclose(p, p[0], rtol=1e-5, atol=1e-4), abs(p - p[0]).max()"
run interpolate --model "$VAE" --data "$T/x.csv" --from 3 --to 7 --steps 2 --out "$T/path_csv.npy"
check "interpolate on CSV, 2 steps" 0
assert "interpolate on CSV: [2, 784] (the file's per-sample shape)" has_shape "$T/path_csv.npy" "2,784"
run interpolate --model "$MODEL" --data "$T/x.npy" --from 0 --to 9 --steps 4 --out "$T/path_plain.npy"
check "interpolate works for any model that can decode (a plain dense autoencoder)" 0
assert "interpolate on a plain autoencoder: [4, 28, 28]" has_shape "$T/path_plain.npy" "4,28,28"

# VAE refusals and mistakes.
run generate --model "$MODEL" --count 4 --out "$T/g.npy"
check "generate on a model that is not a VAE: exit 1" 1 "is not a variational or adversarial autoencoder"
run generate --model "$T/seg.aem" --count 4 --out "$T/g.npy"
check "generate on a segmentation model: exit 1" 1 "is a segmentation model"
run interpolate --model "$T/conv.aem" --data "$T/x300.npy" --from 0 --to 1 --out "$T/g.npy"
check "interpolate on a model that cannot decode (max-unpooling links): exit 1" 1 "cannot decode from codes alone"
run interpolate --model "$T/seg.aem" --data "$T/x300.npy" --from 0 --to 1 --out "$T/g.npy"
check "interpolate on a segmentation model: exit 1" 1 "is a segmentation model"
run interpolate --model "$VAE" --data "$T/x300.npy" --from 0 --to 300 --out "$T/g.npy"
check "interpolate --to past the last sample: exit 1" 1 "--to 300: $T/x300.npy holds 300 samples (indices 0 to 299)"
run interpolate --model "$VAE" --data "$T/x14.npy" --from 0 --to 1 --out "$T/g.npy"
check "interpolate with the wrong input size: exit 1" 1 "input size of $VAE is 784"
assert "failed generate / interpolate runs write nothing" test ! -e "$T/g.npy"
run interpolate --model "$VAE" --data "$T/x300.npy" --from 0 --to 1 --steps 1 --out "$T/g.npy"
check "interpolate --steps 1: exit 2" 2 "--steps must be between 2 and 1048576"
run interpolate --model "$VAE" --data "$T/x300.npy" --from -1 --to 1 --out "$T/g.npy"
check "interpolate --from -1: exit 2" 2 "--from must be at least 0"
run interpolate --model "$VAE" --data "$T/x300.npy" --to 1 --out "$T/g.npy"
check "interpolate without --from: exit 2" 2 "needs --from"
run generate --model "$VAE" --out "$T/g.npy"
check "generate without --count: exit 2" 2 "needs --count"
run generate --model "$VAE" --count 0 --out "$T/g.npy"
check "generate --count 0: exit 2" 2 "--count must be between 1 and 1000000"
for seed in -1 abc 18446744073709551616 1.5; do
    run generate --model "$VAE" --count 2 --seed "$seed" --out "$T/g.npy"
    check "generate --seed $seed: exit 2" 2 "--seed must be an integer from 0 to 18446744073709551615"
done
run generate --model "$VAE" --count 2
check "generate without --out: exit 2" 2 "--out"
run generate --model "$VAE" --count 2 --out "$T/no/such/dir/g.npy"
check "generate to an unwritable --out: exit 1" 1 "does not exist"
run train --spec "$T/vae_no_units.json" --data "$T/x300.npy" --out "$T/m.aem"
check "a variational layer without units: exit 1 with the JSON path" 1 "encoder[1].units"

# A VAE branch regularizing a segmentation model: trained, shown by inspect, not a VAE.
run train --spec "$T/seg_vae.json" --data "$T/x300.npy" --labels "$T/y300.npy" --out "$T/seg_vae.aem" --epochs 2 --divide-by 255
check "segmentation with a VAE branch: trains" 0
assert "segmentation with a VAE branch: no kl in the epoch lines (the code is not variational)" bash -c "
test \"\$(grep -cE '^epoch [12]/2 loss [0-9.]+ lr ' '$T/err')\" -eq 2"
run inspect --model "$T/seg_vae.aem"
assert "inspect: lists the branch, and no variational code" bash -c "
grep -qE '^branches +vae \(variational, weight 0.01, loss mse\) \(training only\)$' '$T/out' && ! grep -qE '^code +variational' '$T/out'"
run segment --model "$T/seg_vae.aem" --data "$T/x300.npy" --out "$T/seg_vae_labels.npy"
check "segmentation with a VAE branch: segment" 0
assert "segmentation with a VAE branch: [300, 28, 28] labels" has_shape "$T/seg_vae_labels.npy" "300,28,28"
run generate --model "$T/seg_vae.aem" --count 2 --out "$T/g.npy"
check "generate on a segmentation model with a VAE branch: exit 1" 1 "is a segmentation model"

# ---- failures --------------------------------------------------------------------------------
run train --spec "$SPEC" --data "$T/missing.npy" --out "$T/m.aem"
check "missing data file: exit 1, names the file" 1 "missing.npy"
run encode --model "$T/nomodel.aem" --data "$T/x.npy" --out "$T/c.npy"
check "missing model file: exit 1, names the file" 1 "nomodel.aem"
run train --spec examples/specs/classic_100_50_25_10.json --data "$T/x.npy" --out "$T/m.aem"
check "wrong input size: exit 1" 1 "784"
assert "wrong input size: message names both sizes" grep -qE '784 values.*input size of .* is 100' "$T/err"
run encode --model "$MODEL" --data "$T/wrong.npy" --out "$T/c.npy"
check "encode with the wrong input size: exit 1" 1 "input size of $MODEL is 784"
run decode --model "$MODEL" --data "$T/x.npy" --out "$T/c.npy"
check "decode with the wrong code size: exit 1" 1 "code size of $MODEL is 32"
python3 - "$T" <<'PY'
import json, sys
spec = json.load(open("examples/specs/mnist_dense.json")); spec["encoder"][1]["units"] = 0
json.dump(spec, open(f"{sys.argv[1]}/bad.json", "w"))
PY
run train --spec "$T/bad.json" --data "$T/x.npy" --out "$T/m.aem"
check "malformed spec: exit 1, message has the JSON path" 1 "encoder[1].units"
run train --spec "$T/nan.npy" --data "$T/x.npy" --out "$T/m.aem"
check "spec that is not JSON: exit 1" 1 "not valid JSON"
run score --model "$MODEL" --data "$T/nan.npy"
check "NaN in data: exit 1 with file and position" 1 "nan.npy: element [3, 5, 7] is nan"
run train --spec "$SPEC" --data "$T/x.npy" --out "$T/m.aem" --epoch 3
check "unknown flag: exit 2" 2 "unknown option '--epoch'"
run train --spec "$SPEC" --data "$T/x.npy"
check "missing --out: exit 2" 2 "--out"
run train --spec "$SPEC" --data "$T/x.npy" --out "$T/m.aem" --batch-size zero
check "malformed number: exit 2" 2 "--batch-size must be an integer"
run train --spec "$SPEC" --resume "$MODEL" --data "$T/x.npy" --out "$T/m.aem"
check "--spec with --resume: exit 2" 2 "not both"
run train --spec "$SPEC" --data "$T/x.npy" --out "$T/no/such/dir/m.aem"
check "unwritable --out fails before training: exit 1" 1 "does not exist"
run frobnicate
check "unknown command: exit 2" 2 "unknown command 'frobnicate'"
run
check "no command: exit 2 with usage" 2 "Usage: autoencoders"

# ---- bounds (issue 10) ------------------------------------------------------------------------
# A spec whose transposed convolution makes a node of 2^48 floats per sample: training a batch of
# 65536 wrapped the workspace size to 0 and crashed the tool (SIGSEGV). Now a spec error, exit 1.
cat > "$T/huge_node.json" <<'JSON'
{"input_shape": [1, 16, 16], "encoder": [{"type": "conv_transpose2d", "filters": 65536, "kernel": 1, "stride": 4096, "output_padding": 4095}, {"type": "conv2d", "filters": 1, "kernel": 1, "stride": 4096}], "decoder": [{"type": "conv2d", "filters": 1, "kernel": 1}]}
JSON
python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros((65536, 1, 16, 16), np.float32))" "$T/huge_node.npy"
run train --spec "$T/huge_node.json" --data "$T/huge_node.npy" --out "$T/huge_node.aem" --epochs 1 --batch-size 65536
check "bounds: a node of 2^48 floats per sample is a spec error naming encoder[0], not a crash" 1 "encoder[0]"
assert "bounds: the message gives the size" grep -qF "281474976710656 floats" "$T/err"
assert "bounds: no model file written" test ! -e "$T/huge_node.aem"
rm -f "$T/huge_node.npy"
# ---- what a new user hits first: BCE targets, output formats, inspect FILE, help, Ctrl-C -----
. "$ROOT/Tests/cli/new_user.sh"
# ---- the model file: signed files, special files, save targets (issue 10) -------------------
head -c 32 /dev/urandom > "$T/key"
head -c 32 /dev/urandom > "$T/otherkey"
run train --spec "$SPEC" --data "$T/x.npy" --out "$T/signed.aem" --epochs 1 --batch-size 32 --divide-by 255 --quiet --key-file "$T/key"
check "train --key-file: saves a signed model" 0
assert "the signed model carries an hmac-sha256 signature" python3 -c "
import json, struct, sys
raw = open('$T/signed.aem', 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]
sys.exit(0 if json.loads(raw[8:8 + n])['__metadata__']['signature'].startswith('hmac-sha256:') else 1)"
run inspect --model "$T/signed.aem" --key-file "$T/key"
check "inspect --key-file: the right key verifies" 0
run inspect --model "$T/signed.aem" --key-file "$T/otherkey"
check "inspect --key-file: another key is refused" 1 "signature mismatch"
run reconstruct --model "$MODEL" --data "$T/x.npy" --out "$T/r.npy" --key-file "$T/key"
check "reconstruct --key-file: an unsigned model is refused" 1 "not signed"
: > "$T/emptykey"
run train --spec "$SPEC" --data "$T/x.npy" --out "$T/never.aem" --epochs 1 --key-file "$T/emptykey"
check "train: an empty key file fails before training" 1 "expected 1 to 65536"
[ ! -e "$T/never.aem" ] && ok "train: nothing saved with an empty key file" || fail "train: nothing saved with an empty key file"
mkfifo "$T/fifo.aem"
timeout 60 "$BIN" inspect --model "$T/fifo.aem" >"$T/out" 2>"$T/err"; rc=$?
check "inspect: a FIFO is refused at once (it used to block)" 1 "not a regular file"
timeout 60 "$BIN" inspect --model /dev/zero >"$T/out" 2>"$T/err"; rc=$?
check "inspect: /dev/zero is refused at once (it used to abort)" 1 "not a regular file"
cp "$MODEL" "$T/real.aem"; ln -s "$T/real.aem" "$T/link.aem"
run threshold --model "$MODEL" --data "$T/x.npy" --out "$T/link.aem"
check "threshold --out over a symbolic link: refused" 1 "symbolic link"
[ -L "$T/link.aem" ] && cmp -s "$MODEL" "$T/real.aem" && ok "the link and its target are left as they were" || fail "the link and its target are left as they were"
LONG="$T/$(printf 'm%.0s' $(seq 246)).aem"
run threshold --model "$MODEL" --data "$T/x.npy" --out "$LONG"
check "threshold --out with a 250-byte file name" 0

# ---- sequences (issue 11) --------------------------------------------------------------------
python3 - "$T" <<'PY'
import sys, numpy as np
t = sys.argv[1]
rng = np.random.default_rng(1)
n, steps, f = 40, 12, 3
x = np.sin(np.linspace(0, 6, steps)[None, :, None] * (1 + rng.random((n, 1, f)))).astype(np.float32)
lengths = rng.integers(4, steps + 1, n).astype(np.int64)
np.save(f"{t}/seq.npy", x)
np.save(f"{t}/len.npy", lengths)
np.save(f"{t}/len32.npy", lengths.astype(np.int32))
np.save(f"{t}/len_zero.npy", np.where(np.arange(n) == 7, 0, lengths))
np.save(f"{t}/len_long.npy", np.where(np.arange(n) == 2, steps + 1, lengths))
np.save(f"{t}/len_short.npy", lengths[:-1])
tokens = rng.integers(1, 9, (n, steps)).astype(np.int32)
tokens[np.arange(steps)[None, :] >= lengths[:, None]] = 0
np.save(f"{t}/tokens.npy", tokens)
bad = tokens.copy(); bad[5, 3] = 9
np.save(f"{t}/tokens_bad.npy", bad)
open(f"{t}/lstm.json", "w").write('{"input_shape": [12, 3], "encoder": [{"type": "lstm", "units": 8, "return": "last"}],'
    ' "decoder": [{"type": "repeat", "steps": 12}, {"type": "lstm", "units": 8}, {"type": "time_distributed_dense", "units": 3}],'
    ' "optimizer": {"type": "adam", "lr": 0.01}}')
open(f"{t}/text.json", "w").write('{"input_shape": [12], "encoder": [{"type": "embedding", "vocabulary": 9, "units": 4, "padding_id": 0},'
    ' {"type": "gru", "units": 8, "return": "last"}], "decoder": [{"type": "repeat", "steps": 12}, {"type": "gru", "units": 8},'
    ' {"type": "time_distributed_dense", "units": 9}], "loss": "sequence_cross_entropy", "optimizer": {"type": "adam", "lr": 0.01}}')
PY
run train --spec "$T/lstm.json" --data "$T/seq.npy" --lengths "$T/len.npy" --out "$T/lstm.aem" --epochs 3 --batch-size 8 --validation-split 0.2
check "sequences: train an LSTM AE on [N, T, F] with --lengths" 0
run encode --model "$T/lstm.aem" --data "$T/seq.npy" --lengths "$T/len32.npy" --out "$T/seq_codes.npy"
check "sequences: encode with int32 --lengths" 0
assert "sequences: codes are [40, 8]" has_shape "$T/seq_codes.npy" "40,8"
run reconstruct --model "$T/lstm.aem" --data "$T/seq.npy" --lengths "$T/len.npy" --out "$T/seq_rec.npy"
check "sequences: reconstruct with --lengths" 0
assert "sequences: the reconstruction is [40, 12, 3], 0 past each length" python3 -c "
import numpy as np, sys
r = np.load('$T/seq_rec.npy'); l = np.load('$T/len.npy')
assert r.shape == (40, 12, 3), r.shape
assert all((r[i, l[i]:] == 0).all() and np.abs(r[i, :l[i]]).sum() > 0 for i in range(40))"
run score --model "$T/lstm.aem" --data "$T/seq.npy" --lengths "$T/len.npy" --out "$T/seq_scores.npy"
check "sequences: score with --lengths" 0
run score --model "$T/lstm.aem" --data "$T/seq.npy" --out "$T/seq_scores_all.npy"
check "sequences: score without lengths" 0
assert "sequences: lengths change the scores" python3 -c "
import numpy as np
a = np.load('$T/seq_scores.npy'); b = np.load('$T/seq_scores_all.npy')
assert a.shape == (40,) and not np.allclose(a, b)"
run score --model "$T/lstm.aem" --data "$T/seq.npy" --lengths "$T/len_zero.npy"
check "sequences: a length of 0 is refused, naming the element" 1 "element [7] is 0; each length must be between 1 and T = 12"
run reconstruct --model "$T/lstm.aem" --data "$T/seq.npy" --lengths "$T/len_long.npy" --out "$T/never.npy"
check "sequences: a length beyond T is refused" 1 "element [2] is 13"
run encode --model "$T/lstm.aem" --data "$T/seq.npy" --lengths "$T/len_short.npy" --out "$T/never.npy"
check "sequences: lengths not matching N are refused" 1 "expected one length per sample, shape [40]"
run train --spec "$T/lstm.json" --data "$T/seq.npy" --lengths "$T/len_zero.npy" --out "$T/never.aem" --epochs 1
check "sequences: train refuses a length of 0" 1 "element [7] is 0"
run score --model "$MODEL" --data "$T/x.npy" --lengths "$T/len.npy"
check "sequences: --lengths on a dense model is refused" 1 "lengths apply to sequence models"
run score --model "$T/lstm.aem" --data "$T/wrong.npy"
check "sequences: a flat buffer of the wrong size is refused" 1 "36"
[ ! -e "$T/never.aem" ] && [ ! -e "$T/never.npy" ] && ok "sequences: nothing written on bad lengths" || fail "sequences: nothing written on bad lengths"
run train --spec "$T/text.json" --data "$T/tokens.npy" --lengths "$T/len.npy" --out "$T/text.aem" --epochs 3 --batch-size 8
check "tokens: train a GRU text AE on integer ids [N, T]" 0
run reconstruct --model "$T/text.aem" --data "$T/tokens.npy" --lengths "$T/len.npy" --out "$T/text_rec.npy"
check "tokens: reconstruct" 0
assert "tokens: int32 ids [40, 12], the padding id past each length" python3 -c "
import numpy as np
r = np.load('$T/text_rec.npy'); l = np.load('$T/len.npy')
assert r.dtype == np.int32 and r.shape == (40, 12), (r.dtype, r.shape)
assert ((r >= 0) & (r < 9)).all() and all((r[i, l[i]:] == 0).all() for i in range(40))"
run score --model "$T/text.aem" --data "$T/tokens.npy" --lengths "$T/len.npy"
check "tokens: score (cross-entropy per sample)" 0
run encode --model "$T/text.aem" --data "$T/tokens_bad.npy" --out "$T/never.npy"
check "tokens: an id outside the vocabulary is refused" 1 "is not an integer token id in 0..<9"

# ---- compression: quantize / compress / decompress (issue 16) --------------------------------
run compress "$MODEL" "$T/x.npy" "$T/x.aec"
check "compress without a quantiser: exit 1, the message says how to fit one" 1 "autoencoders quantize MODEL"
assert "compress without a quantiser writes nothing" test ! -e "$T/x.aec"
run quantize "$MODEL" "$T/x.npy" --bits 6 --out "$T/codec.aem"
check "quantize MODEL DATA --bits 6 --out" 0
assert "quantize prints the bits and the code size" grep -qE '^quantiser: 6 bits x [0-9]+ code values' "$T/out"
run quantize "$MODEL" "$T/x.npy" --bits 3 --out "$T/never.aem"
check "quantize --bits 3: a usage error" 2 "--bits"
run compress "$T/codec.aem" "$T/x.npy" "$T/x.aec"
check "compress MODEL IN OUT" 0
assert "compress: the file is under 10% of the 8-bit pixels" python3 -c "
import os; assert os.path.getsize('$T/x.aec') < 0.1 * 500 * 784, os.path.getsize('$T/x.aec')"
assert "compress prints the size and the ratio" grep -qE '^compressed 500 samples into [0-9]+ bytes' "$T/out"
run decompress "$T/codec.aem" "$T/x.aec" "$T/x_dec.npy"
check "decompress MODEL IN OUT" 0
assert "decompress restores the shape [500, 28, 28]" has_shape "$T/x_dec.npy" "500,28,28"
run reconstruct --model "$T/codec.aem" --data "$T/x.npy" --out "$T/x_rec.npy"
assert "decompress is close to the float reconstruction (6-bit codes)" python3 -c "
import numpy as np
d, r = np.load('$T/x_dec.npy').reshape(500, -1), np.load('$T/x_rec.npy').reshape(500, -1)
assert np.abs(d - r).mean() < 8, np.abs(d - r).mean()"
head -c -7 "$T/x.aec" > "$T/truncated.aec"
run decompress "$T/codec.aem" "$T/truncated.aec" "$T/never.npy"
check "decompress a truncated file: exit 1" 1 "truncated"
python3 -c "
b = bytearray(open('$T/x.aec', 'rb').read()); b[len(b) // 2] ^= 1; open('$T/corrupted.aec', 'wb').write(b)"
run decompress "$T/codec.aem" "$T/corrupted.aec" "$T/never.npy"
check "decompress a corrupted file: exit 1" 1 "checksum mismatch"
run decompress "$T/codec.aem" "$T/x.npy" "$T/never.npy"
check "decompress a file that is not compressed: exit 1" 1 "not a compressed file"
run quantize "$MODEL" "$T/x.npy" --bits 5 --out "$T/other.aem"
run decompress "$T/other.aem" "$T/x.aec" "$T/never.npy"
check "decompress with another model: exit 1, names both digests" 1 "compressed by another model"
assert "no output file after the failures" test ! -e "$T/never.npy"
run compress "$T/codec.aem" "$T/x.npy" "$T/x.aec" extra
check "compress with a fourth file: a usage error" 2 "takes 3 files"
run inspect "$T/codec.aem" --json
assert "inspect: a quantised model is model-file format 3" python3 -c "
import json; j = json.load(open('$T/out')); assert j['format_version'] == 3 and j['quantizer_bits'] == 6, j"

# ---- adversarial autoencoders (issue 16) ------------------------------------------------------
python3 - "$T" <<'PY'
import sys, json, numpy as np
t = sys.argv[1]
np.save(f"{t}/digits.npy", (np.load("data/mnist5k_train_y.npy")[:500] % 3).astype(np.int64))
spec = {"input_shape": [28, 28],
        "encoder": [{"type": "flatten"}, {"type": "dense", "units": 64, "activation": "relu"}, {"type": "dense", "units": 2}],
        "decoder": [{"type": "dense", "units": 64, "activation": "relu"}, {"type": "dense", "units": 784, "activation": "sigmoid"},
                    {"type": "reshape", "shape": [28, 28]}],
        "loss": "bce", "seed": 1,
        "adversarial": {"discriminator": {"hidden": [32]},
                        "prior": {"type": "mixture", "components": 3, "supervised": True}}}
json.dump(spec, open(f"{t}/aae.json", "w"))
spec["adversarial"]["discriminator"]["input_size"] = 2
json.dump(spec, open(f"{t}/aae_bad.json", "w"))
PY
run train --spec "$T/aae.json" --data "$T/x.npy" --labels "$T/digits.npy" --out "$T/aae.aem" --epochs 2 --batch-size 100 --divide-by 255
check "adversarial: trains with --labels for the supervised prior" 0
assert "adversarial: the three losses per epoch and in the summary" bash -c "
grep -qE '^epoch 2/2 .* recon [0-9.]+ disc [0-9.]+ gen [0-9.]+' '$T/err' &&
grep -qE '^phases +reconstruction [0-9.]+, discriminator [0-9.]+, generator [0-9.]+$' '$T/out'"
run train --spec "$T/aae.json" --data "$T/x.npy" --out "$T/never.aem" --epochs 1
check "adversarial: the supervised prior without --labels: exit 1" 1 "supervised mixture prior"
run train --spec "$T/aae_bad.json" --data "$T/x.npy" --labels "$T/digits.npy" --out "$T/never.aem" --epochs 1
check "adversarial: a discriminator that does not match the code: exit 1 at its JSON path" 1 "adversarial.discriminator.input_size"
run generate --model "$T/aae.aem" --count 5 --out "$T/aae_samples.npy"
check "adversarial: generate decodes prior samples" 0
assert "adversarial: 5 generated samples of [28, 28]" has_shape "$T/aae_samples.npy" "5,28,28"
run inspect "$T/aae.aem" --json
assert "inspect: an adversarial model is model-file format 4, with its prior and phase steps" python3 -c "
import json; j = json.load(open('$T/out')); a = j['adversarial']
assert j['format_version'] == 4 and a['prior_components'] == 3 and a['supervised'] and a['discriminator_hidden'] == [32], j
assert a['discriminator_step'] == a['generator_step'] == 10, a"
run inspect "$T/aae.aem"
assert "inspect: the prior and the phase optimizers in text" bash -c "
grep -qE '^adversarial +discriminator \\[32\\] relu; prior mixture of 3 on a circle of radius [0-9.]+, std [0-9.]+, supervised' '$T/out' &&
grep -qE '^phase optimizers +discriminator adam, lr 0.001, step 10; generator adam, lr 0.001, step 10$' '$T/out'"
# ---- int8 inference: quantize-int8 (issue 13.5) -----------------------------------------------
run quantize-int8 "$MODEL" "$T/int8.aem"
check "quantize-int8 MODEL OUT (dynamic)" 0
assert "quantize-int8 prints the layers and the sizes" grep -qE '^int8: [0-9]+ layers quantised \(dynamic input ranges' "$T/out"
run quantize-int8 "$MODEL" "$T/int8c.aem" --calibrate "$T/x.npy" --require-all
check "quantize-int8 --calibrate DATA --require-all" 0
assert "quantize-int8 --calibrate says calibrated" grep -qF 'calibrated input ranges' "$T/out"
run quantize-int8 "$MODEL" "$T/int8k.aem" --keep-float decoder.0,decoder.2 --require-all
check "quantize-int8 --keep-float decoder.0,decoder.2" 0
assert "quantize-int8 --keep-float lists the kept layers" grep -qE '^int8: 4 layers quantised .*, in float: decoder\.0 \(dense\), decoder\.2 \(dense\);' "$T/out"
run quantize-int8 "$MODEL" "$T/int8s.aem" --keep-float "decoder.0, decoder.2" --require-all
check "quantize-int8 --keep-float with spaces after the commas" 0
assert "quantize-int8 --keep-float trims the spaces around each name" grep -qE '^int8: 4 layers quantised .*, in float: decoder\.0 \(dense\), decoder\.2 \(dense\);' "$T/out"
run quantize-int8 "$MODEL" "$T/never.aem" --keep-float decoder.9
check "quantize-int8 --keep-float with an unknown layer: exit 1, names it" 1 '"decoder.9"'
run reconstruct --model "$T/int8c.aem" --data "$T/x.npy" --out "$T/x_int8.npy"
check "reconstruct with the int8 model" 0
run reconstruct --model "$MODEL" --data "$T/x.npy" --out "$T/x_float.npy"
assert "int8 reconstruction error within 2% of the float model's" python3 -c "
import numpy as np
x = np.load('$T/x.npy').astype(np.float64); f = np.load('$T/x_float.npy'); q = np.load('$T/x_int8.npy')
ef = ((f - x) ** 2).mean(); eq = ((q - x) ** 2).mean()
assert abs(eq - ef) / ef < 0.02, (ef, eq)"
assert "the int8 file is under 40% of the float file" python3 -c "
import os; assert os.path.getsize('$T/int8.aem') < 0.4 * os.path.getsize('$MODEL'), (os.path.getsize('$T/int8.aem'), os.path.getsize('$MODEL'))"
run inspect "$T/int8c.aem"
check "inspect an int8 model" 0
assert "inspect shows 'int8 yes, inference only'" grep -qE '^int8 +yes, inference only: [0-9]+ layers in int8 \(calibrated' "$T/out"
run inspect "$T/int8c.aem" --json
assert "inspect --json: format 5 and the int8 object" python3 -c "
import json; j = json.load(open('$T/out')); assert j['format_version'] == 5 and j['int8']['activations'] == 'calibrated' and len(j['int8']['layers']) > 0, j"
run inspect "$MODEL" --json
assert "inspect --json: int8 is null for a float model" python3 -c "
import json; j = json.load(open('$T/out')); assert j['int8'] is None, j"
run train --resume "$T/int8.aem" --data "$T/x.npy" --epochs 1 --out "$T/never.aem"
check "training an int8 model: exit 1, says why" 1 "inference only"
run quantize-int8 "$T/int8.aem" "$T/never.aem"
check "quantize-int8 an int8 model: exit 1" 1 "already an int8 model"
run quantize-int8 "$MODEL"
check "quantize-int8 without OUT: a usage error" 2
run quantize-int8 "$MODEL" "$T/never.aem" --calibrate "$T/small.csv"
check "quantize-int8 --calibrate with the wrong width: exit 1" 1
assert "no output file after the failures" test ! -e "$T/never.aem"

# ---- help and version ------------------------------------------------------------------------
for command in train encode decode reconstruct score segment generate interpolate threshold predict quantize quantize-int8 compress decompress inspect version; do
    run "$command" --help
    if [ "$rc" -eq 0 ] && grep -q "^Usage: autoencoders $command" "$T/out"; then ok "$command --help"; else fail "$command --help"; fi
done
run help
check "help" 0
run version
check "version" 0
assert "version prints 'autoencoders X.Y.Z'" grep -qE '^autoencoders [0-9]+\.[0-9]+\.[0-9]+' "$T/out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
