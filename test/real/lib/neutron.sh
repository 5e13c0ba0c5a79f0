#!/bin/bash
# Neutron server (python3-neutron, Zed): ML2 (flat/vlan/vxlan, port_security) + the L3 router service plugin (API only:
# routers and floating IPs, no L3 agent), MariaDB + RabbitMQ from infra.sh, in $CLOUD's catalog. Mechanism driver "ocx" (../pylib) binds
# every port so nova's fake driver can boot servers on networks (NEUTRON_MECH_DRIVERS="" = none).
# Usage: CLOUD=sp1 neutron.sh up|down|status
set -euo pipefail
. "$(dirname "$0")/common.sh"
CLOUD=${CLOUD:?set CLOUD}
PORT=$(svc_port 5); URL="http://$BIND_IP:$PORT"; KSURL=$(ks_url "$CLOUD"); d=$(svc_dir neutron)
NEUTRON_MECH_DRIVERS=${NEUTRON_MECH_DRIVERS-ocx}

configure() {
  mkdir -p "$d"/{log,state,lock}
  cp "$EXTRACT_DIR/neutron-common/usr/share/neutron-common/api-paste.ini" "$d/api-paste.ini"
  cat > "$d/neutron.conf" <<EOT
[DEFAULT]
bind_host = $BIND_IP
bind_port = $PORT
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $(rmq_url)
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
state_path = $d/state
api_paste_config = $d/api-paste.ini
use_stderr = false
graceful_shutdown_timeout = 5
[database]
connection = $(dburl neutron neutron "$DB_PASSWORD")
max_pool_size = 5
$(authtoken_section neutron "$KSURL")
[oslo_concurrency]
lock_path = $d/lock
[oslo_messaging_notifications]
driver = noop
[agent]
root_helper = true
EOT
  cat > "$d/ml2_conf.ini" <<EOT
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = $NEUTRON_MECH_DRIVERS
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
enable_security_group = true
firewall_driver = noop
EOT
}

prepare() {
  [ -d "$EXTRACT_DIR/neutron-common" ] || "$LIB/install.sh" neutron
  configure
  if [ ! -f "$d/.dbsynced" ]; then
    t0=$(now)
    "$LIB/infra.sh" createdb "$CLOUD" neutron neutron "$DB_PASSWORD"
    pyrun neutron.db.migration.cli:main --config-file "$d/neutron.conf" --config-file "$d/ml2_conf.ini" upgrade heads \
      >>"$d/log/manage.log" 2>&1 || { tail -20 "$d/log/manage.log" >&2; die "[$CLOUD] neutron db upgrade failed"; }
    touch "$d/.dbsynced"; echo "[$CLOUD] neutron db upgrade $(since "$t0")s"
  fi
  register_once neutron neutron network "$URL"
}
start() {
  pid_alive "$d/neutron-server.pid" && return 0
  date +%s.%N > "$d/.started"
  PYTHONPATH="$REAL_DIR/pylib" start_daemon "$d/neutron-server.pid" "$d/log/stdout.log" python3 -c \
    "import sys; from neutron.cmd.eventlet.server import main; sys.argv[0]='neutron-server'; sys.exit(main())" \
    --config-file "$d/neutron.conf" --config-file "$d/ml2_conf.ini" --log-file "$d/log/neutron-server.log"
}
await() {
  wait_http "$URL/" 120 "$d/neutron-server.pid" || { tail -20 "$d/log/neutron-server.log" "$d/log/stdout.log" >&2; die "[$CLOUD] neutron-server did not start"; }
  [ -f "$d/.started" ] && { echo "[$CLOUD] neutron-server up on $URL after $(since "$(cat "$d/.started")")s"; rm -f "$d/.started"; }
  return 0
}

case "${1:-status}" in
  prepare) prepare ;;
  start) start ;;
  wait) await ;;
  up) prepare; start; await ;;
  down) stop_pidfile "$d/neutron-server.pid" 20; echo "[$CLOUD] neutron stopped" ;;
  status) pid_status "neutron-server" "$d/neutron-server.pid" "$URL" ;;
  *) echo "usage: CLOUD=sp1 $0 prepare|start|wait|up|down|status" >&2; exit 2 ;;
esac
