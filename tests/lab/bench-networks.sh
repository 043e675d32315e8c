#!/bin/bash
# tests/lab/bench-networks.sh -- how fast a network cut is answered (issue 14), median of RUNS
# runs (default 5), on a fresh lab configured as t7 runs it (crm-examples/fencing, ha-vms,
# networks; Paddock stack), and writes the table to agents/netwatch/BENCHMARK.md:
#   storage cut (ocf:paddock:netwatch on_loss=fence): cut -> fenced, cut -> VMs running elsewhere;
#   tenant cut, Paddock (netwatch on_loss=migrate + migrate-on-red) and the anchor operators use
#   today (ocf:pacemaker:ping on the tenant gateway + a location rule `pingd lt 1` ->
#   -INFINITY for every VM), side by side: cut -> first / last VM live-migrated.
# Every run: the busiest node is cut, the lab is restored (cable in, cleanup, every VM running)
# before the next.  A run whose VMs did not all move within LIMIT s (default 120) counts as
# failed, as does one where a guest rebooted (serial log) during a tenant cut.
#   env RUNS, LIMIT, OUT (default agents/netwatch/BENCHMARK.md; "-" = stdout only)
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
. "$LAB_BIN/failover.sh"
. "$LAB_BIN/networks.sh"
RUNS=${RUNS:-5}; LIMIT=${LIMIT:-120}; OUT=${OUT:-$REPO/agents/netwatch/BENCHMARK.md}
lab_lock || exit 1
work=$L/bench-networks; rm -rf "$work"; mkdir -p "$work"
trap '"$LAB_BIN/lab.sh" down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

"$LAB_BIN/lab.sh" down >/dev/null 2>&1
"$LAB_BIN/lab.sh" up > "$work/lab-up.out" 2>&1 || { cat "$work/lab-up.out"; exit 1; }
LAB_STACK=paddock "$LAB_BIN/configure.sh" > "$work/configure.out" 2>&1 || { cat "$work/configure.out"; exit 1; }
"$LAB_BIN/configure.sh" networks >> "$work/configure.out" 2>&1 || { cat "$work/configure.out"; exit 1; }
on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
poll_until 60 all_nets_ok || { echo "the watchers are not ok" >&2; exit 1; }
# every guest booted before the first cut (a first boot would blur "no guest rebooted")
for vm in $(vm_names); do poll_until 60 eval '[ "$(boots "$vm")" -ge 1 ]'; done
pcs1() { on_node node1 pcs "$@" >> "$work/configure.out" 2>&1; }

storage_run() {     # one storage cut: "fenced all" seconds, or "" on failure
    local victim; victim=$(busiest)
    LIMIT=$LIMIT fail_node "$victim" storage-cut 2>>"$work/log"
    restore 2>>"$work/log" || echo "storage run: restore incomplete" >&2
    [ -n "$FO_FENCED" ] && [ -n "$FO_ALL" ] && [ -z "$FO_TWICE" ] && echo "$FO_FENCED $FO_ALL"
}

# A VM counts as moved at its `migrate_from` on the new node, or its `start` there: Pacemaker
# sometimes completes a live migration with migrate_to + stop + start (the start finds the
# migrated guest running) instead of migrate_from.  Either way the guest must not reboot.
tenant_run() {      # one tenant cut: "first last VMs" seconds, or "" on failure
    local victim vms t0 vm t first="" last="" ok=1
    victim=$(busiest); vms=$(vms_on "$victim")
    for vm in $(vm_names); do boots0[$vm]=$(boots "$vm"); done
    t0=$(now)
    cut "$victim" tenant
    poll_until "$LIMIT" eval '[ -z "$(vms_on "$victim")" ] && [ "$(placement "$victim" | grep -c " Started ")" = 5 ]' || ok=""
    sleep 1     # the last log lines
    for vm in $vms; do
        t=$(log_epoch_after "$t0" "Result of (migrate_from|start) operation for $vm on node[0-9]: ok")
        [ -n "$t" ] || { ok=""; continue; }
        [ -z "$last" ] || awk -v a="$last" -v b="$t" 'BEGIN { exit !(b > a) }' && last=$t
        [ -z "$first" ] || awk -v a="$first" -v b="$t" 'BEGIN { exit !(b < a) }' && first=$t
    done
    # a guest restarted by mistake prints its boot line seconds after its start (TCG)
    sleep 10
    boots_unchanged || { echo "tenant run: a guest rebooted" >&2; ok=""; }
    plug "$victim" tenant
    restore 2>>"$work/log" || echo "tenant run: restore incomplete" >&2
    [ -n "$ok" ] && [ -n "$vms" ] && echo "$(elapsed "$t0" "$first") $(elapsed "$t0" "$last") $(wc -w <<<"$vms")"
}

# median (min-max) of column COL of FILE
median() {
    awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{v[NR] = $1} END {
        if (NR == 0) { print "-"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f (%.1f-%.1f)", m, v[1], v[NR] }'
}

: > "$work/storage"; : > "$work/tenant-paddock"; : > "$work/tenant-anchor"
for run in $(seq "$RUNS"); do
    r=$(storage_run); echo "storage run $run: ${r:-failed}"
    [ -n "$r" ] && echo "$r" >> "$work/storage"
    r=$(tenant_run); echo "tenant (netwatch) run $run: ${r:-failed}"
    [ -n "$r" ] && echo "$r" >> "$work/tenant-paddock"
done

# the anchor: ping clone on the tenant gateway, a location rule per VM; netwatch-tenant only
# alerts meanwhile (it must not move anything), migrate-on-red stays as it is (no red)
pcs1 resource update netwatch-tenant on_loss=alert
pcs1 resource create ping-tenant ocf:pacemaker:ping host_list="$(net_hub_ip tenant)" multiplier=1 \
    attempts=1 timeout=1 dampen=1s op monitor interval=1s timeout=20s clone interleave=true
for vm in $(vm_names); do
    pcs1 constraint location "$vm" rule score=-INFINITY pingd lt 1 or not_defined pingd
done
on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
for run in $(seq "$RUNS"); do
    r=$(tenant_run); echo "tenant (ping + rule) run $run: ${r:-failed}"
    [ -n "$r" ] && echo "$r" >> "$work/tenant-anchor"
done

runs_ok() { echo "$(wc -l < "$1")/$RUNS"; }
table=$(cat <<EOT
| network cut | configuration | cut -> fenced | cut -> first VM | cut -> last VM | VMs per run | runs ok |
|---|---|---|---|---|---|---|
| storage | netwatch on_loss=fence leave_cluster=true, monitor 2 s, on-fail=fence | $(median "$work/storage" 1) | | **$(median "$work/storage" 2)** (running elsewhere) | | $(runs_ok "$work/storage") |
| tenant | netwatch on_loss=migrate + migrate-on-red | - | $(median "$work/tenant-paddock" 1) | **$(median "$work/tenant-paddock" 2)** (live-migrated) | $(median "$work/tenant-paddock" 3) | $(runs_ok "$work/tenant-paddock") |
| tenant | anchor: ocf:pacemaker:ping (monitor 1 s, attempts=1, dampen=1s) + rule pingd lt 1 -> -INFINITY | - | $(median "$work/tenant-anchor" 1) | $(median "$work/tenant-anchor" 2) (live-migrated) | $(median "$work/tenant-anchor" 3) | $(runs_ok "$work/tenant-anchor") |
EOT
)
echo "$table"
[ "$OUT" = - ] && exit 0
{
    echo "# ocf:paddock:netwatch: time from a network cut to the cluster's answer"
    echo
    echo "\`RUNS=$RUNS tests/lab/bench-networks.sh\` on $(date -u '+%F %H:%M UTC'): the three-node lab (tests/lab),"
    echo "Corosync on two knet links (admin + storage), default token; netwatch interval=1 misses=3"
    echo "(crm-examples/networks).  The busiest node's cable on one network is pulled (\`ip link set"
    echo "ethK down\` in its namespace); seconds from that moment, from the nodes' logs: fenced = the"
    echo "fencing daemon's reboot OK; VMs = \`Result of start|migrate_from operation ...: ok\` on the new"
    echo "node (tenant: and no guest rebooted, serial logs checked 10 s later).  Median"
    echo "(min-max).  Machine: $(nproc) cores, Pacemaker $(pacemakerd --version | awk 'NR == 1 {print $2}'),"
    echo "Corosync $(corosync -v | sed -n 's/.*version .\([0-9.]*\).*/\1/p')."
    echo
    echo "$table"
} > "$OUT"
echo "written: $OUT"
