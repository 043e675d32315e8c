#!/bin/bash
# Test 3: maintenance.  `paddock maintenance on` the busiest node (capacity
# check, then standby) live-migrates every VM away (no VM stopped, no guest
# rebooted) and shows what moved where; `paddock maintenance off` brings the
# node back into service.  The journal has both ends; the report no failure.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
status=$(crm_status node1)
node=$(awk '$1 ~ /^vm-/ && $2 == "Started" {print $3}' <<<"$status" | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}')
vms=$(awk -v n="$node" '$1 ~ /^vm-/ && $3 == n {printf "%s ", $1}' <<<"$status")
echo "standby $node, which runs: $vms"
declare -A boots0
for vm in $(vm_names); do boots0[$vm]=$(boots "$vm"); done
rm -f "$L/run/twice"
( while :; do qemu_twice >> "$L/run/twice"; sleep 0.1; done ) &
sampler=$!
t0=$(now)
drain=$(on_node node1 paddock maintenance on "$node" --timeout 120 --journal "$L/journal" 2>&1)
check "paddock maintenance on $node (exit 0)" test $? -eq 0
echo "$drain" | sed 's/^/  | /'
for vm in $vms; do
    check "paddock maintenance shows $vm moved: $node -> another node" \
        eval 'grep -Eq "$vm: $node -> node[0-9]" <<<"$drain" && ! grep -q "$vm: $node -> $node" <<<"$drain"'
done
on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
t_drained=$(now); drained=$(elapsed "$t0" "$t_drained")
kill "$sampler"; wait "$sampler" 2>/dev/null
sleep 1
status=$(crm_status node1)
check "no VM left on $node" test -z "$(awk -v n="$node" '$1 ~ /^vm-/ && $3 == n' <<<"$status")"
for vm in $(vm_names); do
    check "$vm running (on $(awk -v r="$vm" '$1 == r {print $3}' <<<"$status"))" \
        awk -v r="$vm" '$1 == r && $2 == "Started" {f=1} END {exit !f}' <<<"$status"
done
since=$(cat "$L"/nodes/node*/var/log/pacemaker/pacemaker.log | grep -E 'Result of (start|stop|migrate_to|migrate_from) operation for vm-' |
    while read -r m d t rest; do
        awk -v e="$(date -d "$m $d $t" +%s.%N)" -v t0="$t0" 'BEGIN { exit !(e >= t0) }' && echo "$m $d $t $rest"
    done)
for vm in $vms; do
    check "$vm live-migrated (migrate_to + migrate_from ok), never started anew" \
        eval 'grep -q "migrate_to operation for $vm on $node: ok" <<<"$since" &&
              grep -q "migrate_from operation for $vm on node.: ok" <<<"$since" &&
              ! grep -q "start operation for $vm " <<<"$since"'
done
check "no VM ran twice during the migrations" test ! -s "$L/run/twice"
echo "MEASURE standby $node: $(wc -w <<<"$vms") VMs live-migrated away in $drained s"
on_node node1 paddock maintenance off "$node" --journal "$L/journal" >/dev/null 2>&1
check "paddock maintenance off $node: back in service" \
    poll_until 30 eval '[ "$(online_nodes)" = "node1 node2 node3" ] && ! on_node node1 crm_mon -1 | grep -q standby'
on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
# a guest restarted by mistake prints its boot line some seconds after its
# start (TCG): look at the serial logs no sooner than 12 s after the migrations
while [ "$(awk -v a="$t_drained" -v b="$(now)" 'BEGIN { print (b - a < 12) }')" = 1 ]; do sleep 0.5; done
for vm in $(vm_names); do
    check "$vm: guest never rebooted (serial log: ${boots0[$vm]} boots before and after)" test "$(boots "$vm")" = "${boots0[$vm]}"
done
since=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%ds", b - a + 2 }')
hist=$(paddock history --journal "$L/journal" --since "$since" 2>&1)
check "paddock history: maintenance $node on, then off" \
    eval 'grep -q "maintenance $node: on" <<<"$hist" && grep -q "maintenance $node: off" <<<"$hist"'
for vm in $vms; do
    check "paddock history: $vm migrate_to on $node, migrate_from elsewhere" \
        eval 'grep -q "resource $vm migrate_to on $node: ok" <<<"$hist" && grep -Eq "resource $vm migrate_from on node[0-9]: ok" <<<"$hist"'
done
check "paddock report: a maintenance is no failure (no VM down, no host failed)" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert not any(v["failures"] or v["downtime"] for k, v in r["resources"].items() if k.startswith("vm-")), r["resources"]
assert not any(h["failures"] for h in r["hosts"].values()), r["hosts"]' "$(paddock report --journal "$L/journal" --since "$since" --json)"
finish
