#!/usr/bin/env bash
# Benchmarks of the session of 2026-12-02 (g), default configuration, at the commit in commit.txt; nothing else runs meanwhile.
#   docs/results/2026-12-02g/bench6.sh [output folder]   (default: this folder; the session ran it twice, run1/ and run2/)
set -uo pipefail
cd "$(dirname "$0")/../../.."
B=${1:-docs/results/2026-12-02g}
mkdir -p "$B"
dll=bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll
dotnet build Engine.sln -c Release --nologo -v quiet > /dev/null
git log --oneline | head -1 > $B/commit.txt
lscpu | grep -E "Model name|^CPU\(s\)|Flags" | cut -c1-200 > $B/machine.txt
step() { echo "== $1 start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $B/steps.log; }
step w2-scaling; for r in 1 2 3; do bash bench/run-w2-scaling.sh 400 512; done > $B/w2-scaling.txt 2>&1
step w2-step;    bash bench/run-w2-step.sh --rounds 3 --out $B/w2-step > $B/w2-step.log 2>&1
step onnx-bdn;   (cd bench/Nabla.Bench && dotnet ../../$dll --filter '*OnnxBenchmarks*' --exporters json --artifacts ../../$B/onnx-bdn) > $B/onnx-bdn.log 2>&1
step quick
# Diagnostics (not numbers of record): the short-row softmax, the narrow and mid-size products, where W2's step and
# W2's batch-512 inference go.
DOTNET_TC_DelaySingleProcMultiplier=1 dotnet $dll --softmax-quick > $B/softmax-quick.txt 2>&1
for r in 1 2 3; do OPENBLAS_CORETYPE=SkylakeX dotnet $dll --gemm-quick 512x128x10 128x128x10 128x128x128 512x128x128; done > $B/gemm-quick.txt 2>&1
dotnet $dll --w2-profile 2000 > $B/w2-profile.txt 2>&1
dotnet $dll --model-profile infer-w2-512 2000 > $B/profile-infer-w2-512.txt 2>&1
step done
