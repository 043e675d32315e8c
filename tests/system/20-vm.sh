#!/bin/bash
# timeout: 240
# ocf:paddock:vm under Pacemaker: a tiny guest on a test libvirtd (tests/lib/libvirt-host.sh)
# is started by `pcs resource create`, shows Started in crm_mon, gets its utilization
# attributes, and is restarted by Pacemaker after its qemu process is killed.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
. "$PADDOCK_REPO/tests/lib/tinyvm.sh"
HOSTS=$PADDOCK_REPO/tests/lib/libvirt-host.sh
# Not under /var (TEST_TMP is): the test libvirtd overlays /var, so the guest's files
# and the daemon's own state must live elsewhere.
VT=$(mktemp -d /tmp/paddock-vm-sys.XXXXXX)
at_exit "rm -rf --one-file-system \"$VT\""
export PADDOCK_VIRT_DIR=$VT/virt
PORT=$TEST_PORT_BASE
URI=qemu+tcp://127.0.0.1:$PORT/system
RSC=vm1
DOM=pvm-sys1
AGENT=/usr/lib/ocf/resource.d/paddock/vm

require_cmd pcs crm_mon crm_resource virsh libvirtd qemu-system-x86_64 tini
[ -x "$AGENT" ] || fail "$AGENT not installed (make install)"

step "tiny guest and a libvirtd on 127.0.0.1:$PORT"
KDIR=$("$PADDOCK_REPO/tests/lib/build-tinyvm.sh") || fail "cannot build the tiny guest"
ACCEL=$(cat "$KDIR/accel" 2>/dev/null || echo qemu)   # decided by the cargo tests (kvm if it boots)
"$HOSTS" start pvm-sys "$PORT" || fail "cannot start libvirtd"
at_exit "\"$HOSTS\" stop pvm-sys"
mkdir -p "$VT/shared"
truncate -s 1M "$VT/shared/disk.raw"
TINYVM_DIR=$KDIR TINYVM_TYPE=$ACCEL tinyvm_xml "$DOM" "$VT/shared/serial.log" "$VT/shared/disk.raw" >"$VT/$DOM.xml"

step "the agent is known to pcs"
pcs_on resource describe ocf:paddock:vm > "$TEST_TMP/describe.txt" || fail "pcs resource describe ocf:paddock:vm failed"
grep -q shutdown_mode "$TEST_TMP/describe.txt" || fail "pcs does not show shutdown_mode"

step "pcs resource create $RSC ocf:paddock:vm"
pcs_on resource create "$RSC" ocf:paddock:vm config="$VT/$DOM.xml" hypervisor="$URI" \
    op monitor interval=3s timeout=20s op stop timeout=30s || fail "pcs resource create failed"
at_exit "\"$CLUSTER\" exec pcs resource delete $RSC --force >/dev/null 2>&1"
started() { on crm_mon -1 | grep -Eq "$RSC\s+\(ocf:paddock:vm\):\s+Started paddock1"; }
wait_until 60 started
virsh -q -c "$URI" list --name | grep -qx "$DOM" || fail "crm_mon says Started but libvirt does not run $DOM"
util() { [ "$(on crm_resource -r $RSC -z -g "$1" 2>/dev/null)" = "$2" ]; }
wait_until 20 util cpu 1
wait_until 5 util hv_memory 96

step "kill qemu: Pacemaker notices (monitor) and restarts the domain"
qpid=$(pgrep -f "qemu-system.*guest=$DOM," | head -n1)
[ -n "$qpid" ] || fail "no qemu process for $DOM"
kill -9 "$qpid"
new_qemu() { local p; p=$(pgrep -f "qemu-system.*guest=$DOM," | head -n1); [ -n "$p" ] && [ "$p" != "$qpid" ]; }
wait_until 60 new_qemu
wait_until 60 started
on crm_mon -1 | grep -q "$RSC.*monitor.*not running" || on crm_mon -1 --include=failcounts | grep -q "$RSC" ||
    fail "crm_mon shows no trace of the failed monitor"
step "the restarted domain runs: $(virsh -q -c "$URI" domstate "$DOM")"
virsh -q -c "$URI" domstate "$DOM" | grep -q running || fail "$DOM is not running after the restart"

step "pcs resource disable: graceful stop"
pcs_on resource disable "$RSC" || fail "pcs resource disable failed"
stopped() { on crm_resource --resource "$RSC" --locate 2>&1 | grep -q "NOT running"; }
wait_until 40 stopped
virsh -q -c "$URI" list --name | grep -qx "$DOM" && fail "$DOM still runs after disable"
step "pass"
