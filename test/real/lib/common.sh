# Shared settings and helpers for OCX's real-OpenStack scripts (test/real). Source me.
#
# Parameters (environment):
#   STATE_DIR     configs, databases, logs and pid files        (default /tmp/ocx-real; OCX_REAL_STATE_DIR is read too)
#   BASE_PORT     first loopback port                           (default 27000)
#   KS_INSTANCES  keystone instance names, in port order        (default "idp sp1 sp2")
#   SVC_CLOUDS    keystone instances that get glance/neutron/nova/cinder/swift (default "sp1 sp2")
#   OCX_PROXY_CLOUDS  service clouds whose Nova calls Cinder through an OCX federation proxy run by the stack
#                     (default: every cloud of SVC_CLOUDS; "" = Nova calls Cinder straight from the catalog)
#   BIND_IP       loopback address to bind (must be 127.x)      (default 127.0.0.1)
#   ADMIN_PASSWORD DEMO_PASSWORD SERVICE_PASSWORD DB_PASSWORD REGION
# Port layout (offsets from BASE_PORT), instance index i in KS_INSTANCES:
#   +0+i  keystone HTTP         +10+i keystone uwsgi socket (Apache front talks to it)
#   +20+i Apache/mod_auth_mellon SAML front of SP i
#   +30+10*i+k  services of cloud i: k=0 glance, 1 placement, 2 nova-api, 4 cinder, 5 neutron,
#               6 OCX federation proxy (ocx proxy --home-cloud <cloud>-admin; Nova's Cinder calls go through it),
#               7 swift proxy
#   +90 rabbitmq amqp, +91 erlang distribution, +92 mariadb, +93 epmd
#   +94 +95 +96 swift account, container, object server (one storage node shared by the clouds' swift proxies)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin   # /usr/bin first: pyenv's python3 has no OpenStack libs
export PYTHONNOUSERSITE=1
unset PYTHONPATH PYENV_VERSION VIRTUAL_ENV
REAL_DIR=${REAL_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LIB=$REAL_DIR/lib
. "$LIB/state-dir.sh"   # STATE_DIR (OCX_REAL_STATE_DIR: old name, same place)
export BASE_PORT=${BASE_PORT:-27000}
export KS_INSTANCES=${KS_INSTANCES:-"idp sp1 sp2"}
export SVC_CLOUDS=${SVC_CLOUDS-"sp1 sp2"}
export OCX_PROXY_CLOUDS=${OCX_PROXY_CLOUDS-$SVC_CLOUDS}
export BIND_IP=${BIND_IP:-127.0.0.1}
export ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin-secret}
export DEMO_PASSWORD=${DEMO_PASSWORD:-demo-secret}
export SERVICE_PASSWORD=${SERVICE_PASSWORD:-service-secret}
export DB_PASSWORD=${DB_PASSWORD:-db-secret}
export REGION=${REGION:-RegionOne}
export FED_IDP=${FED_IDP:-idp}
export FED_SPS=${FED_SPS:-"sp1 sp2"}
export EXTRACT_DIR=${EXTRACT_DIR:-/var/cache/ocx-real/extracted}
case "$BIND_IP" in 127.*) ;; *) echo "BIND_IP must be a loopback address (got $BIND_IP)" >&2; exit 2;; esac

ks_index() { local i=0 n; for n in $KS_INSTANCES; do [ "$n" = "$1" ] && { echo $i; return 0; }; i=$((i+1)); done
             echo "unknown keystone instance '$1' (KS_INSTANCES=$KS_INSTANCES)" >&2; return 1; }
ks_port()  { echo $(( BASE_PORT + $(ks_index "$1") )); }
ks_uport() { echo $(( BASE_PORT + 10 + $(ks_index "$1") )); }
ks_fport() { echo $(( BASE_PORT + 20 + $(ks_index "$1") )); }
ks_url()   { echo "http://$BIND_IP:$(ks_port "$1")/v3"; }
ks_dir()   { echo "$STATE_DIR/keystone/$1"; }
RMQ_PORT=$((BASE_PORT + 90)); RMQ_DIST_PORT=$((BASE_PORT + 91)); DB_PORT=$((BASE_PORT + 92)); EPMD_PORT=$((BASE_PORT + 93))
# per-service-cloud helpers: set CLOUD first
svc_port()  { echo $(( BASE_PORT + 30 + 10 * $(ks_index "$CLOUD") + $1 )); }
svc_dir()   { echo "$STATE_DIR/$CLOUD/$1"; }
rmq_url()   { echo "rabbit://guest:guest@$BIND_IP:$RMQ_PORT/$CLOUD"; }
proxy_port() { svc_port 6; }
proxy_enabled() { [[ " $OCX_PROXY_CLOUDS " == *" $CLOUD "* ]]; }   # does $CLOUD run an OCX proxy?
db_prefix() { echo "${CLOUD//[^a-zA-Z0-9]/_}_"; }
dburl()     { echo "mysql+pymysql://$(db_prefix)$2:$3@$BIND_IP:$DB_PORT/$(db_prefix)$1?charset=utf8"; }

now()     { date +%s.%N; }
since()   { python3 -c "import sys,time;print(round(time.time()-float(sys.argv[1]),1))" "$1"; }
die()     { echo "ERROR: $*" >&2; exit 1; }

# pid helpers: only ever signal PIDs recorded in our own pid files.
# PID 1 on these machines reaps orphans late: a zombie counts as stopped.
proc_running() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
pid_alive() { [ -f "$1" ] && proc_running "$(cat "$1")"; }
stop_pidfile() { # stop_pidfile FILE [timeout_s]
  local f=$1 t=${2:-15} p
  p=$(cat "$f" 2>/dev/null) || return 0   # a daemon may remove its own pid file as it exits
  if [ -n "$p" ] && proc_running "$p"; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq $((t*5))); do proc_running "$p" || break; sleep 0.2; done
    if proc_running "$p"; then echo "pid $p ($f) ignored SIGTERM for ${t}s: SIGKILL" >&2; kill -KILL "$p" 2>/dev/null || true; fi
  fi
  rm -f "$f"
}
start_daemon() { # start_daemon PIDFILE LOGFILE cmd...   (no-op if already running)
  local pidf=$1 log=$2; shift 2
  pid_alive "$pidf" && return 0
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! > "$pidf"
}
wait_http() { # wait_http URL timeout_s [PIDFILE]: any HTTP answer counts; fails early if PIDFILE's process died
  local url=$1 t=${2:-60} pidf=${3:-}
  for _ in $(seq $((t*5))); do
    curl -s -o /dev/null -m 2 "$url" && return 0
    if [ -n "$pidf" ] && ! pid_alive "$pidf"; then echo "ERROR: process of $pidf died while waiting for $url" >&2; return 1; fi
    sleep 0.2
  done
  echo "ERROR: timeout (${t}s) waiting for $url" >&2; return 1
}
tree_pids() { local p=$1 out=$1 k; for k in $(ps -o pid= --ppid "$p" | tr -d ' '); do out="$out $(tree_pids "$k")"; done; echo $out; }
pss_of_tree() { local p s=0 v; for p in $(tree_pids "$1"); do
  v=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0); s=$((s + ${v:-0})); done; echo $((s / 1024)); }
rss_of_tree() { ps -o rss= -p "$(tree_pids "$1" | tr ' ' ',')" 2>/dev/null | awk '{s+=$1} END {printf "%.0f\n", s/1024}'; }
mem_of() { echo "pss=$(pss_of_tree "$1")MiB rss=$(rss_of_tree "$1")MiB"; }
pid_status() { # pid_status LABEL PIDFILE [extra]
  if pid_alive "$2"; then echo "  $1: running pid $(cat "$2") $(mem_of "$(cat "$2")") ${3:-}"; else echo "  $1: STOPPED ${3:-}"; fi; }

# Run a python console-script entry point (the Debian *-api/*-common packages that carry the
# /usr/bin wrappers are not installed; they bring init scripts and dbconfig-common prompts).
pyrun() { local ep=$1; shift
  python3 -c "import sys; from ${ep%%:*} import ${ep##*:} as m; sys.argv[0]='${ep##*.}'; sys.exit(m())" "$@"; }
# admin helper (keystoneauth based, no openstack CLI start-up cost)
admin() { python3 "$LIB/ocx_admin.py" "$@"; }
ks_stamp_key() { # ks_stamp_key INSTANCE...: changes whenever one of these keystones is re-bootstrapped
  local i; for i in "$@"; do printf '%s:%s ' "$(ks_url "$i")" "$(stat -c %Y "$(ks_dir "$i")/.bootstrapped" 2>/dev/null)"; done; }
once() { # once STAMPFILE KEY cmd...: run cmd unless STAMPFILE already holds KEY; record KEY on success
  local f=$1 k=$2; shift 2
  [ -f "$f" ] && [ "$(cat "$f")" = "$k" ] && return 0
  "$@" && mkdir -p "$(dirname "$f")" && echo "$k" > "$f"
}
register_once() { # register_once USER NAME TYPE URL: catalog entry + service user in $CLOUD's keystone.
  # Skipped when already done against this keystone database (stamp keyed by its bootstrap time).
  local stamp="$STATE_DIR/$CLOUD/.registered-$3" key
  key="$*|$(ks_url "$CLOUD")|$(stat -c %Y "$(ks_dir "$CLOUD")/.bootstrapped" 2>/dev/null)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && return 0
  admin register "$(ks_url "$CLOUD")" "$@" && mkdir -p "$STATE_DIR/$CLOUD" && echo "$key" > "$stamp"
}
authtoken_section() { # authtoken_section USER KSURL
cat <<EOT
[keystone_authtoken]
www_authenticate_uri = $2
auth_url = $2
auth_type = password
project_name = service
project_domain_name = Default
user_domain_name = Default
username = $1
password = $SERVICE_PASSWORD
EOT
}
