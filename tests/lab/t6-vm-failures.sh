#!/bin/bash
# Test 6: a VM that keeps failing on one host. ocf:paddock:vmwatch runs on every node (the
# ha-vms example clones it); each SIGKILL of the guest's qemu is reported at once and the VM is
# restarted in place, until migration-threshold (3) moves it to another node: "first on the same
# host, then on another". The anchor stack (VirtualDomain) has no watcher: skipped.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
if [ "$(lab_vm_agent)" != ocf:paddock:vm ]; then
    echo "t6: the $(lab_vm_agent) stack has no watcher; nothing to test"
    exit 0
fi
VM=vm-batch2
watchers() { on_node node1 crm_mon -1 2>/dev/null | grep -A1 "vmwatch-clone" | grep -q "Started: \[ node1 node2 node3 \]"; }
check "the watcher runs on every node" poll_until 30 watchers
# Tests 1-5 moved VMs by live migration (maintenance) and restarted them after host failures:
# none of that is a guest failure
reports() { local n; for n in $NODES; do on_node "$n" grep -c "reporting the failure" /var/log/paddock/vmwatch.log 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
check "no failure reported by any watcher during tests 1-5 (live migrations, host failures)" test "$(reports)" = 0
on_node node1 crm_resource --cleanup -r "$VM" >/dev/null 2>&1
on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
home=$(vm_location "$VM")
check "$VM runs ($home)" test -n "$home"

qemu_pid() { pgrep -f "^/usr/bin/qemu-system-x86_64 .*-name guest=$VM," | head -n1; }
moved_to=""
for kill in 1 2 3; do
    old=$(qemu_pid)
    [ -n "$old" ] || { report_fail "kill $kill: no qemu for $VM"; break; }
    t0=$(now); kill -9 "$old"
    back() { local p; p=$(qemu_pid); [ -n "$p" ] && [ "$p" != "$old" ]; }
    if ! poll_until 60 back; then report_fail "kill $kill: $VM did not run again within 60 s"; break; fi
    on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
    where=$(vm_location "$VM")
    echo "kill $kill: $VM runs again on $where after $(elapsed "$t0" "$(now)") s"
    if [ "$where" != "$home" ]; then moved_to=$where; break; fi
    check "kill $kill: restarted in place on $home, within 5 s" \
        awk -v t="$(elapsed "$t0" "$(now)")" 'BEGIN { exit !(t < 5) }'
done
# Pacemaker 2.1.5 may count one reported failure twice: the move comes after the 2nd or 3rd kill
check "after repeated failures (migration-threshold=3) $VM moved to another node (${moved_to:-none})" \
    test -n "$moved_to"
check "the watcher on $home reported the failures" \
    on_node "$home" grep -q "$VM ($VM): .*reporting the failure to Pacemaker" /var/log/paddock/vmwatch.log
check "no VM ran twice" test -z "$(qemu_twice)"
on_node node1 crm_resource --cleanup -r "$VM" >/dev/null 2>&1
on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
finish
