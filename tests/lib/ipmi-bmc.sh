#!/bin/bash
# A simulated IPMI BMC for tests and benchmarks: OpenIPMI's ipmi_sim on 127.0.0.1, IPMI v1.5
# and v2.0 (RMCP+, cipher suites 0-3) over LAN, whose "machine" is a sleeping process.
#
#   ipmi-bmc.sh start NAME PORT [--kg HEX] [--off]   start BMC NAME on UDP 127.0.0.1:PORT
#   ipmi-bmc.sh stop NAME                            stop the BMC and its machine
#   ipmi-bmc.sh power NAME                           print "on" or "off" (the machine's real state)
#   ipmi-bmc.sh wait NAME on|off [SECONDS]           wait (default 10 s) until the machine is so
#
# Stable interface: the Rust integration tests, the cluster helper and tests/bench/ipmi-bench.sh
# use it. Everything of BMC NAME lives in $IPMI_BMC_DIR/NAME (default /tmp/paddock-ipmi-bmc):
#   lan.conf cmds state/ sim.log sim.pid machine.pid
# The machine is on at start (use --off for off). Power state = "the startcmd process
# (sleep) is alive": ipmi_sim starts it on power up and SIGTERMs it on power down, and
# applies chassis control on its 1 s tick, so an observer must poll (`wait`).
# The VM-codec serial channel on TCP 127.0.0.1:PORT is what enables chassis control in
# ipmi_sim (without it Chassis Control answers "invalid data field"); nothing connects to it.
#
# Users (all auth types none/md2/md5/straight allowed, channel limit admin):
#   2 admin / secret      administrator
#   3 oper  / opsecret    operator
#   4 user  / usersecret  user
#   5 fencer / Fx-Pw-9dJ2kq administrator  (a password no other process on the machine shows)
# --kg HEX sets the BMC key Kg for RMCP+: HEX must decode to printable ASCII (no blank or
# quote, at most 19 bytes), because ipmi_sim only reads a Kg as a quoted string (zero-padded
# to 20 bytes). E.g. --kg 6b67736563726574 = "kgsecret".
set -euo pipefail
ROOT=${IPMI_BMC_DIR:-/tmp/paddock-ipmi-bmc}
SELF=$(readlink -f "$0")
die() { echo "ipmi-bmc: $*" >&2; exit 1; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { cat "$ROOT/$1/$2.pid" 2>/dev/null || true; }

# "udp 127.0.0.1:PORT is bound" from /proc/net/udp (no ss/netstat needed)
udp_bound() {
    local hex; hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" '$2 == a { f = 1 } END { exit !f }' /proc/net/udp
}

machine_state() {
    local pid; pid=$(pid_of "$1" machine)
    # the startcmd process is ours (and not a recycled PID) if it is `sleep` or still the
    # `_machine` step of this script just before its exec
    if alive "$pid" && { grep -q '^sleep' "/proc/$pid/comm" 2>/dev/null ||
                         tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "_machine $ROOT/$1"; }; then
        echo on
    else
        echo off
    fi
}

cmd_start() {
    local name=${1:-} port=${2:-}; shift 2 || die "usage: start NAME PORT [--kg HEX] [--off]"
    [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad BMC name '$name'"
    [[ $port =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] && [ "$port" -lt 65536 ] || die "bad port '$port'"
    local kg="" startnow=true
    while [ $# -gt 0 ]; do
        case $1 in
        --kg) kg=${2:-}; shift 2 || die "--kg needs a value" ;;
        --off) startnow=false; shift ;;
        *) die "unknown option $1" ;;
        esac
    done
    command -v ipmi_sim >/dev/null || die "ipmi_sim not found: install Debian package openipmi (tests/setup.sh)"
    local d=$ROOT/$name
    alive "$(pid_of "$name" sim)" && die "BMC $name is already running (pid $(pid_of "$name" sim))"
    udp_bound "$port" && die "UDP 127.0.0.1:$port is already in use"
    rm -rf "$d"; mkdir -p "$d/state"
    local kgline=""
    if [ -n "$kg" ]; then
        [[ $kg =~ ^([0-9A-Fa-f]{2}){1,19}$ ]] || die "--kg: 2 to 38 hex digits expected"
        local ascii; ascii=$(printf '%b' "$(sed 's/../\\x&/g' <<<"$kg")")
        [[ $ascii =~ ^[!#-~]+$ ]] || die "--kg: must decode to printable ASCII without blanks or quotes (ipmi_sim limitation)"
        kgline="    bmc_key \"$ascii\""
    fi
    cat > "$d/cmds" <<'EOF'
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 dynsens
mc_enable 0x20
EOF
    cat > "$d/lan.conf" <<EOF
name "$name"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $port
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
$kgline
  endlan
  serial 15 127.0.0.1 $port codec VM
  startcmd "$SELF _machine $d"
  startnow $startnow
  poweroff_wait 0
  kill_wait 1
  user 2 true "admin" "secret" admin 10 none md2 md5 straight
  user 3 true "oper" "opsecret" operator 10 none md2 md5 straight
  user 4 true "user" "usersecret" user 10 none md2 md5 straight
  user 5 true "fencer" "Fx-Pw-9dJ2kq" admin 10 none md2 md5 straight
EOF
    ( cd "$d" && exec setsid ipmi_sim -c "$d/lan.conf" -f "$d/cmds" -s "$d/state" -n </dev/null >"$d/sim.log" 2>&1 ) &
    echo $! > "$d/sim.pid"
    local i
    for i in $(seq 100); do
        if udp_bound "$port"; then
            if [ "$startnow" = true ]; then
                for i in $(seq 50); do [ "$(machine_state "$name")" = on ] && break; sleep 0.1; done
            fi
            return 0
        fi
        alive "$(pid_of "$name" sim)" || { cat "$d/sim.log" >&2; die "ipmi_sim for $name exited"; }
        sleep 0.05
    done
    cmd_stop "$name"
    die "ipmi_sim for $name did not bind UDP 127.0.0.1:$port"
}

cmd_stop() {
    local name=${1:-}; [ -n "$name" ] || die "usage: stop NAME"
    local sim machine i
    sim=$(pid_of "$name" sim); machine=$(pid_of "$name" machine)
    alive "$sim" && kill "$sim" 2>/dev/null
    for i in $(seq 30); do alive "$sim" || break; sleep 0.05; done
    alive "$sim" && kill -KILL "$sim" 2>/dev/null
    if alive "$machine" && grep -q '^sleep' "/proc/$machine/comm" 2>/dev/null; then kill "$machine" 2>/dev/null; fi
    rm -f "$ROOT/$name/sim.pid" "$ROOT/$name/machine.pid"
    return 0
}

cmd_wait() {
    local name=${1:-} want=${2:-} secs=${3:-10}
    [[ $want == on || $want == off ]] || die "usage: wait NAME on|off [SECONDS]"
    local end=$((SECONDS + ${secs%.*} + 1))
    while [ $SECONDS -lt $end ]; do
        [ "$(machine_state "$name")" = "$want" ] && return 0
        sleep 0.1
    done
    echo "ipmi-bmc: $name still $(machine_state "$name") after ${secs}s (wanted $want)" >&2
    return 1
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
power) shift; [ -n "${1:-}" ] || die "usage: power NAME"; machine_state "$1" ;;
wait) shift; cmd_wait "$@" ;;
_machine)
    # ipmi_sim's startcmd: the simulated machine. Record our PID, then become `sleep` (same PID,
    # so ipmi_sim's SIGTERM on power down ends it).
    echo $$ > "$2/machine.pid"
    exec sleep 100000 ;;
*) sed -n '2,9p' "$SELF" >&2; exit 2 ;;
esac
