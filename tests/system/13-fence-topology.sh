#!/bin/bash
# timeout: 240
# Fencing topology with both Paddock agents: host `host-topo` is reachable through IPMI
# (level 1) and Redfish (level 2). Its IPMI BMC does not answer, so Pacemaker's level 1
# fails (bounded by the agent's login_timeout) and level 2 power-cycles the host through
# Redfish. Only the Redfish system of host-topo changes power.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
IPMI_PORT=$TEST_PORT_BASE
RF_PORT=$((TEST_PORT_BASE + 1))
RF=$PADDOCK_REPO/tests/lib/redfish-bmc.sh
D=$TEST_TMP/redfish
HOST=host-topo
NODE1=11111111-1111-4111-8111-000000000001
NODE2=11111111-1111-4111-8111-000000000002
export REDFISH_BMC_PASSWORD=rf-secret REDFISH_BMC_POWER_DELAY=1

require_cmd stonith_admin pcs python3 curl
for a in fence_paddock_ipmi fence_paddock_redfish; do
    [ -x "/usr/sbin/$a" ] || fail "/usr/sbin/$a not installed (make install)"
done
power() {
    curl -s --max-time 5 --cacert "$D/ca.pem" -u "admin:$REDFISH_BMC_PASSWORD" \
        "https://127.0.0.1:$RF_PORT/redfish/v1/Systems/$1" |
        sed -n 's/.*"PowerState": *"\([A-Za-z]*\)".*/\1/p'
}

step "IPMI BMC that never answers (UDP 127.0.0.1:$IPMI_PORT), Redfish BMC on https://127.0.0.1:$RF_PORT"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1]))); time.sleep(10**6)' \
    "$IPMI_PORT" &
silent=$!
at_exit "kill $silent 2>/dev/null"
mkdir -p "$D"
"$RF" start "$D" "$RF_PORT" https || fail "cannot start the Redfish BMC"
at_exit "\"$RF\" stop \"$D\""
[ "$(power $NODE1)" = On ] || fail "node1 not On at start"

step "two devices, two levels"
on crm_attribute --type crm_config --name stonith-enabled --update true
pcs_on stonith create f-topo-ipmi fence_paddock_ipmi ip=127.0.0.1 ipport="$IPMI_PORT" username=admin \
    password=secret lanplus=1 login_timeout=4 pcmk_host_list="$HOST" || fail "create f-topo-ipmi"
pcs_on stonith create f-topo-rf fence_paddock_redfish ip=127.0.0.1 ipport="$RF_PORT" username=admin \
    password="$REDFISH_BMC_PASSWORD" ssl=1 ssl_ca_file="$D/ca.pem" pcmk_host_map="$HOST:node1" ||
    fail "create f-topo-rf"
# --force: the target is not a cluster node (a fictitious host, see tests/lib/cluster.sh)
pcs_on stonith level add 1 "$HOST" f-topo-ipmi --force || fail "level 1"
pcs_on stonith level add 2 "$HOST" f-topo-rf --force || fail "level 2"
pcs_on stonith level config
wait_until 30 eval 'on crm_mon -1 | grep -Eq "f-topo-rf\s.*Started paddock1"'

step "stonith_admin --reboot $HOST"
( while :; do echo "$(date +%s.%N) $(power $NODE1)"; sleep 0.2; done ) > "$TEST_TMP/power-trace" &
tracer=$!
at_exit "kill $tracer 2>/dev/null"
t0=$(date +%s.%N)
on stonith_admin --reboot "$HOST" --timeout 90 || fail "reboot through the topology failed"
t1=$(date +%s.%N)
sleep 0.3; kill "$tracer"; wait "$tracer" 2>/dev/null
trace=$(awk 'NF == 2 {print $2}' "$TEST_TMP/power-trace" | uniq | tr '\n' ' ')
step "took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s; node1 power trace: $trace"
grep -Eq 'On .*Off .*On' <<<"$trace" || fail "node1 was not power-cycled through Redfish: $trace"
[ "$(power $NODE2)" = Off ] || fail "node2 changed power"
on grep -E "targeting $HOST using f-topo-ipmi returned" /var/log/pacemaker/pacemaker.log | tail -1 | grep . ||
    fail "level 1 (IPMI) was not tried first"
on grep -E "targeting $HOST using f-topo-rf returned 0" /var/log/pacemaker/pacemaker.log | tail -1 | grep . ||
    fail "level 2 (Redfish) did not succeed"
on stonith_admin --history "$HOST" --verbose --output-as=xml | grep -q "action=\"reboot\" target=\"$HOST\".*status=\"success\"" ||
    fail "history has no successful reboot of $HOST"
step "PASS"
