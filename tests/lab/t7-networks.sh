#!/bin/bash
# Test 7: network failures answered per network (issue 14, crm-examples/networks).  Each node
# sits on three networks (lib.sh): admin (eth0, Corosync link 0, the BMCs' side), storage
# (eth1, Corosync link 1) and tenant (eth2); one ocf:paddock:netwatch clone watches each,
# probing the hub's address on it.  Cutting one network of one node must be answered by that
# network's policy, and the same network cut on most nodes must be answered by nothing:
#   storage cut -> the node is fenced through its BMC, its VMs restart elsewhere;
#   tenant cut  -> its VMs live-migrate away (no restart, no reboot of a guest), nothing fenced;
#   admin cut   -> alert only: the attribute, a journal line; nothing moves, nothing fenced;
#   tenant cut on two of three nodes -> the network's failure (the guard): alert only.
# Each scenario puts the lab back (cables in, cleanup, every watcher "ok") before the next.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
. "$LAB_BIN/failover.sh"
if [ "$(lab_vm_agent)" != ocf:paddock:vm ]; then
    echo "t7: the $(lab_vm_agent) stack has no netwatch; nothing to test"
    exit 0
fi

. "$LAB_BIN/networks.sh"

# --- the event journal and the logs ---------------------------------------------------------
journal_since() {   # journal_since T0: paddock history from T0 on
    paddock history --journal "$L/journal" --since "$(awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%ds", b - a + 2 }')" 2>&1
}
# a line of netwatch's own decisions in the journal, by node (its this_node) and text
journal_has() { journal_since "$1" | grep -E "$2" | grep -q "$3"; }     # T0 NODE-REGEX TEXT
# lines of the nodes' pacemaker.log from T0 on, matching REGEX
log_since() {
    cat "$L"/nodes/node*/var/log/pacemaker/pacemaker.log | grep -E "$2" |
        while read -r m d t rest; do
            awk -v e="$(date -d "$m $d $t" +%s.%N)" -v t0="$1" 'BEGIN { exit !(e >= t0) }' && echo "$m $d $t $rest"
        done
}

# --- the watchers -----------------------------------------------------------------------------
if ! on_node node1 crm_resource --resource netwatch-storage --query-xml >/dev/null 2>&1; then
    "$LAB_BIN/configure.sh" networks > "$L/log/configure-networks.out" 2>&1
    check "configure crm-examples/networks (netwatch storage=fence tenant=migrate admin=alert)" test $? -eq 0 \
        || cat "$L/log/configure-networks.out"
fi
on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
check "the three watchers run on every node, every network ok on every node" poll_until 60 all_nets_ok
check "node-health-strategy=migrate-on-red" \
    eval 'on_node node1 crm_attribute --type crm_config --name node-health-strategy --query 2>/dev/null | grep -q "value=migrate-on-red"'
for vm in $(vm_names); do
    check "$vm allows live migration (allow-migrate=true: migrate-on-red moves it live)" \
        eval 'on_node node1 crm_resource --resource "$vm" --meta --get-parameter allow-migrate 2>/dev/null | grep -qx true'
done
# the lab's Corosync runs on two knet links: losing one network alone keeps the membership
check "Corosync: two knet links (admin + storage), both connected on node1" \
    eval '[ "$(on_node node1 corosync-cfgtool -s 2>/dev/null | grep -c "^LINK ID")" = 2 ] &&
          [ "$(on_node node1 corosync-cfgtool -s 2>/dev/null | grep -c "nodeid: *[0-9]*:.*connected")" = 4 ]'

# --- 1. storage cut on one node: fenced, its VMs restart elsewhere ---------------------------
victim=$(busiest)
echo "== storage cut on $victim, which runs: $(vms_on "$victim")"
fenced0=$(fencings "$victim"); offs0=$(grep -c 'POWER OFF' "$L/log/$victim.console")
LIMIT=120 fail_node "$victim" storage-cut
check "storage cut: $victim fenced through its BMC (${FO_FENCED:-never} s after the cut)" test -n "$FO_FENCED"
check "storage cut: exactly one more fencing in the history" test "$(fencings "$victim")" = $((fenced0 + 1))
check "storage cut: $victim's BMC cut its power (console: POWER OFF)" test "$(grep -c 'POWER OFF' "$L/log/$victim.console")" -gt "$offs0"
for vm in $FO_VMS; do
    check "storage cut: $vm restarted elsewhere (start ok $(fo_start "$vm") s, guest up $(fo_up "$vm") s)" \
        eval '[ -n "$(fo_start "$vm")" ] && [ -n "$(fo_up "$vm")" ] && [ "$(vm_location "$vm" "$(observer "$victim")")" != "$victim" ]'
done
check "storage cut: no VM ran twice" test -z "$FO_TWICE"
check "storage cut: the journal has netwatch's decision on $victim (network storage lost, on_loss=fence)" \
    eval 'journal_has "$FO_T0" "$victim" "network storage lost" && journal_has "$FO_T0" "$victim" "network storage: on_loss=fence: monitor fails"'
check "storage cut: $victim left the Corosync membership to be fenced at once (leave_cluster)" \
    journal_has "$FO_T0" "$victim" "network storage: leaving the Corosync membership"
echo "MEASURE storage-cut -> fenced: ${FO_FENCED:-never} s"
echo "MEASURE storage-cut -> VMs running elsewhere: ${FO_ALL:-never} s ($(wc -w <<<"$FO_VMS") VMs)"
check "storage cut: lab restored ($victim back, every network ok, 5 VMs running)" restore

# --- 2. tenant cut on one node: its VMs live-migrate away, nothing fenced --------------------
victim=$(busiest); vms=$(vms_on "$victim")
echo "== tenant cut on $victim, which runs: $vms"
fenced0=$(fencings)
for vm in $(vm_names); do boots0[$vm]=$(boots "$vm"); done
rm -f "$L/run/twice"
( while :; do qemu_twice >> "$L/run/twice"; sleep 0.1; done ) &
sampler=$!
t0=$(now)
cut "$victim" tenant
check "tenant cut: paddock-net-tenant=lost on $victim" poll_until 20 eval '[ "$(net_state "$victim" tenant)" = lost ]'
check "tenant cut: #health-paddock-tenant=red on $victim" poll_until 20 eval '[ "$(health "$victim")" = red ]'
check "tenant cut: no VM left on $victim" poll_until 120 eval '[ -z "$(vms_on "$victim")" ] && [ "$(placement "$victim" | grep -c " Started ")" = 5 ]'
on_node "$(observer "$victim")" crm_resource --wait --timeout=60 >/dev/null 2>&1
kill "$sampler"; wait "$sampler" 2>/dev/null
t_moved=$(now)
sleep 1      # the last log lines
ops=$(log_since "$t0" "Result of (start|stop|migrate_to|migrate_from) operation for vm-")
last=""; first=""
for vm in $vms; do
    check "tenant cut: $vm live-migrated off $victim (migrate_to + migrate_from ok), never started anew" \
        eval 'grep -q "migrate_to operation for $vm on $victim: ok" <<<"$ops" &&
              grep -Eq "migrate_from operation for $vm on node[0-9]: ok" <<<"$ops" &&
              ! grep -q "start operation for $vm " <<<"$ops"'
    t=$(log_epoch_after "$t0" "Result of migrate_from operation for $vm on node[0-9]: ok")
    [ -n "$t" ] || continue
    [ -z "$last" ] || awk -v a="$last" -v b="$t" 'BEGIN { exit !(b > a) }' && last=$t
    [ -z "$first" ] || awk -v a="$first" -v b="$t" 'BEGIN { exit !(b < a) }' && first=$t
done
check "tenant cut: nothing fenced (history unchanged: $fenced0 fencings)" test "$(fencings)" = "$fenced0"
check "tenant cut: no VM ran twice during the migrations" test ! -s "$L/run/twice"
check "tenant cut: the journal has netwatch's decision on $victim (on_loss=migrate: node health red)" \
    journal_has "$t0" "$victim" "network tenant: on_loss=migrate: node health red"
# a guest restarted by mistake prints its boot line some seconds after its start (TCG): look
# at the serial logs no sooner than 12 s after the migrations (as t3)
while awk -v a="$t_moved" -v b="$(now)" 'BEGIN { exit !(b - a < 12) }'; do sleep 0.5; done
for vm in $(vm_names); do
    check "tenant cut: $vm's guest never rebooted (serial log: ${boots0[$vm]} boots before and after)" \
        test "$(boots "$vm")" = "${boots0[$vm]}"
done
echo "MEASURE tenant-cut -> first VM migrated: ${first:+$(elapsed "$t0" "$first")} s, last VM migrated: ${last:+$(elapsed "$t0" "$last")} s ($(wc -w <<<"$vms") VMs; target misses x interval + 2 s per VM = $((3 + 2 * $(wc -w <<<"$vms"))) s)"
plug "$victim" tenant
check "tenant back: paddock-net-tenant=ok and health green on $victim" \
    poll_until 20 eval '[ "$(net_state "$victim" tenant)" = ok ] && [ "$(health "$victim")" = green ]'
check "tenant cut: lab restored (every network ok, 5 VMs running)" restore
echo "after the tenant's return (resource-stickiness=100 keeps them where they are): $(placement | tr '\n' ' ')"

# --- 3. admin cut on one node: alert only ----------------------------------------------------
victim=$(busiest)
echo "== admin cut on $victim (eth0 only: Corosync stays on link 1), which runs: $(vms_on "$victim")"
obs=$(observer "$victim")
fenced0=$(fencings "$victim"); before=$(placement "$victim")
for vm in $(vm_names); do boots0[$vm]=$(boots "$vm"); done
t0=$(now)
cut "$victim" admin
check "admin cut: paddock-net-admin=lost on $victim (seen from $obs)" poll_until 20 eval '[ "$(net_state "$victim" admin "$obs")" = lost ]'
t_lost=$(now)
check "admin cut: the journal has netwatch's decision on $victim (network admin: on_loss=alert)" \
    poll_until 20 journal_has "$t0" "$victim" "network admin: on_loss=alert"
t_alert=$(now)
sleep 10     # time for anything that would move to move
check "admin cut: $victim still a member (Corosync over the storage link), all 3 nodes online" all_online "$obs"
check "admin cut: no VM moved, all 5 running as before" test "$(placement "$victim")" = "$before"
check "admin cut: nothing fenced (history unchanged: $fenced0 fencings)" test "$(fencings "$victim")" = "$fenced0"
check "admin cut: no guest rebooted (serial logs: boot counts unchanged)" boots_unchanged
# (polled every 0.2 s, so each figure is at most that much late)
echo "MEASURE admin-cut -> paddock-net-admin=lost seen: $(elapsed "$t0" "$t_lost") s, netwatch's alert in the journal: $(elapsed "$t0" "$t_alert") s"
plug "$victim" admin
check "admin back: paddock-net-admin=ok on $victim" poll_until 20 eval '[ "$(net_state "$victim" admin "$obs")" = ok ]'
check "admin cut: lab restored (every network ok, 5 VMs running)" restore

# --- 4. tenant cut on two of three nodes: the network's failure, alert only ------------------
# the two busiest nodes: a migration, had the guard failed, would have somewhere to go
two=$(crm_status node1 | awk '$1 ~ /^vm-/ {print $3}' | cat - <(printf '%s\n' $NODES) | sort | uniq -c | sort -rn | awk 'NR <= 2 {printf "%s ", $2}')
set -- $two; a=$1; b=$2; obs=$(observer "$a" "$b")
echo "== tenant cut on $a and $b at once"
fenced0=$(fencings "$a" "$b"); before=$(placement "$a" "$b")
for vm in $(vm_names); do boots0[$vm]=$(boots "$vm"); done
t0=$(now)
cut "$a" tenant; cut "$b" tenant
check "tenant cut on two: paddock-net-tenant=lost on $a and $b (seen from $obs)" \
    poll_until 20 eval '[ "$(net_state "$a" tenant "$obs")" = lost ] && [ "$(net_state "$b" tenant "$obs")" = lost ]'
for n in $a $b; do
    check "tenant cut on two: the journal says alert only on $n (lost on 2 of 3 nodes, the network's failure)" \
        poll_until 20 journal_has "$t0" "$n" "network tenant: lost on 2 of 3 nodes, the network's failure: on_loss=migrate not applied"
done
sleep 10     # time for anything that would move to move
check "tenant cut on two: no node turned red (#health-paddock-tenant green on $a and $b)" \
    eval '[ "$(health "$a")" = green ] && [ "$(health "$b")" = green ]'
check "tenant cut on two: no VM moved, all 5 running as before" test "$(placement "$a" "$b")" = "$before"
check "tenant cut on two: nothing fenced (history unchanged: $fenced0 fencings)" test "$(fencings "$a" "$b")" = "$fenced0"
check "tenant cut on two: no guest rebooted (serial logs: boot counts unchanged)" boots_unchanged
plug "$a" tenant; plug "$b" tenant
check "tenant cut on two: lab restored (every network ok, 5 VMs running)" restore
finish
