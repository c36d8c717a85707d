#!/usr/bin/python3
"""PyTorch twin of Nabla's `--pool-quick` (bench/Nabla.Bench/PoolingQuick.cs): max/avg pooling 2x2/2 and
training-mode batch norm, forward and forward+backward, float32 on the CPU, channels-last tensors (NHWC in
memory, as Nabla's), at batch N with the shapes [N,28,28,32] and [N,14,14,64].

Timing: best of 5 blocks of --runs calls after one warm-up call, as the C# side. Thread count: set
OMP_NUM_THREADS before running (and --threads for torch.set_num_threads).

Usage: /usr/bin/python3 pool_bn_torch.py [--batch 32] [--runs 20] [--threads 2]
"""
import argparse
import time

import torch
import torch.nn.functional as F


def best_of(fn, runs):
    fn()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(runs):
            fn()
        best = min(best, (time.perf_counter() - t) / runs)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {a.batch}, best of 5 x {a.runs}")
    for h, c in [(28, 32), (14, 64)]:
        x = torch.rand(a.batch, c, h, h).sub_(0.5).contiguous(memory_format=torch.channels_last)
        xg = x.clone().requires_grad_(True)
        nbytes = 4.0 * x.numel()
        scale, offset = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
        rm, rv = torch.zeros(c), torch.ones(c)
        w_pool = torch.rand(a.batch, c, h // 2, h // 2).contiguous(memory_format=torch.channels_last)
        dy = torch.rand_like(x)

        def pool_bwd(f):
            def run():
                xg.grad = None
                (f(xg, 2, 2) * w_pool).sum().backward()
            return run

        def bn_fwd():
            with torch.no_grad():
                F.batch_norm(x, rm, rv, scale, offset, training=True, momentum=0.01, eps=1e-3)

        def bn_bwd():
            xg.grad = None
            (F.batch_norm(xg, rm, rv, scale, offset, training=True, momentum=0.01, eps=1e-3) * dy).sum().backward()

        rows = [
            ("MaxPool 2x2/2 fwd  ", 1.25, lambda: F.max_pool2d(x, 2, 2)),
            ("AvgPool 2x2/2 fwd  ", 1.25, lambda: F.avg_pool2d(x, 2, 2)),
            ("MaxPool fwd+bwd    ", 4.5, pool_bwd(F.max_pool2d)),
            ("AvgPool fwd+bwd    ", 3.5, pool_bwd(F.avg_pool2d)),
            ("BatchNorm train fwd", 4.0, bn_fwd),
            ("BatchNorm fwd+bwd  ", 10.0, bn_bwd),
        ]
        for label, traffic, fn in rows:
            t = best_of(fn, a.runs)
            print(f"{label} [{a.batch},{h},{h},{c}]  {t * 1e3:8.3f} ms  {traffic * nbytes / t / 1e9:6.1f} GB/s (napkin traffic)")


if __name__ == "__main__":
    main()
