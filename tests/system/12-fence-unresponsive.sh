#!/bin/bash
# timeout: 240
# Fencing through Pacemaker against BMCs that never answer: an IPMI "BMC" whose UDP socket
# swallows every packet, and a Redfish "BMC" that accepts TCP connections and then stays
# silent (the TLS handshake never completes). The agents must give up by themselves, in
# bounded time (login_timeout), before Pacemaker's own timeout kills them, and say why.
# (fence_ipmilan's anchor behaviour: ipmitool retries, the agent is killed by the timeout.)
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
IPMI_PORT=$TEST_PORT_BASE
HTTPS_PORT=$((TEST_PORT_BASE + 1))
FENCE_TIMEOUT=60     # stonith_admin --timeout; the agents must finish well before

require_cmd stonith_admin python3
for a in fence_paddock_ipmi fence_paddock_redfish; do
    [ -x "/usr/sbin/$a" ] || fail "/usr/sbin/$a not installed (make install)"
done

step "silent IPMI (UDP 127.0.0.1:$IPMI_PORT) and silent HTTPS (TCP 127.0.0.1:$HTTPS_PORT) endpoints"
python3 - "$IPMI_PORT" "$HTTPS_PORT" <<'EOF' &
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", int(sys.argv[1])))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", int(sys.argv[2]))); t.listen(64)
held = []
while True:                       # accept and hold connections, never send a byte
    c, _ = t.accept(); held.append(c)
EOF
silent=$!
at_exit "kill $silent 2>/dev/null"
wait_until 5 eval "[ -n \"\$(ss -Htln 'sport = :$HTTPS_PORT')\" ]"

# AGENT DEVICE TARGET OPTIONS... : register, fence, expect a failure within the bound
fence_silent() {
    local agent=$1 dev=$2 target=$3; shift 3
    local opts=() o
    for o in "$@"; do opts+=(-o "$o"); done
    on stonith_admin --register "$dev" --agent "$agent" "${opts[@]}" -o pcmk_host_list="$target" ||
        fail "stonith_admin --register $dev failed"
    at_exit "\"$CLUSTER\" exec stonith_admin --deregister $dev >/dev/null 2>&1"
    local t0 t1 secs
    t0=$(date +%s.%N)
    if on stonith_admin --reboot "$target" --timeout "$FENCE_TIMEOUT"; then
        fail "$agent: reboot through a silent BMC succeeded"
    fi
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    step "$agent: failed after ${secs}s (Pacemaker runs the agent up to twice)"
    # the agent ended by itself: fenced did not have to kill it
    on grep -E "targeting $target using $dev" /var/log/pacemaker/pacemaker.log > "$TEST_TMP/$dev.result"
    if grep -qiE 'timed out|timeout' "$TEST_TMP/$dev.result"; then
        fail "$agent was killed by Pacemaker's timeout instead of giving up itself: $(tail -1 "$TEST_TMP/$dev.result")"
    fi
    awk -v s="$secs" -v max="$FENCE_TIMEOUT" 'BEGIN { exit !(s < max / 2) }' ||
        fail "$agent took ${secs}s, not bounded well inside the ${FENCE_TIMEOUT}s fence timeout"
    on grep -E "$agent\[[0-9]+\] stderr: \[" /var/log/pacemaker/pacemaker.log > "$TEST_TMP/$dev.stderr"
    grep -iE 'timeout|timed out|no answer|no response|not respond|deadline' "$TEST_TMP/$dev.stderr" | tail -1 |
        grep . || fail "$agent logged no reason naming the timeout: $(tail -3 "$TEST_TMP/$dev.stderr")"
}

step "fence_paddock_ipmi against the silent IPMI endpoint (login_timeout=5)"
fence_silent fence_paddock_ipmi f-ipmi-silent host-ipmi-silent \
    ip=127.0.0.1 ipport="$IPMI_PORT" username=admin password=secret lanplus=1 login_timeout=5

step "fence_paddock_redfish against the silent HTTPS endpoint (login_timeout=5)"
fence_silent fence_paddock_redfish f-rf-silent host-rf-silent \
    ip=127.0.0.1 ipport="$HTTPS_PORT" username=admin password=secret ssl=1 ssl_insecure=1 login_timeout=5
step "PASS"
