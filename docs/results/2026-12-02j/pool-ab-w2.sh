#!/usr/bin/env bash
# Alternating processes of the W2 training-step profile with the kernel pool forced on and off:
#   docs/results/2026-12-02j/pool-ab-w2.sh PAIRS > pool-ab-w2.txt
# Prints, per process, the pool setting, the TrainOnBatch median, and the medians of the largest Adam and fused
# (dropout) kernels, so a process slowed by the machine (all memory-bound kernels ~4x) can be told from the pool's effect.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
bench="$root/bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench"
pairs="${1:-10}"
tmp="$(mktemp -d)"
echo "commit $(git -C "$root" rev-parse --short HEAD), $(nproc) cores, $(date -u +%FT%TZ)"
for i in $(seq 1 "$pairs"); do
  for p in 1 0; do
    NABLA_KERNEL_POOL=$p "$bench" --w2-profile > "$tmp/out.txt" 2>&1
    step=$(grep 'median per step' "$tmp/out.txt" | awk '{print $5}')
    adam=$(grep -m1 -E '^  #53 ' "$tmp/out.txt" | awk '{print $2}')
    drop=$(grep -m1 -E '^  #9 ' "$tmp/out.txt" | awk '{print $2}')
    printf 'pair %2d  NABLA_KERNEL_POOL=%s  step %7s us  Adam(dense) %6s us  dropout(fused #9) %6s us  load %s\n' "$i" "$p" "$step" "$adam" "$drop" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
rm -rf "$tmp"
