#!/usr/bin/python3
"""PyTorch reference for the Transformer encoder's training step.

Times one training step (forward, loss = sum of the outputs, backward) of
nn.TransformerEncoder at the shapes of layers.BenchmarkTransformerEncoder:
batch 32, 100 steps, width 128, 4 heads, 2 pre-norm layers
(TransformerEncoderLayer(norm_first=True, activation="gelu",
batch_first=True, dim_feedforward=512, dropout=0.1)) and a final LayerNorm,
in float32 on the CPU, every token real. Prints the median of --steps timed
steps per thread count, after --warmup untimed ones, and the median CPU time of
a step (all threads, cpu_ms: on a machine shared with other jobs it moves
less than wall time), one JSON object per thread count.

    /usr/bin/python3 bench/transformer_reference.py --threads 1,2

Compare, in the same run of the machine:

    go test ./layers -run '^$' -bench 'TransformerEncoder/full' -cpu 1,2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def step_times(threads, steps, warmup, padded):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(5)
    B, T, D, H, FF, L = 32, 100, 128, 4, 512, 2
    layer = torch.nn.TransformerEncoderLayer(
        d_model=D, nhead=H, dim_feedforward=FF, dropout=0.1,
        activation="gelu", batch_first=True, norm_first=True)
    enc = torch.nn.TransformerEncoder(layer, num_layers=L, norm=torch.nn.LayerNorm(D),
                                      enable_nested_tensor=False)
    enc.train()
    x = torch.empty(B, T, D).uniform_(-1, 1)
    pad = None
    if padded:
        lengths = torch.randint(1, T + 1, (B,))
        pad = torch.arange(T)[None, :] >= lengths[:, None]
    times, cpu = [], []
    for i in range(warmup + steps):
        start, cpu0 = time.perf_counter(), time.process_time()
        enc.zero_grad(set_to_none=False)
        y = enc(x, src_key_padding_mask=pad)
        y.sum().backward()
        if i >= warmup:
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu0)
    return times, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--padded", action="store_true", help="random lengths with a key padding mask")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import torch
        threads = int(args.threads)
        times, cpu = step_times(threads, args.steps, args.warmup, args.padded)
        print(json.dumps({
            "threads": threads,
            "padded": args.padded,
            "median_ms": round(1000 * statistics.median(times), 2),
            "min_ms": round(1000 * min(times), 2),
            "cpu_ms": round(1000 * statistics.median(cpu), 2),
            "steps": len(times),
            "torch": torch.__version__,
        }), flush=True)
        return
    # One process per thread count: Debian's torch runs its products on
    # OpenBLAS (pthreads), whose pool torch.set_num_threads does not size,
    # so the count goes in the environment before torch loads.
    for threads in args.threads.split(","):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        cmd = [sys.executable, __file__, "--child", "--threads", threads,
               "--steps", str(args.steps), "--warmup", str(args.warmup)]
        if args.padded:
            cmd.append("--padded")
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
