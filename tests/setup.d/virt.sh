#!/bin/bash
# vm agent test extras: the tiny guest (kernel + busybox initramfs) in the cache dir.
# libvirt, qemu, tini and busybox-static are common packages (tests/setup.sh).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
export DEBIAN_FRONTEND=noninteractive
need=()
for p in libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 tini busybox-static resource-agents; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q </dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" </dev/null
fi
echo "tiny guest in $(tests/lib/build-tinyvm.sh)"
