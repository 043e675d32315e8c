#!/bin/bash
# timeout: 60
# The test cluster itself (tests/lib/cluster.sh): what every other system test relies on.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"

step "node paddock1 online, quorate, the only node; DC elected"
on crm_mon -1 --output-as=xml > "$TEST_TMP/crm_mon.xml" || fail "crm_mon failed"
grep -q '<node name="paddock1" id="1" online="true"' "$TEST_TMP/crm_mon.xml" || fail "paddock1 not online"
grep -q 'with_quorum="true"' "$TEST_TMP/crm_mon.xml" || fail "no quorum"
[ "$(grep -c '<node name=' "$TEST_TMP/crm_mon.xml")" = 1 ] || fail "more than one node"
on crm_node -n | grep -qx paddock1 || fail "crm_node -n is not paddock1"

step "starting configuration: stonith-enabled=false, no resources"
[ "$(on crm_attribute --type crm_config --name stonith-enabled --query --quiet)" = false ] ||
    fail "stonith-enabled is not false at the start of a test"
on cibadmin --query --scope resources | grep -q '<primitive' && fail "resources left over from an earlier test"

step "a pacemaker panic cannot reach the machine"
if [ -e /proc/sysrq-trigger ]; then
    on findmnt -n -o OPTIONS /proc/sysrq-trigger > "$TEST_TMP/sysrq" || fail "/proc/sysrq-trigger is not masked"
    grep -qE '(^|,)ro(,|$)' "$TEST_TMP/sysrq" || fail "/proc/sysrq-trigger mask is not read-only: $(cat "$TEST_TMP/sysrq")"
else
    on test ! -e /proc/sysrq-trigger || fail "/proc/sysrq-trigger exists in the cluster but not on the host"
    step "(this kernel has no /proc/sysrq-trigger)"
fi
# pacemakerd is not in the machine's PID namespace (reboot(2) only ends the cluster's)
pm=$(pgrep -x pacemakerd | while read -r p; do
    [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo "$p"; done | head -1)
[ -n "$pm" ] || fail "no pacemakerd in this network namespace"
[ "$(readlink /proc/$pm/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "pacemakerd runs in the host PID namespace"

step "private state, shared network"
# the cluster's own tmpfs instances (named by cluster.sh) are mounted on top
on findmnt -n -o SOURCE /run | tail -1 | grep -qx paddock-run || fail "/run is not private"
on findmnt -n -o SOURCE /dev/shm | tail -1 | grep -qx paddock-shm || fail "/dev/shm is not private"
on grep -q 'cluster_name: paddock-test' /etc/corosync/corosync.conf || fail "/etc/corosync is not the test cluster's"
grep -q 'cluster_name: paddock-test' /etc/corosync/corosync.conf 2>/dev/null &&
    fail "the test cluster's corosync.conf leaked onto the host"
[ "$(on readlink /proc/1/ns/net)" = "$(readlink /proc/self/ns/net)" ] || fail "cluster is not in the host network namespace"
step "PASS"
