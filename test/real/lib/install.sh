#!/bin/bash
# Idempotent, non-interactive installer for test/real (Debian bookworm packages, OpenStack Zed).
# Usage: install.sh [keystone] [federation] [glance] [nova] [neutron] [cinder] [swift] [proxy] [clients] [gateway] [all]   (default all)
# Installs the python3-* library packages plus runners (not the daemon packages, which bring
# init scripts and dbconfig-common prompts); only *unpacks* the *-common packages for their
# api-paste.ini / resource_filters.json.
set -euo pipefail
. "$(dirname "$0")/common.sh"
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$STATE_DIR/log"
LOG=$STATE_DIR/log/install.log
APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# No package maintainer script may start a daemon (there is no systemd here anyway).
if [ ! -f /usr/sbin/policy-rc.d ] || ! grep -q 'exit 101' /usr/sbin/policy-rc.d; then
  printf '#!/bin/sh\n# written by OCX test/real/lib/install.sh: packages must not start daemons\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi
{
  echo "dbconfig-common dbconfig-common/dbconfig-install boolean false"
  echo "dbconfig-common dbconfig-common/remember-admin-pass boolean false"
  for p in keystone glance-common nova-common cinder-common neutron-common placement-common; do
    for q in configure_db dbconfig-install register-endpoint configure_ks configure_rabbit; do echo "$p $p/$q boolean false"; done
  done
} | debconf-set-selections

apt_fresh() { [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -720 2>/dev/null | head -1)" ]; }
apt_update_once() { apt_fresh || { echo "apt-get update"; apt-get update -q "${APT_OPTS[@]:0:2}" >>"$LOG" 2>&1; }; }

extract_pkg() { # unpack (no install) PKG into $EXTRACT_DIR/PKG
  local p
  for p in "$@"; do
    [ -d "$EXTRACT_DIR/$p" ] && continue
    apt_update_once
    mkdir -p "$EXTRACT_DIR/.dl"
    (cd "$EXTRACT_DIR/.dl" && rm -f "${p}"_*.deb && apt-get download -q "$p" >>"$LOG" 2>&1) || die "apt-get download $p failed (see $LOG)"
    rm -rf "$EXTRACT_DIR/$p.tmp"
    dpkg-deb -x "$EXTRACT_DIR"/.dl/"${p}"_*.deb "$EXTRACT_DIR/$p.tmp" && mv "$EXTRACT_DIR/$p.tmp" "$EXTRACT_DIR/$p"
    echo "unpacked $p -> $EXTRACT_DIR/$p"
  done
}

groups=${*:-all}; [ "$groups" = all ] && groups="keystone federation glance nova neutron cinder swift proxy clients gateway"
pkgs=(); extract=()
for g in $groups; do
  case "$g" in
    keystone)   pkgs+=(python3-keystone python3-keystoneclient python3-openstackclient uwsgi-core uwsgi-plugin-python3 sqlite3 curl openssl) ;;
    federation) pkgs+=(xmlsec1 python3-pysaml2 apache2 libapache2-mod-auth-mellon) ;;
    glance)     pkgs+=(python3-glance python3-glance-store); extract+=(glance-common) ;;
    nova)       pkgs+=(python3-nova python3-placement rabbitmq-server mariadb-server python3-pymysql); extract+=(nova-common) ;;
    neutron)    pkgs+=(python3-neutron rabbitmq-server mariadb-server python3-pymysql); extract+=(neutron-common) ;;
    cinder)     pkgs+=(python3-cinder rabbitmq-server mariadb-server python3-pymysql); extract+=(cinder-common) ;;
    # python3-swift has the servers and middleware (the swift-* daemon packages only add init scripts and
    # /usr/bin wrappers); lib/swift.sh runs them through pylib/ocx_swift_run.py
    swift)      pkgs+=(python3-swift python3-keystonemiddleware) ;;
    # The proxy's native lane (packages/proxy/src/native/) and bench/proxy.ts's nginx reference.
    proxy)      pkgs+=(nginx libnginx-mod-http-lua) ;;
    # Shells and clients the fast suite drives: zsh for `ocx completion zsh`.
    clients)    pkgs+=(zsh) ;;
    # The gRPC gateway's client from another toolchain (packages/gateway/test/python/).
    gateway)    pkgs+=(python3-grpcio python3-protobuf) ;;
    *) die "unknown install group $g" ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
t0=$(now)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
  apt_update_once
  echo "apt-get install ${#missing[@]} package(s): ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${APT_OPTS[@]}" "${missing[@]}" >>"$LOG" 2>&1 \
    || { tail -30 "$LOG" >&2; die "apt-get install failed (see $LOG)"; }
  echo "installed in $(since "$t0")s"
else
  echo "all packages already installed (${#pkgs[@]})"
fi
[ ${#extract[@]} -gt 0 ] && extract_pkg "${extract[@]}"
exit 0
