"""Golden values for train.SparseAdam: torch.optim.SparseAdam on a 4x2
table, three steps with sparse gradients over different rows, in float64.

    /usr/bin/python3 sparse_adam_golden.py
"""
import torch

w = torch.nn.Parameter(torch.tensor([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5], [1.0, 1.0]], dtype=torch.float64))
opt = torch.optim.SparseAdam([w], lr=0.1)
steps = [([0, 2], [[0.3, -0.2], [1.0, 0.5]]), ([2], [[-0.4, 0.1]]), ([1, 0], [[0.05, 0.0], [0.2, 0.3]])]
for rows, vals in steps:
    opt.zero_grad()
    w.grad = torch.sparse_coo_tensor([rows], torch.tensor(vals, dtype=torch.float64), (4, 2))
    opt.step()
print([round(v, 15) for v in w.detach().reshape(-1).tolist()])
