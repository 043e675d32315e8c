#!/bin/bash
# Test 0 (no cluster needed, ~1 s): tools/paddock-capacity on CIBs saved from
# the lab (fixtures/, see README.md), with crm_simulate -x.
#   cib-roomy.xml        5 guests, room for 4 per node: any node may fail
#   cib-two-per-node.xml 5 guests, room for 2 per node, node1 runs vm-db and
#                        vm-batch1: if node1 fails, vm-batch1 has no room left
. "$(dirname "$(readlink -f "$0")")/lib.sh"
F=$LAB_BIN/fixtures
cap="$REPO/tools/paddock-capacity"
command -v crm_simulate >/dev/null || { report_fail "crm_simulate not installed (pacemaker-cli-utils)"; exit 1; }

out=$("$cap" --cib "$F/cib-roomy.xml" 2>&1); rc=$?
echo "$out"
check "roomy cluster: exit 0, every VM comes back" test "$rc" = 0
check "roomy cluster: one line per node, RESULT: OK" \
    eval '[ "$(grep -c "^node[123] fails: " <<<"$out")" = 3 ] && grep -q "^RESULT: OK" <<<"$out"'

out=$("$cap" --cib "$F/cib-two-per-node.xml" 2>&1); rc=$?
echo "$out"
check "full cluster: exit 1" test "$rc" = 1
check "full cluster: node1 fails -> vm-db restarted, vm-batch1 NOT RESTARTED (priority=0 memory=96)" \
    grep -Eq '^node1 fails: restarted .*vm-db->node[23].*; NOT RESTARTED: vm-batch1\(priority=0 memory=96\)$' <<<"$out"
out=$("$cap" --cib "$F/cib-two-per-node.xml" --node node1 --include-stonith 2>&1); rc=$?
check "--node node1: only node1 simulated" eval '[ "$(grep -c " fails: " <<<"$out")" = 1 ] && [ "$rc" = 1 ]'

out=$("$cap" --cib /nonexistent.xml 2>&1); rc=$?
check "missing CIB file: exit 2, one-line error ($out)" eval '[ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ]'
out=$("$cap" --cib "$F/cib-roomy.xml" --node node9 2>&1); rc=$?
check "unknown node: exit 2 ($out)" test "$rc" = 2
finish
