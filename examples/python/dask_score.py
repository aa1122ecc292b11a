"""Scores a data set larger than a worker's memory limit with autoencoders.dask.

    python3 examples/python/dask_score.py [--rows 4000000] [--memory-limit 400MiB]

A LocalCluster of 2 worker processes, each limited to --memory-limit, scores --rows windows of
64 sensor values (float32: 1 GB at the default 4,000,000 rows, 2.4 times one worker's limit; a
worker process with Python, numpy, Dask and the library already uses about 120 MiB).
The data are generated block by block inside the workers (as they would be read from Zarr or
Parquet), the model (trained here on 20,000 windows) reaches each worker once as its file bytes, and only the scores' summary comes back. Prints the time, the throughput and what the
workers' memory peaked at.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import autoencoders as ae  # noqa: E402
from autoencoders import dask as aed  # noqa: E402

FEATURES = 64


def windows(first: np.ndarray) -> np.ndarray:
    """Windows of a sine with a random phase and rate, plus noise; one in 1,000 is a spike
    (an anomaly). `first` holds the row numbers of the block."""
    rng = np.random.default_rng(int(first[0]) if len(first) else 0)
    n = len(first)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    rate = rng.uniform(0.05, 0.25, (n, 1))
    x = np.sin(phase + rate * np.arange(FEATURES)) + 0.05 * rng.standard_normal((n, FEATURES))
    spikes = rng.random(n) < 0.001
    x[spikes, rng.integers(0, FEATURES, spikes.sum())] += 4.0
    return x.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--memory-limit", default="400MiB")
    args = parser.parse_args()

    model = ae.Autoencoder.from_spec({
        "input_size": FEATURES, "seed": 1,
        "encoder": [{"type": "dense", "units": 32, "activation": "tanh"}, {"type": "dense", "units": 8}],
        "decoder": [{"type": "dense", "units": 32, "activation": "tanh"}, {"type": "dense", "units": FEATURES}],
        "optimizer": {"type": "adam", "lr": 0.003}}, verbose=0)
    model.fit(windows(np.arange(20_000)), epochs=5, batch_size=128)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=args.memory_limit,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        rows = da.arange(args.rows, chunks=args.chunk)
        X = rows.map_blocks(windows, new_axis=1, chunks=(rows.chunks[0], (FEATURES,)), dtype=np.float32)
        gigabytes = args.rows * FEATURES * 4 / 1e9
        print(f"data: {args.rows:,} x {FEATURES} float32 = {gigabytes:.2f} GB in {X.numblocks[0]} blocks; "
              f"2 workers of {args.memory_limit} each")
        scores = aed.score(model, X)   # lazy: nothing has run yet
        start = time.perf_counter()
        mean, high, flagged = dask.compute(scores.mean(), scores.max(), (scores > 0.1).sum())
        elapsed = time.perf_counter() - start
        peaks = client.run(lambda dask_worker: dask_worker.monitor.range_query(0)["memory"])
        peak = max(max(values) for values in peaks.values()) / 2**20
        print(f"scored in {elapsed:.1f} s ({args.rows / elapsed:,.0f} samples/s): mean {mean:.4f}, max {high:.3f}, "
              f"{flagged:,} windows above 0.1 (the spikes); worker memory peaked at {peak:.0f} MiB")
        print(f"model loads per worker: {client.run(aed.loads)}")


if __name__ == "__main__":
    main()
