#!/bin/bash
# tests/setup.sh -- install everything the tests need on a fresh Debian 12 (run as root).
# Idempotent, never reads stdin (CI). Then runs every tests/setup.d/*.sh in order;
# each of those is owned by one agent's helper and installs/builds that agent's extras.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

die() { echo "setup: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (installs packages, starts cluster daemons in tests)"

# Packages common to the whole test suite (all exist in Debian 12 "bookworm").
PACKAGES=(
    # cluster stack the system tests run against
    pacemaker pacemaker-cli-utils corosync pcs
    # anchors (fence_ipmilan, fence_redfish, VirtualDomain, ocf-tester) and their tools
    fence-agents resource-agents openipmi ipmitool libxml2-utils
    # libvirt + qemu for the vm agent (no libvirt-daemon-system: it wants systemd)
    libvirt-dev pkg-config libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
    tini busybox-static python3-venv python3-libvirt
    # general tools used by scripts
    openssl curl iproute2 util-linux procps psmisc time python3
    # C toolchain: rustc links with cc, the virt crate's sys crate links libvirt
    gcc libc6-dev
    # readelf: the vm front end is checked not to link libvirt
    binutils
    # Debian packages (make deb) and their checks: man pages rendered, lintian
    debhelper dpkg-dev lintian man-db
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" </dev/null
else
    echo "setup: all ${#PACKAGES[@]} common packages already installed"
fi

# Package scripts may have started host-wide corosync/pacemaker (no policy-rc.d on the
# machine): they would own UDP 5405 and pacemaker's IPC names in this network namespace,
# which tests/lib/cluster.sh needs. Stop only those in our own PID + network namespaces
# (the test cluster and labs live in child namespaces).
for svc in pacemaker corosync; do
    daemon=$svc; [ $svc = pacemaker ] && daemon=pacemakerd
    for p in $(pgrep -x "$daemon"); do
        [ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/self/ns/pid)" ] &&
        [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] || continue
        echo "setup: stopping host-wide $svc started by the package (pid $p)"
        if [ -x /etc/init.d/$svc ]; then /etc/init.d/$svc stop </dev/null || true; fi
        kill -0 "$p" 2>/dev/null && kill "$p" 2>/dev/null
        break
    done
done

# Rust toolchain: not installed by us (rustup is not a Debian package); fail clearly.
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null 2>&1 ||
    die "cargo not found (PATH=$PATH): install a Rust toolchain >= 1.80, e.g. via https://rustup.rs, then rerun"
echo "setup: $(cargo --version)"

# Per-agent extras, in order.
for s in tests/setup.d/*.sh; do
    [ -e "$s" ] || continue
    echo "setup: running $s"
    bash "$s" </dev/null || die "$s failed (exit $?)"
done
echo "setup: done"
