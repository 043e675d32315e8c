#!/bin/bash
# tests/lab (three-node cluster lab) packages: cluster stack (+ crmsh for the crm examples), IPMI BMC simulator,
# libvirt + qemu per node, and the namespace tools.  Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in corosync pacemaker pacemaker-cli-utils pcs crmsh fence-agents resource-agents openipmi ipmitool \
         libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 tini busybox-static \
         iproute2 util-linux procps python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q </dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" </dev/null
fi
