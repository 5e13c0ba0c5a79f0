#!/usr/bin/env bash
# `node --test ARGS...` with the skip guard: TAP on stdout as before (CI reads its closing `# tests`,
# `# pass`, `# fail` lines), plus a second reporter that records every skipped/todo test; then
# test/ci/skip-guard/check.ts lists them and, when CI=true or OCX_STRICT_SKIPS=1, fails the run for any
# skip not on test/ci/skip-guard/allowed-skips.txt (or on $OCX_SKIP_ALLOW_LIST, for the guard's own tests).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
skips=$(mktemp -t ocx-skips.XXXXXX)
node --test --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter="$ROOT/test/ci/skip-guard/reporter.ts" --test-reporter-destination="$skips" "$@"
rc=$?
node "$ROOT/test/ci/skip-guard/check.ts" "$skips" ${OCX_SKIP_ALLOW_LIST:+--allow "$OCX_SKIP_ALLOW_LIST"} || rc=1
rm -f "$skips"
exit $rc
