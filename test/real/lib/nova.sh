#!/bin/bash
# Nova (python3-nova, Zed) with compute_driver=fake.FakeDriver + Placement (python3-placement),
# MariaDB + RabbitMQ from infra.sh, in $CLOUD's catalog.
# Processes: placement-api (uwsgi), nova-api (eventlet, osapi_compute, 1 worker), nova-conductor,
# nova-scheduler, nova-compute. Zed nova-api needs neutron even for --nic none servers
# (it lists the server's ports for security groups), so start neutron.sh first.
# Usage: CLOUD=sp1 nova.sh up|down|status
set -euo pipefail
. "$(dirname "$0")/common.sh"
CLOUD=${CLOUD:?set CLOUD}
PLACEMENT_PORT=$(svc_port 1); NOVA_PORT=$(svc_port 2)
PLACEMENT_URL="http://$BIND_IP:$PLACEMENT_PORT"; NOVA_URL="http://$BIND_IP:$NOVA_PORT/v2.1"
KSURL=$(ks_url "$CLOUD"); P=$(svc_dir placement); N=$(svc_dir nova)
NOVA_HOST=${NOVA_HOST:-ocx-compute}
NOVA_SERVICES="api conductor scheduler compute"

svcauth() { # credentials nova uses towards another service
cat <<EOT
[$1]
auth_type = password
auth_url = $KSURL
project_name = service
project_domain_name = Default
user_domain_name = Default
username = nova
password = $SERVICE_PASSWORD
region_name = $REGION
valid_interfaces = public
EOT
}

cinder_endpoint() { # Nova's Cinder calls go through the OCX proxy of this cloud (ocxproxy.sh), if it runs one
  proxy_enabled || return 0
  echo "# through the OCX federation proxy in front of $CLOUD (test/real/lib/ocxproxy.sh), not the catalog"
  echo "endpoint_template = http://$BIND_IP:$(proxy_port)/volume/v3/%(project_id)s"
}

configure() {
  mkdir -p "$P/log" "$N"/{log,state,instances,lock}
  cat > "$P/placement.conf" <<EOT
[DEFAULT]
log_file = $P/log/placement.log
use_stderr = false
[placement_database]
connection = $(dburl placement placement "$DB_PASSWORD")
[api]
auth_strategy = keystone
$(authtoken_section placement "$KSURL")
EOT
  printf 'from placement.wsgi import init_application\napplication = init_application()\n' > "$P/placement_wsgi.py"
  cp "$EXTRACT_DIR/nova-common/usr/share/nova-common/api-paste.ini" "$N/api-paste.ini"
  cat > "$N/nova.conf" <<EOT
[DEFAULT]
transport_url = $(rmq_url)
compute_driver = fake.FakeDriver
host = $NOVA_HOST
my_ip = $BIND_IP
state_path = $N/state
instances_path = $N/instances
use_stderr = false
graceful_shutdown_timeout = 5
enabled_apis = osapi_compute
osapi_compute_listen = $BIND_IP
osapi_compute_listen_port = $NOVA_PORT
osapi_compute_workers = 1
metadata_workers = 1
use_rootwrap_daemon = false
instance_build_timeout = 120
# no agent sends network-vif-plugged events
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
[wsgi]
api_paste_config = $N/api-paste.ini
[api]
auth_strategy = keystone
[api_database]
connection = $(dburl nova_api nova "$DB_PASSWORD")
max_pool_size = 5
[database]
connection = $(dburl nova nova "$DB_PASSWORD")
max_pool_size = 5
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[filter_scheduler]
enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter
[oslo_concurrency]
lock_path = $N/lock
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[spice]
enabled = false
[cinder]
os_region_name = $REGION
$(cinder_endpoint)
[glance]
region_name = $REGION
valid_interfaces = public
$(authtoken_section nova "$KSURL")
$(svcauth placement)
$(svcauth neutron)
# Cinder (CVE-2023-2088 fix) only lets nova delete attachments with a service token:
# without it volume detach fails with ConflictNovaUsingAttachment.
$(svcauth service_user)
send_service_user_token = true
EOT
}

db_setup() {
  [ -f "$N/.dbsynced" ] && return 0
  local t0 db; t0=$(now)
  for db in nova_api nova nova_cell0; do "$LIB/infra.sh" createdb "$CLOUD" "$db" nova "$DB_PASSWORD"; done
  "$LIB/infra.sh" createdb "$CLOUD" placement placement "$DB_PASSWORD"
  {
    pyrun placement.cmd.manage:main --config-file "$P/placement.conf" db sync &&
    pyrun nova.cmd.manage:main --config-file "$N/nova.conf" api_db sync &&
    pyrun nova.cmd.manage:main --config-file "$N/nova.conf" cell_v2 map_cell0 \
      --database_connection "$(dburl nova_cell0 nova "$DB_PASSWORD")" &&
    { pyrun nova.cmd.manage:main --config-file "$N/nova.conf" cell_v2 list_cells 2>/dev/null | grep -q ' cell1 ' ||
      pyrun nova.cmd.manage:main --config-file "$N/nova.conf" cell_v2 create_cell --name cell1; } &&
    pyrun nova.cmd.manage:main --config-file "$N/nova.conf" db sync
  } >>"$N/log/manage.log" 2>&1 || { tail -20 "$N/log/manage.log" >&2; die "[$CLOUD] nova/placement db sync failed"; }
  touch "$N/.dbsynced"
  echo "[$CLOUD] nova+placement db sync $(since "$t0")s"
}

start() {
  local s
  pid_alive "$N/nova-api.pid" || date +%s.%N > "$N/.started"
  if ! pid_alive "$P/placement-api.pid"; then
    uwsgi --plugin python3 --master --processes 1 --threads 4 --enable-threads --lazy-apps \
      --http-socket "$BIND_IP:$PLACEMENT_PORT" --wsgi-file "$P/placement_wsgi.py" --need-app --die-on-term \
      --add-header "Connection: close" --env "OS_PLACEMENT_CONFIG_DIR=$P" --procname-prefix-spaced "ocx-placement-$CLOUD" \
      --pidfile "$P/placement-api.pid" --daemonize "$P/log/uwsgi.log" || die "[$CLOUD] placement uwsgi failed to launch"
  fi
  for s in $NOVA_SERVICES; do
    # nova-compute creates its resource provider at start-up and only retries in the 60 s
    # periodic task: start it once placement answers
    [ "$s" = compute ] && { wait_http "$PLACEMENT_URL/" 60 "$P/placement-api.pid" || { tail -20 "$P/log/uwsgi.log" >&2; die "[$CLOUD] placement did not start"; }; }
    start_daemon "$N/nova-$s.pid" "$N/log/nova-$s.stdout" python3 -c \
      "import sys; from nova.cmd.$s import main; sys.argv[0]='nova-$s'; sys.exit(main())" \
      --config-file "$N/nova.conf" --log-file "$N/log/nova-$s.log"
  done
}

host_mapped() { "$LIB/infra.sh" sql "SELECT COUNT(*) FROM \`$(db_prefix)nova_api\`.host_mappings WHERE host='$NOVA_HOST'" 2>/dev/null | grep -qx '[1-9][0-9]*'; }

await() {
  local s
  wait_http "$PLACEMENT_URL/" 60 "$P/placement-api.pid" || { tail -20 "$P/log/uwsgi.log" "$P/log/placement.log" >&2; die "[$CLOUD] placement did not start"; }
  wait_http "$NOVA_URL" 90 "$N/nova-api.pid" || { tail -20 "$N/log/nova-api.log" "$N/log/nova-api.stdout" >&2; die "[$CLOUD] nova-api did not start"; }
  for s in $NOVA_SERVICES; do pid_alive "$N/nova-$s.pid" || { tail -20 "$N/log/nova-$s.log" "$N/log/nova-$s.stdout" >&2; die "[$CLOUD] nova-$s died"; }; done
  admin wait-compute "$KSURL" 180 | sed "s/^/[$CLOUD] /"
  # The scheduler maps new compute hosts to cell1 every 5 s (discover_hosts_in_cells_interval);
  # fall back to nova-manage if that has not happened within 30 s.
  for _ in $(seq 30); do host_mapped && break; sleep 1; done
  if ! host_mapped; then
    pyrun nova.cmd.manage:main --config-file "$N/nova.conf" cell_v2 discover_hosts >>"$N/log/manage.log" 2>&1 || true
    host_mapped || die "[$CLOUD] compute host $NOVA_HOST is not mapped to a cell"
  fi
  [ -f "$N/.started" ] && { echo "[$CLOUD] all nova services up after $(since "$(cat "$N/.started")")s"; rm -f "$N/.started"; }
  return 0
}

prepare() {
  [ -d "$EXTRACT_DIR/nova-common" ] || "$LIB/install.sh" nova
  configure
  db_setup
  register_once placement placement placement "$PLACEMENT_URL"
  register_once nova nova compute "$NOVA_URL"
}

case "${1:-status}" in
  prepare) prepare ;;
  start) start ;;
  wait) await ;;
  up) prepare; start; await ;;
  down) for s in $NOVA_SERVICES; do stop_pidfile "$N/nova-$s.pid"; done; stop_pidfile "$P/placement-api.pid"
        echo "[$CLOUD] nova + placement stopped" ;;
  status) pid_status placement-api "$P/placement-api.pid" "$PLACEMENT_URL"
          for s in $NOVA_SERVICES; do pid_status "nova-$s" "$N/nova-$s.pid" "$([ $s = api ] && echo "$NOVA_URL")"; done ;;
  *) echo "usage: CLOUD=sp1 $0 prepare|start|wait|up|down|status" >&2; exit 2 ;;
esac
