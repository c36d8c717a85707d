#!/usr/bin/python3
"""PyTorch twin of Nabla's W19 training-step benchmark (bench/Nabla.Bench/W19StepBenchmarks.cs, `--w19-quick`):
the W19 sample's network (samples/Nabla.Samples/W19SpamConv1D.cs) on the CPU at each requested thread count.

Architecture (same as Nabla's, 2,789,889 parameters; PyTorch's Conv1d has the same parameter count as Keras's):
  nn.Embedding(10000, 256) -> Dropout(0.2) -> Conv1d(256, 256, 3) on [B, C, T] + ReLU -> max over time
  -> Linear(256, 128) + ReLU -> Dropout(0.2) -> Linear(128, 1) -> sigmoid + binary cross-entropy
  (BCEWithLogitsLoss, the numerically fused form), Adam(lr 1e-3), training mode (dropout on).
The input is a fixed random batch of 500 sequences of 200 token ids in [1, 10000) with 0/1 labels; the embedding
output [B, T, C] is transposed to [B, C, T] for Conv1d, as a PyTorch user writes it.

A step: zero_grad(set_to_none), forward, loss, backward, Adam step.
FLOPs (napkin, as the Nabla bench): Conv1D forward 2*B*(T-2)*256*(3*256) = 38.9 GFLOP, dense layers 0.03 GFLOP;
a training step 3x the forward, 117 GFLOP.

Timing: warm-up of at least 3 s (and 2 steps), then `--rounds` timed steps; median. Each thread count runs in its
own child process with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set before torch loads, plus
torch.set_num_threads. Prints one JSON object on stdout.

Usage: /usr/bin/python3 w19_torch.py [--threads 1 2] [--rounds 5] [--warmup 3]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn

BATCH, LENGTH, VOCAB, EMBED, FILTERS, HIDDEN = 500, 200, 10000, 256, 256, 128
STEP_FLOPS = 3.0 * (2.0 * BATCH * (LENGTH - 2) * FILTERS * (3 * EMBED) + 2.0 * BATCH * (FILTERS * HIDDEN + HIDDEN))


class W19(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.drop1 = nn.Dropout(0.2)
        self.conv = nn.Conv1d(EMBED, FILTERS, 3)
        self.dense = nn.Linear(FILTERS, HIDDEN)
        self.drop2 = nn.Dropout(0.2)
        self.out = nn.Linear(HIDDEN, 1)

    def forward(self, ids):
        x = self.drop1(self.embedding(ids))               # [B, T, C]
        x = torch.relu(self.conv(x.transpose(1, 2)))      # [B, F, T-2]
        x = x.amax(dim=2)                                 # GlobalMaxPooling1D
        x = self.drop2(torch.relu(self.dense(x)))
        return self.out(x)                                # logits; sigmoid is inside the loss


def measure(threads: int, a) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(19)
    model = W19()
    params = sum(p.numel() for p in model.parameters())
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    ids = torch.randint(1, VOCAB, (BATCH, LENGTH))
    labels = torch.randint(0, 2, (BATCH, 1)).float()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids), labels)
        loss.backward()
        optimizer.step()
        return loss

    warm_steps = 0
    t_end = time.perf_counter() + a.warmup
    while warm_steps < 2 or time.perf_counter() < t_end:
        step()
        warm_steps += 1
    times = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    median = statistics.median(times)
    return {"threads": threads, "params": params, "warmup_steps": warm_steps, "step_ms": times, "median_ms": median,
            "gflops": STEP_FLOPS / (median * 1e-3) / 1e9, "load1": os.getloadavg()[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        print(json.dumps(measure(a.child, a)))
        return
    results = []
    for threads in a.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        cmd = [sys.executable, os.path.abspath(__file__), "--child", str(threads), "--rounds", str(a.rounds), "--warmup", str(a.warmup)]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "python": platform.python_version(),
        "model": "W19 Embedding(10000,256)+Conv1d(256,3)+maxpool+Dense(128)+Dense(1), Adam, BCE",
        "shape": {"batch": BATCH, "length": LENGTH}, "step_flops": STEP_FLOPS,
        "results": results,
    }))


if __name__ == "__main__":
    main()
