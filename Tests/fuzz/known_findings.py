#!/usr/bin/env python3
"""Writes the crafted inputs of issue 10's known findings, for the harnesses (standard library only).

    Tests/fuzz/known_findings.py DIR

DIR/create/transposed-overflow.json  a valid 265-byte spec: a transposed convolution with 65,536
    filters, stride 4096 and output padding 4095 makes a node of 2^48 floats per sample (and 16
    newlines: fuzz_create then trains with a capacity of 2^16 samples, and 2^16 * 2^48 overflows)
DIR/create/branches-100000.json      100,000 branches (4 MB): graph building is quadratic
DIR/load/spec-only-2gb.aem           a 432-byte model file that holds a valid spec of 2^29
    parameters (2 GiB) and no tensors: the loader builds and initialises the model before it
    checks the tensor table

The small ones are also committed under Tests/fuzz/regressions/ (run.sh replays them); the branch
spec is generated because it is large.
"""
import json
import os
import struct
import sys
import zlib


def model_file(spec, tensors=b"", table=None, training=None):
    """A model file as docs/FILE_FORMAT.md describes it, with a correct checksum."""
    metadata = {
        "format": "autoencoders",
        "format_version": "1",
        "library_version": "0.1.0",
        "spec": json.dumps(spec, separators=(",", ":")),
        "training": training or json.dumps({"epochs_completed": 0, "random_state": [
            "e220a8397b1dcdaf", "6e789e6aa1b965f4", "6c45d188009454f", "f88bb8a8724c81ec"]},
            separators=(",", ":")),
    }
    crc = zlib.crc32(tensors)
    for key in sorted(metadata):
        crc = zlib.crc32(f"{key}={metadata[key]}\n".encode(), crc)
    metadata["checksum"] = f"crc32:{crc & 0xffffffff:08x}"
    header = dict(table or {})
    header["__metadata__"] = dict(sorted(metadata.items()))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + tensors


def transposed_overflow():
    return {"input_shape": [1, 16, 16],
            "encoder": [{"type": "conv_transpose2d", "filters": 65536, "kernel": 1, "stride": 4096,
                         "output_padding": 4095},
                        {"type": "conv2d", "filters": 1, "kernel": 1, "stride": 4096}],
            "decoder": [{"type": "conv2d", "filters": 1, "kernel": 1}],
            "loss": "mse"}


def spec_only_2gb():
    return {"input_size": 16384,
            "encoder": [{"type": "dense", "units": 16384, "bias": False}],
            "decoder": [{"type": "dense", "units": 16384, "bias": False}]}


def branches(count):
    return {"input_size": 2,
            "encoder": [{"type": "dense", "units": 1}],
            "decoder": [{"type": "dense", "units": 2}],
            "branches": [{"weight": 0.001, "layers": [{"type": "dense", "units": 2}]}] * count}


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    compact = {"separators": (",", ":")}
    # 16 trailing newlines: fuzz_create trains with a capacity of 2^16 samples (see fuzz_create.c).
    write(os.path.join(out, "create", "transposed-overflow.json"),
          json.dumps(transposed_overflow(), **compact).encode() + b"\n" * 16)
    write(os.path.join(out, "create", "branches-100000.json"), json.dumps(branches(100_000), **compact).encode())
    write(os.path.join(out, "load", "spec-only-2gb.aem"), model_file(spec_only_2gb()))


if __name__ == "__main__":
    main()
