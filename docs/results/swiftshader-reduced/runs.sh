#!/bin/sh
# reduced SwiftShader runs (issue 19): old defaults vs the paper recipe, then eval on the base's subset
cd "$(git rev-parse --show-toplevel)"
R=runs
mkdir -p $R
CLI="nice -n 10 node --import tsx src/cli/main.ts"
EVAL="--langs eng,ind,jav,sun,mad,nij --prompts 1 --limit 16"
COMMON="--model models/nano-bloomz --steps 12 --batch-size 8 --save-steps 1000"
run() { # name, train flags...
  name=$1; shift
  $CLI train --out $R/$name $COMMON "$@" > $R/$name.train.log 2>&1 || { echo "$name train failed" >> $R/status; return; }
  $CLI eval --model $R/$name/checkpoint --out $R/$name/eval $EVAL > $R/$name.eval.log 2>&1
  echo "$name done rc=$? $(date -u +%H:%M)" >> $R/status
}
run old-defaults-s1 --seed 1 --lr 2e-4 --replay data/replay/nusax_l1_sentiment.jsonl
run paper-s1 --recipe paper --seed 1
run old-defaults-newreplay-s1 --seed 1 --lr 2e-4
run paper-lr2e-4-s1 --recipe paper --seed 1 --lr 2e-4
