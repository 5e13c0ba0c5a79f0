#!/bin/bash
# Glance API (python3-glance, Zed), file store, SQLite (WAL), one eventlet process, in $CLOUD's catalog.
# Usage: CLOUD=sp1 glance.sh up|down|status
set -euo pipefail
. "$(dirname "$0")/common.sh"
CLOUD=${CLOUD:?set CLOUD}
PORT=$(svc_port 0); URL="http://$BIND_IP:$PORT"; KSURL=$(ks_url "$CLOUD"); d=$(svc_dir glance)

configure() {
  mkdir -p "$d"/{images,staging,tasks,cache,log,lock}
  cp "$EXTRACT_DIR/glance-common/usr/share/glance-common/glance-api-paste.ini" "$d/glance-api-paste.ini"
  sed -i "s|/etc/glance/healthcheck_disable|$d/healthcheck_disable|" "$d/glance-api-paste.ini"
  cat > "$d/glance-api.conf" <<EOT
[DEFAULT]
bind_host = $BIND_IP
bind_port = $PORT
# serve from the parent process: one eventlet process, no forked workers
workers = 0
log_file = $d/log/glance-api.log
use_stderr = false
# oslo.service waits up to 60s on SIGTERM by default
graceful_shutdown_timeout = 5
image_cache_dir = $d/cache
node_staging_uri = file://$d/staging
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $d/images
[os_glance_staging_store]
filesystem_store_datadir = $d/staging
[os_glance_tasks_store]
filesystem_store_datadir = $d/tasks
[database]
connection = sqlite:///$d/glance.db?check_same_thread=false
$(authtoken_section glance "$KSURL")
[paste_deploy]
flavor = keystone
config_file = $d/glance-api-paste.ini
[oslo_concurrency]
lock_path = $d/lock
EOT
}

prepare() {
  [ -d "$EXTRACT_DIR/glance-common" ] || "$LIB/install.sh" glance
  configure
  if [ ! -f "$d/.dbsynced" ]; then
    t0=$(now)
    pyrun glance.cmd.manage:main --config-file "$d/glance-api.conf" db_sync >>"$d/log/manage.log" 2>&1 \
      || { tail -20 "$d/log/manage.log" >&2; die "[$CLOUD] glance db_sync failed"; }
    sqlite3 "$d/glance.db" 'PRAGMA journal_mode=WAL;' >/dev/null; touch "$d/.dbsynced"
    echo "[$CLOUD] glance db_sync $(since "$t0")s"
  fi
  register_once glance glance image "$URL"
}
start() {
  pid_alive "$d/glance-api.pid" && return 0
  date +%s.%N > "$d/.started"
  start_daemon "$d/glance-api.pid" "$d/log/stdout.log" python3 -c \
    "import sys; from glance.cmd.api import main; sys.argv[0]='glance-api'; sys.exit(main())" --config-file "$d/glance-api.conf"
}
await() {
  wait_http "$URL/healthcheck" 90 "$d/glance-api.pid" || { tail -20 "$d/log/stdout.log" "$d/log/glance-api.log" >&2; die "[$CLOUD] glance-api did not start"; }
  [ -f "$d/.started" ] && { echo "[$CLOUD] glance-api up on $URL after $(since "$(cat "$d/.started")")s"; rm -f "$d/.started"; }
  return 0
}

case "${1:-status}" in
  prepare) prepare ;;
  start) start ;;
  wait) await ;;
  up) prepare; start; await ;;
  down) stop_pidfile "$d/glance-api.pid"; echo "[$CLOUD] glance stopped" ;;
  status) pid_status "glance-api" "$d/glance-api.pid" "$URL" ;;
  *) echo "usage: CLOUD=sp1 $0 prepare|start|wait|up|down|status" >&2; exit 2 ;;
esac
