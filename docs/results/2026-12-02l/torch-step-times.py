#!/usr/bin/python3
"""Per-step wall times of w2_step_torch.py's step at THREADS threads (env OMP/OPENBLAS/MKL_NUM_THREADS set by the
caller): 2 s warm-up, then 600 single steps; prints percentiles and the mean, so a tail shows.
Usage: OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 /usr/bin/python3 torch-step-times.py 2"""
import os, statistics, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../bench/peers"))
import torch
from w2_step_torch import build, step
threads = int(sys.argv[1])
torch.set_num_threads(threads)
model, opt, x, y = build()
end = time.perf_counter() + 2
while time.perf_counter() < end:
    step(model, opt, x, y)
t = []
for _ in range(600):
    s = time.perf_counter(); step(model, opt, x, y); t.append((time.perf_counter() - s) * 1e3)
t.sort()
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print(f"{threads} thread(s), 600 steps: mean {statistics.mean(t):.3f} ms, p10 {q(.1):.3f}, median {q(.5):.3f}, p90 {q(.9):.3f}, "
      f"p99 {q(.99):.3f}, max {t[-1]:.3f}; steps > 5 ms: {sum(1 for v in t if v > 5)}")
