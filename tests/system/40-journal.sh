#!/bin/bash
# timeout: 150
# The event journal under Pacemaker: paddock-alert configured with `pcs alert create` (the
# journal directory as the alert's recipient), a resource started, failed, recovered and
# stopped; `paddock history` then tells exactly that, once each. Also: unreadable lines are
# skipped and counted, and an unwritable journal does not disturb Pacemaker.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
ALERT=/usr/libexec/paddock/paddock-alert
RSC=journal-dummy
require_cmd pcs crm_mon crm_resource crm_failcount paddock
[ -x "$ALERT" ] || fail "$ALERT not installed (make install-deb)"
getent passwd hacluster >/dev/null || fail "no hacluster user (pacemaker)"

# Pacemaker runs alert agents as hacluster: a directory it may write, outside TEST_TMP
J=$(mktemp -d /var/tmp/paddock-journal.XXXXXX)
chown hacluster:haclient "$J"
at_exit "rm -rf $J"
at_exit "on pcs alert remove paddock-test >/dev/null 2>&1; on pcs resource delete $RSC --force >/dev/null 2>&1"
started() { on crm_mon -1 | grep -Eq "$RSC\s+\(ocf:pacemaker:Dummy\):\s+Started paddock1"; }
stopped() { on crm_mon -1 -r | grep -Eq "$RSC\s+\(ocf:pacemaker:Dummy\):\s+Stopped"; }
failed() { [ "$(failcount)" -ge 1 ] 2>/dev/null; }
failcount() { on crm_failcount --query --resource "$RSC" --node paddock1 2>/dev/null | sed -n 's/.*value=\([0-9]*\).*/\1/p'; }
history() { paddock history --journal "$J" "$@"; }
lines() { history "$@" 2>/dev/null | grep -c "$RSC" || true; }

step "pcs alert create path=$ALERT, recipient $J"
pcs_on alert create id=paddock-test path="$ALERT" || fail "pcs alert create failed"
pcs_on alert recipient add paddock-test value="$J" id=paddock-test-dir || fail "pcs alert recipient add failed"

step "a resource: started, a failure injected and recovered, then stopped"
pcs_on resource create "$RSC" ocf:pacemaker:Dummy op monitor interval=2s || fail "pcs resource create failed"
wait_until 30 started
on crm_resource --fail --resource "$RSC" --node paddock1 >/dev/null 2>&1 || fail "crm_resource --fail failed"
wait_until 30 failed
recovered() { [ "$(cat "$J"/*.jsonl | grep -c '"task":"start"')" -ge 2 ]; }
wait_until 30 recovered
wait_until 30 started
pcs_on resource disable "$RSC" || fail "pcs resource disable failed"
wait_until 30 stopped
wait_until 10 sh -c "grep -q '\"task\":\"stop\"' $J/*.jsonl"

step "paddock history: the timeline of $RSC"
out=$(history --resource "$RSC") || fail "paddock history failed"
echo "$out"
[ "$(grep -c "resource $RSC start on paddock1: ok" <<<"$out")" -ge 2 ] || fail "not two starts (first, recovery)"
grep -q "resource $RSC stop on paddock1: ok" <<<"$out" || fail "no stop"
grep -Eq "resource $RSC [a-z_]+.* on paddock1: .*\(rc [1-9]" <<<"$out" || fail "the injected failure is missing"
[ -z "$(grep -v "$RSC" <<<"$out")" ] || fail "--resource let other resources through"
grep -q "seen by paddock1" <<<"$out" || fail "no reporter"
[ "$(lines --node nosuchnode)" = 0 ] || fail "--node nosuchnode kept lines"
[ "$(lines --since 1h)" = "$(grep -c "$RSC" <<<"$out")" ] || fail "--since 1h dropped recent lines"
history --json | python3 -c 'import json,sys; e=json.load(sys.stdin); assert e and all("seen_by" in x and "fields" in x for x in e)' ||
    fail "--json is not a list of events"

step "paddock report: one failure, one recovery, a few seconds down at most"
paddock report --journal "$J" --since 1h || fail "paddock report failed"
paddock report --journal "$J" --since 1h --json | python3 -c '
import json, sys
r = json.load(sys.stdin)["resources"][sys.argv[1]]
assert r["failures"] >= 1 and r["recoveries"] == 1, r
assert 0 < r["downtime"] < 5 and 99.8 < r["availability"] < 100, r' "$RSC" || fail "paddock report --json is wrong"

step "an unreadable line is skipped and counted; bad input is one line, exit 2"
echo '{"time": 1, "kind": "resou' >> "$(ls "$J"/*.jsonl | head -1)"
warn=$(history 2>&1 >/dev/null)
grep -q "1 journal line(s) could not be read" <<<"$warn" || fail "no warning for the broken line: $warn"
err=$(paddock history --journal /nonexistent 2>&1); rc=$?
[ "$rc" = 2 ] && [ "$(wc -l <<<"$err")" = 1 ] || fail "missing journal: exit $rc: $err"
err=$(history --since soon 2>&1); rc=$?
[ "$rc" = 2 ] || fail "--since soon: exit $rc"

step "paddock maintenance: refused on a one-node cluster, forced, ended; marked in the journal"
pcs_on resource enable "$RSC" || fail "pcs resource enable failed"
wait_until 30 started
at_exit "on crm_attribute --node paddock1 --name standby --update off >/dev/null 2>&1"
out=$(on paddock maintenance on paddock1 --journal "$J" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "refusing maintenance of paddock1: .*$RSC" <<<"$out" || fail "not refused: exit $rc: $out"
started || fail "a refused maintenance stopped $RSC"
out=$(on paddock maintenance on paddock1 --force --timeout 60 --journal "$J" 2>&1) || fail "forced maintenance failed: $out"
grep -q "$RSC: paddock1 -> stopped" <<<"$out" || fail "the drain did not report $RSC: $out"
stopped || fail "$RSC still runs on a node in standby"
on paddock maintenance off paddock1 --journal "$J" || fail "maintenance off failed"
wait_until 30 started
out=$(history)
grep -q "maintenance paddock1: on" <<<"$out" && grep -q "maintenance paddock1: off" <<<"$out" ||
    fail "the maintenance is not in the history: $out"
out=$(on paddock maintenance on nosuchnode 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q "unknown node 'nosuchnode'" <<<"$out" || fail "unknown node: exit $rc: $out"

step "an unwritable journal: Pacemaker goes on, the alert agent says why"
chmod 0500 "$J"; chown root "$J"
pcs_on resource disable "$RSC" || fail "pcs resource disable failed"
wait_until 30 stopped
pcs_on resource enable "$RSC" || fail "pcs resource enable failed"
wait_until 30 started
out=$(on env CRM_alert_kind=node CRM_alert_node=x CRM_alert_recipient="$J" \
    setpriv --reuid=hacluster --regid=haclient --clear-groups "$ALERT" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "paddock-alert: cannot open" <<<"$out" || fail "unwritable journal: exit $rc: $out"
step "ok"
