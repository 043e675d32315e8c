#!/bin/bash
# timeout: 240
# ocf:paddock:netwatch under Pacemaker on the single node: a veth pair in the node's network
# namespace carries the watched "network" (interface pdk-nw0, target address 198.51.100.1 on
# it: ICMP); `ip link set pdk-nw0 down` cuts it. Shown: the node attribute paddock-net-systest
# ok -> lost after misses x interval -> ok; on_loss=alert: monitor degraded (190) with the
# reason, nothing else; on_loss=migrate: node health #health-paddock-systest red, then green;
# on_loss=fence: the monitor fails (1) with the reason (on-fail=restart here: the only node
# cannot be fenced; stonith-enabled=false, so leave_cluster does not take it out of the
# membership, and says why), the restart's start fails while the network is lost, and after the link
# is back a cleanup starts it again.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
AGENT=/usr/lib/ocf/resource.d/paddock/netwatch
RSC=nw1
NET=systest
IF=pdk-nw0 PEER=pdk-nw1 ADDR=198.51.100.1
INTERVAL=1 MISSES=2

require_cmd pcs crm_mon crm_resource attrd_updater ip xmllint
[ -x "$AGENT" ] || fail "$AGENT not installed (make install)"

attr() { on attrd_updater --query --name "$1" --node paddock1 2>/dev/null | sed -n 's/.*value="\(.*\)"/\1/p'; }
attr_is() { [ "$(attr "$1")" = "$2" ]; }
started() { on crm_mon -1 | grep -Eq "$RSC\s+\(ocf:paddock:netwatch\):\s+Started paddock1"; }
mon_shows() { on crm_mon -1 --show-detail 2>/dev/null | grep -q -- "$1"; }
link() { ip link set dev "$IF" "$1"; }
# after an update or a cleanup: until Pacemaker has carried out what it decided
settle() { on crm_resource --wait --timeout=60 >/dev/null || fail "the cluster did not settle"; }

# disabled first: an orphan's stop gets no parameters, so it could not find the watcher
at_exit "on pcs resource disable $RSC --wait=30 >/dev/null 2>&1; on pcs resource delete $RSC --force >/dev/null 2>&1; ip link del $IF 2>/dev/null"
ip link del "$IF" 2>/dev/null
ip link add "$IF" type veth peer name "$PEER" || fail "cannot create the veth pair $IF/$PEER"
ip addr add "$ADDR/32" dev "$IF" && ip link set "$PEER" up && link up || fail "cannot set up $IF"

step "agent known to Pacemaker and pcs, OCF 1.1 meta-data"
on crm_resource --show-metadata ocf:paddock:netwatch > "$TEST_TMP/meta.xml" || fail "crm_resource --show-metadata failed"
xmllint --noout --relaxng /usr/share/pcs/data/ocf-1.1.rng "$TEST_TMP/meta.xml" || fail "meta-data invalid for pcs"
pcs_on resource describe ocf:paddock:netwatch > "$TEST_TMP/describe.txt" || fail "pcs resource describe failed"
grep -q 'on_loss' "$TEST_TMP/describe.txt" || fail "pcs resource describe does not list on_loss"

step "pcs resource create $RSC: network $NET on $IF, target $ADDR (ICMP), interval $INTERVAL s, misses $MISSES, on_loss=alert"
pcs_on resource create "$RSC" ocf:paddock:netwatch network="$NET" interfaces="$IF" targets="$ADDR" \
    interval=$INTERVAL misses=$MISSES on_loss=alert logfile="$TEST_TMP/$RSC.log" \
    op monitor interval=2s timeout=20s on-fail=restart || fail "pcs resource create failed"
wait_until 30 started
wait_until 10 attr_is "paddock-net-$NET" ok
step "started; paddock-net-$NET=$(attr "paddock-net-$NET")"

step "cut: ip link set $IF down -> lost within misses x interval (+ a round), monitor degraded"
link down; t0=$(date +%s.%N)
wait_until 10 attr_is "paddock-net-$NET" lost
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
step "paddock-net-$NET=lost after ${took}s"
wait_until 15 mon_shows "network $NET lost ("
on crm_mon -1 --show-detail > "$TEST_TMP/crm_mon-alert.txt"
grep -Eq "degraded|190" "$TEST_TMP/crm_mon-alert.txt" || { cat "$TEST_TMP/crm_mon-alert.txt"; fail "crm_mon does not show the degraded monitor"; }
started || fail "on_loss=alert must leave the resource running"
[ -z "$(attr "#health-paddock-$NET")" ] || fail "on_loss=alert set a health attribute"
grep -q "network $NET lost" "$TEST_TMP/$RSC.log" || fail "the watcher's log does not say the network was lost"

step "link back: ok again"
link up
wait_until 10 attr_is "paddock-net-$NET" ok
on crm_resource --cleanup --resource "$RSC" >/dev/null
settle
started || fail "not started after the cleanup"

step "on_loss=migrate: cut -> #health-paddock-$NET red (after the settle rounds), back -> green"
pcs_on resource update "$RSC" on_loss=migrate || fail "pcs resource update failed"
settle
started || fail "not started with on_loss=migrate"
wait_until 10 attr_is "#health-paddock-$NET" green
link down
wait_until 15 attr_is "#health-paddock-$NET" red
step "node health red; paddock-net-$NET=$(attr "paddock-net-$NET")"
link up
wait_until 10 attr_is "#health-paddock-$NET" green
wait_until 10 attr_is "paddock-net-$NET" ok
on crm_resource --cleanup --resource "$RSC" >/dev/null
settle

step "on_loss=fence: cut -> the monitor fails with the reason (on-fail=restart on one node)"
pcs_on resource update "$RSC" on_loss=fence || fail "pcs resource update failed"
settle
started || fail "not started with on_loss=fence"
wait_until 10 attr_is "paddock-net-$NET" ok
[ -z "$(attr "#health-paddock-$NET")" ] || fail "the health attribute outlived on_loss=migrate"
link down
wait_until 20 mon_shows "on_loss=fence: monitor fails"
on crm_mon -1 --show-detail > "$TEST_TMP/crm_mon-fence.txt"
grep -Eq "$RSC.*monitor.*(error|OCF_ERR_GENERIC|'error')" "$TEST_TMP/crm_mon-fence.txt" ||
    { cat "$TEST_TMP/crm_mon-fence.txt"; fail "crm_mon does not show the failed monitor"; }
step "leave_cluster's safeguard: stonith-enabled=false here, so the node stays a member"
grep -q "stonith-enabled is false: not leaving the cluster" "$TEST_TMP/$RSC.log" ||
    fail "the watcher did not say why it stays in the cluster"
on crm_mon -1 | grep -q "Online: \[ paddock1 \]" || fail "the node is no longer online"
step "failed monitor shown by crm_mon; the restart's start fails while the network is lost"
wait_until 20 mon_shows "rounds failed at start"

step "link back, cleanup: started again, paddock-net-$NET=ok"
link up
on crm_resource --cleanup --resource "$RSC" >/dev/null
settle
started || fail "not started after the cleanup"
wait_until 10 attr_is "paddock-net-$NET" ok

step "disable: the watcher stops and withdraws its attribute"
pcs_on resource disable "$RSC" --wait=30 || fail "disable failed"
[ -z "$(attr "paddock-net-$NET")" ] || fail "paddock-net-$NET left behind after stop"
step "stopped"
