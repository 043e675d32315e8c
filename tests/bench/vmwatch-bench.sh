#!/bin/bash
# Benchmark: how long a dead guest or service stays dead, under Pacemaker, in one run:
# ocf:paddock:vm with the watcher (ocf:paddock:vmwatch), ocf:paddock:vm without it, and
# resource-agents' VirtualDomain, each with a monitor every 10 s and every 60 s; and a
# procwatch service with and without the watcher. Each row: SIGKILL of the guest's qemu (or the
# service's process) at a random moment -> a new process runs (the guest "running" in libvirt);
# median and max over N runs. Then the watcher's own CPU: idle, with 100 resources recorded,
# over 60 s (from /proc/PID/stat), and the CPU estimate for 500 VMs monitored every 60 s with it.
#   tests/bench/vmwatch-bench.sh [N] [N60]   (N runs per 10 s row, default 5; N60 per 60 s
#                                             row without the watcher, default 3; root; after
#                                             tests/setup.sh and make install)
set -uo pipefail
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
N=${1:-5}; N60=${2:-3}
PORT=${BENCH_PORT:-19881}
for a in /usr/lib/ocf/resource.d/paddock/vm /usr/lib/ocf/resource.d/paddock/vmwatch \
         /usr/lib/ocf/resource.d/paddock/procwatch /usr/lib/ocf/resource.d/heartbeat/VirtualDomain; do
    [ -x "$a" ] || { echo "$a not installed (make install; resource-agents)"; exit 1; }
done
DOM=vwb1
. "$REPO/tests/lib/cluster-guest.sh"
cluster_guest vwbench "$PORT" "$DOM"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
qemu_pid() { pgrep -f "qemu-system.*guest=$DOM," | head -n1; }
running() { virsh -q -c "$URI" domstate "$DOM" 2>/dev/null | grep -q '^running'; }
wait_for() { # SECONDS CMD...: poll every 0.1 s
    local end=$(( $(date +%s) + $1 )); shift
    while ! "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.1; done
}
settled() { on crm_resource --wait --timeout=120 >/dev/null 2>&1; }
watcher() { # on|off
    if [ "$1" = on ]; then
        on pcs resource create vmwatch ocf:paddock:vmwatch op monitor interval=10s clone >/dev/null 2>&1
    else
        on pcs resource delete vmwatch-clone --force >/dev/null 2>&1
    fi
    settled
}
guest() { # AGENT INTERVAL: (re)create the VM resource
    on pcs resource delete vwb --force >/dev/null 2>&1; settled
    on pcs resource create vwb "$1" config="$W/$DOM.xml" hypervisor="$URI" \
        op monitor interval="$2" timeout=30s op stop timeout=30s >/dev/null 2>&1
    settled; wait_for 60 running
}
kills() { # RUNS: SIGKILL qemu at a random moment, time until a new one runs; prints seconds
    local i old t0 new_running
    for i in $(seq 1 "$1"); do
        on crm_resource --cleanup -r vwb >/dev/null 2>&1; settled; wait_for 60 running
        sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.1f", 1 + (s % 50) / 10 }')"
        old=$(qemu_pid); t0=$(now); kill -9 "$old"
        new_running() { local p; p=$(qemu_pid); [ -n "$p" ] && [ "$p" != "$old" ] && running; }
        if wait_for 150 new_running; then since "$t0"; else echo 999; fi
        echo
    done
}
row() { # LABEL TIMES...: median and max
    local label=$1; shift
    printf '%s\n' "$@" | sort -g | awk -v l="$label" '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "| %s | %d | %.2f | %.2f |\n", l, NR, m, v[NR] }'
}

TABLE=$W/table
echo "| qemu SIGKILLed -> guest running again | runs | median s | max s |" >"$TABLE"
echo "|---|---|---|---|" >>"$TABLE"
measure() { # LABEL AGENT INTERVAL WATCHER RUNS
    echo "== $1" >&2
    watcher "$4"; guest "$2" "$3"
    # shellcheck disable=SC2046
    row "$1" $(kills "$5") >>"$TABLE"
}
measure "paddock vm + vmwatch, monitor 10 s" ocf:paddock:vm 10s on "$N"
measure "paddock vm + vmwatch, monitor 60 s" ocf:paddock:vm 60s on "$N"
measure "paddock vm, no watcher, monitor 10 s" ocf:paddock:vm 10s off "$N"
measure "paddock vm, no watcher, monitor 60 s" ocf:paddock:vm 60s off "$N60"
measure "VirtualDomain, monitor 10 s" ocf:heartbeat:VirtualDomain 10s off "$N"
measure "VirtualDomain, monitor 60 s" ocf:heartbeat:VirtualDomain 60s off "$N60"
on pcs resource delete vwb --force >/dev/null 2>&1; settled

echo >>"$TABLE"
echo "| service SIGKILLed -> running again | runs | median s | max s |" >>"$TABLE"
echo "|---|---|---|---|" >>"$TABLE"
on mkdir -p /var/tmp/vwbench
svc_pid() { on pgrep -f "^/bin/sleep 99999" | head -n1; }
service_row() { # LABEL WATCHER RUNS
    echo "== $1" >&2
    watcher "$2"
    on pcs resource create vwsvc ocf:paddock:procwatch command="/bin/sleep 99999" \
        logfile=/var/tmp/vwbench/svc.log op monitor interval=10s timeout=20s >/dev/null 2>&1
    settled
    local times=() i old t0
    for i in $(seq 1 "$3"); do
        on crm_resource --cleanup -r vwsvc >/dev/null 2>&1; settled
        sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.1f", 1 + (s % 50) / 10 }')"
        old=$(svc_pid); t0=$(now); on kill -9 "$old"
        back() { local p; p=$(svc_pid); [ -n "$p" ] && [ "$p" != "$old" ]; }
        if wait_for 60 back; then times+=("$(since "$t0")"); else times+=(999); fi
    done
    row "$1" "${times[@]}" >>"$TABLE"
    on pcs resource delete vwsvc --force >/dev/null 2>&1; settled
}
service_row "procwatch + vmwatch, monitor 10 s" on "$N"
service_row "procwatch, no watcher, monitor 10 s" off "$N"

echo "== the watcher's CPU, idle, 100 resources recorded" >&2
watcher on
# 100 resources recorded as being stopped (never reported, never resynchronised, but read)
rsctmp=/run/resource-agents    # the agents' default HA_RSCTMP
for i in $(seq 1 100); do
    on sh -c "printf 'resource=idle$i\ndomain=idle$i\nphase=stopping\nsince=0\nhypervisor=$URI\n' > $rsctmp/paddock-vm/idle$i" 2>/dev/null ||
        { on mkdir -p "$rsctmp/paddock-vm"; on sh -c "printf 'resource=idle$i\ndomain=idle$i\nphase=stopping\nsince=0\nhypervisor=$URI\n' > $rsctmp/paddock-vm/idle$i"; }
done
wpid=$(on pgrep -f __vmwatch_daemon | head -n1)
ticks() { on awk '{ print $14 + $15 }' "/proc/$wpid/stat"; }
hz=$(getconf CLK_TCK)
c0=$(ticks); sleep 60; c1=$(ticks)
idle=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz / 60 * 100 }')
rss=$(on awk '/VmRSS/ { print $2 }' "/proc/$wpid/status")

# What one monitor of the vm agent costs (CPU of the process, wait4), to scale to 500 VMs.
mon_ms=$(python3 - "$URI" "$W/$DOM.xml" <<'EOPY'
import os, statistics, subprocess, sys, tempfile
env = dict(os.environ, OCF_ROOT="/usr/lib/ocf", OCF_RESOURCE_INSTANCE="bench",
           OCF_RESKEY_config=sys.argv[2], OCF_RESKEY_hypervisor=sys.argv[1],
           OCF_RESKEY_CRM_meta_timeout="30000", OCF_RESKEY_CRM_meta_interval="60000",
           HA_RSCTMP=tempfile.mkdtemp())
cpus = []
for _ in range(41):
    p = subprocess.Popen(["/usr/lib/ocf/resource.d/paddock/vm", "monitor"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    cpus.append((ru.ru_utime + ru.ru_stime) * 1000)
print(f"{statistics.median(cpus):.2f}")
EOPY
)
est=$(awk -v m="$mon_ms" -v i="$idle" 'BEGIN { printf "%.2f", 500 / 60 * m / 1000 * 100 + i }')

echo
cat "$TABLE"
echo
echo "| watcher | value |"
echo "|---|---|"
echo "| CPU idle, 100 resources recorded, 60 s | $idle % of a core |"
echo "| memory (RSS) | $rss KiB |"
echo "| one vm monitor (median of 41, CPU) | $mon_ms ms |"
echo "| 500 VMs, monitor every 60 s, with the watcher | $est % of a core (500/60 monitors/s x monitor CPU + watcher) |"
