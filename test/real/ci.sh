#!/bin/bash
# CI entry point for the real-OpenStack stack (works on a fresh Debian 12 machine, as root).
#   test/real/ci.sh [up]   install everything (apt-get update if the lists are stale) and start the
#                          stack; prints the time of each phase; exit != 0 loudly if anything failed,
#                          after printing status and the tails of the logs that contain errors, and
#                          tearing the half-started stack down (state and logs kept in $STATE_DIR;
#                          OCX_KEEP_FAILED_STACK=1 leaves the processes running for a look).
#   test/real/ci.sh down   stop the stack (state kept in $STATE_DIR for log artifacts).
# Then run the contract suite with:
#   OCX_TEST_TARGET=real OS_CLIENT_CONFIG_FILE=$STATE_DIR/clouds.yaml npm run test:contract
# Env: STATE_DIR (/tmp/ocx-real), BASE_PORT (27000), SVC_CLOUDS ("sp1 sp2").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/state-dir.sh"
ts() { date +%s.%N; }
el() { awk -v a="$1" -v b="$(ts)" 'BEGIN{printf "%.1f", b-a}'; }

fail() {
  # Report and clean up whatever else goes wrong: a failing step in here (no state dir yet, say) must not skip the
  # teardown under `set -e`.
  set +e
  echo "######## ci.sh: $1 FAILED ########" >&2
  "$HERE/openstack.sh" status >&2 || true
  # tail of every log with errors in it, so the CI output says what broke
  # (only logs written during this run: the state dir keeps the logs of earlier runs, whose old errors would bury this one's)
  find "$STATE_DIR" -type f \( -name '*.log' -o -name '*.stdout' \) ${MARK:+-newer "$MARK"} 2>/dev/null | while read -r f; do
    if grep -q -E ' ERROR |CRITICAL|Traceback|"level":(50|60)' "$f"; then echo "----- $f" >&2; grep -E -A3 ' ERROR |CRITICAL|Traceback|"level":(50|60)' "$f" | tail -n 30 >&2; fi
  done
  # A half-started stack must not outlive the failed run: its daemons would hold ports and memory for the next one.
  if [ "${OCX_KEEP_FAILED_STACK:-}" = 1 ]; then
    echo "ci.sh: OCX_KEEP_FAILED_STACK=1: leaving the half-started stack running" >&2
  else
    echo "ci.sh: tearing the half-started stack down" >&2
    "$HERE/openstack.sh" down >&2 || echo "ci.sh: teardown after the failure failed too (see above)" >&2
  fi
  # The step's own last words once more, at the very end, where a shortened CI log still shows them.
  if [ -s "${STEP_LOG:-}" ]; then echo "----- the failing step's last lines ($STEP_LOG)" >&2; tail -n 25 "$STEP_LOG" >&2; fi
  echo "######## ci.sh: $1 FAILED (state and logs in $STATE_DIR) ########" >&2
  exit 1
}

case "${1:-up}" in
  up)
    [ "$(id -u)" = 0 ] || { echo "ci.sh must run as root (apt-get, Apache user switch)" >&2; exit 1; }
    command -v apt-get >/dev/null || { echo "ci.sh needs Debian 12 (apt-get)" >&2; exit 1; }
    T0=$(ts)
    mkdir -p "$STATE_DIR/log"; MARK=$STATE_DIR/log/.ci-run-start; touch "$MARK"
    # each step's output goes to the CI log as before and to $STEP_LOG, which fail() repeats at the end
    step() { STEP_LOG=$STATE_DIR/log/ci-$1.log; shift; ( set -o pipefail; "$@" 2>&1 | tee "$STEP_LOG" ); }
    t=$(ts); step install "$HERE/lib/install.sh" all || fail "install"; TI=$(el "$t")
    t=$(ts); step up env SKIP_INSTALL=1 "$HERE/openstack.sh" up || fail "up"; TU=$(el "$t")
    t=$(ts); step wait "$HERE/openstack.sh" wait >/dev/null || fail "health check"; TW=$(el "$t")
    echo "ci.sh: install ${TI}s, up ${TU}s, re-check ${TW}s, total $(el "$T0")s"
    echo "ci.sh: OS_CLIENT_CONFIG_FILE=$STATE_DIR/clouds.yaml (clouds idp sp1 sp2 + *-admin)" ;;
  down) t=$(ts); "$HERE/openstack.sh" down; echo "ci.sh: down $(el "$t")s" ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
