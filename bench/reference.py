#!/usr/bin/env python3
"""The reference side of `make bench`: W1, W3, W4 and W5 (docs/BENCHMARKS.md) in PyTorch, and the
inference workloads W3 and W5 in ONNX Runtime, measured as bench/bench.c measures this library.

    build/bench-venv/bin/python bench/reference.py --workload NAME --threads N [--engine E]
                                                   [--repeats R] [--quick]
    build/bench-venv/bin/python bench/reference.py --info

NAME: w1, w4 (training, samples/s), w3-one, w5 (one-sample latency, us), w3-batch (batch-256
inference, samples/s). E: torch (default) or ort (w3-one, w3-batch, w5 only). Each measurement
prints one line "NAME ENGINE THREADS VALUE UNIT load L" (scripts/bench.py reads them); --info
prints the versions, the CPU capability PyTorch dispatches to and its BLAS configuration.

The workloads, as bench.c runs them: float32; data: the 5,000 MNIST images / 255 of
data/mnist5k_X.npy tiled to 10,240 samples; an epoch is those freshly permuted, gathering a batch
being part of the step; Adam lr 1e-3; PyTorch's default initialisation.
  W1  784-512-128-32-128-512-784, ReLU, sigmoid output, BCE (BCEWithLogitsLoss: PyTorch's fused,
      fastest form), batch 256; median of 5 epochs after a warm-up epoch (2 with --quick).
  W4  the classic PyTorch VAE example: 784-400-(mu, logvar of 20), 20-400-784, BCE summed + KL,
      per sample; batch 128; as W1.
  W3  the W1 model: one-sample latency (median of 2,000 calls after 300 warm-up, each timed
      alone) and batch-256 throughput (median of 200 calls after 20); the ONNX graph is built
      by hand (Gemm + Relu / Sigmoid) with the PyTorch model's weights.
  W5  100-50-25-10-25-50-100, ReLU after every layer: one-sample latency, median of 5,000 calls
      after 500.
PyTorch runs in torch.inference_mode() for inference; ONNX Runtime with intra_op_num_threads = N,
inter_op_num_threads = 1, every graph optimisation.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

EPOCH_SAMPLES = 10240
# BENCH_CLOCK=cpu: this process's CPU time instead of the wall clock, as bench.c (one thread only).
clock = time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mnist() -> torch.Tensor:
    images = np.load(os.path.join(ROOT, "data", "mnist5k_X.npy")).reshape(5000, 784).astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(images[np.arange(EPOCH_SAMPLES) % 5000]))


def w1_model() -> torch.nn.Sequential:
    sizes = [784, 512, 128, 32, 128, 512, 784]
    layers = []
    for i in range(6):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < 5:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)  # logits; the sigmoid is in the loss (training) or appended (inference)


def w5_model() -> torch.nn.Sequential:
    sizes = [100, 50, 25, 10, 25, 50, 100]
    layers = []
    for i in range(6):
        layers += [torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers)


class VAE(torch.nn.Module):
    """The classic PyTorch VAE example (examples/vae/main.py)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 400)
        self.fc21 = torch.nn.Linear(400, 20)
        self.fc22 = torch.nn.Linear(400, 20)
        self.fc3 = torch.nn.Linear(20, 400)
        self.fc4 = torch.nn.Linear(400, 784)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.fc4(torch.relu(self.fc3(z))), mu, logvar


def train(kind: str, x: torch.Tensor, epochs: int) -> float:
    """Samples/s: the median of `epochs` epochs after a warm-up epoch."""
    torch.manual_seed(0)
    model = w1_model() if kind == "w1" else VAE()
    batch = 256 if kind == "w1" else 128
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    bce = torch.nn.BCEWithLogitsLoss()
    times = []
    for epoch in range(epochs + 1):
        start = clock()
        order = torch.randperm(EPOCH_SAMPLES)
        for b in range(0, EPOCH_SAMPLES, batch):
            xb = x[order[b:b + batch]]
            optimizer.zero_grad(set_to_none=True)
            if kind == "w1":
                loss = bce(model(xb), xb)
            else:
                logits, mu, logvar = model(xb)
                reconstruction = torch.nn.functional.binary_cross_entropy_with_logits(logits, xb, reduction="sum")
                kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
                loss = (reconstruction + kl) / xb.shape[0]
            loss.backward()
            optimizer.step()
        if epoch > 0:
            times.append(clock() - start)
    return EPOCH_SAMPLES / statistics.median(times)


def latency(call, sample, warmup: int, calls: int) -> float:
    for _ in range(warmup):
        call(sample)
    times = []
    for _ in range(calls):
        start = clock()
        call(sample)
        times.append(clock() - start)
    return statistics.median(times) * 1e6


def batch_throughput(call, x: np.ndarray) -> float:
    for i in range(20):
        call(x[:256])
    times = []
    for i in range(200):
        batch = x[(i % 40) * 256:(i % 40 + 1) * 256]
        start = clock()
        call(batch)
        times.append(clock() - start)
    return 256 / statistics.median(times)


def onnx_session(model: torch.nn.Sequential, output_sigmoid: bool, threads: int):
    """The Linear / ReLU chain as an ONNX graph of Gemm nodes, built by hand (no exporter needed)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    current = "x"
    linear = [m for m in model if isinstance(m, torch.nn.Linear)]
    relu_after = [isinstance(model[i + 1], torch.nn.ReLU) if i + 1 < len(model) else False
                  for i, m in enumerate(model) if isinstance(m, torch.nn.Linear)]
    for i, layer in enumerate(linear):
        w, b = f"w{i}", f"b{i}"
        initializers += [numpy_helper.from_array(layer.weight.detach().numpy().astype(np.float32), w),
                         numpy_helper.from_array(layer.bias.detach().numpy().astype(np.float32), b)]
        nodes.append(helper.make_node("Gemm", [current, w, b], [f"g{i}"], transB=1))
        current = f"g{i}"
        if relu_after[i]:
            nodes.append(helper.make_node("Relu", [current], [f"r{i}"]))
            current = f"r{i}"
    if output_sigmoid:
        nodes.append(helper.make_node("Sigmoid", [current], ["y"]))
    else:
        nodes.append(helper.make_node("Identity", [current], ["y"]))
    inputs = linear[0].in_features
    outputs = linear[-1].out_features
    graph = helper.make_graph(nodes, "reference",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", inputs])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", outputs])],
                              initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda batch: session.run(None, {"x": batch})


UNITS = {"w1": "samples/s", "w4": "samples/s", "w3-batch": "samples/s", "w3-one": "us", "w5": "us",
         "peak-memory": "MiB"}


def measure(name: str, engine: str, threads: int, quick: bool) -> float:
    torch.set_num_threads(threads)
    x = mnist()
    if name == "peak-memory":  # as bench.c: the peak RSS of a process that trains W1 (one thread)
        import resource
        train("w1", x, 1)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if name in ("w1", "w4"):
        if engine != "torch":
            raise SystemExit(f"reference.py: {name} is a training workload: PyTorch only")
        return train(name, x, 2 if quick else 5)
    torch.manual_seed(0)
    if name == "w5":
        model = w5_model().eval()
        sample = x[:1, 300:400].contiguous()
        warmup, calls = 500, 1000 if quick else 5000
    else:
        model = w1_model().eval()
        sample = x[:1]
        warmup, calls = 300, 500 if quick else 2000
    if engine == "ort":
        run = onnx_session(model, name != "w5", threads)
        numpy_x = x.numpy()
        if name == "w3-batch":
            return batch_throughput(run, numpy_x)
        return latency(run, sample.numpy(), warmup, calls)
    full = model if name == "w5" else torch.nn.Sequential(*model, torch.nn.Sigmoid())

    def run(batch):
        with torch.inference_mode():
            return full(batch)

    if name == "w3-batch":
        return batch_throughput(run, x)
    return latency(run, sample, warmup, calls)


def info() -> None:
    print(f"PyTorch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    import re
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    print(f"PyTorch BLAS {blas.group(1) if blas else '?'}, oneDNN {torch.backends.mkldnn.is_available()}, "
          f"threads {torch.get_num_threads()} by default")
    try:
        import onnxruntime as ort
        print(f"ONNX Runtime {ort.__version__} (CPUExecutionProvider, its MLAS kernels)")
    except ImportError:
        print("ONNX Runtime: not installed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", choices=sorted(UNITS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--engine", choices=["torch", "ort"], default="torch")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--info", action="store_true")
    parser.add_argument("--cold-start", action="store_true",
                        help="print time.monotonic() once a W1 model and its optimizer exist (the parent "
                             "times process start to that line: scripts/bench.py)")
    arguments = parser.parse_args()
    if arguments.cold_start:
        model = w1_model()
        torch.optim.Adam(model.parameters(), lr=1e-3)
        print(f"{time.monotonic():.9f}", flush=True)
        return
    if arguments.info:
        info()
        return
    if not arguments.workload:
        parser.error("--workload is required (or --info)")
    for _ in range(arguments.repeats):
        value = measure(arguments.workload, arguments.engine, arguments.threads, arguments.quick)
        print(f"{arguments.workload} {arguments.engine} {arguments.threads} {value:.6g} {UNITS[arguments.workload]} "
              f"load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
