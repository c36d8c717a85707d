#!/usr/bin/env bash
# Issue 3's W2 benchmark: one training step of the MNIST MLP (784-128-128-10, dropout 0.3, Adam,
# batch 128) on the CPU, Nabla next to PyTorch, measured back to back in one run:
#   1. builds bench/Nabla.Bench (Release) and runs W2StepBenchmarks with BenchmarkDotNet
#      (TrainOnBatch and a bare Session.Run; jobs AllCores and OneCore = DOTNET_PROCESSOR_COUNT=1);
#   2. runs bench/peers/w2_step_torch.py at 1 and 2 threads;
#   3. prints ms/step, GFLOP/s (6 · 118,282 params · 128 = 90.8 MFLOP per step), managed allocation
#      and the Nabla/PyTorch ratio, with the load average before each part (the machine is shared).
# Usage: bench/run-w2-step.sh [--profile] [--out DIR]
#   --profile  also run the per-kernel profile (Nabla.Bench --w2-profile) at all cores and one core.
#   --out DIR  where results go (default BenchmarkDotNet.Artifacts/w2-step/<timestamp>, git-ignored).
# Environment: PYTHON (default /usr/bin/python3, which must have torch), DOTNET (default dotnet).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"
dotnet="${DOTNET:-dotnet}"
profile=0
out="$root/BenchmarkDotNet.Artifacts/w2-step/$(date +%Y%m%dT%H%M%S)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --profile) profile=1; shift ;;
    --out) out="$2"; shift 2 ;;
    *) echo "run-w2-step.sh: unknown argument '$1' (expected --profile or --out DIR)" >&2; exit 2 ;;
  esac
done

"$python" -c 'import torch' 2>/dev/null || { echo "run-w2-step.sh: $python cannot import torch (set PYTHON to a python with PyTorch)" >&2; exit 1; }
mkdir -p "$out"
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== building bench/Nabla.Bench (Release)"
"$dotnet" build "$root/bench/Nabla.Bench/Nabla.Bench.csproj" -c Release --nologo -v quiet
bench_dll="$root/bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll"

echo "== Nabla: BenchmarkDotNet W2StepBenchmarks (load $(load))"
load > "$out/load-nabla.txt"
(cd "$root/bench/Nabla.Bench" && "$dotnet" "$bench_dll" --filter '*W2StepBenchmarks*' --exporters json --artifacts "$out/bdn") > "$out/nabla-bdn.log"
load >> "$out/load-nabla.txt"
sed -n '/^| Method/,/^$/p' "$out/nabla-bdn.log"

echo "== PyTorch: bench/peers/w2_step_torch.py (load $(load))"
"$python" "$root/bench/peers/w2_step_torch.py" > "$out/torch.json"

if [[ $profile -eq 1 ]]; then
  echo "== Nabla per-kernel profile, all cores (load $(load))"
  "$dotnet" "$bench_dll" --w2-profile 500 | tee "$out/profile-allcores.txt"
  echo "== Nabla per-kernel profile, one core (load $(load))"
  DOTNET_PROCESSOR_COUNT=1 "$dotnet" "$bench_dll" --w2-profile 500 | tee "$out/profile-onecore.txt"
fi

echo
"$python" - "$out" <<'EOF'
import glob, json, sys
out = sys.argv[1]
flops = 6.0 * 118_282 * 128
bdn = json.load(open(glob.glob(f"{out}/bdn/results/*W2StepBenchmarks*-full-compressed.json")[0]))
load_nabla = open(f"{out}/load-nabla.txt").read().split("\n")
torch = json.load(open(f"{out}/torch.json"))

rows = []
nabla = {}
for b in bdn["Benchmarks"]:
    job = b["DisplayInfo"].split(": ", 1)[1].split("(", 1)[0]
    s = b["Statistics"]
    ms = s["Median"] / 1e6
    nabla[(b["Method"], job)] = ms
    rows.append((f"Nabla {b['Method']}", job, ms, s["InterquartileRange"] / 1e6, flops / (ms * 1e-3) / 1e9,
                 f"{b['Memory']['BytesAllocatedPerOperation'] / 1024:.1f} KB"))
for r in torch["results"]:
    rows.append((f"PyTorch {torch['version']}", f"{r['threads']} thread(s)", r["median_ms"], r["iqr_ms"], r["gflops"],
                 f"load {r['load1_before']:.2f}->{r['load1_after']:.2f}"))

print(f"W2 training step, batch 128, {flops / 1e6:.1f} MFLOP/step; Nabla load before/after: {load_nabla[0]} / {load_nabla[1]}")
print(f"{'engine':<26} {'config':<14} {'ms/step':>9} {'IQR ms':>8} {'GFLOP/s':>8}  note")
for name, cfg, ms, iqr, gf, note in rows:
    print(f"{name:<26} {cfg:<14} {ms:>9.3f} {iqr:>8.3f} {gf:>8.1f}  {note}")

best = torch["best"]
n_all = nabla[("TrainOnBatch", "AllCores")]
print()
print(f"Nabla TrainOnBatch (all cores) {n_all:.3f} ms vs PyTorch at its fastest ({best['threads']} thread(s)) {best['median_ms']:.3f} ms:"
      f" ratio Nabla/PyTorch = {n_all / best['median_ms']:.2f}")
t1 = next((r for r in torch["results"] if r["threads"] == 1), None)
if t1 and ("TrainOnBatch", "OneCore") in nabla:
    n1 = nabla[("TrainOnBatch", "OneCore")]
    print(f"one core: Nabla {n1:.3f} ms vs PyTorch 1 thread {t1['median_ms']:.3f} ms: ratio {n1 / t1['median_ms']:.2f}")
print(f"(results in {out})")
EOF
