#!/usr/bin/python3
"""PyTorch twin of Nabla's W2StepBenchmarks: one training step of the MNIST MLP
784-128(relu)-Dropout(0.3)-128(relu)-Dropout(0.3)-10, softmax cross-entropy on integer labels,
Adam (lr 1e-3, eps 1e-7 as Keras; PyTorch's default eps is 1e-8), batch 128, one random batch
reused every step, on the CPU at each requested thread count.

The timed step does what Keras's train_on_batch does: forward in training mode (dropout on),
loss, backward, optimizer step, and the loss and accuracy brought back to Python as floats.
Softmax + sparse categorical cross-entropy is written as F.cross_entropy on the logits, which
is what Keras (and Nabla) compute when the loss sees a softmax output.

Timing: torch.utils.benchmark.Timer.blocked_autorange after 2 s of warm-up steps; median and IQR
over blocks of steps. Each thread count runs in its own child process with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set before torch loads (Debian's torch calls the system
BLAS, OpenBLAS here, whose thread pool torch.set_num_threads does not reliably cap), plus
torch.set_num_threads. Prints one JSON object on stdout.

Usage: /usr/bin/python3 w2_step_torch.py [--threads 1 2] [--min-run-time 3]
       /usr/bin/python3 w2_step_torch.py --serve THREADS   (a step server for w2_interleaved.py)
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

BATCH = 128


def build(seed: int = 42):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Dropout(0.3),
        torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Dropout(0.3),
        torch.nn.Linear(128, 10),
    )
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    x = torch.rand(BATCH, 784)
    y = torch.randint(0, 10, (BATCH,))
    return model, opt, x, y


def step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    opt.step()
    acc = (logits.detach().argmax(dim=1) == y).float().mean()
    return loss.item(), acc.item()


def measure(threads: int, min_run_time: float) -> dict:
    torch.set_num_threads(threads)
    model, opt, x, y = build()
    params = sum(p.numel() for p in model.parameters())
    assert params == 118_282, params
    load_before = os.getloadavg()[0]
    t_end = time.perf_counter() + 2.0
    while time.perf_counter() < t_end:  # warm-up: allocator, BLAS/oneDNN paths, Adam state
        step(model, opt, x, y)
    timer = benchmark.Timer(
        stmt="step(model, opt, x, y)",
        globals={"step": step, "model": model, "opt": opt, "x": x, "y": y},
        num_threads=threads)
    m = timer.blocked_autorange(min_run_time=min_run_time)
    return {
        "threads": threads,
        "median_ms": m.median * 1e3,
        "mean_ms": m.mean * 1e3,
        "iqr_ms": m.iqr * 1e3,
        "blocks": len(m.times),
        "steps_per_block": m.number_per_run,
        "gflops": 6.0 * params * BATCH / m.median / 1e9,
        "load1_before": load_before,
        "load1_after": os.getloadavg()[0],
    }


def serve(threads: int) -> None:
    """The step as a server for w2_interleaved.py: 'ready' after 2 s of warm-up, then for each line N on stdin, N timed
    steps and their wall time per step in ms; 'quit' or end of input ends it. The caller sets OMP_NUM_THREADS,
    OPENBLAS_NUM_THREADS and MKL_NUM_THREADS before this process starts, as the --child processes get them."""
    torch.set_num_threads(threads)
    model, opt, x, y = build()
    t_end = time.perf_counter() + 2.0
    while time.perf_counter() < t_end:
        step(model, opt, x, y)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        n = int(line)
        if n <= 0:
            raise ValueError(f"--serve: expected a positive step count, got {line!r}")
        start = time.perf_counter()
        for _ in range(n):
            step(model, opt, x, y)
        print(repr((time.perf_counter() - start) * 1e3 / n), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--min-run-time", type=float, default=3.0, help="seconds of timed steps per thread count")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--serve", type=int, metavar="THREADS", help="serve timed blocks of steps on stdin (w2_interleaved.py)")
    args = ap.parse_args()

    if args.serve is not None:
        serve(args.serve)
        return

    if args.child is not None:
        print(json.dumps(measure(args.child, args.min_run_time)))
        return

    results = []
    for threads in args.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(threads), "--min-run-time", str(args.min_run_time)],
                             env=env, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))

    best = min(results, key=lambda r: r["median_ms"])
    print(json.dumps({
        "framework": "pytorch",
        "version": torch.__version__,
        "python": platform.python_version(),
        "params": 118_282,
        "batch": BATCH,
        "step_flops": 6.0 * 118_282 * BATCH,
        "results": results,
        "best": best,
    }))


if __name__ == "__main__":
    main()
