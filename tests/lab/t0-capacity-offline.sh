#!/bin/bash
# Test 0 (no cluster needed, ~8 s): `paddock capacity` (package paddock-tools) on CIBs
# saved from the lab (fixtures/, see README.md): Paddock's placement model answers, and
# crm_simulate -x (--engine pacemaker) must say the same.
#   cib-roomy.xml        5 guests, room for 4 per node: any node may fail
#   cib-two-per-node.xml 5 guests, room for 2 per node, node1 runs vm-db and
#                        vm-batch1: if node1 fails, vm-batch1 has no room left
#   cib-segments.xml     two failover segments, each VM kept in its own by a location rule
#   cib-segments-open.xml the same without those rules (--segment-rules proposes them)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
F=$LAB_BIN/fixtures
command -v crm_simulate >/dev/null || { report_fail "crm_simulate not installed (pacemaker-cli-utils)"; exit 1; }
command -v paddock >/dev/null || { report_fail "paddock not installed (make install-deb)"; exit 1; }
cap() { paddock capacity "$@"; }

out=$(cap --cib "$F/cib-roomy.xml" 2>&1); rc=$?
echo "$out"
check "roomy cluster: exit 0, every VM comes back" test "$rc" = 0
check "roomy cluster: the placement model answered all 3 scenarios" \
    grep -q "^paddock capacity: 5 running resources, 3 failure scenario(s) answered by Paddock's placement model" <<<"$out"
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

# the model and Pacemaker's scheduler agree, scenario by scenario (all but the header line)
for f in cib-roomy.xml cib-two-per-node.xml cib-segments.xml; do
    for k in 1 2; do
        model=$(cap --cib "$F/$f" --failures $k --engine model 2>&1 | tail -n +2)
        sim=$(cap --cib "$F/$f" --failures $k --engine pacemaker 2>&1 | tail -n +2)
        check "$f, K=$k: --engine model and --engine pacemaker give the same scenarios" \
            test "$model" = "$sim"
    done
done

T=$(mktemp -d); head -c 3000 "$F/cib-roomy.xml" > "$T/truncated.xml"
out=$(cap --cib "$T/truncated.xml" 2>&1); rc=$?
check "truncated CIB: exit 2, one line ($out)" eval '[ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ]'
sed 's/validate-with="pacemaker-3.9"/validate-with="pacemaker-9.0"/' "$F/cib-roomy.xml" > "$T/newer.xml"
out=$(cap --cib "$T/newer.xml" 2>&1); rc=$?
check "CIB of a newer schema (pacemaker-9.0): exit 2, one line naming it ($out)" \
    eval '[ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "pacemaker-9.0" <<<"$out"'
sed 's/crm_feature_set="3.16.1"/crm_feature_set="9.0.0"/' "$F/cib-roomy.xml" > "$T/feature-set.xml"
out=$(cap --cib "$T/feature-set.xml" 2>&1); rc=$?
check "CIB of an unknown feature set (9.0.0): exit 2, one line naming it ($out)" \
    eval '[ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "9.0.0" <<<"$out"'
out=$(cap --cib "$F/cib-roomy.xml" --failures 0 2>&1); rc=$?
check "--failures 0: usage error, exit 2" test "$rc" = 2
out=$(cap --cib "$F/cib-roomy.xml" --engine magic 2>&1); rc=$?
check "--engine magic: usage error, exit 2" test "$rc" = 2

# --segment-rules: the location rules that keep each VM in the segment of its node, for those
# not kept there yet; fed back (pcs -f / crm on a copy), the verdict is the hand-made CIB's.
out=$(cap --cib "$F/cib-segments.xml" --segment-rules pcs 2>&1); rc=$?
check "segment rules, every VM already kept in its segment: nothing to add, exit 0" \
    eval '[ "$rc" = 0 ] && ! grep -q "^pcs " <<<"$out"'
rules=$(cap --cib "$F/cib-segments-open.xml" --segment-rules pcs 2>&1); rc=$?
echo "$rules"
check "segment rules (pcs): one per VM, exit 0" \
    eval '[ "$rc" = 0 ] && [ "$(grep -c "^pcs constraint location vm-[a-z0-9]* rule score=-INFINITY paddock-segment ne rack-[ab]$" <<<"$rules")" = 5 ]'
check "segment rules (pcs): vm-batch1 stays in rack-b" \
    grep -qx "pcs constraint location vm-batch1 rule score=-INFINITY paddock-segment ne rack-b" <<<"$rules"
crm_rules=$(cap --cib "$F/cib-segments-open.xml" --segment-rules crm 2>&1)
check "segment rules (crm): one per VM" \
    test "$(grep -c "^crm configure location vm-[a-z0-9]*-in-rack-[ab] vm-[a-z0-9]* rule -inf: paddock-segment ne rack-[ab]$" <<<"$crm_rules")" = 5
expected=$(cap --cib "$F/cib-segments.xml" 2>&1 | tail -n +2)
open=$(cap --cib "$F/cib-segments-open.xml" 2>&1 | tail -n +2)
check "without the rules, rack-b's VMs would fail over into rack-a (a different verdict)" \
    test "$open" != "$expected"
if command -v pcs >/dev/null; then
    cp "$F/cib-segments-open.xml" "$T/pcs.xml"
    grep '^pcs ' <<<"$rules" | sed "s|^pcs |pcs -f $T/pcs.xml |" | bash -e >/dev/null 2>&1; rc=$?
    got=$(cap --cib "$T/pcs.xml" 2>&1 | tail -n +2)
    check "pcs rules applied (pcs -f): the verdict of cib-segments.xml" \
        eval '[ "$rc" = 0 ] && [ "$got" = "$expected" ]'
else
    echo "SKIP pcs rules applied: pcs not installed"
fi
if command -v crm >/dev/null; then
    cp "$F/cib-segments-open.xml" "$T/crm.xml"
    grep '^crm ' <<<"$crm_rules" | CIB_file=$T/crm.xml bash -e >/dev/null 2>&1; rc=$?
    got=$(cap --cib "$T/crm.xml" 2>&1 | tail -n +2)
    check "crm rules applied (CIB_file): the verdict of cib-segments.xml" \
        eval '[ "$rc" = 0 ] && [ "$got" = "$expected" ]'
else
    echo "SKIP crm rules applied: crm shell not installed"
fi
rm -rf "$T"
finish
