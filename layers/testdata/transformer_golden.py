#!/usr/bin/python3
"""Golden values for layers/encoder_test.go from PyTorch.

One pre-layer-norm encoder block, nn.TransformerEncoderLayer(norm_first=True,
activation="gelu", batch_first=True, dropout=0), in float64 with random
weights (biases and norms too), on a padded batch: its output and the
gradients of sum(y * R) over the real positions with respect to every
parameter and the input. The same block with rotary (RoPE, Su et al. 2021,
interleaved pairs as in the paper) or ALiBi (Press et al. 2022, symmetric
distance for an encoder) attention is written out here by hand, checked
against nn.TransformerEncoderLayer without positions first.

Run from the repository root:
    /usr/bin/python3 layers/testdata/transformer_golden.py > layers/testdata/transformer_golden.json
"""
import json
import math

import torch
import torch.nn.functional as F

torch.manual_seed(17)
torch.set_default_dtype(torch.float64)

B, T, D, H, FF = 2, 5, 8, 2, 16
LENGTHS = [5, 3]
DH = D // H

layer = torch.nn.TransformerEncoderLayer(
    d_model=D, nhead=H, dim_feedforward=FF, dropout=0.0, activation="gelu",
    batch_first=True, norm_first=True)
with torch.no_grad():
    for p in layer.parameters():
        p.copy_(torch.empty_like(p).uniform_(-0.7, 0.7))

x0 = torch.empty(B, T, D).uniform_(-1, 1)
r = torch.empty(B, T, D).uniform_(-1, 1)
pad = torch.zeros(B, T, dtype=torch.bool)
for b, n in enumerate(LENGTHS):
    pad[b, n:] = True
    r[b, n:] = 0  # the loss reads real positions only


def slopes(n):
    """The paper's reference get_slopes."""
    def pow2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer():
        return pow2(n)
    c = 2 ** math.floor(math.log2(n))
    return pow2(c) + slopes(2 * c)[0::2][: n - c]


def rotate(z):
    """RoPE on [B, H, T, DH]: pair (2i, 2i+1) at position m turns by m*theta_i."""
    i = torch.arange(DH // 2, dtype=torch.float64)
    theta = 10000.0 ** (-2 * i / DH)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * theta[None, :]
    c, s = torch.cos(ang), torch.sin(ang)
    z0, z1 = z[..., 0::2], z[..., 1::2]
    out = torch.empty_like(z)
    out[..., 0::2] = z0 * c - z1 * s
    out[..., 1::2] = z0 * s + z1 * c
    return out


def block(x, position):
    """The pre-norm block written out, attention with the given positions."""
    h = F.layer_norm(x, (D,), layer.norm1.weight, layer.norm1.bias, layer.norm1.eps)
    qkv = F.linear(h, layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias)
    q, k, v = [t.reshape(B, T, H, DH).transpose(1, 2) for t in qkv.chunk(3, dim=-1)]
    if position == "rope":
        q, k = rotate(q), rotate(k)
    logits = q @ k.transpose(-1, -2) / math.sqrt(DH)
    if position == "alibi":
        dist = (torch.arange(T)[:, None] - torch.arange(T)[None, :]).abs().double()
        logits = logits - torch.tensor(slopes(H))[:, None, None] * dist
    logits = logits.masked_fill(pad[:, None, None, :], float("-inf"))
    ctx = (logits.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
    x = x + layer.self_attn.out_proj(ctx)
    h = F.layer_norm(x, (D,), layer.norm2.weight, layer.norm2.bias, layer.norm2.eps)
    return x + layer.linear2(F.gelu(layer.linear1(h)))


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


out = {
    "batch": B, "time": T, "dim": D, "heads": H, "ff": FF, "lengths": LENGTHS,
    "torch": torch.__version__,
    "params": {n: flat(p) for n, p in layer.named_parameters()},
    "x": flat(x0), "r": flat(r), "cases": {},
}
for position in ["none", "rope", "alibi"]:
    x = x0.clone().requires_grad_(True)
    layer.zero_grad()
    y = block(x, position)
    if position == "none":
        ref = layer(x, src_key_padding_mask=pad)
        real = ~pad
        err = (ref - y)[real].abs().max().item()
        assert err < 1e-12, f"hand-written block differs from TransformerEncoderLayer by {err}"
        y = ref
    (y * r).sum().backward()
    out["cases"][position] = {
        "y": flat(y.masked_fill(pad[:, :, None], 0)),
        "dx": flat(x.grad),
        "grads": {n: flat(p.grad) for n, p in layer.named_parameters()},
    }
print(json.dumps(out))
