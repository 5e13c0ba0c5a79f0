#!/usr/bin/env bash
# The fast suite: type check, then every package's in-process tests (against devcloud and mocks).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; tsc -p tsconfig.json
echo "== lint"; biome lint packages test bench
echo "== unit and in-process tests"
node --test --test-concurrency=2 --test-timeout=120000 'packages/*/test/**/*.test.ts'
