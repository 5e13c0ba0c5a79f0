#!/bin/bash
# Cinder (python3-cinder, Zed): cinder-api (eventlet), cinder-scheduler, cinder-volume with the
# fake backend shipped in python3-cinder (cinder.tests.fake_driver.FakeLoggingVolumeDriver: real
# API, DB, RPC, volume types and attachments; no block device). In $CLOUD's catalog.
# Usage: CLOUD=sp1 cinder.sh up|down|status
set -euo pipefail
. "$(dirname "$0")/common.sh"
CLOUD=${CLOUD:?set CLOUD}
PORT=$(svc_port 4); URL="http://$BIND_IP:$PORT/v3/%(project_id)s"; KSURL=$(ks_url "$CLOUD"); d=$(svc_dir cinder)
CINDER_SERVICES="api scheduler volume"

configure() {
  mkdir -p "$d"/{log,state,lock}
  cp "$EXTRACT_DIR/cinder-common/usr/share/cinder-common/api-paste.ini" "$d/api-paste.ini"
  # without resource_filters.json cinder rejects ?name= filters (HTTP 400 "Invalid filters")
  cp "$(find "$EXTRACT_DIR/cinder-common" -name resource_filters.json | head -1)" "$d/resource_filters.json"
  cat > "$d/cinder.conf" <<EOT
[DEFAULT]
transport_url = $(rmq_url)
auth_strategy = keystone
osapi_volume_listen = $BIND_IP
osapi_volume_listen_port = $PORT
osapi_volume_workers = 1
enabled_backends = fake
default_volume_type = fake
host = ocx-cinder
my_ip = $BIND_IP
state_path = $d/state
api_paste_config = $d/api-paste.ini
resource_query_filters_file = $d/resource_filters.json
use_stderr = false
graceful_shutdown_timeout = 5
[database]
connection = $(dburl cinder cinder "$DB_PASSWORD")
max_pool_size = 5
$(authtoken_section cinder "$KSURL")
service_token_roles = service
service_token_roles_required = true
[oslo_concurrency]
lock_path = $d/lock
[oslo_messaging_notifications]
driver = noop
[fake]
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
EOT
}

prepare() {
  [ -d "$EXTRACT_DIR/cinder-common" ] || "$LIB/install.sh" cinder
  configure
  if [ ! -f "$d/.dbsynced" ]; then
    t0=$(now)
    "$LIB/infra.sh" createdb "$CLOUD" cinder cinder "$DB_PASSWORD"
    pyrun cinder.cmd.manage:main --config-file "$d/cinder.conf" db sync >>"$d/log/manage.log" 2>&1 \
      || { tail -20 "$d/log/manage.log" >&2; die "[$CLOUD] cinder db sync failed"; }
    touch "$d/.dbsynced"; echo "[$CLOUD] cinder db sync $(since "$t0")s"
  fi
  register_once cinder cinderv3 volumev3 "$URL"
  register_once - cinder block-storage "$URL"
}
start() {
  local s
  pid_alive "$d/cinder-api.pid" || date +%s.%N > "$d/.started"
  for s in $CINDER_SERVICES; do
    start_daemon "$d/cinder-$s.pid" "$d/log/cinder-$s.stdout" python3 -c \
      "import sys; from cinder.cmd.$s import main; sys.argv[0]='cinder-$s'; sys.exit(main())" \
      --config-file "$d/cinder.conf" --log-file "$d/log/cinder-$s.log"
  done
}
await() {
  local s
  wait_http "http://$BIND_IP:$PORT/" 90 "$d/cinder-api.pid" || { tail -20 "$d/log/cinder-api.log" "$d/log/cinder-api.stdout" >&2; die "[$CLOUD] cinder-api did not start"; }
  for s in $CINDER_SERVICES; do pid_alive "$d/cinder-$s.pid" || { tail -20 "$d/log/cinder-$s.log" "$d/log/cinder-$s.stdout" >&2; die "[$CLOUD] cinder-$s died"; }; done
  admin wait-volume "$KSURL" 120 | sed "s/^/[$CLOUD] /"
  [ -f "$d/.started" ] && { echo "[$CLOUD] cinder up after $(since "$(cat "$d/.started")")s"; rm -f "$d/.started"; }
  return 0
}

case "${1:-status}" in
  prepare) prepare ;;
  start) start ;;
  wait) await ;;
  up) prepare; start; await ;;
  down) for s in $CINDER_SERVICES; do stop_pidfile "$d/cinder-$s.pid"; done; echo "[$CLOUD] cinder stopped" ;;
  status) for s in $CINDER_SERVICES; do pid_status "cinder-$s" "$d/cinder-$s.pid" "$([ $s = api ] && echo "http://$BIND_IP:$PORT")"; done ;;
  *) echo "usage: CLOUD=sp1 $0 prepare|start|wait|up|down|status" >&2; exit 2 ;;
esac
