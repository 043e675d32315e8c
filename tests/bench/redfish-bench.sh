#!/bin/bash
# fence_redfish (fence-agents, the anchor) vs fence_paddock_redfish against the same
# sushy-emulator BMCs (HTTPS, ssl_insecure for both), in one run. For each action: median wall
# time and median CPU time (user+sys of the agent process) over RUNS runs; a markdown table on
# stdout. Options go on stdin for both agents, as Pacemaker passes them.
# Two emulators: one whose password check is nearly free (bcrypt cost 4), and an
# authenticating one (bcrypt cost 12, ~0.2 s a request, as real BMCs), where the number of
# authenticated requests each agent makes shows.
#
#   tests/bench/redfish-bench.sh            (RUNS=7 FAST_RUNS=15 to change the counts)
#
# Needs tests/setup.d/redfish.sh (sushy-tools venv, fence-agents) and a release build
# (built here if missing). The emulator applies a power change ~0-1 s after the request
# (REDFISH_BMC_POWER_DELAY=1), so on/off/reboot time is mostly waiting for the BMC, the same for both.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
RUNS=${RUNS:-5}            # on / off / reboot
FAST_RUNS=${FAST_RUNS:-11} # status / metadata
AUTH_RUNS=${AUTH_RUNS:-3}  # off / on on the bcrypt-12 emulator
ANCHOR=${ANCHOR:-fence_redfish}
OURS=${OURS:-$ROOT/target/release/fence_paddock_redfish}
PASSWORD=bench-Pw-31337
NODE=11111111-1111-4111-8111-000000000001

command -v "$ANCHOR" >/dev/null || { echo "bench: $ANCHOR missing (apt-get install fence-agents)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 missing" >&2; exit 1; }
if [ ! -x "$OURS" ]; then
    (cd "$ROOT" && cargo build -q --release -p fence_paddock_redfish)
fi

DIR=$(mktemp -d /tmp/redfish-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() {
    for bmc in "$DIR"/bmc-*; do [ -d "$bmc" ] && "$ROOT/tests/lib/redfish-bmc.sh" stop "$bmc"; done
    rm -rf "$DIR"
}
trap cleanup EXIT
# Two emulators: bcrypt cost 4 (authentication nearly free) and cost 12 (each authenticated
# request costs ~0.2 s of hashing, as on real BMCs: where the number of requests shows).
PORT=$(free_port); AUTH_PORT=$(free_port)
REDFISH_BMC_PASSWORD=$PASSWORD REDFISH_BMC_POWER_DELAY=1 "$ROOT/tests/lib/redfish-bmc.sh" start "$DIR/bmc-cheap" "$PORT" https
REDFISH_BMC_PASSWORD=$PASSWORD REDFISH_BMC_POWER_DELAY=1 REDFISH_BMC_BCRYPT_COST=12 \
    "$ROOT/tests/lib/redfish-bmc.sh" start "$DIR/bmc-auth" "$AUTH_PORT" https
# ours remembers plug -> system in this directory (its default is under /run)
export PADDOCK_REDFISH_CACHE=$DIR/plug-cache

# input ACTION PORT [line]: both agents address the system the same way (systems_uri), as
# fence_redfish needs, unless a line (plug=...) replaces that.
input() {
    printf '%s\n' "action=$1" ip=127.0.0.1 "ipport=$2" username=admin "password=$PASSWORD" ssl_insecure=1 \
        "${3:-systems_uri=/redfish/v1/Systems/$NODE}"
}

# measure AGENT INPUTFILE -> "wall_ms cpu_ms exit_code" of one run (CPU of the child only)
measure() {
    python3 - "$1" "$2" <<'EOF'
import os, subprocess, sys, time
agent, input_file = sys.argv[1], sys.argv[2]
with open(input_file, "rb") as stdin:
    start = time.perf_counter()
    child = subprocess.Popen([agent], stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
print(f"{wall*1000:.1f} {(usage.ru_utime + usage.ru_stime)*1000:.1f} {os.waitstatus_to_exitcode(status)}")
EOF
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# run WHO NAME ACTION EXPECTED_EXIT PORT [input line] -> appends "wall cpu" to $DIR/WHO-NAME
run() {
    local who=$1 name=$2 action=$3 want=$4 port=$5 agent=$ANCHOR
    [ "$who" = anchor ] || agent=$OURS
    input "$action" "$port" "${6:-}" > "$DIR/in"
    read -r wall cpu rc < <(measure "$agent" "$DIR/in")
    [ "$rc" = "$want" ] || { echo "bench: $who $name exited $rc, expected $want" >&2; exit 1; }
    echo "$wall $cpu" >> "$DIR/$who-$name"
}

# uncached: the plug cache disabled, so every run discovers the system
uncached() { PADDOCK_REDFISH_CACHE= run "$@"; }

for _ in $(seq "$FAST_RUNS"); do
    for who in anchor ours; do
        run "$who" status status 0 "$PORT"; run "$who" metadata metadata 0 "$PORT"
        run "$who" auth-status status 0 "$AUTH_PORT"
    done
    # ours only: the system chosen by plug (fence_redfish cannot choose: it takes the last
    # member). By Name among the emulator's 4 systems: the first run reads them all, later
    # runs read the remembered one.
    run ours status-plug status 0 "$PORT" plug=node1
    run ours auth-status-plug status 0 "$AUTH_PORT" plug=node1
    uncached ours auth-status-plug-uncached status 0 "$AUTH_PORT" plug=node1
    uncached ours auth-status-id-uncached status 0 "$AUTH_PORT" "plug=$NODE"
done
for _ in $(seq "$RUNS"); do
    for who in anchor ours; do
        run "$who" off off 0 "$PORT"; run "$who" on on 0 "$PORT"; run "$who" reboot reboot 0 "$PORT"
    done
done
for _ in $(seq "$AUTH_RUNS"); do
    for who in anchor ours; do
        run "$who" auth-off off 0 "$AUTH_PORT"; run "$who" auth-on on 0 "$AUTH_PORT"
    done
done

row() { # label anchor-file ours-file
    local ow oc aw ac
    ow=$(awk '{print $1}' "$DIR/$3" | median); oc=$(awk '{print $2}' "$DIR/$3" | median)
    if [ -n "$2" ]; then
        aw=$(awk '{print $1}' "$DIR/$2" | median); ac=$(awk '{print $2}' "$DIR/$2" | median)
        awk -v a="$1" -v aw="$aw" -v ow="$ow" -v ac="$ac" -v oc="$oc" 'BEGIN {
            printf "| %s | %.1f | %.1f | %.1fx | %.1f | %.1f | %.0fx |\n", a, aw, ow, aw/ow, ac, oc, (oc > 0 ? ac/oc : 0) }'
    else
        printf '| %s | - | %.1f | - | - | %.1f | - |\n' "$1" "$ow" "$oc"
    fi
}

echo "fence_redfish ($(dpkg-query -W -f='${Version}' fence-agents 2>/dev/null || echo '?')) vs fence_paddock_redfish, sushy-emulator over HTTPS on 127.0.0.1, $(nproc) CPUs"
echo "median of $FAST_RUNS runs (status, metadata) / $RUNS runs (off, on, reboot) / $AUTH_RUNS runs (off, on with bcrypt 12)"
echo "bcrypt 12: each authenticated request costs the emulator ~0.2 s, as on real BMCs; fence_redfish by systems_uri"
echo
echo "| action | fence_redfish wall ms | fence_paddock_redfish wall ms | wall speed-up | fence_redfish CPU ms | fence_paddock_redfish CPU ms | CPU ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for action in status metadata off on reboot; do
    row "$action" "anchor-$action" "ours-$action"
done
row "status by plug=node1 (Name; remembered), ours only" "" ours-status-plug
row "bcrypt 12: status" anchor-auth-status ours-auth-status
row "bcrypt 12: status by plug=node1 (remembered) vs fence_redfish by systems_uri" anchor-auth-status ours-auth-status-plug
row "bcrypt 12: status by plug=node1, no cache (collection + 4 systems in parallel)" anchor-auth-status ours-auth-status-plug-uncached
row "bcrypt 12: status by plug=Id, no cache (collection + 1 system)" anchor-auth-status ours-auth-status-id-uncached
row "bcrypt 12: off" anchor-auth-off ours-auth-off
row "bcrypt 12: on" anchor-auth-on ours-auth-on
