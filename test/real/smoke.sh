#!/bin/bash
# Smoke check of a running stack through the openstack CLI and $STATE_DIR/clouds.yaml:
# password token on every cloud, K2K token idp -> each SP, image create/list/delete on sp1,
# a server (--nic none) on every service cloud, a volume on the last one. Cleans up after itself.
# Usage: test/real/smoke.sh          (exit != 0 on the first failure)
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-$STATE_DIR/clouds.yaml}
[ -f "$OS_CLIENT_CONFIG_FILE" ] || die "no $OS_CLIENT_CONFIG_FILE: run openstack.sh up"
os() { openstack "$@"; }
T0=$(now)
t() { echo "--- $*"; }
for c in $KS_INSTANCES; do t "token issue $c"; os --os-cloud "$c" token issue -f value -c project_id; done
for sp in $FED_SPS; do
  t "K2K token $FED_IDP -> $sp"
  os --os-cloud "$FED_IDP" --os-service-provider "$sp" --os-remote-project-name demo \
     --os-remote-project-domain-name Default token issue -f value -c project_id
done
set -- $SVC_CLOUDS
[ $# -gt 0 ] || { echo "no service clouds: identity smoke only, OK in $(since "$T0")s"; exit 0; }
first=$1; last=${!#}
f=$(mktemp); head -c 65536 /dev/urandom > "$f"
t "image create/list on $first"
img=$(os --os-cloud "$first" image create --disk-format raw --container-format bare --file "$f" ocx-smoke-img -f value -c id)
os --os-cloud "$first" image list -f value -c ID -c Name -c Status | grep "$img"
for c in "$@"; do
  t "server create --nic none on $c"
  cimg=$img
  if [ "$c" != "$first" ]; then
    cimg=$(os --os-cloud "$c" image create --disk-format raw --container-format bare --file "$f" ocx-smoke-img -f value -c id)
    echo "image $cimg on $c"; fi
  s0=$(now)
  # OSC 6.0 rejects --nic none below compute microversion 2.37
  os --os-cloud "$c" --os-compute-api-version 2.37 server create --flavor m1.tiny --image "$cimg" --nic none \
     --wait ocx-smoke-vm -f value -c id -c status
  echo "ACTIVE after $(since "$s0")s"
  os --os-cloud "$c" server delete --wait ocx-smoke-vm
  [ "$cimg" = "$img" ] || os --os-cloud "$c" image delete "$cimg"
done
rm -f "$f"
t "volume create on $last"
s0=$(now)
vol=$(os --os-cloud "$last" volume create --size 1 ocx-smoke-vol -f value -c id)
for _ in $(seq 60); do st=$(os --os-cloud "$last" volume show "$vol" -f value -c status); [ "$st" = available ] || [ "$st" = error ] && break; sleep 1; done
echo "volume $vol $st after $(since "$s0")s"; [ "$st" = available ] || die "volume went to $st"
os --os-cloud "$last" volume delete "$vol"
os --os-cloud "$first" image delete "$img"
echo "smoke OK in $(since "$T0")s"
