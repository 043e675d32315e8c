#!/bin/bash
# fence_ipmilan (fence-agents + ipmitool, the anchor) vs fence_paddock_ipmi against the same
# ipmi_sim BMC (tests/lib/ipmi-bmc.sh), in one run. For each action: median wall time and
# median CPU time (user+sys of the agent and every child it waited for, from wait4)
# over RUNS runs, the two agents alternating; a markdown table on stdout.
#
#   tests/bench/ipmi-bench.sh               (RUNS=5 FAST_RUNS=11 to change the counts)
#
# Both agents get the same options on stdin, as Pacemaker passes them: lanplus=1 cipher=3
# (without cipher, ipmitool first asks for the cipher suite list, which this ipmi_sim never
# answers: 10+ s per call) and their defaults otherwise: power_wait=2 for fence_ipmilan, 0 for
# fence_paddock_ipmi, which polls until it sees the state. on / off / reboot are then dominated by
# power_wait and ipmi_sim's 1 s power tick.
# Needs openipmi, ipmitool, fence-agents, python3 (tests/setup.sh) and a release
# build (built here if missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
RUNS=${RUNS:-5}            # off / on / reboot
FAST_RUNS=${FAST_RUNS:-11} # status / metadata
NOCIPHER_RUNS=${NOCIPHER_RUNS:-1} # status without `cipher` (fence_ipmilan: 10+ s each)
ANCHOR=${ANCHOR:-fence_ipmilan}
OURS=${OURS:-$ROOT/target/release/fence_paddock_ipmi}
BMC=$ROOT/tests/lib/ipmi-bmc.sh

for tool in "$ANCHOR" ipmitool ipmi_sim python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (run tests/setup.sh)" >&2; exit 1; }
done
if [ ! -x "$OURS" ]; then
    (cd "$ROOT" && cargo build -q --release -p fence_paddock_ipmi)
fi

export IPMI_BMC_DIR
IPMI_BMC_DIR=$(mktemp -d /tmp/ipmi-bench.XXXXXX)
# A port free for UDP (LAN) and TCP (ipmi_sim's serial channel).
PORT=$(python3 -c '
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
')
NAME=bench
cleanup() { "$BMC" stop "$NAME" >/dev/null 2>&1 || true; rm -rf "$IPMI_BMC_DIR"; }
trap cleanup EXIT
"$BMC" start "$NAME" "$PORT"

STDIN="ip=127.0.0.1
ipport=$PORT
username=admin
password=secret
lanplus=1
cipher=3"

# Run AGENT once for ACTION (stdin options), print "wall cpu rc": wall from spawn to reap,
# CPU = user+sys from wait4's rusage (the agent and every child it waited for), microseconds.
MEASURE='
import os, subprocess, sys, time
agent, action, stdin = sys.argv[1], sys.argv[2], sys.argv[3]
args = [agent, "-o", "metadata"] if action == "metadata" else [agent]
data = b"" if action == "metadata" else (stdin + "\naction=" + action + "\n").encode()
t0 = time.monotonic()
p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
p.stdin.write(data); p.stdin.close()
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t0
p.returncode = os.waitstatus_to_exitcode(status)
print("%.4f %.4f %d" % (wall, ru.ru_utime + ru.ru_stime, p.returncode))
'
measure() { python3 -c "$MEASURE" "$1" "$2" "${3:-$STDIN}"; }

# Bring the machine to STATE (untimed) with ipmitool, and wait until it is so.
set_power() {
    ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$PORT" -U admin -E chassis power "$1" >/dev/null
    "$BMC" wait "$NAME" "$1" 5
}
export IPMI_PASSWORD=secret   # ipmitool -E: not on argv

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A WALL CPU FAILS
record() { # key wall cpu rc expected-rc
    WALL[$1]+="$2 "; CPU[$1]+="$3 "
    [ "$4" = "$5" ] || FAILS[$1]=$(( ${FAILS[$1]:-0} + 1 ))
}

run_round() { # action expected-rc
    local a=$1 want=$2 agent w c rc
    for agent in "$ANCHOR" "$OURS"; do
        # the same starting state for both: off starts from on, on and reboot from off/on
        case $a in off|reboot) set_power on ;; on) set_power off ;; esac
        read -r w c rc < <(measure "$agent" "$a")
        record "$agent/$a" "$w" "$c" "$rc" "$want"
    done
}

for _ in $(seq "$FAST_RUNS"); do
    run_round metadata 0
    run_round status 0
done
# status without cipher: fence_ipmilan lets ipmitool pick a suite (it asks the BMC first)
for _ in $(seq "$NOCIPHER_RUNS"); do
    for agent in "$ANCHOR" "$OURS"; do
        read -r w c rc < <(measure "$agent" status "$(grep -v '^cipher=' <<<"$STDIN")")
        record "$agent/status-no-cipher" "$w" "$c" "$rc" 0
    done
done
for _ in $(seq "$RUNS"); do
    run_round off 0
    run_round on 0
    run_round reboot 0
done

printf '\n%s vs fence_paddock_ipmi, ipmi_sim on 127.0.0.1 (lanplus, cipher 3), %s\n\n' "$ANCHOR" "$(date -u '+%F %H:%M UTC')"
echo "| action | runs | $ANCHOR wall (s) | fence_paddock_ipmi wall (s) | wall speed-up | $ANCHOR CPU (s) | fence_paddock_ipmi CPU (s) | CPU ratio |"
echo "|---|---|---|---|---|---|---|---|"
actions="metadata status off on reboot"
[ "$NOCIPHER_RUNS" -gt 0 ] && actions+=" status-no-cipher"
for a in $actions; do
    runs=$FAST_RUNS; case $a in off|on|reboot) runs=$RUNS ;; status-no-cipher) runs=$NOCIPHER_RUNS ;; esac
    aw=$(tr ' ' '\n' <<<"${WALL[$ANCHOR/$a]}" | grep . | median)
    ow=$(tr ' ' '\n' <<<"${WALL[$OURS/$a]}" | grep . | median)
    ac=$(tr ' ' '\n' <<<"${CPU[$ANCHOR/$a]}" | grep . | median)
    oc=$(tr ' ' '\n' <<<"${CPU[$OURS/$a]}" | grep . | median)
    note=""
    [ -n "${FAILS[$ANCHOR/$a]:-}" ] && note+=" ($ANCHOR failed ${FAILS[$ANCHOR/$a]}x)"
    [ -n "${FAILS[$OURS/$a]:-}" ] && note+=" (paddock failed ${FAILS[$OURS/$a]}x)"
    awk -v a="$a$note" -v r="$runs" -v aw="$aw" -v ow="$ow" -v ac="$ac" -v oc="$oc" 'BEGIN {
        sw = (ow > 0) ? sprintf("%.1fx", aw / ow) : "-"
        sc = (oc > 0) ? sprintf("%.0fx", ac / oc) : "-"
        printf "| %s | %d | %.4f | %.4f | %s | %.4f | %.4f | %s |\n", a, r, aw, ow, sw, ac, oc, sc }'
done
echo
echo "Medians. Wall: spawn to exit. CPU: user+sys of the agent and its children (ipmitool for"
echo "fence_ipmilan), from wait4. off starts from on, on from off, reboot (method onoff) from on."
echo "status-no-cipher: the same options without cipher=3."
