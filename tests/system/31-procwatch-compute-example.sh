#!/bin/bash
# timeout: 120
# crm-examples/compute-services builds a valid configuration (three nodes, two of them compute
# nodes, two VMs) and Pacemaker's scheduler (crm_simulate) does what its README promises:
# clones only on compute nodes, a libvirtd failure is recovered in place without touching the
# VMs, the third failure (migration-threshold=3) bans libvirtd from the node and moves its VM.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
EXAMPLE=$PADDOCK_REPO/crm-examples/compute-services/compute-services.pcs.sh
CIB=$TEST_TMP/cib.xml
require_cmd pcs cibadmin crm_verify crm_simulate
[ -x /usr/lib/ocf/resource.d/paddock/procwatch ] || fail "ocf:paddock:procwatch not installed (make install)"

step "build the configuration offline (pcs -f) for node1..node3, compute nodes node1 node2"
cibadmin --empty > "$CIB" || fail "cibadmin --empty"
for i in 1 2 3; do CIB_file=$CIB cibadmin -C -o nodes -X "<node id=\"$i\" uname=\"node$i\"/>" || fail "add node$i"; done
for v in vm1 vm2; do pcs -f "$CIB" resource create "$v" ocf:pacemaker:Dummy 2>/dev/null || fail "create $v"; done
# the example assumes fencing (../fencing) and a quorate cluster; a CIB file has neither
pcs -f "$CIB" property set stonith-enabled=false 2>/dev/null
pcs -f "$CIB" property set no-quorum-policy=ignore 2>/dev/null
PCS="pcs -f $CIB" COMPUTE_NODES="node1 node2" VMS="vm1 vm2" "$EXAMPLE" > "$TEST_TMP/example.log" 2>&1 ||
    { cat "$TEST_TMP/example.log"; fail "the example script failed"; }
crm_verify -x "$CIB" || fail "crm_verify rejects the configuration"

simulate() {  # simulate one transition from $1 into $2 with extra crm_simulate args
    local in=$1 out=$2; shift 2
    crm_simulate -x "$in" -S -O "$out" "$@" > "$out.txt" 2>&1 || { cat "$out.txt"; fail "crm_simulate failed"; }
}
summary() { sed -n '/Transition Summary/,/Executing Cluster Transition/p' "$1.txt"; }

step "all nodes up: clones on node1 node2 only, VMs with them"
simulate "$CIB" "$TEST_TMP/s0.xml" --node-up node1 --node-up node2 --node-up node3
status=$(sed -n '/Revised Cluster Status/,$p' "$TEST_TMP/s0.xml.txt")
# libvirtd, nova-compute and the watcher
[ "$(grep -c 'Started: \[ node1 node2 \]' <<<"$status")" = 3 ] || { echo "$status"; fail "clones not on node1 node2"; }
[ "$(grep -c 'Stopped: \[ node3 \]' <<<"$status")" = 3 ] || { echo "$status"; fail "clones not kept off node3"; }
grep -Eq 'vm1.*Started node[12]' <<<"$status" && grep -Eq 'vm2.*Started node[12]' <<<"$status" ||
    { echo "$status"; fail "VMs not on compute nodes"; }
vm_on_node1=$(grep -Eo 'vm[12].*Started node1' <<<"$status" | cut -c1-3 | head -1)
[ -n "$vm_on_node1" ] || { echo "$status"; fail "no VM on node1"; }

prev=$TEST_TMP/s0.xml
for n in 1 2 3; do
    step "libvirtd monitor failure $n on node1"
    simulate "$prev" "$TEST_TMP/f$n.xml" --op-inject "libvirtd_monitor_10000@node1=1"
    s=$(summary "$TEST_TMP/f$n.xml"); echo "$s"
    if [ $n -lt 3 ]; then
        grep -Eq 'Recover +libvirtd:[0-9]+ +\( node1 \)' <<<"$s" || fail "failure $n not recovered in place"
        grep -q 'vm[12]' <<<"$s" && fail "failure $n touched a VM (the VM order must be Optional)"
    else
        grep -Eq "Move +$vm_on_node1 +\( node1 -> node2 \)" <<<"$s" || fail "third failure did not move $vm_on_node1 off node1"
        grep -Eq 'Stop +libvirtd:[0-9]+ +\( +node1 \)' <<<"$s" || fail "third failure did not ban libvirtd from node1"
        grep -Eq 'Stop +nova-compute:[0-9]+ +\( +node1 \)' <<<"$s" || fail "nova-compute stayed without libvirtd"
    fi
    prev=$TEST_TMP/f$n.xml
done
step "as documented"
