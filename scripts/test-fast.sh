#!/usr/bin/env bash
# The fast suite: type check, then every package's in-process tests (against devcloud and mocks).
# Skipped tests are listed at the end by the skip guard (scripts/node-test.sh); with CI=true or
# OCX_STRICT_SKIPS=1 a skip that is not on test/ci/skip-guard/allowed-skips.txt fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; tsc -p tsconfig.json
echo "== lint"; biome lint packages test bench
echo "== protos"; bash scripts/check-proto.sh
echo "== unit and in-process tests"
# packages/*/test/real/ holds tests for the real-OpenStack stage (scripts/test-all.sh), not this one.
# test/ci/ holds the tests of the CI scripts themselves (the skip guard).
mapfile -t files < <( (find packages -path '*/test/*' -name '*.test.ts' -not -path '*/test/real/*' -not -path '*/node_modules/*'; find test/ci -name '*.test.ts') | sort)
bash scripts/node-test.sh --test-concurrency=2 --test-timeout=120000 "${files[@]}"
