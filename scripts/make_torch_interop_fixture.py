#!/usr/bin/env python3
"""Writes bindings/python/tests/data/torch_interop.npz: a dense and a convolutional autoencoder
trained in PyTorch (nn.Sequential encoder and decoder), their state_dicts as numpy arrays, test
inputs and PyTorch's outputs (reconstructions and codes), and the matching library specs.

tests/test_torch_import.py loads these weights into the library and compares its outputs with
PyTorch's, so the PyTorch-in path is tested in CI without torch installed. Rerun (needs torch)
after changing the specs below:

    python3 scripts/make_torch_interop_fixture.py

Everything is generated here from a fixed seed (synthetic data; no external data)."""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parents[1] / "bindings" / "python" / "tests" / "data" / "torch_interop.npz"

# The library specs of the two PyTorch modules below (docs/INTEROP.md: one Sequential module per
# entry, plus one for an entry's activation).
DENSE_SPEC = {
    "input_size": 12,
    "encoder": [{"type": "dense", "units": 8, "activation": "relu"},
                {"type": "dense", "units": 3}],
    "decoder": [{"type": "dense", "units": 8, "activation": "relu"},
                {"type": "dense", "units": 12, "activation": "sigmoid"}],
    "loss": "mse",
}
CONV_SPEC = {
    "input_shape": [1, 8, 8],
    "encoder": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1},
                {"type": "batch_norm"},
                {"type": "relu"},
                {"type": "max_pool2d", "kernel": 2},
                {"type": "conv2d", "filters": 6, "kernel": 3, "padding": 1, "activation": "tanh"}],
    "decoder": [{"type": "conv_transpose2d", "filters": 4, "kernel": 2, "stride": 2,
                 "activation": "relu"},
                {"type": "conv2d", "filters": 1, "kernel": 3, "padding": 1,
                 "activation": "sigmoid"}],
    "loss": "mse",
}


class AE(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


def dense_module():
    return AE(nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3)),
              nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 12), nn.Sigmoid()))


def conv_module():
    return AE(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1), nn.Tanh()),
              nn.Sequential(nn.ConvTranspose2d(6, 4, 2, stride=2), nn.ReLU(),
                            nn.Conv2d(4, 1, 3, padding=1), nn.Sigmoid()))


def dense_data(rng, n):
    base = rng.random((n, 3))
    mix = rng.random((3, 12))
    return np.clip(base @ mix / 3 + 0.05 * rng.random((n, 12)), 0, 1).astype(np.float32)


def blob_data(rng, n, size=8):
    rows, cols = np.mgrid[0:size, 0:size]
    centres = rng.uniform(1.5, size - 1.5, (n, 2))
    radius = rng.uniform(1.2, 2.5, (n, 1, 1))
    distance = np.hypot(rows[None] - centres[:, 0, None, None], cols[None] - centres[:, 1, None, None])
    return (1 / (1 + np.exp(4 * (distance - radius))))[:, None].astype(np.float32)


def train(module, data, epochs):
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    x = torch.from_numpy(data)
    for _ in range(epochs):
        for start in range(0, len(x), 32):
            batch = x[start:start + 32]
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(module(batch), batch)
            loss.backward()
            optimizer.step()
    module.eval()
    return float(loss.detach())


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    arrays = {}
    for kind, module, data, spec in (("dense", dense_module(), dense_data(rng, 512), DENSE_SPEC),
                                     ("conv", conv_module(), blob_data(rng, 512), CONV_SPEC)):
        loss = train(module, data, epochs=20)
        test = data[:16] if kind == "dense" else blob_data(rng, 16)
        with torch.no_grad():
            code = module.encoder(torch.from_numpy(test)).numpy()
            reconstruction = module(torch.from_numpy(test)).numpy()
        for name, tensor in module.state_dict().items():
            arrays[f"{kind}/state/{name}"] = tensor.numpy()
        arrays[f"{kind}/spec"] = np.array(json.dumps(spec))
        arrays[f"{kind}/input"] = test
        arrays[f"{kind}/code"] = code
        arrays[f"{kind}/reconstruction"] = reconstruction
        print(f"{kind}: final training loss {loss:.5f}", file=sys.stderr)
    arrays["torch_version"] = np.array(torch.__version__)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
