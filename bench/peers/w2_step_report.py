#!/usr/bin/python3
"""Table for bench/run-w2-step.sh: reads each round's BenchmarkDotNet JSON (W2StepBenchmarks) and
w2_step_torch.py output, prints ms/step, GFLOP/s (6 * 118,282 params * 128 = 90.8 MFLOP per step),
Nabla's managed allocation per step and the Nabla/PyTorch ratio per round, then, over several rounds,
the median per configuration and the median of the per-round ratios (each ratio compares two
measurements taken minutes apart; on a shared machine a single round can be off by 30 %).

Usage: w2_step_report.py OUT_DIR ROUNDS   (OUT_DIR/roundN/{bdn/results/*.json, torch.json, [torch-skx.json], load-nabla.txt})
"""
import glob
import os
import json
import statistics
import sys

FLOPS = 6.0 * 118_282 * 128


def gflops(ms: float) -> float:
    return FLOPS / (ms * 1e-3) / 1e9


def main():
    out, rounds = sys.argv[1], int(sys.argv[2])
    summary = {}  # (engine, config) -> [ms per round]
    ratios = {"all cores vs PyTorch at its fastest": [], "one core vs PyTorch 1 thread": []}
    for r in range(1, rounds + 1):
        d = f"{out}/round{r}"
        reports = glob.glob(f"{d}/bdn/results/*W2StepBenchmarks*-full-compressed.json")
        if not reports:
            sys.exit(f"w2_step_report.py: no BenchmarkDotNet JSON in {d}/bdn/results (see {d}/nabla-bdn.log)")
        bdn = json.load(open(reports[0]))
        load = open(f"{d}/load-nabla.txt").read().split("\n")
        # torch.json: OPENBLAS_CORETYPE unset; torch-skx.json (when present): OPENBLAS_CORETYPE=SkylakeX.
        peers = [("", json.load(open(f"{d}/torch.json")))]
        if os.path.exists(f"{d}/torch-skx.json"):
            peers.append((" skx", json.load(open(f"{d}/torch-skx.json"))))
        print(f"round {r}: W2 training step, batch 128, {FLOPS / 1e6:.1f} MFLOP/step; "
              f"load (1/5/15 min) before/after Nabla: {load[0]} / {load[1]}")
        print(f"  {'engine':<22} {'config':<12} {'ms/step':>8} {'IQR ms':>7} {'GFLOP/s':>8}  note")
        nabla = {}
        for b in bdn["Benchmarks"]:
            job = b["DisplayInfo"].split(": ", 1)[1].split("(", 1)[0]
            s = b["Statistics"]
            ms = s["Median"] / 1e6
            nabla[(b["Method"], job)] = ms
            summary.setdefault(("Nabla " + b["Method"], job), []).append(ms)
            print(f"  {'Nabla ' + b['Method']:<22} {job:<12} {ms:>8.3f} {s['InterquartileRange'] / 1e6:>7.3f} {gflops(ms):>8.1f}"
                  f"  alloc {b['Memory']['BytesAllocatedPerOperation'] / 1024:.1f} KB/step")
        for suffix, torch in peers:
            for t in torch["results"]:
                cfg = f"{t['threads']} thread" + ("s" if t["threads"] > 1 else "") + suffix
                summary.setdefault(("PyTorch " + torch["version"], cfg), []).append(t["median_ms"])
                print(f"  {'PyTorch ' + torch['version']:<22} {cfg:<12} {t['median_ms']:>8.3f} {t['iqr_ms']:>7.3f} {t['gflops']:>8.1f}"
                      f"  load {t['load1_before']:.2f}->{t['load1_after']:.2f}")
        all_results = [t for _, torch in peers for t in torch["results"]]
        best = min(all_results, key=lambda t: t["median_ms"])
        n_all = nabla[("TrainOnBatch", "AllCores")]
        ratios["all cores vs PyTorch at its fastest"].append(n_all / best["median_ms"])
        print(f"  Nabla TrainOnBatch all cores {n_all:.3f} ms / PyTorch at its fastest ({best['threads']} thread(s)) "
              f"{best['median_ms']:.3f} ms = {n_all / best['median_ms']:.2f}")
        t1 = min((t for t in all_results if t["threads"] == 1), key=lambda t: t["median_ms"], default=None)
        if t1 and ("TrainOnBatch", "OneCore") in nabla:
            n1 = nabla[("TrainOnBatch", "OneCore")]
            ratios["one core vs PyTorch 1 thread"].append(n1 / t1["median_ms"])
            print(f"  Nabla TrainOnBatch one core {n1:.3f} ms / PyTorch 1 thread {t1['median_ms']:.3f} ms = {n1 / t1['median_ms']:.2f}")
        print()

    if rounds > 1:
        print(f"summary over {rounds} rounds: median (min..max) of the per-round medians")
        print(f"  {'engine':<22} {'config':<12} {'ms/step':>8} {'range ms':>15} {'GFLOP/s':>8}")
        for (name, cfg), v in summary.items():
            m = statistics.median(v)
            print(f"  {name:<22} {cfg:<12} {m:>8.3f} {min(v):>7.3f}..{max(v):<7.3f} {gflops(m):>8.1f}")
        for k, v in ratios.items():
            if v:
                print(f"  Nabla/PyTorch, {k}: median {statistics.median(v):.2f} (rounds: {', '.join(f'{x:.2f}' for x in v)})")
    print(f"(results in {out})")


if __name__ == "__main__":
    main()
