"""Golden values for layers.Conv1D from PyTorch (run with /usr/bin/python3).

Kim's CNN as ../../../shared/bench/torch_reference.py's CNN computes it:
the embedded batch with zeros at the padding, F.pad to the widest filter,
nn.Conv1d per width, ReLU, max over the windows that start in the text
(at least one), concatenation. The loss is sum(y * r) for a fixed random r;
the gradients are those of x, every weight and bias, in float64.

    /usr/bin/python3 conv1d_golden.py > conv1d_golden.json
"""
import json

import torch
import torch.nn.functional as F


def case(seed, B, T, D, widths, maps, lengths):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, T, D, generator=g, dtype=torch.float64) * 2 - 1
    mask = (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).double()
    convs = [torch.nn.Conv1d(D, maps, w).double() for w in widths]
    for c in convs:
        with torch.no_grad():
            c.weight.copy_(torch.rand(c.weight.shape, generator=g, dtype=torch.float64) - 0.5)
            c.bias.copy_((torch.rand(c.bias.shape, generator=g, dtype=torch.float64) - 0.5) * 0.2)
    xin = (x * mask[:, :, None]).requires_grad_(True)  # the padding's embedding is zero
    h = xin
    if T < max(widths):
        h = F.pad(h, (0, 0, 0, max(widths) - T))
    h = h.transpose(1, 2)
    lens = torch.tensor(lengths)
    feats = []
    for c, w in zip(convs, widths):
        z = torch.relu(c(h)).transpose(1, 2)  # [B, T-w+1, maps]
        windows = (lens - w + 1).clamp(min=1)
        m = (torch.arange(z.shape[1])[None, :] < windows[:, None]).unsqueeze(2)
        feats.append(z.masked_fill(~m, float("-inf")).max(1).values)
    y = torch.cat(feats, dim=1)
    r = torch.rand(y.shape, generator=g, dtype=torch.float64) * 2 - 1
    (y * r).sum().backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    return {
        "batch": B, "time": T, "dim": D, "widths": widths, "maps": maps, "lengths": lengths,
        "x": flat(x), "r": flat(r), "y": flat(y), "dx": flat(xin.grad),
        "weights": [flat(c.weight) for c in convs], "biases": [flat(c.bias) for c in convs],
        "dweights": [flat(c.weight.grad) for c in convs], "dbiases": [flat(c.bias.grad) for c in convs],
    }


print(json.dumps({"torch": torch.__version__, "cases": [
    case(1, 4, 7, 5, [3, 4, 5], 4, [7, 4, 2, 0]),
    case(2, 2, 3, 3, [3, 4, 5], 3, [3, 1]),
    case(3, 3, 6, 4, [1, 2], 5, [6, 6, 3]),
]}))
