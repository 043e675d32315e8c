#!/bin/bash
# Test 4: capacity.  Shrink every node to room for two guests (5 guests, 6
# slots), give the node running vm-db two guests, ask `paddock capacity`
# what a failure of that node would do, then fail it for real: the
# high-priority VMs come back, the others stay stopped, exactly as predicted.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
. "$LAB_BIN/failover.sh"
cap() { on_node "$1" paddock capacity "${@:2}"; }

out=$(cap node1); rc=$?
echo "$out"
check "paddock capacity, roomy nodes (4 guests each): every VM comes back (exit 0)" test "$rc" = 0

for n in $NODES; do on_node node1 pcs node utilization "$n" memory=192 >/dev/null 2>&1; done
on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
victim=$(vm_location vm-db)
if [ "$(crm_status node1 | awk -v v="$victim" '$1 ~ /^vm-/ && $3 == v' | wc -l)" -lt 2 ]; then
    for vm in $(low_vms); do     # live-migrate one low-priority guest next to vm-db
        [ "$(vm_location "$vm")" = "$victim" ] && continue
        on_node node1 crm_resource --move -r "$vm" -N "$victim" >/dev/null 2>&1
        on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
        on_node node1 crm_resource --clear -r "$vm" >/dev/null 2>&1
        break
    done
    on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
fi
status=$(crm_status node1)
check "all 5 VMs run in the 6 slots" test "$(awk '$1 ~ /^vm-/ && $2 == "Started"' <<<"$status" | wc -l)" = 5
echo "victim $victim runs: $(awk -v v="$victim" '$1 ~ /^vm-/ && $3 == v {printf "%s ", $1}' <<<"$status")"

on_node node1 cibadmin --query > "$L/log/cib-two-per-node.xml" 2>/dev/null    # fixture source for t0
out=$(cap node1 --node "$victim"); rc=$?
echo "$out"
check "paddock capacity, 2 guests per node: some VM would not come back (exit 1)" test "$rc" = 1
predicted=$(sed -n 's/.*NOT RESTARTED: \([^;]*\).*/\1/p' <<<"$out" | sed 's/([^)]*)//g' | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
check "paddock capacity names the VMs that would stay stopped: $predicted" test -n "$predicted"
out=$(on_node node1 paddock maintenance on "$victim" --journal "$L/journal" 2>&1); rc=$?
echo "$out"
check "paddock maintenance on $victim refused when the rest is full (exit 1, names $predicted)" \
    eval '[ "$rc" = 1 ] && grep -q "refusing maintenance of $victim: .*would have nowhere to run" <<<"$out" &&
          ! for vm in $predicted; do grep -q "$vm" <<<"$out" || echo missing; done | grep -q missing'
check "the refused maintenance changed nothing ($victim not in standby, 5 VMs running)" \
    eval '! on_node node1 crm_mon -1 | grep -q standby &&
          [ "$(crm_status node1 | awk "\$1 ~ /^vm-/ && \$2 == \"Started\"" | wc -l)" = 5 ]'
expect_up=$(for vm in $(vm_names); do grep -qw -- "$vm" <<<"$predicted" || echo "$vm"; done | tr '\n' ' ')

FO_WAIT_FOR=$(for vm in $expect_up; do [ "$(vm_location "$vm")" = "$victim" ] && echo "$vm"; done)
FO_WAIT_FOR=$FO_WAIT_FOR fail_node "$victim" link-down
check "$victim fenced (${FO_FENCED:-never} s)" test -n "$FO_FENCED"
# as it was when the awaited VMs ran again: once the victim is back, there is room again
status=$FO_STATUS
echo "$status" | grep '^vm-'
stopped=$(awk '$1 ~ /^vm-/ && $2 != "Started" {print $1}' <<<"$status" | sort | tr '\n' ' ')
for vm in $(high_vms); do
    check "high-priority $vm runs" awk -v r="$vm" '$1 == r && $2 == "Started" {f=1} END {exit !f}' <<<"$status"
done
check "stopped VMs [$stopped] are all low-priority" test -z "$(for vm in $stopped; do [ "$(vm_priority "$vm")" -gt 0 ] && echo x; done)"
check "stopped VMs = paddock capacity's prediction [$predicted]" test "$stopped" = "$predicted"
check "no VM ran twice" test -z "$FO_TWICE"

check "$victim back online" poll_until 90 all_online
for n in $NODES; do on_node node1 pcs node utilization "$n" memory=384 >/dev/null 2>&1; done
on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
check "room restored: every VM runs again" \
    test "$(crm_status node1 | awk '$1 ~ /^vm-/ && $2 == "Started"' | wc -l)" = 5
finish
