#!/usr/bin/env python3
"""W2 in PyTorch, measured as bench/bench.c measures ours (docs/BENCHMARKS.md, "Workloads"):

    Conv2d(1,16,3,p1)+ReLU, MaxPool2d(2), Conv2d(16,32,3,p1)+ReLU, MaxPool2d(2),
    ConvTranspose2d(32,16,3,s2,p1,op1)+ReLU, ConvTranspose2d(16,1,3,s2,p1,op1)+Sigmoid

on 1x28x28, BCE (mean), Adam lr 1e-3, PyTorch's default initialisation, batch 64; an epoch is
the 5,000 MNIST images of data/mnist5k_X.npy / 255 tiled to 10,240 samples, freshly permuted,
gathering each batch being part of the step; samples/s = 10,240 / epoch time, the median of
EPOCHS timed epochs after a warm-up epoch. One line per measurement:

    W2 torch threads 1 samples/s 6270.0 load 1.23 cpu-samples/s 6300.0 (torch 2.13.0)

Usage (from the repository root; bench/w2_paired.sh interleaves it with `bench --w2`):

    python bench/pytorch_w2.py [--threads N] [--repeats R] [--epochs E] [--data DIR]
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

EPOCH_SAMPLES = 10240
BATCH = 64


def model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), torch.nn.Sigmoid())


def throughput(data, epochs):
    """Samples/s of one fresh model: one warm-up epoch, then the median of `epochs` epochs."""
    net = model()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(EPOCH_SAMPLES)
        for b in range(0, EPOCH_SAMPLES, BATCH):
            x = data[order[b:b + BATCH]]
            optimizer.zero_grad()
            loss = F.binary_cross_entropy(net(x), x)
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return EPOCH_SAMPLES / statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data", default="data")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = np.load(os.path.join(args.data, "mnist5k_X.npy")).astype(np.float32).reshape(-1, 1, 28, 28) / 255.0
    tiled = np.concatenate([images] * (EPOCH_SAMPLES // len(images) + 1))[:EPOCH_SAMPLES]
    data = torch.from_numpy(np.ascontiguousarray(tiled))
    for _ in range(args.repeats):
        cpu = time.process_time()
        rate = throughput(data, args.epochs)
        cpu = time.process_time() - cpu
        # Also samples per second of process CPU time over all epochs (warm-up included), the
        # figure one thread's speed can be compared by on a loaded machine.
        print(f"W2 torch threads {args.threads} samples/s {rate:.1f} load {os.getloadavg()[0]:.2f} "
              f"cpu-samples/s {(args.epochs + 1) * EPOCH_SAMPLES / cpu:.1f} (torch {torch.__version__})", flush=True)


if __name__ == "__main__":
    main()
