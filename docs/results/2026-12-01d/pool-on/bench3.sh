#!/usr/bin/env bash
# Benchmarks of session (d), one run, on main at the commit in commit.txt. Nothing else runs meanwhile.
set -uo pipefail
cd /work/main
B=/work/runs/bench3
mkdir -p $B
dll=bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll
git log --oneline | head -1 > $B/commit.txt
lscpu | grep -E "Model name|^CPU\(s\)|Flags" | cut -c1-200 > $B/machine.txt
step() { echo "== $1 start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $B/steps.log; }
step w2-scaling; for r in 1 2 3; do bash bench/run-w2-scaling.sh 400 512; done > $B/w2-scaling.txt 2>&1
step w2-step;   bash bench/run-w2-step.sh --rounds 2 --out $B/w2-step > $B/w2-step.log 2>&1
step w2-memory; NABLA_FUSION=0 dotnet $dll --w2-memory > $B/w2-memory-unfused.txt 2>&1; dotnet $dll --w2-memory > $B/w2-memory-fused.txt 2>&1
step w2-profile; for p in 1 0; do NABLA_KERNEL_POOL=$p dotnet $dll --w2-profile > $B/w2-profile-pool$p.txt 2>&1; done
step onnx-bdn; (cd bench/Nabla.Bench && dotnet ../../$dll --filter '*OnnxBenchmarks*' --exporters json --artifacts $B/onnx-bdn) > $B/onnx-bdn.log 2>&1
step conv-models; bash bench/run-conv-models.sh --out $B/conv-models > $B/conv-models.log 2>&1
step profiles; for m in infer-w2-1 infer-w2-512 infer-lenet-1 infer-lenet-512 lenet; do for p in 1 0; do (cd bench/Nabla.Bench && NABLA_KERNEL_POOL=$p dotnet ../../$dll --model-profile $m 100) > $B/profile-$m-pool$p.txt 2>&1; done; done
step done
