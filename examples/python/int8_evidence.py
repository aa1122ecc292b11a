#!/usr/bin/env python3
"""Evidence for int8 inference (issue 13, item 5; docs/RESULTS.md and docs/BENCHMARKS.md, "int8
inference"): `make int8`, a few minutes on 2 cores.

1. Accuracy on MNIST (data/mnist5k_*: 4,000 training and 1,000 test images): a dense and a
   convolutional autoencoder are trained, then quantised to int8 with dynamic (per-sample) and
   with calibrated (500 training images) input ranges. Reconstruction MSE on the test images,
   int8 against float (target: within 2 % relative).
2. Anomaly detection as examples/python/autoencoder_families.py defines it: a model per digit,
   trained on that digit's training images, scores every test image by its reconstruction error;
   ROC AUC of "not this digit", averaged over the ten digits as that script reports it. int8
   against float (target: the mean within 0.005; the largest change of any one digit is printed
   too), and calibrated with the layer that reads the code kept in float (keep_float).
3. Model file sizes, float (without optimizer state) against int8.
4. Latency: W3 (the W1 model 784-512-128-32-128-512-784: one-sample latency and batch-256
   throughput) and W5 (100-50-25-10-25-50-100, one sample), this library float and int8 (measured
   by `build/bench/bench --latency FILE 1`, in C, as bench.c measures W3) beside ONNX Runtime on
   the exported ONNX graph, float and dynamically quantised
   (onnxruntime.quantization.quantize_dynamic, QInt8 weights), all at one thread, in the same
   run, alternating, ROUNDS rounds; medians. The machine is shared: the load average is printed.

Needs the bindings (`make library`), build/bench/bench (`make int8` builds it) and, for step 4,
onnx and onnxruntime (`make bench-setup` makes build/bench-venv; INT8_PYTHON chooses the
interpreter). Without onnxruntime step 4 measures this library only.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from evidence import ROOT, ae, mnist, mnist_labels, roc_auc

ROUNDS = int(os.environ.get("INT8_ROUNDS", "3"))
BENCH = ROOT / "build" / "bench" / "bench"

DENSE = {"input_size": 784, "seed": 1,
         "encoder": [{"type": "dense", "units": 256, "activation": "relu"}, {"type": "dense", "units": 64, "activation": "relu"}],
         "decoder": [{"type": "dense", "units": 256, "activation": "relu"}, {"type": "dense", "units": 784}],
         "loss": "bce_with_logits", "optimizer": {"type": "adam", "lr": 0.001}}
CONV = {"input_shape": [1, 28, 28], "seed": 2,
        "encoder": [{"type": "conv2d", "filters": 16, "kernel": 3, "padding": 1, "activation": "relu"},
                    {"type": "max_pool2d", "kernel": 2},
                    {"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"},
                    {"type": "max_pool2d", "kernel": 2},
                    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"}],
        "decoder": [{"type": "upsample_nearest2d", "scale": 2},
                    {"type": "conv2d", "filters": 16, "kernel": 3, "padding": 1, "activation": "relu"},
                    {"type": "upsample_nearest2d", "scale": 2},
                    {"type": "conv2d", "filters": 1, "kernel": 3, "padding": 1}],
        "loss": "bce_with_logits", "optimizer": {"type": "adam", "lr": 0.002}}
W1 = {"input_size": 784, "seed": 0,
      "encoder": [{"type": "dense", "units": 512, "activation": "relu"}, {"type": "dense", "units": 128, "activation": "relu"},
                  {"type": "dense", "units": 32, "activation": "relu"}],
      "decoder": [{"type": "dense", "units": 128, "activation": "relu"}, {"type": "dense", "units": 512, "activation": "relu"},
                  {"type": "dense", "units": 784}],
      "loss": "bce_with_logits", "optimizer": {"type": "adam", "lr": 0.001}}
W5 = {"input_size": 100, "seed": 0,
      "encoder": [{"type": "dense", "units": 50, "activation": "relu"}, {"type": "dense", "units": 25, "activation": "relu"},
                  {"type": "dense", "units": 10, "activation": "relu"}],
      "decoder": [{"type": "dense", "units": 25, "activation": "relu"}, {"type": "dense", "units": 50, "activation": "relu"},
                  {"type": "dense", "units": 100, "activation": "relu"}],
      "loss": "mse", "optimizer": {"type": "adam", "lr": 0.001}}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def images(model, X):
    """X (n, 784) in the input layout of a model (or a spec dict)."""
    spec = model if isinstance(model, dict) else model.spec
    return X.reshape(-1, 1, 28, 28) if len(spec.get("input_shape", [])) == 3 else X


def mse(model, X) -> float:
    out = np.asarray(model.reconstruct(images(model, X))).reshape(len(X), -1)
    return float(np.mean((out - X) ** 2))


def accuracy(results: list, X, T) -> bool:
    print("\n1. Reconstruction MSE on the 1,000 test images (int8 against float)", flush=True)
    ok = True
    for name, spec, epochs in (("dense 784-256-64-256-784", DENSE, 20), ("conv 16-8-4 (code 4x7x7) / 16-1", CONV, 8)):
        start = time.perf_counter()
        model = ae.Model.from_spec(spec, epochs=epochs, batch_size=64, verbose=0).fit(images(spec, X))
        dynamic = model.quantize_int8()
        calibrated = model.quantize_int8(images(model, X[:500]))
        base = mse(model, T)
        row = [name, f"{base:.5f}"]
        for q in (dynamic, calibrated):
            e = mse(q, T)
            change = (e - base) / base
            ok &= abs(change) < 0.02
            row.append(f"{e:.5f} ({100 * change:+.2f} %)")
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / "f.aem", include_optimizer_state=False)
            dynamic.save(Path(tmp) / "q.aem")
            sizes = (os.path.getsize(Path(tmp) / "f.aem"), os.path.getsize(Path(tmp) / "q.aem"))
        row.append(f"{sizes[0]:,} / {sizes[1]:,} ({sizes[1] / sizes[0]:.2f}x)")
        results.append(row)
        print(f"  {name}: float {row[1]}, int8 dynamic {row[2]}, int8 calibrated {row[3]}; file float / int8 {row[4]}"
              f"  [{time.perf_counter() - start:.0f} s]", flush=True)
    return ok


def anomaly(results: list, X, y, T, labels) -> bool:
    print("\n2. One-class anomaly detection, ROC AUC per digit (float / int8 dynamic / int8 calibrated / calibrated with"
          " the code-reading layer in float)", flush=True)
    ok = True
    # The layer that reads the code, which the last column keeps in float (keep_float).
    for name, spec, epochs, code_reader in (("dense", DENSE, 40, "decoder.0"), ("conv", CONV, 20, "decoder.1")):
        start = time.perf_counter()
        aucs = []
        for digit in range(10):
            normal = X[y == digit]
            model = ae.Model.from_spec(dict(spec, seed=digit), epochs=epochs, batch_size=64, verbose=0)
            model.fit(images(model, normal))
            row = []
            for m in (model, model.quantize_int8(), model.quantize_int8(images(model, normal)),
                      model.quantize_int8(images(model, normal), keep_float=[code_reader])):
                row.append(roc_auc(np.asarray(m.reconstruction_error(images(m, T))), labels != digit))
            aucs.append(row)
        aucs = np.array(aucs)
        worst = float(np.max(np.abs(aucs[:, 1:3] - aucs[:, :1])))
        kept_worst = float(np.max(np.abs(aucs[:, 3] - aucs[:, 0])))
        mean_change = float(np.max(np.abs(aucs[:, 1:].mean(axis=0) - aucs[:, 0].mean())))
        ok &= mean_change <= 0.005
        results.append([name, f"{aucs[:, 0].mean():.4f}", f"{aucs[:, 1].mean():.4f}", f"{aucs[:, 2].mean():.4f}", f"{mean_change:.4f}",
                        f"{worst:.4f}", f"{code_reader}: {aucs[:, 3].mean():.4f} / {kept_worst:.4f}"])
        print("  " + name + ": " + ", ".join(f"{d}: " + "/".join(f"{v:.4f}" for v in a) for d, a in enumerate(aucs)), flush=True)
        print(f"  {name}: mean AUC float {aucs[:, 0].mean():.4f}, int8 dynamic {aucs[:, 1].mean():.4f}, "
              f"calibrated {aucs[:, 2].mean():.4f}; change of the mean {mean_change:.4f} (target <= 0.005), "
              f"largest change of one digit {worst:.4f}; calibrated with {code_reader} in float: mean "
              f"{aucs[:, 3].mean():.4f}, largest change of one digit {kept_worst:.4f}"
              f"  [{time.perf_counter() - start:.0f} s]", flush=True)
    return ok


def ort_latency(path: str, features: int) -> tuple:
    """ONNX Runtime at one thread: one-sample latency (us, median of 2,000 after 300, each timed
    alone) and batch-256 samples/s (median of 200 after 20), as bench/reference.py measures W3."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name, output = session.get_inputs()[0].name, [session.get_outputs()[0].name]
    data = ((np.arange(256 * features, dtype=np.uint64) * 2654435761 % 1000) / 1000).astype(np.float32).reshape(256, features)

    def median_seconds(inputs, warmup: int, calls: int) -> float:
        for _ in range(warmup):
            session.run(output, {name: inputs})
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            session.run(output, {name: inputs})
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median_seconds(data[:1], 300, 2000) * 1e6, 256 / median_seconds(data, 20, 200)


def ours_latency(path: str) -> tuple:
    line = subprocess.run([str(BENCH), "--latency", path, "1"], check=True, capture_output=True, text=True).stdout.split()
    return float(line[line.index("one-sample-us") + 1]), float(line[line.index("batch256-samples/s") + 1])


def latency(results: list) -> None:
    try:
        import onnxruntime  # noqa: F401
        from onnxruntime.quantization import QuantType, quantize_dynamic
        have_ort = True
    except ImportError:
        have_ort = False
        print("  (onnxruntime is not installed: this library only; `make bench-setup`, then INT8_PYTHON=build/bench-venv/bin/python)")
    print(f"\n4. Latency at one thread, {ROUNDS} rounds alternating, medians (load average {load_average()})", flush=True)
    X = mnist("train")[:512]
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, spec, epochs in (("W3", W1, 2), ("W5", W5, 0)):
            model = ae.Model.from_spec(spec, epochs=max(epochs, 1), batch_size=64, verbose=0)
            model.fit(X if spec["input_size"] == 784 else X[:, :100])
            model.save(f"{tmp}/{name}.aem", include_optimizer_state=False)
            model.quantize_int8().save(f"{tmp}/{name}_int8.aem")
            variants = {"ours float": f"{tmp}/{name}.aem", "ours int8": f"{tmp}/{name}_int8.aem"}
            if have_ort:
                model.export_onnx(f"{tmp}/{name}.onnx")
                quantize_dynamic(f"{tmp}/{name}.onnx", f"{tmp}/{name}_int8.onnx", weight_type=QuantType.QInt8)
                variants["ORT float"] = f"{tmp}/{name}.onnx"
                variants["ORT int8 (quantize_dynamic)"] = f"{tmp}/{name}_int8.onnx"
            files[name] = (spec["input_size"], variants)
        measured = {(w, v): [] for w in files for v in files[w][1]}
        for round_ in range(ROUNDS):
            for w, (features, variants) in files.items():
                for v, path in variants.items():
                    measured[(w, v)].append(ours_latency(path) if v.startswith("ours") else ort_latency(path, features))
        for w, (features, variants) in files.items():
            for v, path in variants.items():
                one = statistics.median(r[0] for r in measured[(w, v)])
                batch = statistics.median(r[1] for r in measured[(w, v)])
                size = os.path.getsize(path)
                results.append([w, v, f"{one:.2f}", f"{batch:,.0f}", f"{size:,}"])
                print(f"  {w} {v:30} one sample {one:8.2f} us   batch 256 {batch:10,.0f} samples/s   file {size:>10,} bytes", flush=True)
    print(f"  load average after: {load_average()}")


def main() -> int:
    print(f"int8 evidence: {cpu_model()}, {os.cpu_count()} logical CPUs, load average {load_average()}")
    print(f"  library {ae.__version__}; int8 kernel {ae.int8_kernel()}; float GEMM {ae.gemm_kernel()}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    ae.set_num_threads(1)
    X, y = mnist("train"), mnist_labels("train")
    T, labels = mnist("test"), mnist_labels("test")
    accuracy_rows, anomaly_rows, latency_rows = [], [], []
    ok = accuracy(accuracy_rows, X, T)
    ok &= anomaly(anomaly_rows, X, y, T, labels)
    latency(latency_rows)
    print("\nMarkdown:\n")
    print("| model | float MSE | int8 dynamic MSE | int8 calibrated MSE | file float / int8, bytes |\n|---|---|---|---|---|")
    for r in accuracy_rows:
        print("| " + " | ".join(r) + " |")
    print("\n| models | mean AUC float | int8 dynamic | int8 calibrated | change of the mean | largest change, one digit "
          "| calibrated, code-reading layer in float: mean / largest change |\n|---|---|---|---|---|---|---|")
    for r in anomaly_rows:
        print("| " + " | ".join(r) + " |")
    print("\n| workload | engine | one sample, µs | batch 256, samples/s | file, bytes |\n|---|---|---|---|---|")
    for r in latency_rows:
        print("| " + " | ".join(r) + " |")
    print(f"\naccuracy targets (MSE within 2 %, mean AUC within 0.005): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
