#!/bin/bash
# A/B of W2 step (--w2-profile 400) between two builds, quiet and with a busy competitor pinned on cpu1.
# usage: ab.sh OLD_ROOT NEW_ROOT PAIRS
old=$1; new=$2; pairs=${3:-3}
run() { (cd $1/bench/Nabla.Bench && dotnet bin/Release/net10.0/Nabla.Bench.dll --w2-profile 400 2>&1 | grep "median per step" | sed 's/median per step: //'); }
for ((i=1;i<=pairs;i++)); do
  for mode in quiet busy; do
    for side in old new; do
      root=$old; [[ $side == new ]] && root=$new
      if [[ $mode == busy ]]; then taskset -c 1 /tmp/probe/probe 30 > /dev/null & bp=$!; sleep 0.2; fi
      echo "$i $mode $side $(run $root)"
      if [[ $mode == busy ]]; then kill $bp 2>/dev/null; wait $bp 2>/dev/null; fi
    done
  done
done
