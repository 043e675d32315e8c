#!/bin/bash
# tests/lab/bench-failover.sh -- node loss -> all its VMs running elsewhere,
# RUNS times per configuration, Paddock side by side with the anchor
# (fence_ipmilan + VirtualDomain) on the same lab.  Prints a table (median,
# min, max) and writes it to $PADDOCK_LAB/bench/table.md.
#   env RUNS (default 5)
#   env CONFIGS: "stack:token[/coefficient][:fence attributes,...] ..."
#       (default: paddock and anchor, each at the corosync default token and at
#       token=1000); e.g. paddock:1000/0:power_wait=0 = token 1000 ms,
#       token_coefficient 0, fence devices with power_wait=0
#   env MODE: link-down (default) | power-loss
# Node loss = the cable of the node running vm-db is pulled (it keeps running
# its VMs until its BMC cuts the power).  "fenced" = the fencing daemon's
# "reboot ... OK"; "VMs running" = the last of its VMs' start operations
# succeeded on a survivor; "guest up" = the last of them printed its boot line.
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
. "$LAB_BIN/failover.sh"
RUNS=${RUNS:-5}
MODE=${MODE:-link-down}
CONFIGS=${CONFIGS:-"paddock:default anchor:default paddock:1000 anchor:1000"}
lab_lock || exit 1
B=$L/bench; mkdir -p "$B"
trap '"$LAB_BIN/lab.sh" down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

stats() {   # numbers on stdin -> "median min max" (or "- - -")
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - -"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}

for cfg in $CONFIGS; do
    IFS=: read -r stack token fence_extra <<<"$cfg"
    name="$stack token=$token${fence_extra:+ $fence_extra}"
    raw=$B/$(sed 's/[ =,/]/_/g' <<<"$name").raw; : > "$raw"
    echo "=== $name"
    "$LAB_BIN/lab.sh" down >/dev/null 2>&1
    tok=""; coef=""
    [ "$token" != default ] && { tok=${token%%/*}; [ "$token" != "$tok" ] && coef=${token#*/}; }
    if ! TOKEN=$tok TOKEN_COEF=$coef "$LAB_BIN/lab.sh" up > "$B/lab-up.out" 2>&1 ||
       ! LAB_STACK=$stack FENCE_EXTRA="${fence_extra//,/ }" "$LAB_BIN/configure.sh" > "$B/configure.out" 2>&1; then
        echo "lab failed for $name:"; tail -5 "$B/lab-up.out" "$B/configure.out"; continue
    fi
    on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
    poll_until 60 eval '[ "$(crm_status node1 | awk '"'"'$1 ~ /^vm-/ && $2 == "Started"'"'"' | wc -l)" = 5 ]'
    # every guest booted: a boot line still to come would count as a restart
    for vm in $(vm_names); do poll_until 60 eval '[ "$(boots "$vm")" -ge 1 ]'; done
    for run in $(seq "$RUNS"); do
        victim=$(vm_location vm-db)
        dc=$(on_node node1 crm_mon -1 2>/dev/null | sed -n 's/.*Current DC: \(node[0-9]\).*/\1/p')
        fail_node "$victim" "$MODE" 2>/dev/null
        last_up=""
        for vm in $FO_VMS; do
            u=$(fo_up "$vm"); [ -n "$u" ] || { last_up=""; break; }
            last_up=$(awk -v a="${last_up:-0}" -v b="$u" 'BEGIN { print (b > a) ? b : a }')
        done
        echo "run $run: $victim$([ "$victim" = "$dc" ] && echo " (DC)") VMs [$FO_VMS] fenced ${FO_FENCED:--} s, VMs running ${FO_ALL:--} s, guests up ${last_up:--} s, twice [${FO_TWICE}]"
        echo "$FO_FENCED ${FO_ALL:--} ${last_up:--} ${FO_TWICE:+TWICE}" >> "$raw"
        # pcmk_reboot_action=off leaves the fenced node off: the operator's power-on
        case ",$fence_extra," in
            *,pcmk_reboot_action=off,*) ipmi "$victim" chassis power on >/dev/null 2>&1 ;;
        esac
        poll_until 90 all_online || echo "  $victim did not come back"
        on_node node1 crm_resource --wait --timeout=60 >/dev/null 2>&1
    done
done
"$LAB_BIN/lab.sh" down >/dev/null 2>&1

{
    echo "Node loss ($MODE) -> fenced -> all its VMs running elsewhere; $RUNS runs each; seconds, median (min-max)."
    echo "Fence: fence_paddock_ipmi or fence_ipmilan through the node's ipmi_sim BMC (reboot, agents' default power_wait"
    echo "unless noted); VMs: ocf:paddock:vm or ocf:heartbeat:VirtualDomain, TCG tiny guests, 96 MiB. $(date -u '+%F %H:%M UTC')."
    echo
    echo "| configuration | fenced | VMs running | guests up (boot line) | runs ok |"
    echo "|---|---|---|---|---|"
    for cfg in $CONFIGS; do
        IFS=: read -r stack token fence_extra <<<"$cfg"
        name="$stack token=$token${fence_extra:+ $fence_extra}"
        raw=$B/$(sed 's/[ =,/]/_/g' <<<"$name").raw
        [ -s "$raw" ] || { echo "| $name | lab failed | | | 0/$RUNS |"; continue; }
        label=$name; t="token=${token%%/*}"; [ "$token" != "${token%%/*}" ] && t="$t, token_coefficient=${token#*/}"
        case $stack in paddock) label="fence_paddock_ipmi + ocf:paddock:vm, $t${fence_extra:+, $fence_extra}" ;;
                       anchor)  label="fence_ipmilan + VirtualDomain, $t${fence_extra:+, $fence_extra}" ;; esac
        row="| $label |"
        for col in 1 2 3; do
            read -r m lo hi < <(awk -v c="$col" '$c != "-" && $c != "" {print $c}' "$raw" | stats)
            row="$row $m ($lo-$hi) |"
        done
        ok=$(awk '$2 != "-" && $4 != "TWICE"' "$raw" | wc -l)
        echo "$row $ok/$(wc -l < "$raw") |"
    done
} | tee "$B/table.md"
