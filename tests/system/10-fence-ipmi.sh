#!/bin/bash
# timeout: 240
# Fencing through Pacemaker with fence_paddock_ipmi against a simulated IPMI BMC (ipmi_sim).
# The target `host-ipmi1` is a fictitious host (not a cluster node) whose power is the BMC's
# simulated machine, so a fence changes the BMC's power and nothing else.
#   FENCE_AGENT=fence_ipmilan runs the same scenario against the anchor agent (which fails
#   only the last step: its logged error does not say why, "Unable to obtain correct plug status").
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
AGENT=${FENCE_AGENT:-fence_paddock_ipmi}
BMC=$PADDOCK_REPO/tests/lib/ipmi-bmc.sh
export IPMI_BMC_DIR=$TEST_TMP/bmc
PORT=$TEST_PORT_BASE
HOST=host-ipmi1
DEV=f-ipmi1
WRONG_PASSWORD="Wr0ng-$RANDOM$RANDOM"

require_cmd stonith_admin crm_mon crm_resource pcs xmllint ipmi_sim paddock
[ -x "$BMC" ] || fail "$BMC missing"
[ -x "/usr/sbin/$AGENT" ] || fail "/usr/sbin/$AGENT not installed (make install)"

power() { "$BMC" power "$HOST"; }
machine_pid() { cat "$IPMI_BMC_DIR/$HOST/machine.pid" 2>/dev/null; }
expect_power() { local p; p=$(power); [ "$p" = "$1" ] || fail "$HOST power is '$p', expected '$1' ($2)"; }
# history as XML: the last event of ACTION for TARGET, e.g. `status="success"`
last_event() {
    on stonith_admin --history "$2" --verbose --output-as=xml |
        grep "<fence_event action=\"$1\" target=\"$2\"" | head -1
}

step "BMC for $HOST on 127.0.0.1:$PORT"
"$BMC" start "$HOST" "$PORT" || fail "cannot start the BMC"
at_exit "\"$BMC\" stop $HOST"
expect_power on "BMC just started"

step "agent is known to Pacemaker and pcs"
on stonith_admin --list-installed | grep -qw "$AGENT" || fail "stonith_admin --list-installed does not list $AGENT"
on stonith_admin --metadata --agent "$AGENT" > "$TEST_TMP/metadata.xml" || fail "stonith_admin --metadata failed"
xmllint --noout "$TEST_TMP/metadata.xml" || fail "metadata is not well-formed XML"
on crm_resource --show-metadata "stonith:$AGENT" | grep -q "resource-agent name=\"$AGENT\"" ||
    fail "crm_resource --show-metadata stonith:$AGENT failed"
for p in ip ipport username password lanplus cipher; do
    xmllint --xpath "//parameter[@name='$p']" "$TEST_TMP/metadata.xml" >/dev/null 2>&1 ||
        fail "metadata has no parameter '$p' (fence_ipmilan compatibility)"
done
pcs_on stonith describe "$AGENT" >"$TEST_TMP/describe.txt" || fail "pcs stonith describe $AGENT failed"
grep -q 'ipport' "$TEST_TMP/describe.txt" || fail "pcs stonith describe does not show ipport"

step "stonith_admin --validate"
on stonith_admin --validate --agent "$AGENT" -o ip=127.0.0.1 -o ipport="$PORT" -o username=admin \
    -o password=secret -o lanplus=1 || fail "validate of a good configuration failed"
if on stonith_admin --validate --agent "$AGENT" -o ipport="$PORT" -o username=admin >/dev/null 2>&1; then
    fail "validate without ip succeeded"
fi

step "pcs stonith create $DEV"
on crm_attribute --type crm_config --name stonith-enabled --update true
# power_wait=2 (fence_ipmilan's default; fence_paddock_ipmi's is 0): an explicit value is
# honoured, and it keeps the machine off long enough for the 0.1 s power trace below to see it.
pcs_on stonith create "$DEV" "$AGENT" ip=127.0.0.1 ipport="$PORT" username=admin password=secret \
    lanplus=1 cipher=3 power_wait=2 pcmk_host_list="$HOST" op monitor interval=10s || fail "pcs stonith create failed"
started() { on crm_mon -1 | grep -Eq "$DEV\s+\(stonith:$AGENT\):\s+Started paddock1"; }
wait_until 30 started
on stonith_admin --list "$HOST" | grep -qw "$DEV" || fail "stonith_admin --list $HOST does not name $DEV"

step "stonith_admin --reboot $HOST"
boot0=$(machine_pid)
( while :; do echo "$(date +%s.%N) $(power)"; sleep 0.1; done ) > "$TEST_TMP/power-trace" &
tracer=$!
at_exit "kill $tracer 2>/dev/null"
t0=$(date +%s.%N)
on stonith_admin --reboot "$HOST" --timeout 60 || fail "stonith_admin --reboot failed"
t1=$(date +%s.%N)
sleep 0.3; kill "$tracer"; wait "$tracer" 2>/dev/null
expect_power on "after reboot"
boot1=$(machine_pid)
[ -n "$boot0" ] && [ -n "$boot1" ] && [ "$boot0" != "$boot1" ] ||
    fail "machine was not power-cycled (machine pid before '$boot0', after '$boot1')"
awk '{print $2}' "$TEST_TMP/power-trace" | uniq | tr '\n' ' ' | grep -q 'on off on' ||
    fail "power trace does not show on -> off -> on: $(awk '{print $2}' "$TEST_TMP/power-trace" | uniq | tr '\n' ' ')"
step "reboot took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s"
last_event reboot "$HOST" | grep -q 'status="success"' || fail "history has no successful reboot"
decision_recorded "$AGENT .*reboot on $HOST: power off confirmed after [0-9.]+ s, seen on again" ||
    fail "the fencing is not in the event journal (paddock history)"

step "stonith_admin --fence (off) and --unfence (on)"
on stonith_admin --fence "$HOST" --timeout 60 || fail "stonith_admin --fence failed"
expect_power off "after --fence"
on stonith_admin --unfence "$HOST" --timeout 60 || fail "stonith_admin --unfence failed"
expect_power on "after --unfence"
on stonith_admin --history "$HOST" --verbose
for a in reboot off on; do
    last_event "$a" "$HOST" | grep -q 'status="success"' || fail "history has no successful '$a' of $HOST"
done

step "password from password_script"
pwscript=$TEST_TMP/ipmi-password.sh
printf '#!/bin/sh\necho secret\n' > "$pwscript"; chmod 0700 "$pwscript"
pcs_on stonith create f-ipmi1-script "$AGENT" ip=127.0.0.1 ipport="$PORT" username=admin \
    password_script="$pwscript" lanplus=1 cipher=3 pcmk_host_list=host-ipmi1-script \
    op monitor interval=10s || fail "pcs stonith create (password_script) failed"
wait_until 30 eval 'on crm_mon -1 | grep -Eq "f-ipmi1-script\s.*Started paddock1"'
boot0=$(machine_pid)
on stonith_admin --reboot host-ipmi1-script --timeout 60 || fail "reboot via password_script device failed"
expect_power on "after reboot via password_script device"
[ "$(machine_pid)" != "$boot0" ] || fail "password_script device did not power-cycle the machine"

step "wrong password: fencing fails, power untouched, reason logged, password not logged"
# A device with a bad password fails its start and Pacemaker then bans it from the node,
# so register it with fenced directly to exercise the fence action itself.
pcs_on stonith create f-bad "$AGENT" ip=127.0.0.1 ipport="$PORT" username=admin \
    password="$WRONG_PASSWORD" lanplus=1 cipher=3 pcmk_host_list=host-bad || fail "pcs stonith create f-bad failed"
wait_until 30 eval 'on crm_mon -1 | grep -Eq "f-bad (start|monitor) on paddock1 returned .error"'
on stonith_admin --register f-bad-direct --agent "$AGENT" -o ip=127.0.0.1 -o ipport="$PORT" \
    -o username=admin -o password="$WRONG_PASSWORD" -o lanplus=1 -o cipher=3 \
    -o pcmk_host_list=host-bad || fail "stonith_admin --register failed"
at_exit "\"$CLUSTER\" exec stonith_admin --deregister f-bad-direct >/dev/null 2>&1"
boot0=$(machine_pid)
if on stonith_admin --reboot host-bad --timeout 30; then
    fail "reboot with a wrong password succeeded"
fi
expect_power on "after a failed fence"
[ "$(machine_pid)" = "$boot0" ] || fail "a fence with a wrong password power-cycled the machine"
last_event reboot host-bad | grep -q 'status="failed"' || fail "history does not show the failed reboot"
# pacemaker 2.1 history carries no reason; fenced logs the agent's stderr
on grep -E "$AGENT\[[0-9]+\] stderr: \[" /var/log/pacemaker/pacemaker.log > "$TEST_TMP/agent-stderr.log"
grep -iE 'auth|password|login|credential|rakp|integrity' "$TEST_TMP/agent-stderr.log" >/dev/null ||
    fail "no clear reason in the agent's logged stderr: $(tail -5 "$TEST_TMP/agent-stderr.log")"
grep -iE 'auth|password|login|credential|rakp|integrity' "$TEST_TMP/agent-stderr.log" | tail -1
if grep -qF "$WRONG_PASSWORD" "$TEST_TMP/agent-stderr.log"; then
    fail "the password appears in the agent's stderr"
fi
step "PASS"
