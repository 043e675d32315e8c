#!/bin/bash
# Test 5: fencing history.  stonith_admin --history '*' on every node, and
# the fence agents' own log lines, tell what was fenced, when, by whom
# (where) and how (which device/agent), for the failures of tests 2 and 4.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
agent=$(lab_fence_agent)
hist=$(on_node node1 stonith_admin --history '*' --verbose 2>/dev/null)
echo "$hist"
fenced=$(sed -n "s/.*reboot of \(node[0-9]\) successful.*/\1/p" <<<"$hist" | sort -u | tr '\n' ' ')
# run.sh injected 3 host failures (test 2 twice, test 4): 3 fencings, no more
check "history lists 3 successful reboots, of the failed nodes ($fenced)" \
    test "$(grep -c 'reboot of node[0-9] successful' <<<"$hist")" = "${EXPECT_FENCINGS:-3}"
check "history says what, by whom and when: 'reboot of nodeX successful: delegate=nodeY, ... completed=...'" \
    grep -Eq "reboot of node[0-9] successful: delegate=node[0-9], client=pacemaker-controld.*completed=" <<<"$hist"
# (a node that just rejoined gets the history from its peers within seconds)
total=$(grep -c successful <<<"$hist")
for n in $NODES; do
    check "$n's own history agrees ($total successful operations)" \
        poll_until 20 eval '[ "$(on_node "$n" stonith_admin --history "*" --verbose 2>/dev/null | grep -c successful)" = "$total" ]'
done
logs=$(cat "$L"/nodes/node*/var/log/pacemaker/pacemaker.log)
for v in $fenced; do
    check "fenced log: $v rebooted with device fence-$v ($agent)" \
        grep -Eq "Operation 'reboot' \[[0-9]+\] targeting $v using fence-$v returned 0" <<<"$logs"
done
# the agent's own log on the node that fenced (the delegate), per fencing
while read -r v d c; do
    f=$L/nodes/$d/var/log/$agent.log
    # the agent logs local time; the fencing began at most a minute before it completed
    m1=$(date -d "$c" '+%F %H:%M'); m0=$(date -d "$c - 1 minute" '+%F %H:%M')
    window=$(grep -E "^($m0|$m1)" "$f" 2>/dev/null)
    check "$agent's log on $d (the delegate) tells how $v was rebooted at $m1 (its BMC port $(bmc_port "$v"), power off/on)" \
        eval 'grep -q "$(bmc_port "$v")" <<<"$window" && grep -Eiq "power (off|on)|chassis|reboot" <<<"$window"'
done < <(sed -n "s/.*reboot of \(node[0-9]\) successful: delegate=\(node[0-9]\),.*completed='\([^']*Z\)'.*/\1 \2 \3/p" <<<"$hist")
if [ "$agent" = fence_paddock_ipmi ]; then
    check "no fence agent log holds the BMC password" \
        eval '! grep -q -- "$BMC_PASSWORD" "$L"/nodes/node*/var/log/$agent.log'
fi
check "the BMC log / node console tell the power cuts (POWER OFF ... SIGTERM from BMC)" \
    grep -q 'POWER OFF .*SIGTERM from BMC' "$L"/log/node*.console
finish
