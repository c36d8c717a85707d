#!/usr/bin/python3
"""Table for bench/run-conv-models.sh: Nabla's ConvModelBenchmarks (BenchmarkDotNet JSON) next to
conv_models_torch.py's results, with ms, GFLOP/s (FLOPs counted by the peer script from the layer
shapes: 2 per multiply-add of the convolutions and dense layers; a training step is 3x forward) and the
Nabla/PyTorch ratio against PyTorch at its best (fastest of 1/2 threads, NCHW/channels_last,
OPENBLAS_CORETYPE unset/SkylakeX) and, for one core, against PyTorch's best at 1 thread.

Usage: conv_models_report.py OUT_DIR MODEL...
"""
import glob
import json
import os
import sys


def main():
    out, models = sys.argv[1], sys.argv[2:]
    reports = glob.glob(f"{out}/bdn/results/*ConvModelBenchmarks*-full-compressed.json")
    if not reports:
        sys.exit(f"conv_models_report.py: no BenchmarkDotNet JSON in {out}/bdn/results (see {out}/nabla-bdn.log)")
    nabla = {}
    for b in json.load(open(reports[0]))["Benchmarks"]:
        job = b["DisplayInfo"].split(": ", 1)[1].split("(", 1)[0].strip().rstrip(",")
        model = b["Parameters"].split("=", 1)[1].strip()
        nabla[(model, job)] = (b["Statistics"]["Median"] / 1e6, b["Statistics"]["InterquartileRange"] / 1e6)
    load = open(f"{out}/load-nabla.txt").read().split("\n")
    print(f"load (1/5/15 min) before/after Nabla: {load[0]} / {load[1]}")
    for m in models:
        peers = []
        for suffix in ("", "-skx"):
            path = f"{out}/torch-{m}{suffix}.json"
            if os.path.exists(path):
                d = json.load(open(path))
                for r in d["results"]:
                    peers.append((f"{r['threads']}t {r['format']}{' skx' if suffix else ''}", r, d))
        flops = peers[0][2]["flops"]
        kind = "training step" if peers[0][2]["training"] else "forward"
        print(f"\n{m}: {kind}, batch {peers[0][2]['batch']}, {flops / 1e9:.3f} GFLOP, {peers[0][2]['params']:,} params")
        print(f"  {'engine':<14} {'config':<26} {'ms':>9} {'IQR ms':>8} {'GFLOP/s':>8}")
        for job in ("AllCores", "OneCore"):
            if (m, job) in nabla:
                ms, iqr = nabla[(m, job)]
                print(f"  {'Nabla':<14} {job:<26} {ms:>9.3f} {iqr:>8.3f} {flops / ms / 1e6:>8.1f}")
        for cfg, r, d in peers:
            print(f"  {'PyTorch ' + d['version']:<14} {cfg:<26} {r['median_ms']:>9.3f} {r['iqr_ms']:>8.3f} {r['gflops']:>8.1f}"
                  f"  load {r['load1_before']:.2f}->{r['load1_after']:.2f}")
        best = min(peers, key=lambda p: p[1]["median_ms"])
        if (m, "AllCores") in nabla:
            n = nabla[(m, "AllCores")][0]
            print(f"  PyTorch at its best ({best[0]}) {best[1]['median_ms']:.3f} ms / Nabla all cores {n:.3f} ms = {best[1]['median_ms'] / n:.2f}x")
        one = [p for p in peers if p[1]["threads"] == 1]
        if one and (m, "OneCore") in nabla:
            b1 = min(one, key=lambda p: p[1]["median_ms"])
            n1 = nabla[(m, "OneCore")][0]
            print(f"  PyTorch 1 thread at its best ({b1[0]}) {b1[1]['median_ms']:.3f} ms / Nabla one core {n1:.3f} ms = {b1[1]['median_ms'] / n1:.2f}x")
    print(f"(results in {out})")


if __name__ == "__main__":
    main()
