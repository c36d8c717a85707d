#!/usr/bin/env bash
# Benchmarks of the session of 2026-12-02 (h), default configuration, at the commit in commit.txt; nothing else runs meanwhile.
#   docs/results/2026-12-02h/bench7.sh [output folder]   (default: this folder)
set -uo pipefail
cd "$(dirname "$0")/../../.."
B=${1:-docs/results/2026-12-02h}
mkdir -p "$B"
dll=bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll
dotnet build Engine.sln -c Release --nologo -v quiet > /dev/null
git log --oneline | head -1 > $B/commit.txt
lscpu | grep -E "Model name|^CPU\(s\)|Flags" | cut -c1-200 > $B/machine.txt
step() { echo "== $1 start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $B/steps.log; }
step onnx-bdn;   (cd bench/Nabla.Bench && dotnet ../../$dll --filter '*OnnxBenchmarks*' --exporters json --artifacts ../../$B/onnx-bdn) > $B/onnx-bdn.log 2>&1
step w2-scaling; for r in 1 2 3; do bash bench/run-w2-scaling.sh 400 512; done > $B/w2-scaling.txt 2>&1
step w2-step;    bash bench/run-w2-step.sh --rounds 3 --out $B/w2-step > $B/w2-step.log 2>&1
step quick
# Diagnostics (not numbers of record): LeNet's layers (direct convolutions, pools), epilogues on/off in one process,
# where the inference passes and W2's training step go.
for p in 1 2; do DOTNET_PROCESSOR_COUNT=$p dotnet $dll --conv --cin 1 --cout 6 --kernel 5 --batch 512 --sizes 28 --reps 10; done > $B/conv-lenet1.txt 2>&1
for p in 1 2; do DOTNET_PROCESSOR_COUNT=$p dotnet $dll --conv --cin 6 --cout 16 --kernel 5 --padding valid --batch 512 --sizes 14 --reps 10; done > $B/conv-lenet2.txt 2>&1
for p in 1 2; do DOTNET_PROCESSOR_COUNT=$p DOTNET_TC_DelaySingleProcMultiplier=1 dotnet $dll --pool-quick --batch 512 --runs 20 --lenet; done > $B/pool-lenet.txt 2>&1
dotnet $dll --epilogue-quick 300 > $B/epilogue-quick.txt 2>&1
# The kernel pool for inference (the default) against Parallel.For (NABLA_KERNEL_POOL=0), alternating processes.
for r in 1 2 3; do for k in 0 default; do echo "== NABLA_KERNEL_POOL=$k"; if [ $k = 0 ]; then NABLA_KERNEL_POOL=0 dotnet $dll --onnx-quick 5 w2,lenet 512; else dotnet $dll --onnx-quick 5 w2,lenet 512; fi; done; done > $B/pool-ab-onnx-quick.txt 2>&1
dotnet $dll --model-profile infer-lenet-512 300 > $B/profile-infer-lenet-512.txt 2>&1
dotnet $dll --model-profile infer-lenet-1 5000 > $B/profile-infer-lenet-1.txt 2>&1
dotnet $dll --model-profile infer-w2-512 2000 > $B/profile-infer-w2-512.txt 2>&1
dotnet $dll --w2-profile 2000 > $B/w2-profile.txt 2>&1
step done
