#!/usr/bin/env bash
# Issue 3's W2 benchmark: one training step of the MNIST MLP (784-128-128-10, dropout 0.3, Adam,
# batch 128) on the CPU, Nabla next to PyTorch, measured back to back in one run:
#   1. builds bench/Nabla.Bench (Release) and runs W2StepBenchmarks with BenchmarkDotNet
#      (TrainOnBatch and a bare Session.Run; jobs AllCores and OneCore = DOTNET_PROCESSOR_COUNT=1);
#   2. runs bench/peers/w2_step_torch.py at 1 and 2 threads, with OPENBLAS_CORETYPE unset and =SkylakeX;
#   3. prints ms/step, GFLOP/s (6 · 118,282 params · 128 = 90.8 MFLOP per step), managed allocation
#      and the Nabla/PyTorch ratio, with the load average around each part (bench/peers/w2_step_report.py).
# Usage: bench/run-w2-step.sh [--rounds N] [--profile] [--out DIR]
#   --rounds N  repeat steps 1-2 N times (default 1) and summarise: on a shared machine one round can
#               be off by 30 %, so take the median over rounds of each number and of the per-round ratio.
#   --profile   also run the per-kernel profile (Nabla.Bench --w2-profile) at all cores and one core.
#   --out DIR   where results go (default BenchmarkDotNet.Artifacts/w2-step/<timestamp>, git-ignored).
# Environment: PYTHON (default /usr/bin/python3, which must have torch), DOTNET (default dotnet).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"
dotnet="${DOTNET:-dotnet}"
profile=0
rounds=1
out="$root/BenchmarkDotNet.Artifacts/w2-step/$(date +%Y%m%dT%H%M%S)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --profile) profile=1; shift ;;
    --rounds) rounds="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    *) echo "run-w2-step.sh: unknown argument '$1' (expected --rounds N, --profile or --out DIR)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "run-w2-step.sh: --rounds needs a positive integer, got '$rounds'" >&2; exit 2; }
[[ -n "$out" ]] || { echo "run-w2-step.sh: --out needs a directory" >&2; exit 2; }

"$python" -c 'import torch' 2>/dev/null || { echo "run-w2-step.sh: $python cannot import torch (set PYTHON to a python with PyTorch)" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== building bench/Nabla.Bench (Release)"
"$dotnet" build "$root/bench/Nabla.Bench/Nabla.Bench.csproj" -c Release --nologo -v quiet
bench_dll="$root/bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll"

for ((r = 1; r <= rounds; r++)); do
  dir="$out/round$r"
  mkdir -p "$dir"
  echo "== round $r/$rounds: Nabla, BenchmarkDotNet W2StepBenchmarks (load $(load))"
  load > "$dir/load-nabla.txt"
  (cd "$root/bench/Nabla.Bench" && "$dotnet" "$bench_dll" --filter '*W2StepBenchmarks*' --exporters json --artifacts "$dir/bdn") > "$dir/nabla-bdn.log"
  load >> "$dir/load-nabla.txt"
  sed -n '/^| Method/,/^$/p' "$dir/nabla-bdn.log"
  # The peer at its best: OpenBLAS 0.3.21 does not recognise this CPU and falls back to AVX2 kernels unless
  # OPENBLAS_CORETYPE=SkylakeX selects its AVX-512 ones, so PyTorch runs both ways (and at 1 and 2 threads).
  echo "== round $r/$rounds: PyTorch, bench/peers/w2_step_torch.py, OPENBLAS_CORETYPE unset (load $(load))"
  env -u OPENBLAS_CORETYPE "$python" "$root/bench/peers/w2_step_torch.py" > "$dir/torch.json"
  echo "== round $r/$rounds: PyTorch, bench/peers/w2_step_torch.py, OPENBLAS_CORETYPE=SkylakeX (load $(load))"
  OPENBLAS_CORETYPE=SkylakeX "$python" "$root/bench/peers/w2_step_torch.py" > "$dir/torch-skx.json"
done

if [[ $profile -eq 1 ]]; then
  echo "== Nabla per-kernel profile, all cores (load $(load))"
  "$dotnet" "$bench_dll" --w2-profile 500 | tee "$out/profile-allcores.txt"
  echo "== Nabla per-kernel profile, one core (load $(load))"
  DOTNET_PROCESSOR_COUNT=1 "$dotnet" "$bench_dll" --w2-profile 500 | tee "$out/profile-onecore.txt"
fi

echo
"$python" "$root/bench/peers/w2_step_report.py" "$out" "$rounds" | tee "$out/summary.txt"
