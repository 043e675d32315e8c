#!/bin/bash
# Test 1: configure fencing (one BMC device per node) and the five VMs from
# crm-examples/, then everything runs: every VM once, every guest booted.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
fence_agent=$(lab_fence_agent); vm_agent=$(lab_vm_agent)
has() { grep -q -- "$2" <<<"$1"; }      # has TEXT REGEX

"$LAB_BIN/configure.sh" > "$L/log/configure.out" 2>&1
check "configure fencing + VMs from crm-examples ($fence_agent + $vm_agent)" test $? -eq 0 || cat "$L/log/configure.out"
on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
status=$(crm_status node1)

for n in $NODES; do
    cfg=$(on_node node1 crm_resource --resource "fence-$n" --query-xml 2>/dev/null)
    check "fence-$n: $fence_agent, pcmk_host_list=$n, BMC port $(bmc_port "$n")" \
        eval 'has "$cfg" "type=\"$fence_agent\"" && has "$cfg" "name=\"pcmk_host_list\" value=\"$n\"" &&
              has "$cfg" "name=\"ipport\" value=\"$(bmc_port "$n")\""'
    check "fence-$n started, not on $n" \
        awk -v r="fence-$n" -v n="$n" '$1 == r && $2 == "Started" && $3 != n {f=1} END {exit !f}' <<<"$status"
done
for vm in $(vm_names); do
    cfg=$(on_node node1 crm_resource --resource "$vm" --query-xml 2>/dev/null)
    check "$vm: $vm_agent, priority $(vm_priority "$vm"), utilization memory=96" \
        eval 'has "$cfg" "type=\"${vm_agent##*:}\"" && has "$cfg" "name=\"priority\" value=\"$(vm_priority "$vm")\"" &&
              has "$cfg" "name=\"memory\" value=\"96\""'
    check "$vm Started" awk -v r="$vm" '$1 == r && $2 == "Started" {f=1} END {exit !f}' <<<"$status"
    check "$vm: guest booted once" poll_until 30 eval '[ "$(boots "$vm")" = 1 ]'
done
check "the event journal's alert agent is configured (pcs alert: paddock-alert)" \
    eval 'on_node node1 pcs alert config 2>/dev/null | grep -q "paddock-journal.*/usr/libexec/paddock/paddock-alert\|Path: /usr/libexec/paddock/paddock-alert"'
journal=$(paddock history --journal "$L/journal" 2>/dev/null)
for vm in $(vm_names); do
    check "paddock history: $vm started on $(vm_location "$vm") (journal of every node)" \
        eval 'grep -Eq "resource $vm (start|migrate_from) on $(vm_location "$vm"): ok" <<<"$journal"'
done
mon=$(on_node node1 crm_mon -1 -r)
echo "$mon" | sed -n '/Node List/,$p'
check "crm_mon -1: 3 nodes online, all 8 resources started, none stopped/failed" \
    eval 'has "$mon" "Online: \[ node1 node2 node3 \]" && [ "$(grep -c "Started node" <<<"$mon")" = 8 ] &&
          ! has "$mon" "Stopped\|FAILED\|Failed"'
on_node node1 cibadmin --query > "$L/log/cib-roomy.xml" 2>/dev/null    # fixture source for t0
# each VM exactly once, asked to every node's own libvirtd
all=$(for n in $NODES; do on_node "$n" virsh -q -c qemu:///system list --name; done | grep . | sort)
check "libvirtd of node1..3 together run each VM exactly once" test "$all" = "$(vm_names | sort)"
finish
