#!/usr/bin/env python3
"""Computes goldenLogits of classifier_test.go with PyTorch.

  CLASSIFY_WRITE_GOLDEN=/tmp/golden go test ./models -run Golden   # writes the checkpoints
  /usr/bin/python3 models/testdata/golden_logits.py /tmp/golden

Rebuilds each model from its model.safetensors with PyTorch's own layers
(the same way ../shared/bench/parity.py does) and prints the logits of the
id sequences of goldenSeqs. Needs Debian's python3-torch.
"""
import json, math, os, struct, sys
import numpy as np
import torch
import torch.nn as nn

SEQS = [[2, 3, 4, 5, 6, 7, 8], [11, 1], [9], [4, 4, 4, 10, 3]]


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    return {k: torch.from_numpy(np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"]).copy())
            for k, v in header.items() if k != "__metadata__"}


def sinusoid(max_len, dim):
    pe = torch.zeros(max_len, dim)
    pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    div = torch.pow(10000.0, torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    pe[:, 0::2] = torch.sin(pos / div)
    pe[:, 1::2] = torch.cos(pos / div[: dim // 2])
    return pe


for name in sorted(os.listdir(sys.argv[1])):
    d = os.path.join(sys.argv[1], name)
    cfg = json.load(open(os.path.join(d, "config.json")))["model"]
    w = read(os.path.join(d, "model.safetensors"))
    V, D = w["embedding.weight"].shape
    H = w["lstm.weight_hh_l0"].shape[1]
    lstm = nn.LSTM(D, H, batch_first=True, bidirectional=True)
    for k, p in lstm.named_parameters():
        p.data.copy_(w["lstm." + k])
    lens = torch.tensor([len(s) for s in SEQS])
    ids = torch.zeros(len(SEQS), int(lens.max()), dtype=torch.long)
    for i, s in enumerate(SEQS):
        ids[i, : len(s)] = torch.tensor(s)
    with torch.no_grad():
        x = w["embedding.weight"][ids]
        if cfg["pos_encoding"] == "sinusoidal":
            x = x + sinusoid(cfg["max_len"], D)[: ids.shape[1]]
        elif cfg["pos_encoding"] == "learned":
            x = x + w["pos_encoding.weight"][: ids.shape[1]]
        packed = nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        out, (h, _) = lstm(packed)
        if cfg["pool"] == "last":
            z = torch.cat([h[0], h[1]], dim=1)
        else:
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
            mask = (torch.arange(out.shape[1])[None, :] < lens[:, None]).unsqueeze(2)
            z = (out * mask).sum(1) / lens[:, None] if cfg["pool"] == "mean" else out.masked_fill(~mask, float("-inf")).max(1).values
        logit = z @ w["dense.weight"].reshape(1, -1).T + w["dense.bias"]
    print(f'"{cfg["pos_encoding"]}/{cfg["pool"]}": {{' + ", ".join(f"{v:.6f}" for v in logit.reshape(-1).tolist()) + "},")
