#!/bin/bash
# OCX real-OpenStack test stack: three Keystones (idp, sp1, sp2) with K2K SAML federation
# idp -> sp1, sp2 (Apache + mod_auth_mellon), and Glance, Neutron, Nova(fake)+Placement,
# Cinder(fake), Swift in every cloud of $SVC_CLOUDS (default "sp1 sp2"; Swift: a proxy per cloud over one
# shared storage node, lib/swift.sh). Debian bookworm packages (Zed).
# Each of those clouds also runs an OCX federation proxy (this checkout's `ocx proxy`, lib/ocxproxy.sh) that
# its Nova sends its Cinder calls through ($OCX_PROXY_CLOUDS, default = $SVC_CLOUDS).
#
# Usage: test/real/openstack.sh COMMAND
#   up           install (idempotent) + start everything + health check; writes $STATE_DIR/clouds.yaml
#   down         stop every process (state kept: the next `up` is a restart)
#   status       processes, memory, endpoints (exit 1 if an expected process is not running)
#   wait         health check: every catalog endpoint, nova/cinder services, K2K (exit 1 loudly)
#   logs [WORD]  list log files with ERROR counts; with WORD, tail the logs whose path contains it
#   clouds-yaml  (re)write $STATE_DIR/clouds.yaml and print its path
#   env CLOUD    print OS_* exports for CLOUD (idp, sp1, sp2, or <name>-admin)
#   install      apt part only
#   clean        down + remove $STATE_DIR
# Env: STATE_DIR (/tmp/ocx-real), BASE_PORT (27000), SVC_CLOUDS ("sp1 sp2"; "" = identity only),
#      SKIP_INSTALL=1, and the rest in lib/common.sh.
set -euo pipefail
REAL_DIR=$(cd "$(dirname "$0")" && pwd)
. "$REAL_DIR/lib/common.sh"
# neutron before nova: Zed nova-api needs it; ocxproxy (OCX federation proxy, in front of Cinder for Nova) last,
# once the cloud's catalog is complete (it reads it at start)
SERVICES_ORDER="glance neutron nova cinder swift ocxproxy"

step() { # step LABEL cmd...: run with timing; failure is fatal
  local t0 rc=0; t0=$(now); echo "=== $1"
  "${@:2}" || rc=$?
  echo "=== $1: $(since "$t0")s$([ $rc = 0 ] || echo " FAILED rc=$rc")"
  [ $rc = 0 ] || die "step '$1' failed (logs: $0 logs; state: $STATE_DIR)"
}

cloud_chain() { # one cloud: configure/db/catalog of each service, then start all daemons, then wait for each
  local c=$1 s a
  for a in prepare start wait; do
    for s in $SERVICES_ORDER; do CLOUD=$c "$LIB/$s.sh" $a || { echo "[$c] $s $a FAILED" >&2; return 1; }; done
  done
}

services_up() {
  local c pids=() names=() rc=0 i
  mkdir -p "$STATE_DIR/log"
  # MariaDB/RabbitMQ were started in the background at the beginning of `up`
  wait "$INFRA_PID" || { cat "$STATE_DIR/log/infra-up.log" >&2; echo "ERROR: mariadb/rabbitmq failed" >&2; return 1; }
  cat "$STATE_DIR/log/infra-up.log"
  # clouds are independent (own DBs, vhost, ports): bring them up side by side
  for c in $SVC_CLOUDS; do
    ( set -o pipefail; cloud_chain "$c" 2>&1 | tee "$STATE_DIR/log/up-$c.log" | sed -u "/^\[/!s/^/[$c] /" ) &
    pids+=($!); names+=("$c")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { echo "ERROR: services of ${names[$i]} failed (see $STATE_DIR/log/up-${names[$i]}.log)" >&2; rc=1; }
  done
  return $rc
}

known_clouds() { # clouds that have service state on disk (down/status cover them even if SVC_CLOUDS changed)
  local c out=""; for c in $KS_INSTANCES; do [ -d "$STATE_DIR/$c" ] && out="$out $c"; done
  for c in $SVC_CLOUDS; do [[ " $out " == *" $c "* ]] || out="$out $c"; done; echo $out; }

write_clouds_yaml() {
  local f=${1:-$STATE_DIR/clouds.yaml} c
  mkdir -p "$(dirname "$f")"
  {
    echo "# written by OCX test/real/openstack.sh ($(date -u +%FT%TZ)); K2K: idp -> $FED_SPS"
    echo "clouds:"
    for c in $KS_INSTANCES; do
      for who in demo admin; do
        local name=$c pw=$DEMO_PASSWORD
        [ $who = admin ] && { name=$c-admin; pw=$ADMIN_PASSWORD; }
        cat <<EOT
  $name:
    auth:
      auth_url: $(ks_url "$c")
      username: $who
      password: $pw
      project_name: $who
      user_domain_name: Default
      project_domain_name: Default
    identity_api_version: 3
    region_name: $REGION
    interface: public
EOT
      done
    done
  } > "$f.tmp" && mv "$f.tmp" "$f"
  echo "$f"
}

health() {
  local urls=() c
  for c in $KS_INSTANCES; do urls+=("$(ks_url "$c")"); done
  # called from step's `||` context, where set -e is off: check each status explicitly
  # a crashed nova/cinder service shows as "down" in the API only after ~60 s: check our pids too
  local out; out=$(status 2>&1) || { grep STOPPED <<<"$out" >&2; echo "ERROR: processes not running (see above)" >&2; return 1; }
  admin health "${urls[@]}" || return 1
  [ -z "$FED_SPS" ] || admin k2k "$(ks_url "$FED_IDP")" $FED_SPS || return 1
}

status() {
  local out total=0 f c s
  out=$(
    "$LIB/infra.sh" status
    "$LIB/keystone.sh" status
    "$LIB/federation.sh" status
    [ -z "$(known_clouds)" ] || "$LIB/swift.sh" storage-status
    for c in $(known_clouds); do echo " [$c]"; for s in $SERVICES_ORDER; do CLOUD=$c "$LIB/$s.sh" status; done; done
  )
  echo "$out"
  for f in $(find "$STATE_DIR" -name '*.pid' ! -name mariadbd.pid ! -name rabbitmq.pid 2>/dev/null); do
    pid_alive "$f" && total=$((total + $(pss_of_tree "$(cat "$f")")))
  done
  echo "TOTAL PSS ${total} MiB; system $(free -m | awk '/^Mem:/{print "used " $3 " MiB of " $2}')"
  if grep -q STOPPED <<<"$out"; then echo "status: some processes are STOPPED" >&2; return 1; fi
}

down() {
  local c s pids=()
  for c in $(known_clouds); do
    ( for s in ocxproxy swift cinder nova neutron glance; do CLOUD=$c "$LIB/$s.sh" down; done ) & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  "$LIB/swift.sh" storage-down
  "$LIB/federation.sh" down
  "$LIB/keystone.sh" down
  "$LIB/infra.sh" down
  # anything else we started and recorded (e.g. after a change of SVC_CLOUDS/KS_INSTANCES)
  for f in $(find "$STATE_DIR" -name '*.pid' ! -name mariadbd.pid ! -name rabbitmq.pid 2>/dev/null); do
    pid_alive "$f" && { echo "stopping leftover $(basename "$f") pid $(cat "$f")"; stop_pidfile "$f"; }
    rm -f "$f"
  done
}

logs() {
  local w=${1:-}
  [ -d "$STATE_DIR" ] || die "no state dir $STATE_DIR"
  if [ -z "$w" ]; then
    find "$STATE_DIR" -type f \( -name '*.log' -o -name '*.stdout' \) | sort | while read -r f; do
      printf '%8s  %4s errors  %s\n' "$(du -h "$f" | cut -f1)" "$(grep -c -E ' ERROR |Traceback|"level":(50|60)' "$f" || true)" "$f"; done
  else
    find "$STATE_DIR" -type f \( -name '*.log' -o -name '*.stdout' \) -path "*$w*" | sort | while read -r f; do
      echo "----- $f"; tail -n "${LINES:-40}" "$f"; done
  fi
}

env_for() { # env_for CLOUD|CLOUD-admin
  local c=${1:?cloud} who=demo pw=$DEMO_PASSWORD
  [[ $c == *-admin ]] && { c=${c%-admin}; who=admin; pw=$ADMIN_PASSWORD; }
  cat <<EOT
export OS_AUTH_URL=$(ks_url "$c") OS_IDENTITY_API_VERSION=3 OS_AUTH_TYPE=password OS_INTERFACE=public
export OS_USERNAME=$who OS_PASSWORD=$pw OS_PROJECT_NAME=$who OS_REGION_NAME=$REGION
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
EOT
}

cmd=${1:-status}; shift || true
case "$cmd" in
  install) step "install" "$LIB/install.sh" all ;;
  up)
    T0=$(now)
    echo "OCX real OpenStack: STATE_DIR=$STATE_DIR BASE_PORT=$BASE_PORT clouds=($KS_INSTANCES) services in ($SVC_CLOUDS)"
    [ "${SKIP_INSTALL:-0}" = 1 ] || step "install" "$LIB/install.sh" keystone federation $([ -n "$SVC_CLOUDS" ] && echo glance nova neutron cinder swift)
    if [ -n "$SVC_CLOUDS" ]; then   # RabbitMQ takes ~10 s to boot: overlap it with keystone
      mkdir -p "$STATE_DIR/log"; "$LIB/infra.sh" up > "$STATE_DIR/log/infra-up.log" 2>&1 & INFRA_PID=$!
    fi
    # federation files first, so that each keystone starts once with its final configuration
    step "keystone ($KS_INSTANCES)" bash -c "'$LIB/keystone.sh' prepare && { [ -z '$FED_SPS' ] || '$LIB/federation.sh' prepare; } && '$LIB/keystone.sh' start && '$LIB/keystone.sh' seed"
    [ -z "$FED_SPS" ] || step "federation ($FED_IDP -> $FED_SPS)" "$LIB/federation.sh" up
    [ -z "$SVC_CLOUDS" ] || step "services ($SERVICES_ORDER) in $SVC_CLOUDS" services_up
    step "health check" health
    f=$(write_clouds_yaml)
    echo "=== up complete in $(since "$T0")s"
    status || true
    echo "clouds.yaml: $f"
    echo "  OS_CLIENT_CONFIG_FILE=$f openstack --os-cloud sp1 image list" ;;
  wait) health ;;
  down) t0=$(now); down; echo "=== down in $(since "$t0")s" ;;
  status) status ;;
  logs) logs "$@" ;;
  clouds-yaml) write_clouds_yaml "$@" ;;
  env) env_for "$@" ;;
  clean) down; rm -rf "$STATE_DIR"; echo "removed $STATE_DIR" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
