#!/bin/bash
# timeout: 300
# ocf:paddock:procwatch profile=nova-compute with Keystone credentials, under Pacemaker, on the
# Nova lab: the cluster runs compute3's nova-compute (the lab's own is stopped); killed while it
# cannot start any more (its launcher broken), Pacemaker's restart fails and procwatch disables
# compute3's service in Nova with a `paddock-procwatch:` reason, so that the scheduler sends
# nothing new there; mended and cleaned up, the service runs and is enabled again.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
LAB=$PADDOCK_REPO/tests/lib/novalab.sh
STATE=${NOVALAB_DIR:-/var/tmp/paddock-novalab}
HOST=compute3
RSC=pw-nova
LAUNCHER=$TEST_TMP/nova-compute-launcher

require_cmd pcs crm_mon crm_resource
[ -x /usr/lib/ocf/resource.d/paddock/procwatch ] || fail "ocf:paddock:procwatch not installed (make install-deb)"

step "the Nova lab"
if ! "$LAB" wait 420; then
    "$LAB" up || fail "the Nova lab does not come up"
    [ "${KEEP_NOVALAB:-0}" = 1 ] || at_exit "\"$LAB\" down >/dev/null 2>&1"
fi
eval "$("$LAB" env)" || fail "novalab.sh env"
service() { "$LAB" service "$HOST" "$1"; }
[ "$(service status)" = enabled ] || fail "$HOST's service is not enabled before the test"

step "the cluster runs $HOST's nova-compute (the lab's own stopped)"
"$LAB" kill-compute 3 || fail "kill-compute 3"
# whatever happens: the cluster's copy gone, the lab's back, the service enabled
at_exit "\"$LAB\" start-compute 3 >/dev/null 2>&1; \"$LAB\" service-reset $HOST"
at_exit "$CLUSTER exec pcs resource delete $RSC --force >/dev/null 2>&1"
mend() {
    printf '#!/bin/sh\nexec %s --config-file %s --config-file %s --log-file %s\n' \
        "$STATE/venv/bin/nova-compute" "$STATE/etc/nova.conf" "$STATE/etc/nova-compute3.conf" \
        "$TEST_TMP/nova-compute3.log" > "$LAUNCHER"
    chmod 0755 "$LAUNCHER"
}
mend
pcs_on resource create "$RSC" ocf:paddock:procwatch profile=nova-compute command="$LAUNCHER" \
    user=root group=root logfile="$TEST_TMP/$RSC.log" nova_host="$HOST" \
    auth_url="$OS_AUTH_URL" username="$OS_USERNAME" password="$OS_PASSWORD" \
    project_name="$OS_PROJECT_NAME" user_domain="$OS_USER_DOMAIN_NAME" \
    project_domain="$OS_PROJECT_DOMAIN_NAME" endpoint_type=public \
    op monitor interval=2s timeout=20s op start timeout=30s meta migration-threshold=3 ||
    fail "pcs resource create $RSC"
wait_until 60 eval 'on crm_mon -1 | grep -Eq "$RSC\s.*Started paddock1"'
wait_until 60 eval '[ "$(service state)" = up ]'

step "nova-compute killed while its launcher is broken: the restart fails, Nova is told"
printf '#!/bin/sh\necho "nova-compute: cannot start (broken on purpose by the test)" >&2\nexit 1\n' > "$LAUNCHER"
on pkill -KILL -f 'nova-compute3.conf' || fail "no nova-compute of the cluster's to kill"
# the monitor fails, Pacemaker restarts it, the start fails (start-failure-is-fatal): given up here
wait_until 60 eval 'on crm_mon -1 -r | grep -Eq "$RSC\s.*Stopped"'
wait_until 30 eval '[ "$(service status)" = disabled ]'
reason=$(service disabled_reason)
grep -q "^paddock-procwatch: $RSC:" <<<"$reason" || fail "disabled_reason is '$reason'"
step "disabled_reason: $reason"
! grep -q -- "$OS_PASSWORD" "$TEST_TMP/$RSC.log" || fail "procwatch's log holds the password"
wait_until 10 decision_recorded "procwatch .*nova-disable"

step "mended, cleaned up: nova-compute runs, the service is enabled again"
mend
on crm_resource --cleanup --resource "$RSC" >/dev/null || fail "crm_resource --cleanup"
wait_until 60 eval 'on crm_mon -1 | grep -Eq "$RSC\s.*Started paddock1"'
wait_until 30 eval '[ "$(service status)" = enabled ]'
[ -z "$(service disabled_reason)" ] || fail "the reason stays: $(service disabled_reason)"
step "ok"
