#!/bin/bash
# timeout: 240
# Fencing through Pacemaker with fence_paddock_redfish against sushy-emulator (HTTPS, test CA).
# The BMC manages several systems; the fictitious host `host-rf1` is mapped to its system
# `node1` with pcmk_host_map, so Pacemaker passes plug=node1 and only that system's power
# may change (system `node2`, Off, is the witness).
#   FENCE_AGENT=fence_redfish runs the same scenario against the anchor agent.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
AGENT=${FENCE_AGENT:-fence_paddock_redfish}
BMC=$PADDOCK_REPO/tests/lib/redfish-bmc.sh
D=$TEST_TMP/redfish
PORT=$((TEST_PORT_BASE + 1))
HOST=host-rf1
DEV=f-rf1
NODE1=11111111-1111-4111-8111-000000000001
NODE2=11111111-1111-4111-8111-000000000002
export REDFISH_BMC_PASSWORD=rf-secret REDFISH_BMC_POWER_DELAY=1
WRONG_PASSWORD="Wr0ng-$RANDOM$RANDOM"

require_cmd stonith_admin crm_mon pcs xmllint curl
[ -x "$BMC" ] || fail "$BMC missing"
[ -x "/usr/sbin/$AGENT" ] || fail "/usr/sbin/$AGENT not installed (make install)"

# PowerState of a system as the BMC reports it: On / Off / PoweringOn...
power() {
    curl -s --max-time 5 --cacert "$D/ca.pem" -u "admin:$REDFISH_BMC_PASSWORD" \
        "https://127.0.0.1:$PORT/redfish/v1/Systems/$1" |
        sed -n 's/.*"PowerState": *"\([A-Za-z]*\)".*/\1/p'
}
expect_power() { local p; p=$(power "$1"); [ "$p" = "$2" ] || fail "system $1 is '$p', expected '$2' ($3)"; }
last_event() {
    on stonith_admin --history "$2" --verbose --output-as=xml |
        grep "<fence_event action=\"$1\" target=\"$2\"" | head -1
}
device_args=(ip=127.0.0.1 ipport="$PORT" username=admin ssl=1 ssl_ca_file="$D/ca.pem")

step "Redfish BMC (sushy-emulator) on https://127.0.0.1:$PORT"
mkdir -p "$D"
"$BMC" start "$D" "$PORT" https || fail "cannot start the Redfish BMC"
at_exit "\"$BMC\" stop \"$D\""
expect_power $NODE1 On "BMC just started"
expect_power $NODE2 Off "BMC just started"

step "agent is known to Pacemaker and pcs"
on stonith_admin --list-installed | grep -qw "$AGENT" || fail "stonith_admin --list-installed does not list $AGENT"
on stonith_admin --metadata --agent "$AGENT" > "$TEST_TMP/metadata.xml" || fail "stonith_admin --metadata failed"
xmllint --noout "$TEST_TMP/metadata.xml" || fail "metadata is not well-formed XML"
on crm_resource --show-metadata "stonith:$AGENT" | grep -q "resource-agent name=\"$AGENT\"" ||
    fail "crm_resource --show-metadata stonith:$AGENT failed"
for p in ip ipport username password plug ssl ssl_insecure systems_uri redfish_uri; do
    xmllint --xpath "//parameter[@name='$p']" "$TEST_TMP/metadata.xml" >/dev/null 2>&1 ||
        fail "metadata has no parameter '$p' (fence_redfish compatibility)"
done
pcs_on stonith describe "$AGENT" >/dev/null || fail "pcs stonith describe $AGENT failed"

step "pcs takes fence_redfish's own spellings (redfish-uri, systems-uri)"
pcs_on stonith create "$DEV-compat" "$AGENT" ip=127.0.0.1 username=admin password=unused \
    redfish-uri=/redfish/v1 systems-uri=/redfish/v1/Systems/1 --disabled ||
    fail "pcs refused a configuration written for fence_redfish"
pcs_on stonith delete "$DEV-compat" >/dev/null || fail "pcs stonith delete $DEV-compat failed"

step "stonith_admin --validate"
on stonith_admin --validate --agent "$AGENT" -o ip=127.0.0.1 -o ipport="$PORT" -o username=admin \
    -o password="$REDFISH_BMC_PASSWORD" -o ssl=1 || fail "validate of a good configuration failed"

step "pcs stonith create $DEV (pcmk_host_map $HOST:node1)"
on crm_attribute --type crm_config --name stonith-enabled --update true
pcs_on stonith create "$DEV" "$AGENT" "${device_args[@]}" password="$REDFISH_BMC_PASSWORD" \
    pcmk_host_map="$HOST:node1" op monitor interval=10s || fail "pcs stonith create failed"
started() { on crm_mon -1 | grep -Eq "$DEV\s+\(stonith:$AGENT\):\s+Started paddock1"; }
wait_until 30 started

step "stonith_admin --reboot $HOST"
( while :; do echo "$(date +%s.%N) $(power $NODE1)"; sleep 0.2; done ) > "$TEST_TMP/power-trace" &
tracer=$!
at_exit "kill $tracer 2>/dev/null"
t0=$(date +%s.%N)
on stonith_admin --reboot "$HOST" --timeout 60 || fail "stonith_admin --reboot failed"
t1=$(date +%s.%N)
sleep 0.3; kill "$tracer"; wait "$tracer" 2>/dev/null
trace=$(awk 'NF == 2 {print $2}' "$TEST_TMP/power-trace" | uniq | tr '\n' ' ')
grep -Eq 'On .*Off .*On' <<<"$trace" || fail "power trace of node1 does not show On -> Off -> On: $trace"
expect_power $NODE1 On "after reboot"
expect_power $NODE2 Off "the other system must not be touched"
step "reboot took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s; trace: $trace"
last_event reboot "$HOST" | grep -q 'status="success"' || fail "history has no successful reboot"

step "stonith_admin --fence (off) and --unfence (on)"
on stonith_admin --fence "$HOST" --timeout 60 || fail "stonith_admin --fence failed"
expect_power $NODE1 Off "after --fence"
on stonith_admin --unfence "$HOST" --timeout 60 || fail "stonith_admin --unfence failed"
expect_power $NODE1 On "after --unfence"
expect_power $NODE2 Off "the other system must not be touched"
on stonith_admin --history "$HOST" --verbose
for a in reboot off on; do
    last_event "$a" "$HOST" | grep -q 'status="success"' || fail "history has no successful '$a' of $HOST"
done

step "wrong password: fencing fails, power untouched, reason logged, password not logged"
# registered with fenced directly: a device that fails its start is banned from the node
on stonith_admin --register f-rf-bad --agent "$AGENT" -o ip=127.0.0.1 -o ipport="$PORT" \
    -o username=admin -o password="$WRONG_PASSWORD" -o ssl=1 -o ssl_ca_file="$D/ca.pem" \
    -o pcmk_host_map=host-rf-bad:node1 || fail "stonith_admin --register failed"
at_exit "\"$CLUSTER\" exec stonith_admin --deregister f-rf-bad >/dev/null 2>&1"
if on stonith_admin --reboot host-rf-bad --timeout 30; then
    fail "reboot with a wrong password succeeded"
fi
expect_power $NODE1 On "after a failed fence"
last_event reboot host-rf-bad | grep -q 'status="failed"' || fail "history does not show the failed reboot"
on grep -E "$AGENT\[[0-9]+\] stderr: \[" /var/log/pacemaker/pacemaker.log > "$TEST_TMP/agent-stderr.log"
grep -iE '401|auth|password|login|credential|unauthori' "$TEST_TMP/agent-stderr.log" >/dev/null ||
    fail "no clear reason in the agent's logged stderr: $(tail -5 "$TEST_TMP/agent-stderr.log")"
grep -iE '401|auth|password|login|credential|unauthori' "$TEST_TMP/agent-stderr.log" | tail -1
if grep -qF "$WRONG_PASSWORD" "$TEST_TMP/agent-stderr.log"; then
    fail "the password appears in the agent's stderr"
fi
step "PASS"
