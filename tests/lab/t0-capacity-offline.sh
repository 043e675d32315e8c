#!/bin/bash
# Test 0 (no cluster needed, ~2 s): `paddock capacity` (package paddock-tools) on CIBs
# saved from the lab (fixtures/, see README.md), with crm_simulate -x.
#   cib-roomy.xml        5 guests, room for 4 per node: any node may fail
#   cib-two-per-node.xml 5 guests, room for 2 per node, node1 runs vm-db and
#                        vm-batch1: if node1 fails, vm-batch1 has no room left
. "$(dirname "$(readlink -f "$0")")/lib.sh"
F=$LAB_BIN/fixtures
command -v crm_simulate >/dev/null || { report_fail "crm_simulate not installed (pacemaker-cli-utils)"; exit 1; }
command -v paddock >/dev/null || { report_fail "paddock not installed (make install-deb)"; exit 1; }
cap() { paddock capacity "$@"; }

out=$(cap --cib "$F/cib-roomy.xml" 2>&1); rc=$?
echo "$out"
check "roomy cluster: exit 0, every VM comes back" test "$rc" = 0
check "roomy cluster: one line per node, RESULT: OK" \
    eval '[ "$(grep -c "^node[123] fails: " <<<"$out")" = 3 ] && grep -q "^RESULT: OK" <<<"$out"'

out=$(cap --cib "$F/cib-two-per-node.xml" 2>&1); rc=$?
echo "$out"
check "full cluster: exit 1" test "$rc" = 1
check "full cluster: node1 fails -> vm-db restarted, vm-batch1 NOT RESTARTED (priority=0 memory=96)" \
    grep -Eq '^node1 fails: restarted .*vm-db->node[23].*; NOT RESTARTED: vm-batch1\(priority=0 memory=96\); reserve left: memory=0$' <<<"$out"
out=$(cap --cib "$F/cib-two-per-node.xml" --node node1 --include-stonith 2>&1); rc=$?
check "--node node1: only node1 simulated" eval '[ "$(grep -c " fails: " <<<"$out")" = 1 ] && [ "$rc" = 1 ]'

out=$(cap --cib /nonexistent.xml 2>&1); rc=$?
check "missing CIB file: exit 2, one-line error ($out)" eval '[ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ]'
out=$(cap --cib "$F/cib-roomy.xml" --node node9 2>&1); rc=$?
check "unknown node: exit 2 ($out)" test "$rc" = 2
# failover segments (node attribute paddock-segment, with location rules keeping each VM in its
# segment): node1+node2 = rack-a (vm-db vm-web vm-batch3), node3 = rack-b (vm-batch1 vm-batch2);
# room for 4 guests per node. Worked out by hand: one rack-a host fails -> its VMs go to the
# other (3 guests there, reserve 96); node3 fails -> rack-b has no host left for its two.
out=$(cap --cib "$F/cib-segments.xml" 2>&1); rc=$?
echo "$out"
check "segments, K=1: exit 1" test "$rc" = 1
check "segments, K=1: either rack-a host fails, the other takes its VMs, memory=96 left" \
    eval '[ "$(grep -c "^node[12] fails: restarted .*; reserve left in paddock-segment rack-a: memory=96$" <<<"$out")" = 2 ]'
check "segments, K=1: node3 fails -> vm-batch1 vm-batch2 stay stopped" \
    grep -q '^node3 fails: nothing to restart; NOT RESTARTED: vm-batch1(priority=0 memory=96) vm-batch2(priority=0 memory=96)$' <<<"$out"
out=$(cap --cib "$F/cib-segments.xml" --failures 2 2>&1); rc=$?
echo "$out"
check "segments, K=2: both rack-a hosts at once -> its 3 VMs stay stopped, exit 1" \
    eval '[ "$rc" = 1 ] && grep -q "^node1+node2 fail: nothing to restart; NOT RESTARTED: vm-batch3(.*) vm-db(.*) vm-web(.*)$" <<<"$out"'
check "segments, K=2: one scenario per segment" test "$(grep -c ' fails\?: ' <<<"$out")" = 2
json=$(cap --cib "$F/cib-segments.xml" --json 2>&1)
check "--json: ok false, 3 scenarios, node3's two VMs lost" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is False and len(r["scenarios"]) == 3, r
lost = [s["not_restarted"] for s in r["scenarios"] if s["failed"] == ["node3"]]
assert lost == [["vm-batch1", "vm-batch2"]], lost' "$json"

T=$(mktemp -d); head -c 3000 "$F/cib-roomy.xml" > "$T/truncated.xml"
out=$(cap --cib "$T/truncated.xml" 2>&1); rc=$?
check "truncated CIB: exit 2, one line ($out)" eval '[ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ]'
out=$(cap --cib "$F/cib-roomy.xml" --failures 0 2>&1); rc=$?
check "--failures 0: usage error, exit 2" test "$rc" = 2
rm -rf "$T"
finish
