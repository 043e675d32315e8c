#!/bin/bash
# fence_redfish (fence-agents, the anchor) vs fence_paddock_redfish against the same
# sushy-emulator BMC (HTTPS, ssl_insecure for both), in one run. For each action: median wall
# time and median CPU time (user+sys of the agent process) over RUNS runs; a markdown table on
# stdout. Options go on stdin for both agents, as Pacemaker passes them.
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
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { "$ROOT/tests/lib/redfish-bmc.sh" stop "$DIR/bmc" || true; rm -rf "$DIR"; }
trap cleanup EXIT
REDFISH_BMC_PASSWORD=$PASSWORD REDFISH_BMC_POWER_DELAY=1 "$ROOT/tests/lib/redfish-bmc.sh" start "$DIR/bmc" "$PORT" https

# Both agents address the system the same way (systems_uri), as fence_redfish needs.
input() { # action [extra line]
    printf '%s\n' "action=$1" ip=127.0.0.1 "ipport=$PORT" username=admin "password=$PASSWORD" ssl_insecure=1 \
        "${2:-systems_uri=/redfish/v1/Systems/$NODE}"
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

# run WHO ACTION EXPECTED_EXIT [extra input line] -> appends "wall cpu" to $DIR/WHO-ACTION
run() {
    local who=$1 action=$2 want=$3 agent=$ANCHOR
    [ "$who" = anchor ] || agent=$OURS
    input "$action" "${4:-}" > "$DIR/in"
    read -r wall cpu rc < <(measure "$agent" "$DIR/in")
    [ "$rc" = "$want" ] || { echo "bench: $who $action exited $rc, expected $want" >&2; exit 1; }
    echo "$wall $cpu" >> "$DIR/$who-$action${4:+-plug}"
}

for _ in $(seq "$FAST_RUNS"); do
    for who in anchor ours; do run "$who" status 0; run "$who" metadata 0; done
    # ours only: the system chosen by plug=Name among the emulator's 4 (reads every system);
    # fence_redfish cannot choose, it takes the last system
    run ours status 0 plug=node1
done
for _ in $(seq "$RUNS"); do
    for who in anchor ours; do run "$who" off 0; run "$who" on 0; run "$who" reboot 0; done
done

echo "fence_redfish ($(dpkg-query -W -f='${Version}' fence-agents 2>/dev/null || echo '?')) vs fence_paddock_redfish, sushy-emulator over HTTPS on 127.0.0.1, $(nproc) CPUs"
echo "median of $FAST_RUNS runs (status, metadata) / $RUNS runs (off, on, reboot)"
echo
echo "| action | fence_redfish wall ms | fence_paddock_redfish wall ms | wall speed-up | fence_redfish CPU ms | fence_paddock_redfish CPU ms | CPU ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for action in status metadata off on reboot; do
    aw=$(awk '{print $1}' "$DIR/anchor-$action" | median); ac=$(awk '{print $2}' "$DIR/anchor-$action" | median)
    ow=$(awk '{print $1}' "$DIR/ours-$action" | median); oc=$(awk '{print $2}' "$DIR/ours-$action" | median)
    awk -v a="$action" -v aw="$aw" -v ow="$ow" -v ac="$ac" -v oc="$oc" 'BEGIN {
        printf "| %s | %.1f | %.1f | %.1fx | %.1f | %.1f | %.0fx |\n", a, aw, ow, aw/ow, ac, oc, (oc > 0 ? ac/oc : 0) }'
done
ow=$(awk '{print $1}' "$DIR/ours-status-plug" | median); oc=$(awk '{print $2}' "$DIR/ours-status-plug" | median)
printf '| status by plug=node1, not systems_uri (ours only) | - | %.1f | - | - | %.1f | - |\n' "$ow" "$oc"
