#!/usr/bin/python3
"""Nabla's W2 training step and PyTorch's, interleaved in blocks of ~0.1 s on the same cores, so that the machine's slow
phases (seconds to minutes on the 2-core VM, in which even a fixed FMA loop runs at ~60 % of its rate: docs/results.md,
session (l)) fall on both sides of each comparison instead of deciding it.

Each engine runs as a step server that waits on stdin between blocks (Nabla.Bench --w2-serve; w2_step_torch.py --serve
THREADS, one per PyTorch configuration: 1 and 2 threads, OPENBLAS_CORETYPE unset and =SkylakeX). After each server's
warm-up, the script runs cycles until --seconds have passed; a cycle runs, for every PyTorch configuration in turn
(the order rotating from cycle to cycle), one Nabla block and one block of that configuration (which goes first
alternates), each sized to --block-ms from the second of two calibration blocks of 20 steps. A block's time is its wall time ÷
its steps (throughput, as training sees it; BenchmarkDotNet's iterations are such means too, while w2_step_torch.py's
Timer takes the median of blocks that are single steps when a step is slow, which for PyTorch at 2 threads here hides a
tail of 10-50 ms steps). Every pair gives a ratio, PyTorch ms/step ÷
Nabla ms/step, of two measurements taken a tenth of a second apart.

Printed: per configuration the median ms/step (and IQR) of its blocks and of the Nabla blocks paired with it, the median
ratio with its quartiles, and which configuration is PyTorch at its best (lowest median). Per cycle, the fastest PyTorch
block against the median Nabla block of that cycle gives a second ratio. 90.8 MFLOP per step (6 * 118,282 * 128).

Usage: w2_interleaved.py NABLA_BENCH_DLL [--seconds 120] [--block-ms 100] [--out FILE.json]
Environment: DOTNET (default dotnet). Run it with /usr/bin/python3 (Debian's, which has torch).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

FLOPS = 6.0 * 118_282 * 128
CONFIGS = [("1 thread", 1, None), ("2 threads", 2, None), ("1 thread skx", 1, "SkylakeX"), ("2 threads skx", 2, "SkylakeX")]


class Server:
    """One step server: a child process that answers a step count with its wall time per step in ms."""

    def __init__(self, name, argv, env):
        self.name = name
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise RuntimeError(f"{name}: expected 'ready', got {line!r} (exit code {self.proc.poll()})")
        self.steps = 20

    def block(self, steps):
        self.proc.stdin.write(f"{steps}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"{self.name}: no answer (exit code {self.proc.poll()})")
        return float(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)


def quartiles(v):
    q = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0]] * 3
    return q[0], q[1], q[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench_dll")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--block-ms", type=float, default=100.0)
    ap.add_argument("--out")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    dotnet = os.environ.get("DOTNET", "dotnet")

    servers = {"Nabla": Server("Nabla", [dotnet, args.bench_dll, "--w2-serve"], dict(os.environ))}
    try:
        for name, threads, coretype in CONFIGS:
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
            env.pop("OPENBLAS_CORETYPE", None)
            if coretype:
                env["OPENBLAS_CORETYPE"] = coretype
            servers[name] = Server(f"PyTorch {name}", [sys.executable, os.path.join(here, "w2_step_torch.py"), "--serve", str(threads)], env)
        for s in servers.values():
            s.block(20)  # the first block after the warm-up can be slow (PyTorch's 2-thread servers: 2-4x)
            s.steps = max(5, int(args.block_ms / s.block(20)))

        pairs = []  # (cycle, config, nabla ms/step, torch ms/step, load1)
        start = time.monotonic()
        cycle = 0
        while time.monotonic() - start < args.seconds:
            k = cycle % len(CONFIGS)
            for name, _, _ in CONFIGS[k:] + CONFIGS[:k]:
                if cycle % 2 == 0:
                    n = servers["Nabla"].block(servers["Nabla"].steps)
                    t = servers[name].block(servers[name].steps)
                else:
                    t = servers[name].block(servers[name].steps)
                    n = servers["Nabla"].block(servers["Nabla"].steps)
                pairs.append({"cycle": cycle, "config": name, "nabla_ms": n, "torch_ms": t, "load1": os.getloadavg()[0]})
            cycle += 1
    finally:
        for s in servers.values():
            s.close()

    print(f"W2 training step, batch 128, {FLOPS / 1e6:.1f} MFLOP/step: Nabla TrainOnBatch (all cores) and PyTorch interleaved, "
          f"{cycle} cycles, {len(pairs)} pairs of blocks of ~{args.block_ms:.0f} ms "
          f"(Nabla {servers['Nabla'].steps} steps/block)")
    print(f"  {'PyTorch config':<15} {'torch ms':>9} {'IQR':>7} {'Nabla ms':>9} {'IQR':>7} {'ratio':>6} {'q1..q3':>12} {'min..max':>12} {'>=3x':>5}")
    summary = {}
    for name, _, _ in CONFIGS:
        p = [x for x in pairs if x["config"] == name]
        t = [x["torch_ms"] for x in p]
        n = [x["nabla_ms"] for x in p]
        r = [x["torch_ms"] / x["nabla_ms"] for x in p]
        tq, nq, rq = quartiles(t), quartiles(n), quartiles(r)
        summary[name] = {"torch_median_ms": tq[1], "torch_iqr_ms": tq[2] - tq[0], "nabla_median_ms": nq[1], "nabla_iqr_ms": nq[2] - nq[0],
                         "ratio_median": rq[1], "ratio_q1": rq[0], "ratio_q3": rq[2], "ratio_min": min(r), "ratio_max": max(r),
                         "share_at_least_3x": sum(1 for x in r if x >= 3) / len(r), "pairs": len(p), "torch_steps_per_block": servers[name].steps}
        s = summary[name]
        print(f"  {name:<15} {tq[1]:>9.3f} {tq[2] - tq[0]:>7.3f} {nq[1]:>9.3f} {nq[2] - nq[0]:>7.3f} {rq[1]:>6.2f} "
              f"{rq[0]:>5.2f}..{rq[2]:<5.2f} {min(r):>5.2f}..{max(r):<5.2f} {s['share_at_least_3x']:>5.0%}")
    best = min(summary, key=lambda k: summary[k]["torch_median_ms"])
    b = summary[best]
    print(f"PyTorch at its best: {best} ({b['torch_median_ms']:.3f} ms/step, {FLOPS / b['torch_median_ms'] / 1e6:.1f} GFLOP/s); "
          f"Nabla {b['nabla_median_ms']:.3f} ms/step ({FLOPS / b['nabla_median_ms'] / 1e6:.1f} GFLOP/s) in the same cycles")
    print(f"  ratio (PyTorch at its best / Nabla, pair by pair): median {b['ratio_median']:.2f}, quartiles {b['ratio_q1']:.2f}..{b['ratio_q3']:.2f}, "
          f"{b['share_at_least_3x']:.0%} of {b['pairs']} pairs at >= 3x")
    per_cycle = []
    for c in range(cycle):
        p = [x for x in pairs if x["cycle"] == c]
        if len(p) == len(CONFIGS):
            per_cycle.append(min(x["torch_ms"] for x in p) / statistics.median(x["nabla_ms"] for x in p))
    if per_cycle:
        q = quartiles(per_cycle)
        print(f"  per cycle (fastest PyTorch block / median Nabla block): median {q[1]:.2f}, quartiles {q[0]:.2f}..{q[2]:.2f}, "
              f"min {min(per_cycle):.2f}, over {len(per_cycle)} cycles")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"pairs": pairs, "summary": summary, "best": best, "per_cycle_ratio": per_cycle,
                       "nabla_steps_per_block": servers["Nabla"].steps, "block_ms": args.block_ms}, f, indent=1)


if __name__ == "__main__":
    main()
