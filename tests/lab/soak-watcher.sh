#!/bin/bash
# tests/lab/soak-watcher.sh [OPS] [SEED] -- the watcher's soak on the three-node lab: OPS
# (default 100) operations that are not failures, in a random order, on one VM: a live migration
# to another node (crm_resource --move, then --clear: both ways over the run), pcs resource
# restart, disable + enable, a reboot and a hard reset of the guest, a user's pause + resume.
# Passes when no watcher on any node reported a failure, the failcount is 0 everywhere and the
# guest runs. Prints a table; writes it to $PADDOCK_LAB/soak.md.
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
OPS=${1:-100}; RANDOM=${2:-5}
VM=vm-web
lab_lock || exit 1
trap '"$LAB_BIN/lab.sh" down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM
"$LAB_BIN/lab.sh" down >/dev/null 2>&1
"$LAB_BIN/lab.sh" up > "$L/soak-up.out" 2>&1 && LAB_STACK=paddock "$LAB_BIN/configure.sh" > "$L/soak-configure.out" 2>&1 ||
    { echo "lab failed:"; tail -5 "$L/soak-up.out" "$L/soak-configure.out"; exit 1; }
settle() { on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1; }
settle
poll_until 60 eval '[ "$(crm_status node1 | awk '"'"'$1 ~ /^vm-/ && $2 == "Started"'"'"' | wc -l)" = 5 ]'
poll_until 60 eval '[ "$(boots "$VM")" -ge 1 ]'
virsh_on() { on_node "$(vm_location "$VM")" virsh -q -c qemu:///system "$@" >/dev/null 2>&1; }

declare -A count
t0=$(now)
for i in $(seq 1 "$OPS"); do
    case $((RANDOM % 6)) in
        0|1) op=live-migration
             from=$(vm_location "$VM")
             others=($(for n in $NODES; do [ "$n" != "$from" ] && echo "$n"; done))
             to=${others[$((RANDOM % ${#others[@]}))]}
             on_node node1 crm_resource --move -r "$VM" -N "$to" >/dev/null 2>&1; settle
             on_node node1 crm_resource --clear -r "$VM" >/dev/null 2>&1 ;;
        2) op=restart; on_node node1 pcs resource restart "$VM" >/dev/null 2>&1 ;;
        3) op=disable-enable; on_node node1 pcs resource disable "$VM" --wait=90 >/dev/null 2>&1
           on_node node1 pcs resource enable "$VM" --wait=90 >/dev/null 2>&1 ;;
        4) op=reboot-reset; virsh_on reboot "$VM"; sleep 1; virsh_on reset "$VM"; sleep 1 ;;
        5) op=pause-resume; virsh_on suspend "$VM"; sleep 1; virsh_on resume "$VM" ;;
    esac
    count[$op]=$(( ${count[$op]:-0} + 1 ))
    settle
    [ -n "$(vm_location "$VM")" ] || { echo "op $i ($op): $VM is not running"; break; }
done
took=$(elapsed "$t0" "$(now)")
sleep 2
reports=0; ignored=0; fails=0
for n in $NODES; do
    r=$(on_node "$n" grep -c "reporting the failure" /var/log/paddock/vmwatch.log 2>/dev/null); reports=$((reports + ${r:-0}))
    g=$(on_node "$n" grep -c "not a failure" /var/log/paddock/vmwatch.log 2>/dev/null); ignored=$((ignored + ${g:-0}))
    f=$(on_node node1 crm_failcount --query -r "$VM" -N "$n" 2>/dev/null | sed -n 's/.*value=//p'); fails=$((fails + ${f:-0}))
done
{
    echo "| lab soak ($OPS operations on $VM, seed ${2:-5}, $took s) | value |"
    echo "|---|---|"
    for k in "${!count[@]}"; do echo "| $k | ${count[$k]} |"; done | sort
    echo "| events during Pacemaker's own actions (logged, not reported) | $ignored |"
    echo "| failures reported by the watchers | $reports |"
    echo "| failcount (all nodes) | $fails |"
    echo "| $VM at the end | $(vm_location "$VM") |"
} | tee "$L/soak.md"
[ "$reports" = 0 ] && [ "$fails" = 0 ] && [ -n "$(vm_location "$VM")" ]
