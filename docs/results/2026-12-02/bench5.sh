#!/usr/bin/env bash
# Benchmarks of the session of 2026-12-02, default configuration, one run, on main at the commit in commit.txt.
# Nothing else runs meanwhile. Raw outputs land next to this script.
set -uo pipefail
cd "$(dirname "$0")/../../.."
B=docs/results/2026-12-02
dll=bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll
dotnet build Engine.sln -c Release --nologo -v quiet > /dev/null
git log --oneline | head -1 > $B/commit.txt
lscpu | grep -E "Model name|^CPU\(s\)|Flags" | cut -c1-200 > $B/machine.txt
step() { echo "== $1 start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $B/steps.log; }
step w2-scaling; for r in 1 2 3; do bash bench/run-w2-scaling.sh 400 512; done > $B/w2-scaling.txt 2>&1
step w2-step;    bash bench/run-w2-step.sh --rounds 3 --out $B/w2-step > $B/w2-step.log 2>&1
step onnx-bdn;   (cd bench/Nabla.Bench && dotnet ../../$dll --filter '*OnnxBenchmarks*' --exporters json --artifacts ../../$B/onnx-bdn) > $B/onnx-bdn.log 2>&1
step gemm-quick; for r in 1 2 3; do OPENBLAS_CORETYPE=SkylakeX DOTNET_TC_DelaySingleProcMultiplier=1 dotnet $dll --gemm-quick 128x784x128 512x784x128 128x128x128 1024x1024x1024; done > $B/gemm-quick.txt 2>&1
step tier-evidence
# The single-processor tier-up delay: the same plain 512-row W2 Fit with the default delay and with the multiplier at 1,
# each with the JIT's summary of what it compiled at which tier (count of tier-1 methods printed after the step time).
s=samples/Nabla.Samples/bin/Release/net10.0/Nabla.Samples.dll
for e in DOTNET_TC_DelaySingleProcMultiplier=10 DOTNET_TC_DelaySingleProcMultiplier=1; do
  for r in 1 2; do
    echo "$e round $r: $(env $e DOTNET_PROCESSOR_COUNT=1 DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile=/tmp/jit-$r.txt taskset -c 0 dotnet $s distributed-check --mode scaling-plain --steps 400 --batch 512 | grep '^scaling'), tier-1 methods compiled: $(grep -c '\[Tier1,' /tmp/jit-$r.txt)"
  done
done > $B/tier-delay.txt 2>&1
step done
