#!/usr/bin/env bash
# Alternating processes of the W2 training-step profile from two builds of bench/Nabla.Bench:
#   docs/results/2026-12-02j/build-ab-w2.sh DIR_A DIR_B PAIRS > out.txt
# DIR_A, DIR_B: copies of bench/Nabla.Bench/bin/Release/net10.0 made at the two commits. Prints, per process, the
# build, the TrainOnBatch median, and the medians of the largest Adam update and the first dropout tree.
set -euo pipefail
a="$1"; b="$2"; pairs="${3:-10}"
tmp="$(mktemp -d)"
echo "A=$a B=$b, $(nproc) cores, $(date -u +%FT%TZ)"
for i in $(seq 1 "$pairs"); do
  for side in A B; do
    dir=$a; [[ $side == B ]] && dir=$b
    "$dir/Nabla.Bench" --w2-profile > "$tmp/out.txt" 2>&1
    step=$(grep 'median per step' "$tmp/out.txt" | awk '{print $5}')
    adam=$(grep -m1 -E '^  #53 ' "$tmp/out.txt" | awk '{print $2}')
    drop=$(grep -m1 -E '^  #9 ' "$tmp/out.txt" | awk '{print $2}')
    printf 'pair %2d  %s  step %7s us  Adam(dense) %6s us  dropout(fused #9) %6s us  load %s\n' "$i" "$side" "$step" "$adam" "$drop" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
rm -rf "$tmp"
