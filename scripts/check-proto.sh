#!/usr/bin/env bash
# Proto checks (run by test-fast.sh): buf lint; the committed generated code is what `buf generate` makes now;
# no breaking change against main's protos (skipped, with a note, where main has no protos yet).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== buf lint"
buf lint

echo "== buf generate (committed code up to date)"
buf generate -o "$tmp/gen"
if ! diff -r "$tmp/gen/packages/sdk/src/gen" packages/sdk/src/gen >"$tmp/diff" 2>&1; then
  head -40 "$tmp/diff"
  echo "check-proto: packages/sdk/src/gen differs from 'buf generate' output: run 'buf generate' and commit" >&2
  exit 1
fi

echo "== buf breaking against main"
# git archive works in a fresh clone and in a worktree alike (where .git is a file and '.git#branch=' is not).
if ! git rev-parse --verify --quiet main >/dev/null; then
  echo "check-proto: no local branch 'main'; breaking check skipped"
elif ! git cat-file -e main:buf.yaml 2>/dev/null || ! git cat-file -e main:proto 2>/dev/null; then
  echo "check-proto: main has no protos yet; breaking check skipped"
else
  mkdir -p "$tmp/main"
  git archive main buf.yaml proto | tar -x -C "$tmp/main"
  buf breaking --against "$tmp/main"
fi
echo "check-proto: ok"
