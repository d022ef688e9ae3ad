#!/bin/bash
# Plants one hand-written mutant (a sed expression on one file), runs the given mocha tests against it, then puts
# the file back and regenerates the embedded shaders. docs/testing.md lists the mutants and the tests that kill them.
#   scripts/mutant.sh FILE 'SED-EXPRESSION' test/x.test.ts [more mocha arguments]
set -u
f=$1
e=$2
shift 2
if ! git diff --quiet -- "$f"; then
  echo "$f has uncommitted changes: commit or stash them first (the mutant is undone with a copy of the file)" >&2
  exit 2
fi
backup=$(mktemp)
cp "$f" "$backup"
restore() {
  cp "$backup" "$f"
  rm -f "$backup"
  node build.mjs gen >/dev/null
}
trap restore EXIT
sed -i "$e" "$f"
if git diff --quiet -- "$f"; then
  echo "the expression changed nothing in $f: no mutant planted" >&2
  exit 2
fi
git diff -U0 -- "$f" | grep '^[-+][^-+]'
node build.mjs gen >/dev/null
if npx mocha "$@"; then echo "SURVIVED: no test failed"; else echo "KILLED"; fi
