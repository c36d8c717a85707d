#!/usr/bin/python3
"""PyTorch twin of Nabla's Conv2D kernel benchmark (bench/Nabla.Bench/ConvQuick.cs, `--conv`):
3x3 convolution, padding 1 ("same"), 32 -> 64 channels, batch 64, 28x28 and 56x56, on the CPU,
timing the forward pass (F.conv2d), the input gradient (torch.nn.grad.conv2d_input) and the
weight gradient (torch.nn.grad.conv2d_weight). Each pass does 2*N*Ho*Wo*kh*kw*Cin*Cout flops.

Tensors are channels_last (NHWC in memory, as Nabla's) unless --nchw; PyTorch 1.13 sends both
layouts to oneDNN (mkldnn) on x86. NOTE: torch.nn.grad.conv2d_weight in 1.13 is written with
grouped convolutions and can be much slower than what autograd calls; --autograd times
backward() of y.sum()-weighted by dy instead (both gradients at once), for reference.

Timing: torch.utils.benchmark.Timer.blocked_autorange after warm-up; median over blocks. Each
thread count runs in a child process with OMP/MKL/OPENBLAS_NUM_THREADS set before torch loads,
plus torch.set_num_threads. Prints one JSON object.

Usage: /usr/bin/python3 conv2d_torch.py [--threads 1 2] [--sizes 28 56] [--batch 64] [--min-run-time 2]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
import torch.utils.benchmark as benchmark

CIN, COUT, K = 32, 64, 3


def measure(threads, size, batch, min_run_time, nchw, autograd):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    fmt = torch.contiguous_format if nchw else torch.channels_last
    x = torch.randn(batch, CIN, size, size).to(memory_format=fmt)
    w = torch.randn(COUT, CIN, K, K).to(memory_format=fmt)
    dy = torch.randn(batch, COUT, size, size).to(memory_format=fmt)
    flops = 2.0 * batch * size * size * K * K * CIN * COUT
    passes = {
        "forward": lambda: F.conv2d(x, w, padding=1),
        "backprop_input": lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1),
        "backprop_filter": lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1),
    }
    if autograd:
        xg = x.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)

        def both():
            y = F.conv2d(xg, wg, padding=1)
            y.backward(dy)
        passes["autograd_backward_both"] = both
    out = {}
    for name, fn in passes.items():
        t_end = time.perf_counter() + min(1.0, min_run_time)
        fn()
        while time.perf_counter() < t_end:
            fn()
        m = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads).blocked_autorange(min_run_time=min_run_time)
        f = 2 * flops if name == "autograd_backward_both" else flops
        out[name] = {"median_ms": m.median * 1e3, "iqr_ms": m.iqr * 1e3, "gflops": f / m.median / 1e9}
    return {"threads": threads, "size": size, "batch": batch, "layout": "nchw" if nchw else "channels_last", "gflop": flops / 1e9,
            "passes": out, "load1": os.getloadavg()[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--sizes", type=int, nargs="+", default=[28, 56])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--min-run-time", type=float, default=2.0)
    ap.add_argument("--nchw", action="store_true", help="contiguous NCHW tensors instead of channels_last")
    ap.add_argument("--autograd", action="store_true", help="also time autograd's backward (both gradients)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child is not None:
        print(json.dumps([measure(args.child, s, args.batch, args.min_run_time, args.nchw, args.autograd) for s in args.sizes]))
        return

    results = []
    for threads in args.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        cmd = [sys.executable, os.path.abspath(__file__), "--child", str(threads), "--batch", str(args.batch),
               "--min-run-time", str(args.min_run_time), "--sizes", *map(str, args.sizes)]
        if args.nchw:
            cmd.append("--nchw")
        if args.autograd:
            cmd.append("--autograd")
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        results.extend(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps({"framework": "pytorch", "version": torch.__version__, "python": platform.python_version(),
                      "mkldnn": torch.backends.mkldnn.is_available(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
