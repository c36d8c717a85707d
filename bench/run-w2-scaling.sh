#!/usr/bin/env bash
# W2 data-parallel scaling (issue 15): training throughput of 2 single-threaded MPI workers
# (MultiWorkerMirroredStrategy, global batch split 2 x 256) against 1 single-threaded process
# (plain Fit, batch 512), plus the per-step all-reduce time and bytes. Run on a quiet machine.
#   bench/run-w2-scaling.sh [steps] [global batch]     (defaults 400, 512; "20" is a smoke test)
# Single-threaded: DOTNET_PROCESSOR_COUNT=1 makes the CPU kernels use one thread; mpirun binds each
# rank to its own core (--bind-to core, Open MPI's default for 2 ranks).
# Napkin math: W2 has 118,282 parameters = 473,128 B of float32 gradients per step (the printed 473,216 B adds the
# step's logs, which travel in the same call, and the 64-byte alignment padding between gradients). A ring all-reduce
# over p ranks moves 2(p-1)/p x that per rank (473 KB at p = 2); at the ~1 GB/s an Allreduce of 1M floats
# reaches between 2 local processes (4 MB in 0.7-1.4 ms, docs/scale-out.md), that is ~0.5 ms per step, to
# compare with the printed ms/step of compute.
# The program warms up for 2,000 steps before timing (plan compilation, the JIT's tier-up). With one processor
# the .NET runtime waits 10x longer after the last tier-0 compilation before it starts promoting hot methods
# (TC_DelaySingleProcMultiplier), and Fit's epoch boundaries keep restarting that wait: with the default, as few as
# 0 methods reached tier 1 in a timed single-processor run (DOTNET_JitStdOutFile + DOTNET_JitDisasmSummary=1), and
# the ranks measured tier-0 and OSR code: 3.3-4.7 ms per 512-row step instead of 2.9-3.4 ms
# (docs/results/2026-12-02/tier-delay.txt and run1/tier-delay.txt). The benchmark
# measures steady-state throughput, so it sets the multiplier to 1 (the multi-processor wait): this changes when
# methods are recompiled, not the code they are recompiled to. Open MPI
# busy-waits inside collectives; on a machine with other load set MPI_EXTRA="--mca mpi_yield_when_idle 1".
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-400}
batch=${2:-512}
dotnet build samples/Nabla.Samples -c Release -v q -nologo >/dev/null
dll=samples/Nabla.Samples/bin/Release/net10.0/Nabla.Samples.dll
export TERM=dumb OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 DOTNET_PROCESSOR_COUNT=1 DOTNET_TC_DelaySingleProcMultiplier=1
echo "== 1 process, 1 thread (plain Fit)"
taskset -c 0 dotnet "$dll" distributed-check --mode scaling-plain --steps "$steps" --batch "$batch"
echo "== 1 MPI worker, 1 thread (MultiWorkerMirroredStrategy overhead at p = 1)"
mpirun -np 1 ${MPI_EXTRA:-} -x DOTNET_PROCESSOR_COUNT -x DOTNET_TC_DelaySingleProcMultiplier dotnet "$dll" distributed-check --mode scaling --steps "$steps" --batch "$batch"
echo "== 2 MPI workers, 1 thread each"
mpirun -np 2 --oversubscribe ${MPI_EXTRA:-} -x DOTNET_PROCESSOR_COUNT -x DOTNET_TC_DelaySingleProcMultiplier dotnet "$dll" distributed-check --mode scaling --steps "$steps" --batch "$batch"
