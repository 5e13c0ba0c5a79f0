#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the proxy's shared-state tests (several replicas on one database).
#   scripts/pg-test-db.sh up     install Debian's postgresql if missing, start a cluster in $PG_DIR on $PG_PORT,
#                                print the URL to use as OCX_TEST_PG_URL (last line)
#   scripts/pg-test-db.sh down   stop it (data kept in $PG_DIR)
# Needs root (apt-get, and runs the server as the postgres user). Env: PG_DIR (/tmp/ocx-pg), PG_PORT (27190).
set -euo pipefail
PG_DIR=${PG_DIR:-/tmp/ocx-pg}
PG_PORT=${PG_PORT:-27190}
bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
case "${1:-up}" in
  up)
    if [ -z "$(bin)" ]; then
      export DEBIAN_FRONTEND=noninteractive
      # No package may start a service by itself (the real-OpenStack installer writes the same policy).
      [ -f /usr/sbin/policy-rc.d ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      apt-get install -y -q postgresql >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
    fi
    B=$(bin)
    mkdir -p "$PG_DIR"
    chown postgres: "$PG_DIR"
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
      runuser -u postgres -- "$B/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
    fi
    if ! runuser -u postgres -- "$B/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
      runuser -u postgres -- "$B/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null
    fi
    runuser -u postgres -- "$B/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='ocx_proxy_test'" | grep -q 1 ||
      runuser -u postgres -- "$B/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE ocx_proxy_test'
    echo "postgres://postgres@127.0.0.1:$PG_PORT/ocx_proxy_test" ;;
  down)
    B=$(bin)
    [ -n "$B" ] && [ -f "$PG_DIR/data/PG_VERSION" ] && runuser -u postgres -- "$B/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
