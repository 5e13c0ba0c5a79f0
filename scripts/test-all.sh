#!/usr/bin/env bash
# Everything CI runs: the fast suite, the contract suite against devcloud, then real OpenStack
# (Keystone x3 with K2K, Glance, Nova, Cinder, Neutron from Debian) started by test/real/ and the
# same contract suite against it. OCX_SKIP_REAL=1 skips the real part (for a quick local loop only;
# CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
if [ "${OCX_SKIP_REAL:-}" != 1 ]; then
  # Debian packages first (python-openstackclient among them), so the fast suite's OSC-compatibility tests
  # run for real: OCX_REQUIRE_OSC=1 makes them fail, not skip, if the client is missing.
  echo "== install Debian packages (OpenStack services, python3-openstackclient)"
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
OCX_TEST_TARGET=devcloud node --test --test-concurrency=1 --test-timeout=300000 'test/contract/**/*.test.ts'
if [ "${OCX_SKIP_REAL:-}" = 1 ]; then
  echo "== real OpenStack skipped (OCX_SKIP_REAL=1)"; exit 0
fi
echo "== real OpenStack: install and start"
bash test/real/ci.sh up
trap 'bash test/real/ci.sh down || true; cleanup_pg' EXIT
echo "== contract suite against real OpenStack"
OCX_TEST_TARGET=real OS_CLIENT_CONFIG_FILE="${OCX_REAL_STATE_DIR:-/tmp/ocx-real}/clouds.yaml" \
  node --test --test-concurrency=1 --test-timeout=600000 'test/contract/**/*.test.ts' 'packages/*/test/real/**/*.test.ts'
echo "== all done in $(( $(date +%s) - t0 ))s"
