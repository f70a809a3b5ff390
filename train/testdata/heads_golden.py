#!/usr/bin/env python3
"""Golden values of the output heads' losses and gradients from PyTorch.

Run with Debian's python3-torch: /usr/bin/python3 train/testdata/heads_golden.py
> train/testdata/heads_golden.json. The Go test (head_test.go) reads the JSON;
PyTorch is not needed to run it.
"""
import json
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
out = {}

def case(name, z, y, lossf):
    z = z.clone().double().requires_grad_(True)
    loss = lossf(z, y.double() if y.is_floating_point() else y)
    loss.backward()
    out[name] = {"z": z.detach().flatten().tolist(), "y": y.double().flatten().tolist(),
                 "loss": loss.item(), "grad": z.grad.flatten().tolist()}

B, K = 5, 4
zb = torch.randn(B) * 3
zb[0] = 40.0  # p rounds to 1: the loss must stay finite
yb = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
case("binary", zb, yb, nn.BCEWithLogitsLoss())
wb = torch.tensor([0.75, 1.5], dtype=torch.double)
def weighted_bce(z, y):  # what a 2-class CrossEntropyLoss(weight=w) takes
    w = wb[y.long()]
    return (w * F.binary_cross_entropy_with_logits(z, y.double(), reduction="none")).sum() / w.sum()
case("binary_weighted", zb, yb, weighted_bce)
out["binary_weighted"]["weights"] = wb.tolist()

zm = torch.randn(B, K) * 2
zm[1] = torch.tensor([30.0, -30.0, 0.0, 1.0])
ym = torch.tensor([2, 0, 3, 1, 2])
case("multiclass", zm, ym, lambda z, y: nn.CrossEntropyLoss()(z, y))
wm = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.double)
case("multiclass_weighted", zm, ym, lambda z, y: nn.CrossEntropyLoss(weight=wm)(z, y))
out["multiclass_weighted"]["weights"] = wm.tolist()
out["multiclass"]["y"] = ym.double().tolist()
out["multiclass_weighted"]["y"] = ym.double().tolist()

zl = torch.randn(B, K) * 2
yl = (torch.rand(B, K) > 0.6).double()
case("multilabel", zl, yl, lambda z, y: nn.BCEWithLogitsLoss()(z, y))
case("multilabel_weighted", zl, yl, lambda z, y: nn.BCEWithLogitsLoss(weight=wm)(z, y))
out["multilabel_weighted"]["weights"] = wm.tolist()

print(json.dumps(out, indent=1))
