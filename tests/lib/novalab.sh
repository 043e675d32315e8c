#!/bin/bash
# tests/lib/novalab.sh -- the Nova lab: a real OpenStack control plane on 127.0.0.1
# (Keystone, nova-api/-conductor/-scheduler, placement, N nova-compute with the fake
# virt driver, MariaDB, RabbitMQ, Glance + Neutron stubs), no systemd, no devstack.
#
#   install                  apt packages + python venv (idempotent; tests/setup.d/novalab.sh)
#   up [--background] [--noauth]
#                            wipe the lab's data, start everything, wait until ready.
#                            --background: return at once, then `wait`.  --noauth: nova-api
#                            without Keystone (X-Auth-Token "admin:admin", lib/token_filter.py)
#   wait [TIMEOUT]           block until a background `up` is ready (default 300 s)
#   down                     stop everything the lab started (by process group)
#   status                   processes, memory, nova-compute services
#   env                      shell assignments: OS_AUTH_URL ... NOVA_URL NOVALAB_PY
#   kill-compute N | start-compute N
#   boot NAME HOST|any [--meta k=v]... [--flavor F] [--image I] [--timeout S]
#                            boot a server on computeN (admin `host` field), wait ACTIVE, print its id
#   flavor-create NAME ID RAM VCPUS DISK [k=v ...]   (k=v: extra specs)
#   servers [--tag T] [--host H] [--status S]   "id name status host" per server (tag: metadata tag=T)
#   delete-tagged TAG        delete the servers with metadata tag=TAG (waits until gone)
#   service HOST FIELD       HOST's nova-compute service: forced_down|status|state|disabled_reason|id
#   service-reset HOST       HOST's service enabled and not forced down (a test's clean-up)
#   anchor fence_compute|fence_evacuate [key=value ...]
#                            run Debian's fence agent against the lab; lab credentials and the
#                            key=value options go to its stdin (no secret on argv)
#   selftest [--no-anchors]  evacuation sequence (REST, then through the anchors)
#
# State: $NOVALAB_DIR (default /var/tmp/paddock-novalab): venv/ etc/ (rendered) data/ logs/ run/.
# Computes: $NOVALAB_COMPUTES (default 3).  Ports (127.0.0.1): nova-api 18774, placement 18778,
# keystone 18750, mariadb 18706, amqp 18772, erlang 18782-18789, glance stub 18792, neutron stub 18796.
set -uo pipefail

HERE=$(dirname "$(readlink -f "$0")")
SELF=$HERE/$(basename "$0")
SRC=$HERE/novalab
STATE=${NOVALAB_DIR:-/var/tmp/paddock-novalab}
VENV=$STATE/venv
ETC=$STATE/etc
RUN=$STATE/run
LOGS=$STATE/logs
DATA=$STATE/data
COMPUTES=${NOVALAB_COMPUTES:-3}
NOVA_URL=http://127.0.0.1:18774/v2.1
KEYSTONE_URL=http://127.0.0.1:18750/v3
PLACEMENT_URL=http://127.0.0.1:18778
LAB_PORTS=(18774 18778 18750 18706 18772 18782 18783 18792 18796)
FENCE_AGENTS=(fence_compute fence_evacuate)

export PATH=$VENV/bin:$PATH
export PYTHONPATH=$SRC/lib
export PYTHONWARNINGS=ignore
export PYTHONDONTWRITEBYTECODE=1   # keep the source tree clean
export OS_NOVA_CONFIG_DIR=$ETC OS_KEYSTONE_CONFIG_DIR=$ETC OS_PLACEMENT_CONFIG_DIR=$ETC

log() { echo "[novalab $(date +%T)] $*" >&2; }
die() {
    log "ERROR: $*"
    [ -n "${UP_IN_PROGRESS:-}" ] && echo "$*" >"$RUN/failed"
    exit 1
}

# ------------------------------------------------------------------ install
cmd_install() {
    local t0=$SECONDS p missing=() made_policy=0
    local pkgs=(rabbitmq-server mariadb-server mariadb-client curl python3-venv iproute2 fence-agents)
    export DEBIAN_FRONTEND=noninteractive
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        # the lab runs its own rabbitmq/mariadb: keep apt from starting the system ones
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
            made_policy=1
            trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        fi
        log "apt: installing ${missing[*]}"
        timeout 600 apt-get update -q </dev/null || die "apt-get update failed"
        timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null ||
            die "apt-get install failed"
        [ $made_policy = 0 ] || { rm -f /usr/sbin/policy-rc.d; trap - EXIT; }
    fi
    mkdir -p "$STATE" && chmod 700 "$STATE"
    [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV" || die "python venv"
    if "$VENV/bin/python" -c 'import nova, placement, keystone, gunicorn, pymysql, novaclient, pexpect, pycurl' \
        2>/dev/null; then
        log "install: packages and venv already there ($((SECONDS - t0))s)"
        return 0
    fi
    log "pip: nova 34.0.0, placement, keystone 30.0.0 ... into $VENV"
    # pexpect + pycurl: what Debian's fence_compute/fence_evacuate import besides novaclient
    timeout 1800 "$VENV/bin/pip" install -q --disable-pip-version-check \
        'nova==34.0.0' 'openstack-placement==16.0.0' 'keystone==30.0.0' \
        'python-novaclient==18.13.1' 'gunicorn==27.0.1' 'PyMySQL==1.2.4' \
        'pexpect==4.9.0' 'pycurl==7.49.0' </dev/null || die "pip install failed"
    log "install done in $((SECONDS - t0))s"
}

# ------------------------------------------------------------------ processes
alive() { local p; p=$(cat "$RUN/$1.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null; }

# start NAME CMD... : in its own session (pgid = pid), pid in run/NAME.pid, output in logs/NAME.out
start() {
    local name=$1; shift
    alive "$name" && die "$name already running (pid $(cat "$RUN/$name.pid"))"
    setsid "$@" >>"$LOGS/$name.out" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
}

# stop NAME... : TERM every process group at once, one bounded wait, then KILL
stop() {
    local n p end pids=()
    for n in "$@"; do
        p=$(cat "$RUN/$n.pid" 2>/dev/null) || continue
        kill -TERM -- "-$p" 2>/dev/null && pids+=("$p")
    done
    # the lab's data is wiped at every up: a short grace, no graceful shutdowns
    end=$((SECONDS + 2))
    for p in "${pids[@]}"; do
        while kill -0 -- "-$p" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
        kill -KILL -- "-$p" 2>/dev/null
    done
    for n in "$@"; do rm -f "$RUN/$n.pid"; done
}

# wait_for SECONDS WHAT CMD... : poll CMD until it succeeds, bounded
wait_for() {
    local end=$((SECONDS + $1)) what=$2; shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "timeout waiting for $what"
        sleep 0.5
    done
}

port_open() { timeout 2 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# ------------------------------------------------------------------ config
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }

# lab-local secrets, made once and kept (0600) so a restarted lab keeps its env
load_secrets() {
    if [ ! -s "$STATE/secrets" ]; then
        (umask 077; printf 'ADMIN_PASSWORD=%s\nNOVA_PASSWORD=%s\nDB_PASSWORD=%s\n' \
            "$(secret)" "$(secret)" "$(secret)" >"$STATE/secrets")
    fi
    . "$STATE/secrets"
    (umask 077; printf '%s\n' "$ADMIN_PASSWORD" >"$STATE/admin-password")
}

render() {
    local auth_filter=$1 f name n
    rm -rf "$ETC" && mkdir -p "$ETC"
    for f in "$SRC"/etc/*.in; do
        name=$(basename "$f" .in)
        [ "$name" = nova-compute.conf ] && continue
        sed -e "s|@STATE@|$STATE|g" -e "s|@DB_PASSWORD@|$DB_PASSWORD|g" \
            -e "s|@NOVA_PASSWORD@|$NOVA_PASSWORD|g" -e "s|@AUTH_FILTER@|$auth_filter|g" \
            "$f" >"$ETC/$name"
    done
    for ((n = 1; n <= COMPUTES; n++)); do
        sed -e "s|@STATE@|$STATE|g" -e "s|@N@|$n|g" "$SRC/etc/nova-compute.conf.in" >"$ETC/nova-compute$n.conf"
    done
}

write_env() {
    local auth_url=$1
    (umask 077; {
        printf 'OS_AUTH_URL=%s\n' "$auth_url"
        printf 'OS_USERNAME=admin\nOS_PASSWORD=%s\nOS_PROJECT_NAME=admin\n' "$ADMIN_PASSWORD"
        printf 'OS_USER_DOMAIN_NAME=Default\nOS_PROJECT_DOMAIN_NAME=Default\nOS_REGION_NAME=RegionOne\n'
        printf 'NOVA_URL=%s\nGLANCE_URL=http://127.0.0.1:18792\nNOVALAB_PY=%s\n' "$NOVA_URL" "$VENV/bin/python"
    } >"$STATE/env")
}

# the lab's env for labctl.py (and the anchors)
load_env() {
    [ -s "$STATE/env" ] || die "no lab env ($STATE/env): run '$SELF up' first"
    set -a; . "$STATE/env"; . "$STATE/secrets"; set +a
    export NOVALAB_NOVA_PASSWORD=$NOVA_PASSWORD NOVALAB_DB_PASSWORD=$DB_PASSWORD NOVALAB_SH=$SELF
}

labctl() { "$VENV/bin/python" "$SRC/lib/labctl.py" "$@"; }

# ------------------------------------------------------------------ services
rabbit_env() { . "$ETC/rabbitmq-env.sh"; }

start_rabbit() {
    mkdir -p "$DATA/rabbitmq" "$LOGS/rabbitmq"
    (rabbit_env; start rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server)
}

mysql_root() { mariadb --defaults-file="$ETC/my.cnf" -uroot "$@"; }

start_mysql() {
    # an empty datadir from mariadb-install-db (~4 s), copied from the cache when there
    local pristine key
    key=$({ /usr/sbin/mariadbd --version; cat "$SRC/etc/my.cnf.in"; } | sha256sum | cut -c1-16)
    pristine=$STATE/cache/mysql-datadir-$key
    if [ -d "$pristine" ]; then
        cp -a "$pristine" "$DATA/mysql" || die "copying $pristine"
    else
        mkdir -p "$DATA/mysql" "$STATE/cache"
        mariadb-install-db --defaults-file="$ETC/my.cnf" --auth-root-authentication-method=socket \
            --skip-test-db >>"$LOGS/mysqld-install.log" 2>&1 ||
            die "mariadb-install-db (see $LOGS/mysqld-install.log)"
        rm -rf "$STATE"/cache/mysql-datadir-*
        cp -a "$DATA/mysql" "$pristine.tmp" && mv "$pristine.tmp" "$pristine"
    fi
    start mysqld /usr/sbin/mariadbd --defaults-file="$ETC/my.cnf"
    wait_for 60 mariadb mariadb-admin --defaults-file="$ETC/my.cnf" -uroot ping
    # password via stdin, not argv
    mysql_root <<SQL || die "mariadb: creating the lab's user"
CREATE USER 'nova'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'nova'@'127.0.0.1';
SQL
}

LAB_DATABASES=(nova_api nova nova_cell0 placement keystone)

# The schemas + Keystone's bootstrap take ~20 s of python on every up; their result only
# depends on the secrets, the templates and the installed packages, so the first up
# dumps it and later ups load the dump (~1 s).  Any change makes a new key.
schema_cache() {
    local key
    key=$({ cat "$STATE/secrets" "$SRC"/etc/*.in "$SELF"; echo "$1"
            ls "$VENV"/lib/python3*/site-packages; } | sha256sum | cut -c1-16)
    echo "$STATE/cache/schemas-$key.sql"
}

# fernet/credential key repository: key "0" staged, "1" primary (keystone's own layout)
make_key_repo() {
    mkdir -p "$1" && chmod 700 "$1"
    local k
    for k in 0 1; do
        (umask 077; head -c 32 /dev/urandom | base64 | tr '+/' '-_' >"$1/$k")
    done
}

start_keystone() {
    start keystone "$VENV/bin/gunicorn" --bind 127.0.0.1:18750 --workers 1 --threads 8 \
        --worker-class gthread --timeout 120 --name novalab-keystone --no-control-socket \
        keystone_wsgi:application
}

start_placement() {
    start placement "$VENV/bin/gunicorn" --bind 127.0.0.1:18778 --workers 1 --threads 8 \
        --worker-class gthread --timeout 120 --name novalab-placement --no-control-socket \
        placement.wsgi.api:application
}

# the *_chain functions make the schemas (run in parallel on a first up)
keystone_chain() {
    local km="keystone-manage --config-file $ETC/keystone.conf"
    $km db_sync || die "keystone db_sync"
    # the admin password reaches keystone-manage through its environment
    OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD $km bootstrap --bootstrap-username admin \
        --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
        --bootstrap-admin-url $KEYSTONE_URL --bootstrap-internal-url $KEYSTONE_URL \
        --bootstrap-public-url $KEYSTONE_URL || die "keystone bootstrap"
    start_keystone
    wait_for 90 keystone curl -sf -m 5 "$KEYSTONE_URL"
    labctl keystone-setup || die "keystone: service user and catalog"
}

placement_chain() {
    placement-manage --config-file "$ETC/placement.conf" db sync || die "placement db sync"
}

nova_db_chain() {
    local m="nova-manage --config-file $ETC/nova.conf --config-file $ETC/nova-db.conf"
    $m api_db sync || die "nova api_db sync"
    # cell0's database: derived from [database] (nova -> nova_cell0), no password on argv
    $m cell_v2 map_cell0 || die "nova map_cell0"
    $m cell_v2 create_cell --name cell1 || die "nova create_cell"
    $m db sync || die "nova db sync"
}

# schemas from the cache, or made afresh (and then cached)
setup_databases() {
    local mode=$1 cache db
    cache=$(schema_cache "$mode")
    # fresh keys at every up (bootstrap needs them): no token outlives its lab
    make_key_repo "$DATA/keystone/fernet-keys"
    make_key_repo "$DATA/keystone/credential-keys"
    if [ -s "$cache" ]; then
        mysql_root <"$cache" || die "loading $cache"
        log "schemas loaded from $cache"
        [ "$mode" = noauth ] || start_keystone
        return 0
    fi
    for db in "${LAB_DATABASES[@]}"; do echo "CREATE DATABASE $db;"; done | mysql_root ||
        die "mariadb: creating the databases"
    log "schema syncs (and keystone bootstrap) in parallel; cached for the next up"
    if [ "$mode" = noauth ]; then run_parallel placement nova_db; else run_parallel keystone placement nova_db; fi ||
        die "setup failed (see $LOGS/setup-*.log)"
    mkdir -p "$STATE/cache" && rm -f "$STATE"/cache/schemas-*.sql
    (umask 077; mariadb-dump --defaults-file="$ETC/my.cnf" -uroot --databases "${LAB_DATABASES[@]}" \
        >"$cache.tmp") && mv "$cache.tmp" "$cache" || log "warning: could not cache the schemas"
}

# a nova-compute's first RPC ping is lost (10 s timeout) if the conductor is not
# consuming yet; it is about to once its service record exists
conductor_registered() {
    [ "$(mysql_root -N -e "SELECT COUNT(*) FROM nova.services WHERE \`binary\`='nova-conductor'")" -gt 0 ]
}

nova_service() {  # nova_service NAME BINARY EXTRA_CONFIG [NICENESS]
    start "$1" nice -n "${4:-0}" "$VENV/bin/$2" --config-file "$ETC/nova.conf" --config-file "$3" \
        --log-file "$LOGS/$1.log"
}

start_compute() {
    local n=$1
    [[ $n =~ ^[0-9]+$ ]] && [ -f "$ETC/nova-compute$n.conf" ] || die "no compute $n"
    mkdir -p "$DATA/compute$n/instances"
    # The computes stand for other machines: on a cloud the rebuilds they run do not take the
    # control plane's CPU, so here they get only what the control plane leaves (niced).
    nova_service "nova-compute$n" nova-compute "$ETC/nova-compute$n.conf" 10
}

# run the chains in parallel; each one's output in logs/setup-NAME.log
run_parallel() {
    local name pids=() names=() i rc=0
    for name in "$@"; do
        ("${name}_chain") >"$LOGS/setup-$name.log" 2>&1 &
        pids+=($!) names+=("$name")
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || { log "${names[$i]} failed: $(tail -3 "$LOGS/setup-${names[$i]}.log")"; rc=1; }
    done
    return $rc
}

lab_memory_mib() {  # RSS of every lab process group
    local f kb=0 p
    for f in "$RUN"/*.pid; do
        [ -e "$f" ] || continue
        p=$(cat "$f")
        kb=$((kb + $(ps -o rss= -g "$p" 2>/dev/null | awk '{s += $1} END {print s + 0}')))
    done
    echo $((kb / 1024))
}

# ------------------------------------------------------------------ up / wait / down
cmd_up() {
    local background=0 noauth=0 a
    for a in "$@"; do
        case $a in
            --background) background=1 ;;
            --noauth) noauth=1 ;;
            *) die "up: unknown option $a" ;;
        esac
    done
    [ -x "$VENV/bin/nova-conductor" ] || die "lab not installed: run '$SELF install' (as root)"
    mkdir -p "$RUN" "$LOGS"
    local n
    for n in "$RUN"/*.pid; do
        [ -e "$n" ] || continue
        n=$(basename "$n" .pid)
        # run/up.pid is this very process when started with --background
        [ "$n" = up ] && [ "$(cat "$RUN/up.pid")" = "$$" ] && continue
        alive "$n" && die "lab already running: '$SELF down' first"
        rm -f "$RUN/$n.pid"
    done
    rm -f "$RUN/ready" "$RUN/failed"
    if [ $background = 1 ]; then
        setsid "$SELF" up $([ $noauth = 1 ] && echo --noauth) >"$LOGS/up.log" 2>&1 </dev/null &
        echo $! >"$RUN/up.pid"
        log "starting in the background (pid $!): '$SELF wait' blocks until ready"
        return 0
    fi
    UP_IN_PROGRESS=1
    trap '[ -e "$RUN/ready" ] || { [ -e "$RUN/failed" ] || echo "up interrupted" >"$RUN/failed"; log "up failed: stopping the lab"; cmd_down >/dev/null 2>&1; }' EXIT
    local t0=$SECONDS
    # fresh data and logs (a background up writes to logs/up.log: keep that one)
    rm -rf "$DATA" && mkdir -p "$DATA/lock" "$DATA/nova"
    find "$LOGS" -mindepth 1 ! -name up.log -delete
    load_secrets
    if [ $noauth = 1 ]; then
        render token_filter
        export OS_NOVA_CONFIG_FILES='api-paste.ini;nova.conf;nova-db.conf'
        write_env ""
    else
        render authtoken
        export OS_NOVA_CONFIG_FILES='api-paste.ini;nova.conf;nova-db.conf;nova-keystone.conf'
        write_env "$KEYSTONE_URL"
    fi
    load_env
    start_rabbit      # boots while the databases are made
    start_mysql
    start stubs "$VENV/bin/python" "$SRC/lib/stubs.py"
    log "mariadb up at $((SECONDS - t0))s"
    setup_databases "$([ $noauth = 1 ] && echo noauth || echo keystone)"
    log "databases ready at $((SECONDS - t0))s"
    start_placement
    # conductor first: the computes wait for it
    wait_for 90 rabbitmq port_open 18772
    nova_service nova-conductor nova-conductor "$ETC/nova-db.conf"
    nova_service nova-scheduler nova-scheduler "$ETC/nova-db.conf"
    start nova-api "$VENV/bin/gunicorn" --bind 127.0.0.1:18774 --workers 2 --threads 8 \
        --worker-class gthread --timeout 120 --name novalab-nova-api --no-control-socket \
        nova_wsgi:application
    wait_for 60 nova-conductor conductor_registered
    for ((n = 1; n <= COMPUTES; n++)); do start_compute $n; done
    wait_for 60 placement curl -sf -m 5 "$PLACEMENT_URL/"
    [ $noauth = 1 ] || wait_for 60 keystone curl -sf -m 5 "$KEYSTONE_URL"
    labctl wait-ready "$COMPUTES" 180 || die "nova not ready (see $LOGS/)"
    labctl flavors || die "creating the lab flavors"
    [ "$(cat "$RUN/up.pid" 2>/dev/null)" = "$$" ] && rm -f "$RUN/up.pid"
    touch "$RUN/ready"
    log "up in $((SECONDS - t0))s, $(lab_memory_mib) MiB RSS: nova $NOVA_URL$([ $noauth = 1 ] ||
        echo ", keystone $KEYSTONE_URL"); '$SELF env' prints the credentials"
}

cmd_wait() {
    local timeout=${1:-300} end
    end=$((SECONDS + timeout))
    while ((SECONDS < end)); do
        [ -e "$RUN/ready" ] && return 0
        if [ ! -e "$RUN/failed" ] && ! alive up && [ ! -e "$LOGS/up.log" ]; then
            log "the lab is not up (no 'up' under way)"
            return 1
        fi
        if [ -e "$RUN/failed" ] || ! alive up; then
            [ -e "$RUN/ready" ] && return 0
            log "lab failed to come up: $(cat "$RUN/failed" 2>/dev/null)"
            tail -20 "$LOGS/up.log" >&2
            return 1
        fi
        sleep 0.5
    done
    log "lab not ready after ${timeout}s"; tail -20 "$LOGS/up.log" >&2
    return 1
}

cmd_down() {
    local t0=$SECONDS p pid names=()
    # a background `up` first, so it starts nothing more (unless this is that up failing)
    [ "$(cat "$RUN/up.pid" 2>/dev/null)" = "$$" ] || stop up
    for p in "$RUN"/*.pid; do
        [ -e "$p" ] || continue
        case $(basename "$p" .pid) in mysqld|rabbitmq) ;; *) names+=("$(basename "$p" .pid)") ;; esac
    done
    [ ${#names[@]} -eq 0 ] || stop "${names[@]}"
    stop mysqld rabbitmq
    # epmd daemonizes out of rabbitmq's process group; then anything still on a lab port
    [ -x "$(command -v epmd)" ] && ERL_EPMD_PORT=18783 timeout 5 epmd -kill >/dev/null 2>&1
    for p in "${LAB_PORTS[@]}"; do
        for pid in $(ss -Hltnp "sport = :$p" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
            log "killing pid $pid still listening on port $p"
            kill -KILL "$pid" 2>/dev/null
        done
    done
    rm -f "$RUN/ready"
    log "down in $((SECONDS - t0))s"
}

cmd_status() {
    local f n
    for f in "$RUN"/*.pid; do
        [ -e "$f" ] || continue
        n=$(basename "$f" .pid)
        if alive "$n"; then echo "$n: running (pid $(cat "$f"))"; else echo "$n: DEAD (stale pid $(cat "$f"))"; fi
    done
    if [ -e "$RUN/ready" ]; then echo "ready; $(lab_memory_mib) MiB RSS"; else echo "not ready"; fi
    if alive nova-api; then load_env; labctl status; fi
}

# anchor AGENT [key=value ...]: the agent reads its options from stdin (no argument
# on its command line), so the lab password never appears on argv
cmd_anchor() {
    local agent=${1:-} a
    [[ " ${FENCE_AGENTS[*]} " == *" $agent "* ]] || die "anchor: one of ${FENCE_AGENTS[*]}"
    shift
    for a in "$@"; do [[ $a == *=* ]] || die "anchor: options are key=value (e.g. action=off plug=compute1)"; done
    [ -x "/usr/sbin/$agent" ] || die "/usr/sbin/$agent missing (package fence-agents)"
    load_env
    [ -n "$OS_AUTH_URL" ] || die "anchor: the fence agents need Keystone (lab is up with --noauth)"
    {
        printf 'auth_url=%s\nusername=%s\npassword=%s\ntenant_name=%s\n' \
            "$OS_AUTH_URL" "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME"
        printf 'user_domain=%s\nproject_domain=%s\nregion_name=%s\nendpoint_type=public\n' \
            "$OS_USER_DOMAIN_NAME" "$OS_PROJECT_DOMAIN_NAME" "$OS_REGION_NAME"
        printf '%s\n' "$@"
    } | timeout "${NOVALAB_ANCHOR_TIMEOUT:-300}" "$VENV/bin/python" "$SRC/lib/fence_shim.py" "/usr/sbin/$agent"
}

usage() { sed -n '2,/^set -uo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
    install) [ "$(id -u)" = 0 ] || die "install must run as root"; cmd_install ;;
    up) cmd_up "$@" ;;
    wait) cmd_wait "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    # only once ready: a test that finds the env may use the lab (a background `up` is not yet)
    env) [ -s "$STATE/env" ] || die "no lab env: run '$SELF up' first"
         [ -e "$RUN/ready" ] || die "the lab is not ready ('$SELF wait' blocks until it is)"
         cat "$STATE/env" ;;
    kill-compute)
        p=$(cat "$RUN/nova-compute${1:-}.pid" 2>/dev/null) || die "nova-compute${1:-} not running"
        kill -KILL -- "-$p"; rm -f "$RUN/nova-compute$1.pid"; log "SIGKILLed nova-compute$1 (pid $p)" ;;
    start-compute) load_env; start_compute "${1:-}"; log "started nova-compute$1" ;;
    boot) load_env; labctl boot "$@" ;;
    flavor-create|servers|delete-tagged|service|service-reset) load_env; labctl "$cmd" "$@" ;;
    anchor) cmd_anchor "$@" ;;
    selftest)
        load_env
        if [ "${1:-}" = --no-anchors ]; then labctl selftest; else labctl selftest --anchors; fi ;;
    *) usage ;;
esac
