#!/bin/sh
cd "$(git rev-parse --show-toplevel)"
R=runs
mkdir -p $R
CLI="nice -n 10 node --import tsx src/cli/main.ts"
EVAL="--langs eng,ind,jav,sun,mad,nij --prompts 1 --limit 16"
COMMON="--model models/nano-bloomz --steps 12 --batch-size 8 --save-steps 1000"
run() {
  name=$1; shift
  $CLI train --out $R/$name $COMMON "$@" > $R/$name.train.log 2>&1 || { echo "$name train failed" >> $R/status; return; }
  $CLI eval --model $R/$name/checkpoint --out $R/$name/eval $EVAL > $R/$name.eval.log 2>&1
  echo "$name done rc=$? $(date -u +%H:%M)" >> $R/status
}
run old-defaults-s2 --seed 2 --lr 2e-4 --replay data/replay/nusax_l1_sentiment.jsonl
run paper-lr2e-4-s2 --recipe paper --seed 2 --lr 2e-4
