#!/usr/bin/env python3
"""Writes golden.safetensors, the reader's and writer's golden file.

Debian has no python3-safetensors, so this script lays the file out by hand
from the format's documentation (https://huggingface.co/docs/safetensors)
and the reference implementation's rules, independently of the Go code:

- an 8-byte little-endian header length, then the JSON header, compact
  (serde_json's separators), padded with spaces to a multiple of 8 bytes;
- "__metadata__" first, then the tensors in data order: by descending dtype
  (the Rust Dtype enum: ... F32 < F64 < I64 < U64), then by name;
- each tensor's bytes little-endian, row-major, packed by numpy.

Run with Debian's python3-numpy:  /usr/bin/python3 make_golden.py golden.safetensors
"""
import json, struct, sys

import numpy as np

RANK = {"F32": 11, "F64": 12, "I64": 13}
NUMPY = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}

tensors = {
    "dense.bias": ("F32", [1], [0.5]),
    "dense.weight": ("F32", [1, 4], [1.0, -2.0, 0.25, 3.5]),
    "embedding.weight": ("F32", [3, 2], [0.0, -0.0, 0.1, -0.1, 1e-8, 65504.0]),
    "adam.m": ("F64", [2], [0.1, -1.5]),
    "adam.step": ("I64", [], [7]),
}
metadata = {"format": "pt"}

order = sorted(tensors, key=lambda n: (-RANK[tensors[n][0]], n))
header, body = {"__metadata__": metadata}, b""
for name in order:
    dtype, shape, values = tensors[name]
    data = np.array(values, dtype=NUMPY[dtype]).reshape(shape).tobytes(order="C")
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(data)]}
    body += data
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + body)
print(h.decode())
