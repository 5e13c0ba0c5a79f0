#!/usr/bin/env bash
# Everything CI runs: the fast suite, the contract suite against devcloud, then real OpenStack
# (Keystone x3 with K2K, Glance, Nova, Cinder, Neutron from Debian) started by test/real/ and the
# same contract suite against it. OCX_SKIP_REAL=1 skips the real part (for a quick local loop only;
# refused when CI=true).
# Every `node --test` goes through scripts/node-test.sh (the skip guard): when this script installs
# everything (no OCX_SKIP_REAL) or CI=true, a skipped test that is not on
# test/ci/skip-guard/allowed-skips.txt fails the run.
# The real stack's state directory: STATE_DIR (OCX_REAL_STATE_DIR is the old name, still read).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
if [ "${OCX_SKIP_REAL:-}" = 1 ] && [ "${CI:-}" = true ]; then
  echo "test-all.sh: OCX_SKIP_REAL=1 is refused when CI=true (CI must run the real-OpenStack stage)" >&2
  exit 2
fi
# shellcheck source=test/real/lib/state-dir.sh
. test/real/lib/state-dir.sh
if [ "${OCX_SKIP_REAL:-}" != 1 ]; then
  # Everything the tests need gets installed below, so nothing has a reason to skip.
  export OCX_STRICT_SKIPS=1
  # Debian packages first (python-openstackclient, openssl, nginx + Lua among them), so the fast suite's
  # OSC-compatibility, TLS and native-lane tests run for real: OCX_REQUIRE_OSC=1 makes the OSC tests fail,
  # not skip, if the client is missing, and the skip guard fails the run for any other skip.
  echo "== install Debian packages (OpenStack services, python3-openstackclient, openssl, nginx + Lua)"
  bash test/real/lib/install.sh all
  export OCX_REQUIRE_OSC=1
  # PostgreSQL for the proxy's shared-state tests (replicas on one database); SQLite is tested either way.
  echo "== PostgreSQL for the proxy's replica tests"
  OCX_TEST_PG_URL=$(bash scripts/pg-test-db.sh up | tail -1)
  export OCX_TEST_PG_URL
  cleanup_pg() { bash scripts/pg-test-db.sh down || true; }
  trap cleanup_pg EXIT
fi
bash scripts/test-fast.sh
echo "== contract suite against devcloud"
OCX_TEST_TARGET=devcloud bash scripts/node-test.sh --test-concurrency=1 --test-timeout=300000 'test/contract/**/*.test.ts'
if [ "${OCX_SKIP_REAL:-}" = 1 ]; then
  echo "== real OpenStack skipped (OCX_SKIP_REAL=1)"; exit 0
fi
echo "== real OpenStack: install and start (STATE_DIR=$STATE_DIR)"
bash test/real/ci.sh up
trap 'bash test/real/ci.sh down || true; cleanup_pg' EXIT
echo "== contract suite against real OpenStack"
OCX_TEST_TARGET=real OS_CLIENT_CONFIG_FILE="$STATE_DIR/clouds.yaml" \
  bash scripts/node-test.sh --test-concurrency=1 --test-timeout=600000 'test/contract/**/*.test.ts' 'packages/*/test/real/**/*.test.ts'
echo "== all done in $(( $(date +%s) - t0 ))s"
