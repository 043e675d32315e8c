#!/bin/bash
# Test 2 [link-down|power-loss]: host failure.  Pull the cable of the node
# running vm-db (power-loss: kill all its processes at once instead) (after
# live-migrating a low-priority VM there, so it runs both kinds).  The
# survivors must fence it through its BMC, then restart its VMs, the
# high-priority ones first, and no VM may ever run twice.  Prints the timings.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
. "$LAB_BIN/failover.sh"
mode=${1:-link-down}

victim=$(vm_location vm-db)
[ -n "$victim" ] || { report_fail "vm-db is not running anywhere"; exit 1; }
low=$(low_vms | head -1)
if [ "$(vm_location "$low")" != "$victim" ]; then
    on_node node1 crm_resource --move -r "$low" -N "$victim" >/dev/null 2>&1
    on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
    on_node node1 crm_resource --clear -r "$low" >/dev/null 2>&1
    on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
fi
echo "victim $victim runs: $(crm_status node1 | awk -v v="$victim" '$1 ~ /^vm-/ && $3 == v {printf "%s ", $1}')"
power_events() { grep -c "$1" "$L/log/$victim.console" 2>/dev/null; }
offs0=$(power_events 'POWER OFF'); ons0=$(power_events 'POWER ON')

fail_node "$victim" "$mode"

check "$victim fenced through its BMC (fenced log: reboot OK, ${FO_FENCED:-never} s)" test -n "$FO_FENCED"
if [ "$mode" = link-down ]; then
    check "$victim's BMC really cut its power (console: POWER OFF)" test "$(power_events 'POWER OFF')" -gt "$offs0"
else    # already dead: the reboot finds it off and powers it on
    check "$victim's BMC did not cut the power of a dead node" test "$(power_events 'POWER OFF')" = "$offs0"
fi
check "$victim's BMC powered it on again (console: POWER ON)" test "$(power_events 'POWER ON')" -gt "$ons0"
survivors=$(crm_status "$(for n in $NODES; do [ "$n" != "$victim" ] && echo "$n"; done | head -1)")
for vm in $FO_VMS; do
    check "$vm restarted on a survivor (start ok $(fo_start "$vm") s, guest up $(fo_up "$vm") s)" \
        eval 'awk -v r="$vm" -v v="$victim" '"'"'$1 == r && $2 == "Started" && $3 != v {f=1} END {exit !f}'"'"' <<<"$survivors" && [ -n "$(fo_up "$vm")" ]'
done
check "no VM ran twice at any time during the failover (qemu processes sampled every 0.1 s)" test -z "$FO_TWICE"
# high-priority VMs first: each one's start done before any low-priority start
last_high=0; first_low=999
for vm in $FO_VMS; do
    s=$(fo_start "$vm"); [ -n "$s" ] || continue
    if [ "$(vm_priority "$vm")" -gt 0 ]; then
        last_high=$(awk -v a="$last_high" -v b="$s" 'BEGIN { print (b > a) ? b : a }')
    else
        first_low=$(awk -v a="$first_low" -v b="$s" 'BEGIN { print (b < a) ? b : a }')
    fi
done
check "high-priority VMs running before low-priority ones start ($last_high s <= $first_low s)" \
    awk -v a="$last_high" -v b="$first_low" 'BEGIN { exit !(a <= b) }'

check "$victim back online after power-on + boot" poll_until 90 all_online
on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
all=$(for n in $NODES; do on_node "$n" virsh -q -c qemu:///system list --name; done | grep . | sort)
check "afterwards every node's libvirtd together runs each VM exactly once" test "$all" = "$(vm_names | sort)"

# The event journal tells the same story: paddock history and paddock report, checked against
# the lab's own reading of the nodes' logs (from the survivors' "Node X state is now lost").
lost_at=$(log_epoch_after "$FO_T0" "pacemaker-controld.*Node $victim state is now lost")
since=$(awk -v a="$FO_T0" -v b="$(now)" 'BEGIN { printf "%ds", b - a + 5 }')
hist=$(paddock history --journal "$L/journal" --since "$since" 2>&1)
echo "$hist" | grep -v 'resource .* monitor' | sed 's/^/  | /'
check "paddock history: node $victim lost, seen by both survivors" \
    eval 'grep -Eq "node $victim lost  \[seen by node[0-9],node[0-9]\]" <<<"$hist"'
check "paddock history: fencing of $victim: reboot by a survivor, OK" \
    eval 'grep -Eq "fencing of $victim: Operation reboot of $victim by node[0-9] .*: OK" <<<"$hist"'
if [ "$(lab_fence_agent)" = fence_paddock_ipmi ]; then
    check "paddock history: the fence agent's own line (power off confirmed after N s)" \
        eval 'grep -Eq "fence_paddock_ipmi .*reboot on $victim: power (off confirmed after [0-9.]+ s|already off), seen on again" <<<"$hist"'
fi
report=$(paddock report --journal "$L/journal" --since "$since" --json 2>&1)
for vm in $FO_VMS; do
    survivor=$(awk -v r="$vm" '$1 == r {print $3}' <<<"$survivors")
    check "paddock history: $vm started on $survivor" \
        eval 'grep -q "resource $vm start on $survivor: ok" <<<"$hist"'
    started_at=$(log_epoch_after "$FO_T0" "Result of start operation for $vm on node[0-9]: ok")
    lab=$(awk -v a="$lost_at" -v b="$started_at" 'BEGIN { printf "%.3f", b - a }')
    reported=$(python3 -c 'import json,sys; print("%.3f" % json.loads(sys.argv[1])["resources"][sys.argv[2]]["downtime"])' "$report" "$vm" 2>/dev/null)
    check "paddock report: $vm down ${reported:-?} s, the logs say $lab s (within 0.5 s)" \
        awk -v a="${reported:-999}" -v b="$lab" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.5) }'
done
vmfail=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(sorted(k for k, v in r["resources"].items() if v["failures"]))' "$report" 2>/dev/null)
check "paddock report: only $victim's VMs failed ($vmfail), $victim lost once and fenced" \
    python3 -c '
import json, sys
r = json.loads(sys.argv[1]); vms = sorted(sys.argv[3].split()); victim = sys.argv[2]
failed = sorted(k for k, v in r["resources"].items() if v["failures"] and k.startswith("vm-"))
assert failed == vms, (failed, vms)
h = r["hosts"][victim]
assert h["failures"] == 1 and h["fencings"] >= 1 and h["mean_time_to_recovery"], h
assert all(not v["failures"] for k, v in r["hosts"].items() if k != victim), r["hosts"]' "$report" "$victim" "$FO_VMS"

echo "MEASURE node-loss($mode) -> fenced: ${FO_FENCED:-never} s"
for vm in $FO_VMS; do
    echo "MEASURE node-loss($mode) -> $vm (priority $(vm_priority "$vm")) started: $(fo_start "$vm") s, guest up: $(fo_up "$vm") s"
done
echo "MEASURE node-loss($mode) -> all its VMs running: ${FO_ALL:-never} s"
finish
