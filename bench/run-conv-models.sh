#!/usr/bin/env bash
# Issue 11's model benchmarks: the LeNet-5 training step (batch 128, Adam), the W12 denoising
# autoencoder training step (batch 128, Adam) and VGG16 inference (batch 1), Nabla next to PyTorch 1.13
# CPU, in one run:
#   1. builds bench/Nabla.Bench (Release) and runs ConvModelBenchmarks with BenchmarkDotNet (jobs
#      AllCores and OneCore = DOTNET_PROCESSOR_COUNT=1);
#   2. runs bench/peers/conv_models_torch.py for each model at 1 and 2 threads, NCHW and channels_last,
#      with OPENBLAS_CORETYPE unset and =SkylakeX (PyTorch at its best is the fastest of these);
#   3. prints ms, GFLOP/s and the Nabla/PyTorch ratio (bench/peers/conv_models_report.py).
# Usage: bench/run-conv-models.sh [--out DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"
dotnet="${DOTNET:-dotnet}"
out="$root/BenchmarkDotNet.Artifacts/conv-models/$(date +%Y%m%dT%H%M%S)"
models="lenet w12 vgg16"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="${2:-}"; shift 2 ;;
    *) echo "run-conv-models.sh: unknown argument '$1' (expected --out DIR)" >&2; exit 2 ;;
  esac
done
"$python" -c 'import torch' 2>/dev/null || { echo "run-conv-models.sh: $python cannot import torch (set PYTHON)" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "== building bench/Nabla.Bench (Release)"
"$dotnet" build "$root/bench/Nabla.Bench/Nabla.Bench.csproj" -c Release --nologo -v quiet
bench_dll="$root/bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll"
echo "== Nabla, BenchmarkDotNet ConvModelBenchmarks ($models) (load $(load))"
load > "$out/load-nabla.txt"
(cd "$root/bench/Nabla.Bench" && "$dotnet" "$bench_dll" --filter '*ConvModelBenchmarks*' --exporters json --artifacts "$out/bdn") > "$out/nabla-bdn.log"
load >> "$out/load-nabla.txt"
sed -n '/^| Method/,/^$/p' "$out/nabla-bdn.log"
for m in $models; do
  echo "== PyTorch $m, OPENBLAS_CORETYPE unset (load $(load))"
  env -u OPENBLAS_CORETYPE "$python" "$root/bench/peers/conv_models_torch.py" --model "$m" > "$out/torch-$m.json"
  echo "== PyTorch $m, OPENBLAS_CORETYPE=SkylakeX (load $(load))"
  OPENBLAS_CORETYPE=SkylakeX "$python" "$root/bench/peers/conv_models_torch.py" --model "$m" > "$out/torch-$m-skx.json"
done
echo
"$python" "$root/bench/peers/conv_models_report.py" "$out" $models | tee "$out/summary.txt"
