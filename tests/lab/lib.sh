# tests/lab/lib.sh -- shared definitions of the three-node lab (sourced).
#
# The lab: netns pdk-hub holds three bridges, one per network, and the three
# BMCs (ipmi_sim, UDP 10.77.0.254:1960N); netns pdk-nN holds node N's eth0/1/2
# (veths into the bridges):
#   admin   pdkbr0 10.77.0.0/24  eth0 10.77.0.N  hub 10.77.0.254 (also the BMCs)
#   storage pdkbr1 10.77.1.0/24  eth1 10.77.1.N  hub 10.77.1.254 ("the storage array")
#   tenant  pdkbr2 10.77.2.0/24  eth2 10.77.2.N  hub 10.77.2.254 ("the tenant gateway")
# Corosync runs on two knet links: admin (link 0) and storage (link 1).
# Nothing is added to the root netns, and nothing routes anywhere else. See README.md.
LAB_BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB_BIN/../.." && pwd)
export PADDOCK_LAB=${PADDOCK_LAB:-/tmp/paddock-lab}
L=$PADDOCK_LAB
NODES="node1 node2 node3"
HUB_NS=pdk-hub
BMC_IP=10.77.0.254
BMC_USER=admin
BMC_PASSWORD=secret
export PYTHONWARNINGS=ignore          # pcs prints DeprecationWarnings on Debian 12

# The agents under test.  LAB_STACK=paddock (default): fence_paddock_ipmi +
# ocf:paddock:vm; LAB_STACK=anchor: fence_ipmilan + ocf:heartbeat:VirtualDomain
# (what operators migrate from).  LAB_FENCE_AGENT / LAB_VM_AGENT override one.
lab_fence_agent() {
    case "${LAB_FENCE_AGENT:-${LAB_STACK:-paddock}}" in
        paddock) echo fence_paddock_ipmi ;; anchor) echo fence_ipmilan ;;
        fence_*) echo "$LAB_FENCE_AGENT" ;; *) echo "bad LAB_STACK/LAB_FENCE_AGENT" >&2; return 2 ;;
    esac
}
lab_vm_agent() {
    case "${LAB_VM_AGENT:-${LAB_STACK:-paddock}}" in
        paddock) echo ocf:paddock:vm ;; anchor) echo ocf:heartbeat:VirtualDomain ;;
        ocf:*) echo "$LAB_VM_AGENT" ;; *) echo "bad LAB_STACK/LAB_VM_AGENT" >&2; return 2 ;;
    esac
}

node_ns()   { echo "pdk-n${1#node}"; }
node_ip()   { echo "10.77.0.${1#node}"; }
# the lab's networks: name, bridge index (pdkbrK, 10.77.K.0/24, the node's ethK)
LAB_NETWORKS="admin storage tenant"
net_index() { case $1 in admin) echo 0 ;; storage) echo 1 ;; tenant) echo 2 ;; *) return 2 ;; esac; }
net_ip()    { echo "10.77.$(net_index "$2").${1#node}"; }      # net_ip NODE NETWORK
net_hub_ip(){ echo "10.77.$(net_index "$1").254"; }            # the hub's address: a probe target
net_if()    { echo "eth$(net_index "$1")"; }                   # the node's interface on NETWORK
bmc_port()  { echo "$((19600 + ${1#node}))"; }
now()       { date +%s.%N; }
# seconds between two `now` values, 2 decimals
elapsed()   { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# on_node NODE CMD... : run CMD inside all of NODE's namespaces (net, mount, pid,
# uts, ipc) by entering those of its PID 1.  Exit 3 when the node is off.
# (Names here differ from tests/lib/system-test.sh's: there `on CMD` enters the
# single-node test cluster, `fail` ends a test and `wait_until` fails it.)
on_node() {
    local n=$1; shift
    local pid
    pid=$(cat "$L/run/$n.init.pid" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        || { echo "$n is powered off" >&2; return 3; }
    nsenter --target "$pid" --mount --uts --ipc --net --pid --root --wd=/ -- "$@"
}

# ipmi NODE ARGS... : ipmitool against NODE's BMC, from the management side.
ipmi() {
    local n=$1; shift
    ip netns exec "$HUB_NS" ipmitool -I lanplus -C 3 -H "$BMC_IP" -p "$(bmc_port "$n")" \
        -U "$BMC_USER" -P "$BMC_PASSWORD" "$@"
}

online_nodes() { on_node "${1:-node1}" crm_mon -1 2>/dev/null | sed -n 's/^ *\* Online: \[ \(.*\) \]/\1/p'; }

# poll_until SECONDS CMD... : poll CMD every 0.2 s; rc 1 on timeout.
poll_until() {
    local limit=$1; shift
    local end=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.2
    done
}

all_online() { [ "$(online_nodes "${1:-node1}")" = "node1 node2 node3" ]; }

# lab_lock: one lab per machine (the namespace names are fixed): wait for a
# lab run or benchmark of someone else to finish (at most 30 min).  Held until
# the caller exits.
lab_lock() {
    exec 8>/tmp/paddock-lab.lock
    if ! flock -n 8; then
        echo "another lab run holds /tmp/paddock-lab.lock; waiting (at most 30 min)..." >&2
        flock -w 1800 8 || { echo "could not get /tmp/paddock-lab.lock" >&2; return 1; }
    fi
}

# --- test reporting ------------------------------------------------------------
PASSED=0; FAILED=0
# report_pass / report_fail LABEL: count and print a result; the test goes on.
report_pass() { echo "PASS $*"; PASSED=$((PASSED + 1)); }
report_fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }
# check LABEL CMD... : PASS when CMD exits 0
check() { local label=$1; shift; if "$@"; then report_pass "$label"; else report_fail "$label"; fi; }
finish() { [ "$FAILED" -eq 0 ]; }

# --- timings from the nodes' logs ------------------------------------------------
# log_epoch_after T0 REGEX: epoch (s.ms) of the first line matching REGEX at
# or after T0 in any node's pacemaker.log ("Nov 22 00:40:29.542 node3 ...")
log_epoch_after() {
    local t0=$1 re=$2
    cat "$L"/nodes/node*/var/log/pacemaker/pacemaker.log 2>/dev/null | grep -E -- "$re" \
        | awk '{print $1" "$2" "$3}' | while read -r stamp; do date -d "$stamp" +%s.%3N; done \
        | awk -v t0="$t0" '$1 >= t0' | sort -n | head -1
}

# crm_status NODE: "resource state node" lines of every primitive (crm_mon view of NODE)
crm_status() {
    on_node "${1:-node1}" crm_mon -1 -r --output-as=xml 2>/dev/null | \
        sed -n 's/.*<resource id="\([^"]*\)".*role="\([A-Za-z]*\)".*/\1 \2/p;
                 s/.*<node name="\([^"]*\)" id=.*cached=.*/NODE \1/p' | \
        awk '$1=="NODE" {print prev" "$2; prev=""; next} {if (prev!="") print prev" -"; prev=$0} END {if (prev!="") print prev" -"}'
}
