#!/usr/bin/env bash
# The fast suite: type check, then every package's in-process tests (against devcloud and mocks).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; tsc -p tsconfig.json
echo "== lint"; biome lint packages test bench
echo "== unit and in-process tests"
# packages/*/test/real/ holds tests for the real-OpenStack stage (scripts/test-all.sh), not this one.
mapfile -t files < <(find packages -path '*/test/*' -name '*.test.ts' -not -path '*/test/real/*' -not -path '*/node_modules/*' | sort)
node --test --test-concurrency=2 --test-timeout=120000 "${files[@]}"
