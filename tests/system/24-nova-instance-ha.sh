#!/bin/bash
# timeout: 600
# OpenStack instance HA through Pacemaker, on the real Nova lab (tests/lib/novalab.sh: Keystone,
# nova-api/conductor/scheduler, placement, fake-driver computes). compute1's "host" has a fencing
# level of two devices, as instance HA is deployed: its power (fence_paddock_redfish, a
# sushy-emulator system) and then Nova (fence_paddock_compute: forces its nova-compute service
# down). ocf:paddock:nova-evacuate runs in the cluster and evacuates what Nova shows forced down.
#
# compute1 carries HA instances and three that must stay (policy off in the instance's metadata,
# its flavor, its image). Its nova-compute is killed, `stonith_admin --fence compute1` powers the
# host off and forces the service down; every HA instance is rebuilt ACTIVE on compute2/3, the
# three others stay on compute1. nova-compute back, `stonith_admin --unfence compute1`: the
# service is unforced (Nova refuses that until the evacuations are completed: the agent retries).
# Bad input through the agent itself: wrong password, unknown host, Nova API down.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
LAB=$PADDOCK_REPO/tests/lib/novalab.sh
BMC=$PADDOCK_REPO/tests/lib/redfish-bmc.sh
D=$TEST_TMP/redfish
RF_PORT=$TEST_PORT_BASE
HOST=compute1
NODE1=11111111-1111-4111-8111-000000000001
NO_HA_IMAGE=22222222-3333-4444-5555-666666666666
export REDFISH_BMC_PASSWORD=rf-secret REDFISH_BMC_POWER_DELAY=1
HA_COUNT=${NOVA_TEST_HA_INSTANCES:-4}

require_cmd stonith_admin pcs crm_mon crm_resource xmllint curl
for f in /usr/sbin/fence_paddock_compute /usr/sbin/fence_paddock_redfish /usr/lib/ocf/resource.d/paddock/nova-evacuate; do
    [ -x "$f" ] || fail "$f not installed (make install-deb)"
done

step "the Nova lab (up now unless it is already)"
if ! "$LAB" wait 420; then
    "$LAB" up || fail "the Nova lab does not come up"
    [ "${KEEP_NOVALAB:-0}" = 1 ] || at_exit "\"$LAB\" down >/dev/null 2>&1"
fi
eval "$("$LAB" env)" || fail "novalab.sh env"
[ -n "${OS_PASSWORD:-}" ] || fail "the lab gave no password"
# the servers this test boots are deleted at exit, whatever happens
at_exit "\"$LAB\" delete-tagged paddock-st24 >/dev/null 2>&1"
at_exit "\"$LAB\" start-compute 1 >/dev/null 2>&1; \"$LAB\" service-reset compute1 >/dev/null 2>&1"

service() { "$LAB" service "$HOST" "$1"; }   # forced_down | status | state | disabled_reason
on_host() { "$LAB" servers --tag paddock-st24 --host "$1" --status ACTIVE | wc -l; }

step "agents known to Pacemaker and pcs; metadata valid"
on stonith_admin --metadata --agent fence_paddock_compute > "$TEST_TMP/fence.xml" || fail "stonith_admin --metadata"
for p in auth_url username password project_name tenant_name user_domain project_domain region_name \
    endpoint_type ssl_insecure domain record_only no_shared_storage plug; do
    xmllint --xpath "//parameter[@name='$p']" "$TEST_TMP/fence.xml" >/dev/null 2>&1 ||
        fail "fence_paddock_compute metadata has no '$p' (fence_compute compatibility)"
done
pcs_on stonith describe fence_paddock_compute >/dev/null || fail "pcs stonith describe fence_paddock_compute"
on crm_resource --show-metadata ocf:paddock:nova-evacuate > "$TEST_TMP/evac.xml" || fail "crm_resource --show-metadata"
xmllint --noout --relaxng /usr/share/pcs/data/ocf-1.1.rng "$TEST_TMP/evac.xml" || fail "nova-evacuate meta-data invalid for pcs"
pcs_on resource describe ocf:paddock:nova-evacuate | grep -q default_ha || fail "pcs resource describe lacks default_ha"

step "instances on $HOST: $HA_COUNT HA, 3 with the policy off (instance metadata, flavor, image)"
for i in $(seq 1 "$HA_COUNT"); do
    "$LAB" boot "st24-ha$i" "$HOST" --meta tag=paddock-st24 >/dev/null || fail "boot st24-ha$i"
done
"$LAB" boot st24-meta-off "$HOST" --meta tag=paddock-st24 --meta paddock:ha=false >/dev/null || fail "boot st24-meta-off"
"$LAB" boot st24-flavor-off "$HOST" --meta tag=paddock-st24 --flavor 2 >/dev/null || fail "boot st24-flavor-off"
"$LAB" boot st24-image-off "$HOST" --meta tag=paddock-st24 --image $NO_HA_IMAGE >/dev/null || fail "boot st24-image-off"
[ "$(on_host $HOST)" = $((HA_COUNT + 3)) ] || fail "not all instances ACTIVE on $HOST"
[ "$(service forced_down)" = false ] || fail "$HOST forced down before the test"

step "Redfish BMC for $HOST's power; fencing level: power, then Nova"
mkdir -p "$D"
"$BMC" start "$D" "$RF_PORT" https || fail "cannot start the Redfish BMC"
at_exit "\"$BMC\" stop \"$D\""
on crm_attribute --type crm_config --name stonith-enabled --update true
at_exit "$CLUSTER exec crm_attribute --type crm_config --name stonith-enabled --update false"
pcs_on stonith create f-power fence_paddock_redfish ip=127.0.0.1 ipport="$RF_PORT" username=admin \
    password="$REDFISH_BMC_PASSWORD" ssl=1 ssl_ca_file="$D/ca.pem" pcmk_host_map="$HOST:node1" ||
    fail "create f-power"
pcs_on stonith create f-nova fence_paddock_compute auth_url="$OS_AUTH_URL" username="$OS_USERNAME" \
    password="$OS_PASSWORD" project_name="$OS_PROJECT_NAME" user_domain="$OS_USER_DOMAIN_NAME" \
    project_domain="$OS_PROJECT_DOMAIN_NAME" endpoint_type=public pcmk_host_list="$HOST" ||
    fail "create f-nova"
# one level of two devices, in order: both must succeed (--force: compute1 is not a cluster node)
pcs_on stonith level add 1 "$HOST" f-power f-nova --force || fail "fencing level"
pcs_on resource create evac ocf:paddock:nova-evacuate auth_url="$OS_AUTH_URL" username="$OS_USERNAME" \
    password="$OS_PASSWORD" project_name="$OS_PROJECT_NAME" user_domain="$OS_USER_DOMAIN_NAME" \
    project_domain="$OS_PROJECT_DOMAIN_NAME" interval=1 logfile="$TEST_TMP/evac.log" \
    op monitor interval=5s timeout=20s || fail "create nova-evacuate"
wait_until 60 eval 'on crm_mon -1 | grep -Eq "evac\s.*Started paddock1"'
wait_until 60 eval 'on crm_mon -1 | grep -Eq "f-nova\s.*Started paddock1"'
! grep -q -- "$OS_PASSWORD" "$TEST_TMP/evac.log" || fail "nova-evacuate's log holds the password"

step "$HOST dies: its nova-compute stops; stonith_admin --fence $HOST"
"$LAB" kill-compute 1 || fail "kill-compute 1"
t0=$(date +%s.%N)
on stonith_admin --fence "$HOST" --timeout 90 || fail "stonith_admin --fence $HOST failed"
t_fenced=$(date +%s.%N)
[ "$(curl -s --max-time 5 --cacert "$D/ca.pem" -u "admin:$REDFISH_BMC_PASSWORD" \
    "https://127.0.0.1:$RF_PORT/redfish/v1/Systems/$NODE1" | sed -n 's/.*"PowerState": *"\([A-Za-z]*\)".*/\1/p')" = Off ] ||
    fail "the host's power is not off after the fencing"
[ "$(service forced_down)" = true ] || fail "$HOST's nova-compute is not forced down after the fencing"

step "every HA instance rebuilt ACTIVE elsewhere; the three with the policy off stay on $HOST"
all_evacuated() { [ "$(( $(on_host compute2) + $(on_host compute3) ))" = "$HA_COUNT" ]; }
wait_until 120 all_evacuated
t_active=$(date +%s.%N)
step "fence -> all ACTIVE elsewhere: $(awk -v a="$t0" -v b="$t_active" 'BEGIN { printf "%.1f", b - a }') s (fence itself $(awk -v a="$t0" -v b="$t_fenced" 'BEGIN { printf "%.1f", b - a }') s)"
for n in st24-meta-off st24-flavor-off st24-image-off; do
    "$LAB" servers --tag paddock-st24 --host "$HOST" | grep -qw "$n" || fail "$n left $HOST (its policy is off)"
done
grep -Eq "st24-(meta|flavor|image)-off" "$TEST_TMP/evac.log" || fail "nova-evacuate does not report the instances it left"
wait_until 30 eval '[ "$(service status)" = disabled ] && service disabled_reason | grep -q "^paddock-evacuate:"'
decision_recorded "compute1" || fail "no decision about $HOST in the journal (paddock history)"

step "$HOST back: nova-compute runs again; stonith_admin --unfence $HOST unforces the service"
"$LAB" start-compute 1 || fail "start-compute 1"
on stonith_admin --unfence "$HOST" --timeout 120 || fail "stonith_admin --unfence $HOST failed"
[ "$(service forced_down)" = false ] || fail "$HOST still forced down after the unfencing"
wait_until 30 eval '[ "$(service status)" = enabled ]'

step "bad input, through the agent itself: no secret in what it prints"
agent() { timeout 60 /usr/sbin/fence_paddock_compute "$@"; }
creds="auth_url=$OS_AUTH_URL
username=$OS_USERNAME
project_name=$OS_PROJECT_NAME
user_domain=$OS_USER_DOMAIN_NAME
project_domain=$OS_PROJECT_DOMAIN_NAME
endpoint_type=public"
wrong="Wr0ng-$RANDOM$RANDOM"
out=$(printf '%s\npassword=%s\naction=status\nplug=%s\n' "$creds" "$wrong" "$HOST" | agent 2>&1); rc=$?
[ $rc = 1 ] || fail "wrong password: exit $rc, expected 1 ($out)"
grep -qi "refused the credentials" <<<"$out" || fail "wrong password: unclear error: $out"
! grep -q -- "$wrong" <<<"$out" || fail "wrong password: the password is printed"
out=$(printf '%s\npassword=%s\naction=status\nplug=compute-nowhere\n' "$creds" "$OS_PASSWORD" | agent 2>&1); rc=$?
[ $rc = 1 ] && grep -q "compute-nowhere" <<<"$out" || fail "unknown host: exit $rc: $out"
out=$(printf 'auth_url=http://127.0.0.1:9/v3\nusername=admin\npassword=x\nproject_name=admin\naction=status\nplug=%s\npower_timeout=5\nlogin_timeout=3\n' "$HOST" |
    { s=$(date +%s); agent; echo "rc=$? took=$(( $(date +%s) - s ))"; } 2>&1)
grep -q "rc=1 " <<<"$out" || fail "Keystone down: not exit 1: $out"
[ "$(sed -n 's/.*took=\([0-9]*\).*/\1/p' <<<"$out")" -le 10 ] || fail "Keystone down: not bounded: $out"
step "ok"
