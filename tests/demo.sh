#!/bin/bash
# tests/demo.sh -- Paddock on one machine, all on loopback (what `make demo` runs after
# setup, build and install):
#   a single-node Corosync + Pacemaker cluster (tests/lib/cluster.sh),
#   a simulated IPMI BMC (ipmi_sim) for the fictitious host `host-demo1`,
#   a fence_paddock_ipmi STONITH device created with pcs, and a reboot through Pacemaker,
#   and, when ocf:paddock:vm is installed, a tiny real VM (libvirtd + qemu) managed by it.
# Tears everything down at the end; KEEP=1 leaves it running (then: tests/lib/cluster.sh
# exec crm_mon -1, and tests/demo.sh down to stop everything).
set -u
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
CLUSTER=$REPO/tests/lib/cluster.sh
BMC=$REPO/tests/lib/ipmi-bmc.sh
VIRT_HOST=$REPO/tests/lib/libvirt-host.sh
TINYVM=$REPO/tests/lib/build-tinyvm.sh
. "$REPO/tests/lib/tinyvm.sh"
DEMO=${PADDOCK_DEMO_DIR:-/var/tmp/paddock-demo}
export IPMI_BMC_DIR=$DEMO/bmc PADDOCK_VIRT_DIR=$DEMO/virt
BMC_PORT=16230 VIRT_PORT=16300
HOST=host-demo1
OCF_VM=/usr/lib/ocf/resource.d/paddock/vm

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B="" N=""; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# print a command as an operator would type it on a cluster node, then run it
show() { local shown=("$@"); [ "$1" = on ] && shown=("${@:2}"); printf '$ %s\n' "${shown[*]}"; "$@"; }
on() { "$CLUSTER" exec "$@"; }
die() { echo "demo: $*" >&2; exit 1; }
wait_started() { # RESOURCE SECONDS
    local i
    for i in $(seq $(($2 * 2))); do on crm_mon -1 | grep -Eq "$1\s.*Started paddock1" && return 0; sleep 0.5; done
    on crm_mon -1 --inactive; die "$1 not started after $2 s"
}

teardown() {
    "$CLUSTER" down >/dev/null 2>&1          # graceful: pacemaker stops the VM first
    [ -x "$VIRT_HOST" ] && "$VIRT_HOST" stop demo >/dev/null 2>&1
    "$BMC" stop "$HOST" >/dev/null 2>&1
    return 0
}
if [ "${1:-}" = down ]; then teardown; echo "demo stopped"; exit 0; fi

[ "$(id -u)" = 0 ] || die "run as root (make demo)"
[ -x /usr/sbin/fence_paddock_ipmi ] || die "/usr/sbin/fence_paddock_ipmi not installed (make install)"
# the cluster is one per machine: wait for a running tests/system/run.sh (same lock)
LOCK=${PADDOCK_TEST_DIR:-/var/tmp/paddock-test}/system.lock
mkdir -p "$(dirname "$LOCK")"
exec 9>>"$LOCK"
flock -n 9 || { echo "waiting for a running system test ($LOCK)..."; flock -w 1800 9; } || die "could not get $LOCK"
export PADDOCK_CLUSTER_LOCKED=1
teardown                                     # leftovers of an earlier KEEP=1 demo
mkdir -p "$DEMO"
trap 'teardown' EXIT
trap 'exit 130' INT TERM

say "A single-node Corosync + Pacemaker cluster on 127.0.0.1 (own PID and mount namespaces)"
"$CLUSTER" up || die "cluster did not come up"
show on crm_mon -1

say "A simulated IPMI BMC (ipmi_sim) for the fictitious host $HOST, on UDP 127.0.0.1:$BMC_PORT"
"$BMC" start "$HOST" "$BMC_PORT" 9>&- || die "BMC did not start"
# The password reaches the agent through a script, not through the CIB or a command line.
printf '#!/bin/sh\necho secret\n' > "$DEMO/bmc-password"; chmod 0700 "$DEMO/bmc-password"

say "A STONITH device for $HOST"
show on pcs stonith create fence-demo1 fence_paddock_ipmi ip=127.0.0.1 ipport="$BMC_PORT" \
    username=admin password_script="$DEMO/bmc-password" lanplus=1 pcmk_host_list="$HOST" \
    op monitor interval=30s || die "pcs stonith create failed"
on crm_attribute --type crm_config --name stonith-enabled --update true
wait_started fence-demo1 30
show on stonith_admin --list "$HOST"

say "Fence $HOST through Pacemaker"
printf 'power of %s before: %s (machine pid %s)\n' "$HOST" "$("$BMC" power "$HOST")" "$(cat "$IPMI_BMC_DIR/$HOST/machine.pid")"
t0=$(date +%s.%N)
show on stonith_admin --reboot "$HOST" --timeout 60 || die "reboot failed"
t1=$(date +%s.%N)
printf 'power of %s after:  %s (machine pid %s: a new machine, it was powered off and on)\n' \
    "$HOST" "$("$BMC" power "$HOST")" "$(cat "$IPMI_BMC_DIR/$HOST/machine.pid")"
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "stonith_admin --reboot took %.1f s\n", b - a }'
show on stonith_admin --history "$HOST" --verbose

if [ -x "$OCF_VM" ] && [ -x "$VIRT_HOST" ] && [ -x "$TINYVM" ]; then
    say "A tiny VM managed by ocf:paddock:vm (libvirtd on 127.0.0.1:$VIRT_PORT, qemu)"
    kdir=$("$TINYVM") || die "cannot build the tiny guest"
    "$VIRT_HOST" start demo "$VIRT_PORT" 9>&- || die "libvirtd did not start"
    uri=$("$VIRT_HOST" uri demo)
    TINYVM_DIR=$kdir tinyvm_xml demo-vm "$DEMO/demo-vm.console" >"$DEMO/demo-vm.xml"
    show on pcs resource create demo-vm ocf:paddock:vm config="$DEMO/demo-vm.xml" hypervisor="$uri" \
        op start timeout=60s op stop timeout=60s op monitor interval=5s timeout=30s ||
        die "pcs resource create failed"
    wait_started demo-vm 60
    show virsh -c "$uri" list

    say "Kill the VM behind Pacemaker's back: the monitor notices, Pacemaker recovers it"
    t0=$(date +%s.%N)
    show virsh -c "$uri" destroy demo-vm
    for _ in $(seq 60); do on crm_mon -1 | grep -q 'demo-vm.*monitor on paddock1' && break; sleep 0.5; done
    on crm_mon -1 | grep -q 'demo-vm.*monitor on paddock1' || die "Pacemaker did not notice demo-vm died"
    wait_started demo-vm 60
    virsh -c "$uri" domstate demo-vm 2>/dev/null | grep -q running || die "demo-vm was not recovered"
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "demo-vm running again %.1f s after it was killed\n", b - a }'
    show on crm_mon -1 --include=failcounts
else
    say "VM part not run: needs $OCF_VM (make install), tests/lib/libvirt-host.sh and tests/lib/build-tinyvm.sh"
fi

say "The cluster now"
show on crm_mon -1

if [ "${KEEP:-0}" = 1 ]; then
    trap - EXIT
    say "KEEP=1: left running. Look: $CLUSTER exec crm_mon -1   Stop: $0 down"
else
    say "Tearing down (KEEP=1 leaves it running)"
fi
