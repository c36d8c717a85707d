#!/usr/bin/env bash
# Alternating 2-worker scaling runs of two builds: ab-scaling.sh DIR_A DIR_B PAIRS
export TERM=dumb OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 DOTNET_PROCESSOR_COUNT=1 DOTNET_TC_DelaySingleProcMultiplier=1
for i in $(seq 1 "$3"); do
  for d in "$1" "$2"; do
    echo -n "$(basename "$d") "
    mpirun -np 2 --oversubscribe -x DOTNET_PROCESSOR_COUNT -x DOTNET_TC_DelaySingleProcMultiplier dotnet "$d/Nabla.Samples.dll" distributed-check --mode scaling --steps 400 --batch 512 2>&1 | grep "^scaling"
  done
done
