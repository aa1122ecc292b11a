"""W6 in PyTorch measured by CPU time, as bench/w6_cputime.c measures this library.

The model, data, optimizer and epoch of bench/pytorch_w6.py; each epoch timed by the wall clock
and by the process's CPU time (time.process_time); the best of EPOCHS epochs after a warm-up.

    python3 bench/pytorch_w6_cputime.py [THREADS [EPOCHS]]
"""

import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_w6 as w6  # noqa: E402


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    torch.set_num_threads(threads)
    x = w6.data()
    torch.manual_seed(0)
    model = w6.LSTMAutoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    walls, cpus = [], []
    for epoch in range(epochs + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        order = torch.randperm(w6.SAMPLES)
        for b in range(0, w6.SAMPLES, w6.BATCH):
            batch = x[order[b:b + w6.BATCH]]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch), batch)
            loss.backward()
            optimizer.step()
        if epoch > 0:
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    print(f"pytorch threads={threads} best-epoch samples/s: wall={w6.SAMPLES / min(walls):.0f} "
          f"cpu={w6.SAMPLES / min(cpus):.0f} load={os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
