#!/bin/bash
# Redfish BMC emulator for fence_paddock_redfish's tests and benchmark:
# sushy-tools (fake driver, no libvirt needed) in a venv at a fixed path.
# Idempotent: does nothing when the venv already has sushy-emulator.
set -euo pipefail
VENV=${PADDOCK_TEST_VENV:-/opt/paddock-test/venv}
export DEBIAN_FRONTEND=noninteractive
# openssl makes the test certificates; fence-agents brings fence_redfish, the benchmark's anchor
need=()
for p in python3-venv openssl fence-agents; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
[ ${#need[@]} -eq 0 ] || apt-get install -y -q "${need[@]}" >/dev/null
if [ ! -x "$VENV/bin/sushy-emulator" ]; then
    mkdir -p "$(dirname "$VENV")"
    # Debian's python, not whatever python3 comes first in PATH
    /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check sushy-tools
fi
"$VENV/bin/python" -c 'import bcrypt, sushy_tools' || { echo "redfish setup: sushy-tools broken in $VENV" >&2; exit 1; }
echo "redfish setup: $("$VENV/bin/pip" list 2>/dev/null | grep -i '^sushy-tools ' | tr -s ' ')"
