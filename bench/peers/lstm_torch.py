#!/usr/bin/python3
"""PyTorch twin of Nabla's `--rnn-quick` (bench/Nabla.Bench/RnnQuick.cs): an LSTM layer, 64 units on
[batch 128, 64 steps, 64 features], batch-first, zero initial state, on the CPU at each requested thread count.

Rows: inference (forward under torch.no_grad) and a training step (forward, loss sum(h_T * w), backward to the
weights; no optimizer update). x does not require a gradient (Nabla's fused backward computes dx regardless; that
is one [B*T, 4U] x [4U, I] product, 1/6 of the step's flops).

FLOPs (GEMM only, as the Nabla bench): forward 2*B*T*4U*(I + U); a training step 3x that. torch.nn.LSTM has two
bias vectors (b_ih, b_hh) where Keras has one: 4U more parameters, no FLOP difference worth counting.

Timing: torch.utils.benchmark.Timer.blocked_autorange after 2 s of warm-up; median over blocks. Each thread count
runs in its own child process with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set before torch loads,
plus torch.set_num_threads. Prints one JSON object on stdout.

Usage: /usr/bin/python3 lstm_torch.py [--threads 1 2] [--min-run-time 3] [--batch 128] [--steps 64] [--features 64] [--units 64]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import torch
import torch.utils.benchmark as benchmark


def measure(threads: int, a) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    lstm = torch.nn.LSTM(a.features, a.units, batch_first=True)
    x = torch.rand(a.batch, a.steps, a.features) * 2 - 1
    w = torch.rand(a.batch, a.units)
    forward_flops = 2.0 * a.batch * a.steps * 4 * a.units * (a.features + a.units)

    def infer():
        with torch.no_grad():
            _, (h, _) = lstm(x)
        return h

    def train():
        lstm.zero_grad(set_to_none=True)
        _, (h, _) = lstm(x)
        (h[0] * w).sum().backward()

    rows = []
    for name, fn, flops in (("inference", infer, forward_flops), ("training step", train, 3 * forward_flops)):
        t_end = time.perf_counter() + 2.0
        while time.perf_counter() < t_end:
            fn()
        m = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads).blocked_autorange(min_run_time=a.min_run_time)
        rows.append({"row": name, "median_ms": m.median * 1e3, "iqr_ms": m.iqr * 1e3, "gflops": flops / m.median / 1e9, "flops": flops})
    return {"threads": threads, "rows": rows, "load1": os.getloadavg()[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--min-run-time", type=float, default=3.0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--units", type=int, default=64)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        print(json.dumps(measure(a.child, a)))
        return
    results = []
    for threads in a.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        cmd = [sys.executable, os.path.abspath(__file__), "--child", str(threads), "--min-run-time", str(a.min_run_time),
               "--batch", str(a.batch), "--steps", str(a.steps), "--features", str(a.features), "--units", str(a.units)]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "python": platform.python_version(),
        "shape": {"batch": a.batch, "steps": a.steps, "features": a.features, "units": a.units},
        "results": results,
    }))


if __name__ == "__main__":
    main()
