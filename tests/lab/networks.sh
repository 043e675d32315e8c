# tests/lab/networks.sh -- the lab's networks seen from the tests (sourced after lib.sh and
# vms.sh by t7-networks.sh and bench-networks.sh): cut and plug a node's cable on one network,
# the netwatch attributes, where the VMs are, the fencing history, and putting it all back.
cut()  { ip -n "$(node_ns "$1")" link set "$(net_if "$2")" down; }     # cut NODE NETWORK
plug() { ip -n "$(node_ns "$1")" link set "$(net_if "$2")" up; }
observer() { local n; for n in $NODES; do case " $* " in *" $n "*) ;; *) echo "$n"; return ;; esac; done; }
# net_state NODE NETWORK [OBSERVER]: paddock-net-NETWORK of NODE as attrd of OBSERVER has it
net_state() {
    on_node "${3:-$(observer "$1")}" attrd_updater --query --all --name "paddock-net-$2" 2>/dev/null \
        | sed -n "s/.*host=\"$1\" value=\"\([^\"]*\)\".*/\1/p"
}
health() {      # health NODE: #health-paddock-tenant of NODE ("" when unset)
    on_node "$(observer "$1")" attrd_updater --query --all --name "#health-paddock-tenant" 2>/dev/null \
        | sed -n "s/.*host=\"$1\" value=\"\([^\"]*\)\".*/\1/p"
}
all_nets_ok() {
    local n net
    for n in $NODES; do for net in $LAB_NETWORKS; do
        [ "$(net_state "$n" "$net" node1)" = ok ] || return 1
    done; done
}
fencings() { on_node "$(observer "$@")" stonith_admin --history '*' --verbose 2>/dev/null | grep -c 'reboot of node[0-9] successful'; }
placement() { crm_status "$(observer "$@")" | awk '$1 ~ /^vm-/ {print $1, $2, $3}' | sort; }
vms_on() { crm_status "$(observer "$1")" | awk -v n="$1" '$1 ~ /^vm-/ && $3 == n {printf "%s ", $1}'; }
declare -A boots0     # guest boot counts (serial logs) when a scenario began
boots_unchanged() { local vm; for vm in $(vm_names); do [ "$(boots "$vm")" = "${boots0[$vm]}" ] || return 1; done; }
busiest() {     # the node running the most VMs
    crm_status node1 | awk '$1 ~ /^vm-/ && $2 == "Started" {print $3}' | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}'
}
# every node online, every cable in, every watcher ok, no failure left: the next scenario's start
restore() {
    local n net
    for n in $NODES; do for net in $LAB_NETWORKS; do plug "$n" "$net" 2>/dev/null; done; done
    poll_until 120 all_online || echo "restore: not all nodes online" >&2
    poll_until 60 all_nets_ok || echo "restore: some watcher is not ok" >&2
    on_node node1 crm_resource --cleanup >/dev/null 2>&1
    on_node node1 crm_resource --wait --timeout=120 >/dev/null 2>&1
    poll_until 30 all_nets_ok && [ "$(crm_status node1 | awk '$1 ~ /^vm-/ && $2 == "Started"' | wc -l)" = 5 ]
}
