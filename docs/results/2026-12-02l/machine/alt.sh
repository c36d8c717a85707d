#!/bin/bash
# alternate: 1 s one probe, 1 s two probes; print per-second GFLOP/s (sum of the 0.5 s samples' mean)
for i in $(seq 1 $1); do
  s=$(./probe 1 | awk '{s+=$2;n++} END {printf "%.0f", s/n}')
  ./probe 1 > a.txt & ./probe 1 > b.txt; wait
  d=$(cat a.txt b.txt | awk '{s+=$2;n++} END {printf "%.0f", 2*s/n}')
  echo "$i $s $d"
done
