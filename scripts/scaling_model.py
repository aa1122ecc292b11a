#!/usr/bin/env python3
"""The scaling model of data-parallel training (docs/BENCHMARKS.md, "Distributed"):

    time per step = compute / ranks + apply + all-reduce(buffer bytes)
    all-reduce    = 2 (R - 1) / R * bytes / bandwidth + 2 (R - 1) * latency      (ring all-reduce)

`compute` is one process's time for a whole global batch and `apply` its optimizer update (the
same on every rank, whatever their number), both measured by `make bench-distributed`.
Prints the predicted time per step, samples/s and parallel efficiency at 8, 64 and 512 ranks for
10 and 100 Gbit/s, for a fixed global batch (strong scaling) and for a fixed batch per rank (weak
scaling: the global batch grows with the ranks)."""

import argparse


def allreduce_ms(ranks: int, nbytes: float, gbits: float, latency_us: float) -> float:
    if ranks == 1:
        return 0.0
    bandwidth = gbits * 1e9 / 8  # bytes/s
    return 1e3 * (2 * (ranks - 1) / ranks * nbytes / bandwidth + 2 * (ranks - 1) * latency_us * 1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compute-ms", type=float, required=True, help="one process's compute per global batch")
    parser.add_argument("--apply-ms", type=float, default=0.0, help="one rank's update per step")
    parser.add_argument("--gradient-floats", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True, help="the global batch of the measurement")
    parser.add_argument("--latency-us", type=float, default=5.0, help="per message (default 5 us)")
    args = parser.parse_args()
    nbytes = 4 * args.gradient_floats
    print(f"scaling model: compute {args.compute_ms:.2f} ms per batch of {args.batch} on one process, "
          f"apply {args.apply_ms:.2f} ms, "
          f"gradient {nbytes / 1e6:.2f} MB, ring all-reduce, {args.latency_us:g} us per message")
    print(f"{'ranks':>5} {'Gbit/s':>6} | {'strong: ms/step':>15} {'all-reduce':>10} {'samples/s':>10} {'eff.':>5} |"
          f" {'weak: ms/step':>13} {'samples/s':>10} {'eff.':>5}")
    single = args.batch / ((args.compute_ms + args.apply_ms) / 1e3)
    for ranks in (8, 64, 512):
        for gbits in (10, 100):
            reduce = allreduce_ms(ranks, nbytes, gbits, args.latency_us)
            strong = args.compute_ms / ranks + args.apply_ms + reduce
            weak = args.compute_ms + args.apply_ms + reduce
            print(f"{ranks:>5} {gbits:>6} | {strong:>15.2f} {reduce:>10.2f} {args.batch / strong * 1e3:>10.0f}"
                  f" {(args.compute_ms + args.apply_ms) / ranks / strong:>5.0%} | {weak:>13.2f} {ranks * args.batch / weak * 1e3:>10.0f}"
                  f" {(args.compute_ms + args.apply_ms) / weak:>5.0%}")
    print(f"(one process: {single:.0f} samples/s)")


if __name__ == "__main__":
    main()
