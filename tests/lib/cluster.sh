#!/bin/bash
# tests/lib/cluster.sh -- a single-node Corosync + Pacemaker cluster on loopback, no systemd.
#
#   cluster.sh up            start it, wait (bounded) until the node is online, print the time taken
#   cluster.sh down          stop it (graceful pacemaker shutdown, bounded, then SIGKILL everything)
#   cluster.sh exec CMD...   run CMD inside the cluster's namespaces (crm_mon, pcs, stonith_admin...)
#   cluster.sh status        crm_mon -1, or "down" (exit 3)
#
# Node `paddock1`, cluster `paddock-test`, corosync (knet) on 127.0.0.1.
# corosync and pacemakerd run in new PID + mount + UTS + IPC namespaces:
#  - PID namespace: `down` ends everything by killing its PID 1, and reboot(2)
#    from a pacemaker panic only ends the namespace, never the machine;
#  - mount namespace: private tmpfs on /run and /dev/shm, private bind mounts of
#    /etc/corosync, /var/lib/{corosync,pacemaker}, /var/log/{corosync,pacemaker}
#    from $PADDOCK_CLUSTER_DIR, and /proc/sysrq-trigger masked by /dev/null;
#  - the host's NETWORK namespace, so the cluster reaches BMC simulators and
#    libvirtd on 127.0.0.1. Host /run/libvirt (if it exists at `up`) is shared into
#    the private /run so qemu:///system works from resource agents.
# Processes started by resources live in the cluster's PID namespace; processes
# started on the host are not visible in its /proc.
#
# Environment:
#   PADDOCK_CLUSTER_DIR   state + logs (default /var/tmp/paddock-test/cluster)
#   CLUSTER_UP_TIMEOUT    seconds `up` waits for the node to be online (default 90)
#   CLUSTER_STOP_TIMEOUT  seconds `down` waits for a graceful pacemaker stop (default 30)
#   CLUSTER_STONITH       initial stonith-enabled (default false; fencing tests enable it)
set -u
SELF=$(readlink -f "$0")
W=${PADDOCK_CLUSTER_DIR:-/var/tmp/paddock-test/cluster}
NODE=paddock1
CLUSTER_NAME=paddock-test
PRIVATE_DIRS="etc/corosync var/lib/corosync var/lib/pacemaker var/log/pacemaker var/log/corosync"
# host /run directories shared into the private /run (those that exist when `up` runs)
SHARED_RUN_DIRS=""
[ -d /run/libvirt ] && SHARED_RUN_DIRS="libvirt"
export SHARED_RUN_DIRS

ts() { date -u '+%F %T.%3N'; }
die() { echo "cluster.sh: $*" >&2; exit 1; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
init_pid() { local p; p=$(cat "$W/run/init.pid" 2>/dev/null) && alive "$p" && echo "$p"; }

# ----------------------------------------------------------------------------- config
write_corosync_conf() {
    cat <<EOF
# written by tests/lib/cluster.sh
totem {
    version: 2
    cluster_name: $CLUSTER_NAME
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_stderr: no
    to_syslog: no
    timestamp: hires
}
quorum {
    provider: corosync_votequorum
}
nodelist {
    node {
        name: $NODE
        nodeid: 1
        ring0_addr: 127.0.0.1
    }
}
EOF
}

fresh_state_dirs() {
    rm -rf --one-file-system "$W/etc" "$W/var" "$W/run" "$W/mnt"
    mkdir -p "$W/run" "$W/mnt" "$W/etc/corosync" "$W/var/lib/corosync" "$W/var/log/corosync"
    install -d -o hacluster -g haclient -m 0750 "$W/var/lib/pacemaker" \
        "$W/var/lib/pacemaker/cib" "$W/var/lib/pacemaker/pengine" \
        "$W/var/lib/pacemaker/blackbox" "$W/var/lib/pacemaker/cores"
    install -d -o hacluster -g haclient -m 0770 "$W/var/log/pacemaker" "$W/var/log/pacemaker/bundles"
    write_corosync_conf > "$W/etc/corosync/corosync.conf"
    # Initial CIB: a lone node otherwise waits dc-deadtime (20 s) for a DC before electing itself.
    local cib="$W/var/lib/pacemaker/cib/cib.xml"
    cibadmin --empty > "$cib" &&
        CIB_file="$cib" crm_attribute --type crm_config --name dc-deadtime --update 1s &&
        CIB_file="$cib" crm_attribute --type crm_config --name stonith-enabled \
            --update "${CLUSTER_STONITH:-false}" || die "cannot write the initial CIB"
    chown hacluster:haclient "$cib" && chmod 0600 "$cib"
}

# ----------------------------------------------------------------------------- PID 1 of the cluster
# Runs inside the new namespaces (see cmd_up). Never returns.
cluster_init() {
    echo "$(ts) init: pid $$ in its pid namespace"
    hostname "$NODE"
    # pcmk__panic() writes 'b' to /proc/sysrq-trigger: that would reboot the machine.
    if [ -e /proc/sysrq-trigger ]; then
        mount --bind /dev/null /proc/sysrq-trigger && mount -o remount,bind,ro /proc/sysrq-trigger ||
            { echo "init: cannot mask /proc/sysrq-trigger, refusing to start"; exit 1; }
    fi
    # host /run directories to keep visible: park them before /run is covered (this mount
    # namespace is private, so the host never sees these mounts)
    for d in $SHARED_RUN_DIRS; do
        mkdir -p "$W/mnt/$d" && mount --bind "/run/$d" "$W/mnt/$d" || exit 1
    done
    mount -t tmpfs -o mode=0755,size=64m paddock-run /run || exit 1
    mount -t tmpfs -o mode=1777,size=256m paddock-shm /dev/shm || exit 1   # libqb IPC ring buffers
    ln -s /dev/shm /run/shm
    mkdir -p /run/lock /run/resource-agents /run/pcsd /run/fence-agents
    install -d -o hacluster -g haclient -m 0750 /run/crm
    chmod 1777 /run/lock
    for d in $SHARED_RUN_DIRS; do
        mkdir -p "/run/$d" && mount --move "$W/mnt/$d" "/run/$d" || exit 1
    done
    for d in $PRIVATE_DIRS; do
        mount --bind "$W/$d" "/$d" || exit 1
    done

    export PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none HA_LOGFACILITY=none
    corosync -f >>/var/log/corosync/corosync.stderr 2>&1 &
    echo "$(ts) init: corosync started (pid $!)"
    for _ in $(seq 100); do
        corosync-cfgtool -s >/dev/null 2>&1 && break
        sleep 0.1
    done
    pacemakerd >>/var/log/pacemaker/pacemakerd.stderr 2>&1 &
    echo "$(ts) init: pacemakerd started (pid $!)"

    # PID 1 duties: never exit (that ends the cluster), reap orphans.
    trap '' TERM INT HUP
    while :; do wait -n 2>/dev/null || sleep 1; done
}

# ----------------------------------------------------------------------------- commands
cmd_up() {
    [ "$(id -u)" = 0 ] || die "must run as root"
    local t0 p
    t0=$(date +%s.%N)
    if p=$(init_pid); then die "already up (init pid $p); run '$0 down' first"; fi
    for tool in corosync pacemakerd crm_mon crm_attribute unshare nsenter; do
        command -v "$tool" >/dev/null || die "$tool not found: run tests/setup.sh"
    done
    # corosync knet default port; a foreign corosync there would be joined, not ours.
    if ss -Huln 'sport = :5405' 2>/dev/null | grep -q .; then
        die "UDP port 5405 already in use (another corosync?): $(ss -Hulnp 'sport = :5405' | head -1)"
    fi
    # pacemaker's IPC names (abstract unix sockets) are per network namespace
    if grep -q '@cib_rw' /proc/net/unix; then
        die "a Pacemaker already runs in this network namespace (pacemakerd pid(s): $(pgrep -x pacemakerd | tr '\n' ' ')); stop it first"
    fi
    mkdir -p "$W/log"
    fresh_state_dirs
    : > "$W/log/console"
    # setsid: not in the caller's process group/session (a test's Ctrl-C does not hit it)
    # The daemons must not inherit the caller's other fds (a lock held by tests/system/run.sh
    # would otherwise live as long as corosync).
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec setsid unshare --pid --fork --kill-child=SIGKILL --mount --propagation private --uts --ipc \
            --mount-proc "$SELF" _init
    ) </dev/null >>"$W/log/console" 2>&1 &
    # setsid forks when the caller made us a process group leader (job control), so find
    # unshare by its command line rather than trusting $!
    local upid="" init=""
    for _ in $(seq 50); do
        upid=$(pgrep -n -f -- "^unshare --pid --fork .* $SELF _init\$")
        [ -n "$upid" ] && init=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null); init=${init%% *}
        [ -n "$init" ] && break
        sleep 0.1
    done
    echo "$upid" > "$W/run/unshare.pid"
    [ -n "$init" ] || { cmd_down >/dev/null 2>&1; die "namespace init did not start; see $W/log/console"; }
    echo "$init" > "$W/run/init.pid"
    readlink "/proc/$init/ns/pid" > "$W/run/pidns"

    local deadline=$(( $(date +%s) + ${CLUSTER_UP_TIMEOUT:-90} )) out=""
    while [ "$(date +%s)" -lt "$deadline" ]; do
        alive "$init" || break
        out=$(cmd_exec crm_mon -1 2>/dev/null) &&
            grep -q "Online: \[ $NODE \]" <<<"$out" && grep -q 'partition with quorum' <<<"$out" && break
        out=""
        sleep 0.5
    done
    if [ -z "$out" ]; then
        echo "cluster.sh: node $NODE not online after ${CLUSTER_UP_TIMEOUT:-90}s" >&2
        cmd_logs >&2
        cmd_down >/dev/null 2>&1
        exit 1
    fi
    echo "cluster up: node $NODE online in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s (state in $W)"
}

cmd_down() {
    local upid init pm ns
    upid=$(cat "$W/run/unshare.pid" 2>/dev/null)
    init=$(cat "$W/run/init.pid" 2>/dev/null)
    ns=$(cat "$W/run/pidns" 2>/dev/null)
    if alive "$init"; then
        # graceful: pacemakerd stops resources (VMs...) then exits; bounded
        pm=$(pgrep -P "$init" -x pacemakerd)
        if [ -n "$pm" ]; then
            kill -TERM "$pm" 2>/dev/null
            local deadline=$(( $(date +%s) + ${CLUSTER_STOP_TIMEOUT:-30} ))
            while alive "$pm" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
            alive "$pm" && echo "cluster.sh: pacemakerd did not stop in ${CLUSTER_STOP_TIMEOUT:-30}s, killing" >&2
        fi
    fi
    # killing unshare (--kill-child) kills init, and the kernel then kills the whole PID namespace
    alive "$upid" && kill -KILL "$upid" 2>/dev/null
    alive "$init" && kill -KILL "$init" 2>/dev/null
    # wait until no process is left in the namespace (bounded)
    if [ -n "$ns" ]; then
        local left=""
        for _ in $(seq 50); do
            left=$(for p in /proc/[0-9]*; do
                [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"; done)
            [ -z "$left" ] && break
            sleep 0.1
        done
        [ -n "$left" ] && { echo "cluster.sh: processes left in the cluster namespace: $left" >&2; return 1; }
    fi
    rm -f "$W/run/unshare.pid" "$W/run/init.pid" "$W/run/pidns"
    echo "cluster down"
}

cmd_exec() {
    local init
    init=$(init_pid) || die "cluster is down"
    [ $# -gt 0 ] || die "usage: cluster.sh exec CMD [ARGS...]"
    nsenter --target "$init" --mount --uts --ipc --pid -- "$@"
}

cmd_status() {
    init_pid >/dev/null || { echo "down"; exit 3; }
    cmd_exec crm_mon -1
}

# last lines of the cluster's logs (diagnostics for a failed up or test)
cmd_logs() {
    local f
    for f in "$W/log/console" "$W/var/log/corosync/corosync.log" "$W/var/log/corosync/corosync.stderr" \
             "$W/var/log/pacemaker/pacemakerd.stderr" "$W/var/log/pacemaker/pacemaker.log"; do
        [ -s "$f" ] || continue
        echo "---- tail $f"
        tail -n "${LINES_OF_LOG:-30}" "$f"
    done
}

# tests/system/run.sh and tests/demo.sh hold $LOCK while they use the cluster (and export
# PADDOCK_CLUSTER_LOCKED=1); a manual up/down meanwhile would pull the cluster from under them.
LOCK=${PADDOCK_TEST_DIR:-/var/tmp/paddock-test}/system.lock
not_in_use_by_others() {
    [ "${PADDOCK_CLUSTER_LOCKED:-0}" = 1 ] && return 0
    mkdir -p "$(dirname "$LOCK")"
    exec 8>>"$LOCK"
    flock -n 8 || die "the cluster is in use by tests/system/run.sh or tests/demo.sh ($LOCK is locked)"
    exec 8>&-
}

case "${1:-}" in
    up)     not_in_use_by_others; cmd_up ;;
    down)   not_in_use_by_others; cmd_down ;;
    exec)   shift; cmd_exec "$@" ;;
    status) cmd_status ;;
    logs)   cmd_logs ;;
    _init)  cluster_init ;;
    *)      echo "usage: $0 up|down|exec CMD...|status|logs" >&2; exit 2 ;;
esac
