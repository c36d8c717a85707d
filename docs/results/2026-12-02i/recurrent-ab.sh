#!/usr/bin/env bash
# Machine: the 2-core Zen 4 VM (AMD EPYC family 25 model 17).
# Three builds of bench/Nabla.Bench, alternating processes: A = 9ae602e (R packed at every step, TensorPrimitives gate
# math), B = f54b1ab (R packed once per call, VectorMath sigmoid/tanh), C = 0e2e91b (plus one vector pass per LSTM row,
# bias folded in, x multiplied batch-major). --rnn-quick: W9's first layer (LSTM(100), batch 64, 28 steps of 28
# features), forward only (A and B ignore --forward-only and also time a training step, not shown); --onnx-quick: W9 and W20 against ORT on their exports, in the same process.
# Run: A=<dir> B=<dir> C=<dir> bash recurrent-ab.sh
set -u
for round in 1 2 3; do
  for v in A B C; do
    dir=${!v}
    echo "== round $round $v: --rnn-quick --batch 64 --steps 28 --features 28 --units 100 --runs 30 --forward-only"
    dotnet $dir/Nabla.Bench.dll --rnn-quick --batch 64 --steps 28 --features 28 --units 100 --runs 30 --forward-only 2>&1 | grep "inference"
  done
done
for round in 1 2 3; do
  for v in A B C; do
    dir=${!v}
    echo "== round $round $v: --onnx-quick 5 w9,w20 1,64"
    dotnet $dir/Nabla.Bench.dll --onnx-quick 5 w9,w20 1,64 2>&1 | grep -E "^w(9|20) "
  done
done
