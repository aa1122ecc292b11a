#!/usr/bin/env python3
"""W6 in PyTorch, measured as bench/bench.c measures this library (docs/BENCHMARKS.md).

The classic LSTM autoencoder: encoder LSTM(32 -> 64) -> its last hidden state -> repeated over the
50 steps -> decoder LSTM(64 -> 64) -> a per-step dense 64 -> 32; MSE, Adam lr 1e-3, batch 64,
PyTorch's default initialisation, float32. An epoch is the 2,048 windows of `data()` (the formula
of bench.c's w6_data), freshly permuted; gathering a batch is part of the step. Samples/s =
2,048 / epoch time, the median of EPOCHS timed epochs after one warm-up epoch, at 1 and 2 threads
(torch.set_num_threads), REPEATS times, each line printed with the load average.

    python3 bench/pytorch_w6.py [--repeats N] [--epochs N] [--threads N]

(--threads N: only at N threads, the convention of bench/reference.py, for scripts/bench.py.)

Needs torch and numpy (a CPU build is enough: pip install torch in a venv).
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch

STEPS, FEATURES, HIDDEN, SAMPLES, BATCH = 50, 32, 64, 2048, 64


def data() -> torch.Tensor:
    """Channel f of window i at step t: 0.8 sin(2 pi t / (4 + f) + 0.37 i), as bench.c's w6_data."""
    i = np.arange(SAMPLES, dtype=np.float64)[:, None, None]
    t = np.arange(STEPS, dtype=np.float64)[None, :, None]
    f = np.arange(FEATURES, dtype=np.float64)[None, None, :]
    return torch.from_numpy((0.8 * np.sin(2 * np.pi * t / (4.0 + f) + 0.37 * i)).astype(np.float32))


class LSTMAutoencoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.decoder = torch.nn.LSTM(HIDDEN, HIDDEN, batch_first=True)
        self.output = torch.nn.Linear(HIDDEN, FEATURES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.encoder(x)
        code = h[-1]                                          # [N, 64]: the last hidden state
        repeated = code.unsqueeze(1).expand(-1, x.shape[1], -1)  # [N, T, 64]
        sequence, _ = self.decoder(repeated)
        return self.output(sequence)                          # the same dense layer at every step


def throughput(x: torch.Tensor, epochs: int) -> float:
    """Samples/s: the median of `epochs` epochs after a warm-up epoch."""
    torch.manual_seed(0)
    model = LSTMAutoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    times = []
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(SAMPLES)
        for b in range(0, SAMPLES, BATCH):
            batch = x[order[b:b + BATCH]]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch), batch)
            loss.backward()
            optimizer.step()
        if epoch > 0:
            times.append(time.perf_counter() - start)
    return SAMPLES / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="only this thread count (default: 1 then 2)")
    arguments = parser.parse_args()
    x = data()
    print(f"torch {torch.__version__}, W6 (LSTM AE training, T = {STEPS}, batch {BATCH}), samples/s", flush=True)
    for _ in range(arguments.repeats):
        for threads in (arguments.threads,) if arguments.threads else (1, 2):
            torch.set_num_threads(threads)
            rate = throughput(x, arguments.epochs)
            print(f"pytorch threads={threads} samples/s={rate:.1f} load={os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
