#!/usr/bin/env python3
"""W7 in PyTorch, measured as bench/bench.c measures ours: the network of
examples/specs/brain_unet3d_vae.json (built from that file by a small interpreter of the spec's
entries, so both sides train the same graph), batch 2, 16 volumes of 1x32^3 per epoch (a bright
cube in noise, labelled 1), Adam, the loss Dice + CE + Myronenko's VAE-branch terms; one warm-up
epoch, then the median of EPOCHS timed epochs, as samples/s.

    build/bench-venv/bin/python bench/pytorch_w7.py THREADS [EPOCHS]

Run from the repository root (bench/w7_paired.sh interleaves it with ours).
"""

import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

VOLUMES = 16
ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


class SpecNet(torch.nn.Module):
    """The spec's encoder, decoder and branch entries as a graph of named nodes."""

    def __init__(self, spec):
        super().__init__()
        self.entries = []          # (name, kind, inputs, module or parameters, activation)
        self.layers = torch.nn.ModuleDict()
        shapes = {"input": list(spec["input_shape"])}
        previous = "input"

        def add(entries, prefix, first_input):
            nonlocal previous
            for i, e in enumerate(entries):
                name = e.get("name", f"{prefix}.{i}")
                inputs = e.get("inputs") or [first_input if i == 0 and first_input else previous]
                shape = shapes[inputs[0]]
                kind, module, out = e["type"], None, shape
                if kind == "conv3d":
                    module = torch.nn.Conv3d(shape[0], e["filters"], e["kernel"], e.get("stride", 1), e.get("padding", 0))
                    out = [e["filters"]] + [(n + 2 * e.get("padding", 0) - e["kernel"]) // e.get("stride", 1) + 1 for n in shape[1:]]
                elif kind == "conv_transpose3d":
                    module = torch.nn.ConvTranspose3d(shape[0], e["filters"], e["kernel"], e.get("stride", 1), e.get("padding", 0))
                    out = [e["filters"]] + [(n - 1) * e.get("stride", 1) - 2 * e.get("padding", 0) + e["kernel"] for n in shape[1:]]
                elif kind == "group_norm":
                    module = torch.nn.GroupNorm(e["groups"], shape[0])
                elif kind == "upsample_nearest3d":
                    out = [shape[0]] + [n * e.get("scale", 2) for n in shape[1:]]
                elif kind == "flatten":
                    out = [int(torch.tensor(shape).prod())]
                elif kind == "variational":
                    module = torch.nn.ModuleDict({"mu": torch.nn.Linear(shape[0], e["units"]),
                                                  "logvar": torch.nn.Linear(shape[0], e["units"])})
                    out = [e["units"]]
                elif kind == "dense":
                    module = torch.nn.Linear(shape[0], e["units"])
                    out = [e["units"]]
                elif kind == "reshape":
                    out = list(e["shape"])
                elif kind not in ("relu", "add"):
                    raise ValueError(f"pytorch_w7: no PyTorch form for {kind}")
                key = name.replace(".", "_")
                if module is not None:
                    self.layers[key] = module
                self.entries.append((name, kind, inputs, key, e.get("activation"), e))
                shapes[name] = out
                previous = name

        add(spec["encoder"], "encoder", None)
        self.code = previous
        add(spec["decoder"], "decoder", None)
        self.output = previous
        self.branch = spec.get("branches", [None])[0]
        self.branch_output = None
        if self.branch:
            add(self.branch["layers"], self.branch["name"], self.code)
            self.branch_output = previous

    def forward(self, x):
        values, kl = {"input": x}, None
        for name, kind, inputs, key, activation, e in self.entries:
            a = values[inputs[0]]
            if kind in ("conv3d", "conv_transpose3d", "group_norm", "dense"):
                y = self.layers[key](a)
            elif kind == "relu":
                y = torch.relu(a)
            elif kind == "add":
                y = a + values[inputs[1]]
            elif kind == "upsample_nearest3d":
                y = F.interpolate(a, scale_factor=e.get("scale", 2), mode="nearest")
            elif kind == "flatten":
                y = a.flatten(1)
            elif kind == "reshape":
                y = a.reshape((a.shape[0],) + tuple(e["shape"]))
            elif kind == "variational":
                mu, logvar = self.layers[key]["mu"](a), self.layers[key]["logvar"](a)
                y = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
                kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1).mean()
            if activation:
                y = ACTIVATIONS[activation](y)
            values[name] = y
        return values[self.output], (values[self.branch_output] if self.branch_output else None), kl


def dice_loss(logits, labels, smooth=1.0, background=False):
    """1 − mean over samples and classes of (2Σp·t + s)/(Σp² + Σt² + s) (SoftDice.swift)."""
    p = torch.softmax(logits, 1)
    t = F.one_hot(labels, logits.shape[1]).movedim(-1, 1).to(p.dtype)
    dims = tuple(range(2, logits.dim()))
    d = (2 * (p * t).sum(dims) + smooth) / ((p * p).sum(dims) + (t * t).sum(dims) + smooth)
    return 1 - (d if background else d[:, 1:]).mean()


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    spec = json.load(open("examples/specs/brain_unet3d_vae.json"))
    net = SpecNet(spec)
    optimizer = torch.optim.Adam(net.parameters(), lr=spec["optimizer"]["lr"])
    generator = torch.Generator().manual_seed(12345)
    x = 0.3 + 0.1 * torch.rand((VOLUMES, 1, 32, 32, 32), generator=generator)
    y = torch.zeros((VOLUMES, 32, 32, 32), dtype=torch.long)
    for s in range(VOLUMES):
        x[s, 0, 4 + s:14 + s, 10:20, 8:18] += 0.5
        y[s, 4 + s:14 + s, 10:20, 8:18] = 1
    branch = spec["branches"][0]
    voxels = 32 ** 3
    times = []
    cpu = time.process_time()
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(VOLUMES)
        for b in range(0, VOLUMES, 2):
            index = order[b:b + 2]
            optimizer.zero_grad()
            logits, reconstruction, kl = net(x[index])
            loss = dice_loss(logits, y[index]) + F.cross_entropy(logits, y[index])
            loss = loss + branch["weight"] * F.mse_loss(reconstruction, x[index]) + branch["kl_weight"] * kl / voxels
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu
    load = os.getloadavg()[0]
    # Also samples per second of process CPU time over all epochs (warm-up included).
    print(f"W7 torch threads {threads} samples/s {VOLUMES / statistics.median(times[1:]):.2f} load {load:.2f} "
          f"cpu-samples/s {(epochs + 1) * VOLUMES / cpu:.2f} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
