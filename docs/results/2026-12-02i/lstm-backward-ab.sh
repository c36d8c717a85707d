#!/usr/bin/env bash
# Machine: the 2-core Zen 4 VM (AMD EPYC family 25 model 17).
# The LSTM training step (forward + backward) before (C = 0e2e91b, a scalar tanh per element in back-propagation) and
# after (D = 04be625, one vector pass per row), alternating processes: --rnn-quick on W9's first layer (LSTM(100),
# batch 64, 28 steps of 28 features). Run: C=<dir> D=<dir> bash lstm-backward-ab.sh
set -u
for round in 1 2 3; do
  for v in C D; do
    dir=${!v}
    echo "== round $round $v: --rnn-quick --batch 64 --steps 28 --features 28 --units 100 --runs 30"
    dotnet $dir/Nabla.Bench.dll --rnn-quick --batch 64 --steps 28 --features 28 --units 100 --runs 30 2>&1 | tail -2
  done
done
