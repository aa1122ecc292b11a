#!/usr/bin/env python3
"""`make bench`: this library beside PyTorch and ONNX Runtime, measured in the same run.

Each workload runs as its own process, ours (build/bench/bench --workload) then PyTorch
(bench/reference.py, or bench/pytorch_w2.py / pytorch_w6.py / pytorch_w7.py) then ONNX Runtime,
at 1 then 2 threads, ROUNDS times; the table gives the median of the rounds and the ratios, so
that the load of a shared machine falls on all sides alike. The header names the machine (CPU
model, vector flags, cores), the GEMM kernel this library selected, OpenBLAS's version and core
(openblas_get_corename), the references' versions and the thread settings.

    scripts/bench.py [--quick] [--rounds N] [--threads 1,2] [--workloads w1,w4,...] [--w7]

The references run in build/bench-venv (`make bench-setup`); without it, ours alone is printed.
Nothing here fails on a timing (docs/BENCHMARKS.md). Standard library only.
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "bench", "bench")
# The references' interpreter: build/bench-venv (make bench-setup), or BENCH_PYTHON.
VENV_PYTHON = os.environ.get("BENCH_PYTHON") or os.path.join(ROOT, "build", "bench-venv", "bin", "python")

# name, title, unit, lower is better, engines besides ours
WORKLOADS = [
    ("w1", "W1 dense AE training", "samples/s", False, ["torch"]),
    ("w4", "W4 VAE training", "samples/s", False, ["torch"]),
    ("w2", "W2 conv AE training", "samples/s", False, ["torch"]),
    ("w3-one", "W3 one-sample latency", "us", True, ["torch", "ort"]),
    ("w3-batch", "W3 batch-256 inference", "samples/s", False, ["torch", "ort"]),
    ("w5", "W5 tiny-model latency", "us", True, ["torch", "ort"]),
    ("w6", "W6 LSTM AE training", "samples/s", False, ["torch"]),
    ("w7", "W7 3-D U-Net + VAE training", "samples/s", False, ["torch"]),
]
ONCE = [("cold-start", "cold start to W1 model + optimizer", "ms", True),
        ("peak-memory", "peak RSS, W1 training (1 thread)", "MiB", True),
        ("peak-memory-source", "peak RSS, W1 training, data as bytes through ae_model_train_source", "MiB", True)]
VECTOR_FLAGS = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni",
                "avx512_bf16", "amx_tile"]


def load() -> float:
    return os.getloadavg()[0]


CPU_CLOCK = {"on": False}


def run(command, timeout=3600, threads=0):
    """stdout of a command, or None (with its stderr on ours) when it fails. With --cpu-clock,
    one-thread measurements time this process's CPU time (BENCH_CLOCK=cpu)."""
    environment = dict(os.environ)
    if CPU_CLOCK["on"] and threads == 1:
        environment["BENCH_CLOCK"] = "cpu"
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=environment)
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"  ({' '.join(command[:3])}: {error})", file=sys.stderr)
        return None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        print(f"  ({os.path.basename(command[1] if command[0] == VENV_PYTHON else command[0])} failed: {tail[0]})",
              file=sys.stderr)
        return None
    return done.stdout


# "samples/s 123.4" or "samples/s=123.4" in the reference scripts' lines, not "cpu-samples/s".
WALL_RATE = r"(?<![-\w])samples/s[=: ]+([0-9.]+)"


def number(text, pattern):
    if text is None:
        return None
    found = re.findall(pattern, text)
    try:
        return float(found[-1]) if found else None
    except ValueError:
        return None


def ours(name, threads, quick):
    command = [BENCH, "data", "--workload", name, str(threads)] + (["--quick"] if quick else [])
    return number(run(command, threads=threads), rf"(?m)^{re.escape(name)} \d+ ([0-9.eE+-]+) ")


def reference(name, engine, threads, quick):
    """One reference figure, or None when its script is absent or fails."""
    if name in ("w1", "w4", "w3-one", "w3-batch", "w5"):
        command = [VENV_PYTHON, "bench/reference.py", "--workload", name, "--threads", str(threads), "--engine", engine]
        return number(run(command + (["--quick"] if quick else []), threads=threads),
                      rf"{re.escape(name)} {engine} \d+ ([0-9.eE+-]+) ")
    script = {"w2": "bench/pytorch_w2.py", "w6": "bench/pytorch_w6.py", "w7": "bench/pytorch_w7.py"}[name]
    if not os.path.exists(os.path.join(ROOT, script)):
        return None
    if name == "w7":
        return number(run([VENV_PYTHON, script, str(threads), "1" if quick else "3"]), WALL_RATE)
    extra = ["--epochs", "2"] if name == "w6" and quick else []
    return number(run([VENV_PYTHON, script, "--threads", str(threads), "--repeats", "1"] + extra),
                  WALL_RATE)


def torch_cold_start():
    start = time.monotonic()
    ready = number(run([VENV_PYTHON, "bench/reference.py", "--cold-start"]), r"([0-9.]+)")
    return None if ready is None else (ready - start) * 1e3


def cpu_facts():
    model, flags, family = platform.processor() or "?", [], "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and model in ("?", "", "x86_64"):
                    model = value
                elif key == "cpu family" and family == "?":
                    family = value
                elif key == "flags" and not flags:
                    flags = value.split()
    except OSError:
        pass
    return model, family, [f for f in VECTOR_FLAGS if f in flags]


def header(venv):
    model, family, flags = cpu_facts()
    print(f"bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}")
    print(f"CPU: {model} (family {family}), {os.cpu_count()} logical CPUs; vector flags: {' '.join(flags)}")
    info = run([BENCH, "--info"]) or "?\n"
    print(info.rstrip())
    settings = " ".join(f"{k}={os.environ[k]}" if k in os.environ else f"{k} unset"
                        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                  "AE_GEMM"))
    print(f"thread settings: {settings}; each side is set to the thread count of its row "
          "(ae_set_num_threads, torch.set_num_threads, intra_op_num_threads)")
    if venv:
        print((run([VENV_PYTHON, "bench/reference.py", "--info"]) or "references: ?\n").rstrip())
    print(f"load average {load():.2f} at start")


def ratio(value, ref):
    return f"{value / ref:.2f}×" if value is not None and ref else "–"


def fmt(value, unit):
    if value is None:
        return "–"
    return f"{value:,.2f}" if unit in ("us",) or value < 100 else f"{value:,.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter medians inside each measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS if w[0] != "w7") + ",cold-start,peak-memory,peak-memory-source")
    parser.add_argument("--w7", action="store_true", help="also W7 (several minutes per round)")
    parser.add_argument("--cpu-clock", action="store_true",
                        help="time one-thread rows of ours and of bench/reference.py by process CPU time "
                             "(for a loaded machine; two-thread rows stay on the wall clock)")
    arguments = parser.parse_args()
    CPU_CLOCK["on"] = arguments.cpu_clock
    wanted = arguments.workloads.split(",") + (["w7"] if arguments.w7 else [])
    thread_counts = [int(t) for t in arguments.threads.split(",")]
    venv = os.access(VENV_PYTHON, os.X_OK) and run([VENV_PYTHON, "-c", "import torch, onnxruntime, onnx"]) is not None
    header(venv)
    if not venv:
        print("\nPyTorch / ONNX Runtime: build/bench-venv is missing (or lacks torch, onnxruntime, onnx): ours alone"
              " below.\nRun `make bench-setup` once (a venv with PyTorch, ONNX Runtime, onnx, numpy; about 1 GB),"
              " then `make bench` again.")
    results = {}  # (name, engine, threads) -> [values]
    for round_index in range(arguments.rounds):
        print(f"round {round_index + 1}/{arguments.rounds}, load {load():.2f}", file=sys.stderr, flush=True)
        for threads in thread_counts:
            for name, _, _, _, engines in WORKLOADS:
                if name not in wanted:
                    continue
                value = ours(name, threads, arguments.quick)
                results.setdefault((name, "ours", threads), []).append(value)
                line = f"  {name} threads={threads}: ours {value}"
                for engine in engines if venv else []:
                    value = reference(name, engine, threads, arguments.quick)
                    results.setdefault((name, engine, threads), []).append(value)
                    line += f", {engine} {value}"
                print(line + f" (load {load():.2f})", file=sys.stderr, flush=True)
        if "cold-start" in wanted:
            results.setdefault(("cold-start", "ours", 0), []).append(ours("cold-start", 1, arguments.quick))
            if venv:
                results.setdefault(("cold-start", "torch", 0), []).append(torch_cold_start())
        if "peak-memory" in wanted:
            results.setdefault(("peak-memory", "ours", 0), []).append(ours("peak-memory", 1, arguments.quick))
            if venv:
                results.setdefault(("peak-memory", "torch", 0), []).append(
                    number(run([VENV_PYTHON, "bench/reference.py", "--workload", "peak-memory", "--threads", "1"]),
                           r"peak-memory torch \d+ ([0-9.]+)"))
        if "peak-memory-source" in wanted:  # ours alone: PyTorch's figure is of its float tensors
            results.setdefault(("peak-memory-source", "ours", 0), []).append(
                ours("peak-memory-source", 1, arguments.quick))

    def median(key):
        values = [v for v in results.get(key, []) if v is not None]
        return statistics.median(values) if values else None

    print(f"\nmedians of {arguments.rounds} rounds{' (--quick)' if arguments.quick else ''}"
          f"{'; one-thread rows of ours and reference.py timed by process CPU time' if arguments.cpu_clock else ''}"
          "; ratios are ours / "
          "reference (throughput: higher is better for us; latency, ms, MiB: lower is better for us)\n")
    print("| workload | threads | this library | PyTorch | ONNX Runtime | ours / PyTorch | ours / ORT |")
    print("|---|---|---|---|---|---|---|")
    for threads in thread_counts:
        for name, title, unit, _, engines in WORKLOADS:
            if name not in wanted:
                continue
            mine, torch_value, ort_value = (median((name, e, threads)) for e in ("ours", "torch", "ort"))
            print(f"| {title}, {unit} | {threads} | {fmt(mine, unit)} | {fmt(torch_value, unit)} | "
                  f"{fmt(ort_value, unit)} | {ratio(mine, torch_value)} | {ratio(mine, ort_value)} |")
    for name, title, unit, _ in ONCE:
        if name in wanted:
            mine, torch_value = median((name, "ours", 0)), median((name, "torch", 0))
            print(f"| {title}, {unit} | – | {fmt(mine, unit)} | {fmt(torch_value, unit)} | – | "
                  f"{ratio(mine, torch_value)} | – |")
    print(f"\nload average {load():.2f} at end (2 cores: above ~0.5 at the start, two-thread figures suffer first)")


if __name__ == "__main__":
    main()
