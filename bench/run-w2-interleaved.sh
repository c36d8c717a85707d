#!/usr/bin/env bash
# Issue 10's W2 step comparison with the machine's slow phases taken out of the verdict: Nabla's TrainOnBatch (all
# cores) and PyTorch 1.13 (1 and 2 threads, OPENBLAS_CORETYPE unset and =SkylakeX) take turns in ~0.1 s blocks on the
# same cores, and each pair of adjacent blocks gives one ratio (bench/peers/w2_interleaved.py). Complements
# bench/run-w2-step.sh (BenchmarkDotNet, one process per engine and configuration, minutes apart).
# Usage: bench/run-w2-interleaved.sh [SECONDS] [OUT_DIR]     (defaults 180, BenchmarkDotNet.Artifacts/w2-interleaved/<timestamp>)
# Environment: PYTHON (default /usr/bin/python3, which must have torch), DOTNET (default dotnet).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"
seconds="${1:-180}"
out="${2:-$root/BenchmarkDotNet.Artifacts/w2-interleaved/$(date +%Y%m%dT%H%M%S)}"
"$python" -c 'import torch' 2>/dev/null || { echo "run-w2-interleaved.sh: $python cannot import torch (set PYTHON)" >&2; exit 1; }
mkdir -p "$out"
"${DOTNET:-dotnet}" build "$root/bench/Nabla.Bench/Nabla.Bench.csproj" -c Release --nologo -v quiet >/dev/null
echo "commit $(git -C "$root" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)" | tee "$out/summary.txt"
"$python" "$root/bench/peers/w2_interleaved.py" "$root/bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll" --seconds "$seconds" \
  --out "$out/pairs.json" | tee -a "$out/summary.txt"
