#!/usr/bin/env python3
"""Writes the crafted inputs of issue 10's known findings, for the harnesses (standard library only).

    Tests/fuzz/known_findings.py DIR            all of them
    Tests/fuzz/known_findings.py --large DIR    only those too large to commit (run.sh replays them)

DIR/create/transposed-overflow.json  a valid 265-byte spec: a transposed convolution with 65,536
    filters, stride 4096 and output padding 4095 makes a node of 2^48 floats per sample (and 16
    newlines: fuzz_create then trains with a capacity of 2^16 samples, and 2^16 * 2^48 overflows)
DIR/create/branches-100000.json      100,000 branches (4 MB): graph building is quadratic (over
    120 s in the fuzzing build; the harness's limit is 25 s)
DIR/load/optimizer-nan.aem           a small dense model whose Adam state holds a NaN: it loads,
    and the next trainer step returns AE_OK with NaN weights
DIR/load/threshold-1e300.aem         a model whose anomaly threshold is 1e300: it loads as
    infinity, is saved as null, and the library refuses the file it saved
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


RANDOM_STATE = ["e220a8397b1dcdaf", "6e789e6aa1b965f4", "6c45d188009454f", "f88bb8a8724c81ec"]


def small_dense(training):
    """A 4-2-4 dense model with Adam, its tensors, and the given training metadata."""
    spec = {"input_size": 4, "encoder": [{"type": "dense", "units": 2}],
            "decoder": [{"type": "dense", "units": 4}], "optimizer": {"type": "adam", "lr": 0.001}}
    tensors = [("encoder.0.weight", [2, 4], [0.1 * (i % 3) for i in range(8)]),
               ("encoder.0.bias", [2], [0.0, 0.0]),
               ("decoder.0.weight", [4, 2], [-0.1 * (i % 2) for i in range(8)]),
               ("decoder.0.bias", [4], [0.0] * 4)]
    if "optimizer" in training:
        tensors += [("optimizer.exp_avg", [22], [float("nan")] + [0.0] * 21),
                    ("optimizer.exp_avg_sq", [22], [0.0] * 22)]
    table, data = {}, b""
    for name, shape, values in tensors:
        raw = struct.pack(f"<{len(values)}f", *values)
        table[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return model_file(spec, data, table, json.dumps(training, separators=(",", ":")))


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
            "branches": [{"layers": [{"type": "dense", "units": 2}]}] * count}


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(data)


def main():
    args = sys.argv[1:]
    large_only = args[:1] == ["--large"]
    if large_only:
        args = args[1:]
    if len(args) != 1:
        sys.exit(__doc__)
    out = args[0]
    compact = {"separators": (",", ":")}
    write(os.path.join(out, "create", "branches-100000.json"), json.dumps(branches(100_000), **compact).encode())
    if large_only:
        return
    # 16 trailing newlines: fuzz_create trains with a capacity of 2^16 samples (see fuzz_create.c).
    write(os.path.join(out, "create", "transposed-overflow.json"),
          json.dumps(transposed_overflow(), **compact).encode() + b"\n" * 16)
    write(os.path.join(out, "load", "spec-only-2gb.aem"), model_file(spec_only_2gb()))
    write(os.path.join(out, "load", "optimizer-nan.aem"), small_dense(
        {"epochs_completed": 0, "random_state": RANDOM_STATE, "optimizer": "adam", "optimizer_step": 1}))
    write(os.path.join(out, "load", "threshold-1e300.aem"), small_dense(
        {"epochs_completed": 0, "random_state": RANDOM_STATE, "anomaly_threshold": 1e300}))


if __name__ == "__main__":
    main()
