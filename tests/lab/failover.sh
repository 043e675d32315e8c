# tests/lab/failover.sh -- cut a node off and time what the cluster does
# (sourced after lib.sh and vms.sh).
#
# fail_node VICTIM [MODE]  MODE: link-down (default; pull the node's cables,
# all three networks': it still runs its VMs until its BMC powers it off;
# with one left, Corosync's second link would keep it in the cluster) |
# power-loss (kill the node's processes; its BMC then reports it off) |
# storage-cut (only its storage network's cable: the node stays a member,
# its netwatch-storage fails with on-fail=fence, t7).  Waits until every VM that
# ran on VICTIM runs elsewhere (or LIMIT s, default 90), then sets:
#   FO_VMS        the VMs that ran on VICTIM
#   FO_T0         injection time (epoch)
#   FO_FENCED     s from injection to "fencing of VICTIM succeeded" (fenced log)
#   FO_START_<vm> s from injection to the start of <vm> on a survivor (controld log), "" if none
#   FO_UP_<vm>    s from injection to <vm>'s guest reaching userspace (serial log)
#   FO_ALL        s from injection to the last of FO_VMS running again ("" if some never did)
#   FO_STATUS     crm_status when the awaited VMs first all ran again
#   FO_TWICE      VMs seen with two qemu processes at once (sampled every 0.1 s)
# With FO_WAIT_FOR="vm ..." set, wait only for those VMs (the others are
# expected to stay stopped).
fail_node() {
    local victim=$1 mode=${2:-link-down} limit=${LIMIT:-90}
    local obs vm n t end boots0 sampler
    for n in $NODES; do [ "$n" != "$victim" ] && { obs=$n; break; }; done
    FO_VMS=$(crm_status "$obs" | awk -v v="$victim" '$1 ~ /^vm-/ && $3 == v {print $1}' | tr '\n' ' ')
    FO_TWICE=""
    declare -gA FO_BOOTS0
    for vm in $(vm_names); do FO_BOOTS0[$vm]=$(boots "$vm"); done
    local hist0
    hist0=$(on_node "$obs" stonith_admin --history "$victim" 2>/dev/null | grep -c 'successful' || true)

    # watch for a VM running twice while the cluster recovers
    rm -f "$L/run/twice"
    ( while :; do qemu_twice >> "$L/run/twice"; sleep 0.1; done ) &
    sampler=$!

    FO_T0=$(now)
    case $mode in
        link-down)  # one batch: all cables at the same moment
                    for net in $LAB_NETWORKS; do echo "link set $(net_if "$net") down"; done \
                        | ip -n "$(node_ns "$victim")" -batch - ;;
        storage-cut) ip -n "$(node_ns "$victim")" link set "$(net_if storage)" down ;;
        power-loss) kill -KILL "$(cat "$L/run/$victim.unshare.pid")" ;;
        *) echo "fail_node: bad mode $mode" >&2; kill "$sampler"; return 2 ;;
    esac
    end=$(( $(date +%s) + limit ))
    local pending status started_all=""
    declare -gA FO_UPAT=()
    FO_STATUS=""
    while [ "$(date +%s)" -lt "$end" ]; do
        pending=""
        status=$(crm_status "$obs")
        for vm in ${FO_WAIT_FOR:-$FO_VMS}; do
            echo "$status" | awk -v vm="$vm" -v v="$victim" '$1 == vm && $2 == "Started" && $3 != v && $3 != "-" {f=1} END {exit !f}' \
                || { pending="$pending $vm"; started_all=no; }
            if [ -z "${FO_UPAT[$vm]:-}" ]; then
                if [ "$(boots "$vm")" -gt "${FO_BOOTS0[$vm]}" ]; then FO_UPAT[$vm]=$(now); else pending="$pending $vm"; fi
            fi
        done
        # the cluster as it is when the awaited VMs run again (before the
        # failed node is back and changes it)
        [ -z "$started_all" ] && [ -z "$FO_STATUS" ] && FO_STATUS=$status
        started_all=""
        [ -z "$pending" ] && break
        sleep 0.2
    done
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    FO_TWICE=$(sort -u "$L/run/twice" 2>/dev/null | tr '\n' ' ')
    sleep 1      # let the last log lines reach the files

    t=$(log_epoch_after "$FO_T0" "finalize_op.*Operation '(reboot|off)' targeting $victim .*: OK")
    FO_FENCED=""; [ -n "$t" ] && FO_FENCED=$(elapsed "$FO_T0" "$t")
    FO_ALL=0
    for vm in $FO_VMS; do
        t=$(log_epoch_after "$FO_T0" "Result of (start|migrate_from) operation for $vm on node[0-9]: ok")
        local s=""; [ -n "$t" ] && s=$(elapsed "$FO_T0" "$t")
        eval "FO_START_${vm//-/_}=\$s"
        if [ -z "$s" ]; then FO_ALL=""; elif [ -n "$FO_ALL" ]; then
            FO_ALL=$(awk -v a="$FO_ALL" -v b="$s" 'BEGIN { print (b > a) ? b : a }'); fi
        # guest userspace: when its serial log got a new "tinyvm: up" line (polled)
        local up=""; [ -n "${FO_UPAT[$vm]:-}" ] && up=$(elapsed "$FO_T0" "${FO_UPAT[$vm]}")
        eval "FO_UP_${vm//-/_}=\$up"
    done
    [ -z "$FO_VMS" ] && FO_ALL=""
    echo "failover of $victim ($mode): VMs [$FO_VMS] fenced=${FO_FENCED:-never}s all-running=${FO_ALL:-never}s" >&2
}

fo_start() { local v="FO_START_${1//-/_}"; echo "${!v:-}"; }
fo_up()    { local v="FO_UP_${1//-/_}"; echo "${!v:-}"; }
