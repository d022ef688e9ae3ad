#!/bin/sh
# reduced SwiftShader run, part 1: the base model
cd "$(git rev-parse --show-toplevel)"
R=runs
mkdir -p $R
nice -n 10 node --import tsx src/cli/main.ts eval --model models/nano-bloomz --out $R/base \
  --langs eng,ind,jav,sun,mad,nij --prompts 1 --limit 16 > $R/base.log 2>&1
echo "base done rc=$?" >> $R/status
