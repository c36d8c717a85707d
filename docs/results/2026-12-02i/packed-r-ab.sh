#!/usr/bin/env bash
# Machine: the 2-core Zen 4 VM (AMD EPYC family 25 model 17). Run: OLD=<build of 9ae602e> NEW=<build of f54b1ab> bash packed-r-ab.sh
# A/B of the recurrent kernel packed once per call (new, f54b1ab) against packing it at every step (old, 9ae602e),
# alternating processes: --rnn-quick on W9's first layer (LSTM(100), batch 64, 28 steps of 28) and --onnx-quick on
# W9 and W20 (ORT on the exported file in the same process). OLD and NEW are two builds of bench/Nabla.Bench.
set -u
OLD=${OLD:-/tmp/bench-old} NEW=${NEW:-/tmp/bench-new}
for round in 1 2 3; do
  for v in old new; do
    dir=$OLD; [ $v = new ] && dir=$NEW
    echo "== round $round $v: --rnn-quick --batch 64 --steps 28 --features 28 --units 100 --runs 30"
    dotnet $dir/Nabla.Bench.dll --rnn-quick --batch 64 --steps 28 --features 28 --units 100 --runs 30 2>&1 | tail -3
  done
done
for round in 1 2; do
  for v in old new; do
    dir=$OLD; [ $v = new ] && dir=$NEW
    echo "== round $round $v: --onnx-quick 5 w9,w20 1,64"
    dotnet $dir/Nabla.Bench.dll --onnx-quick 5 w9,w20 1,64 2>&1 | grep -E "^w(9|20) "
  done
done
