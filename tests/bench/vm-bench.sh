#!/bin/bash
# Benchmark: ocf:paddock:vm against resource-agents' VirtualDomain, in one run, on the
# same running tiny guest (test libvirtd from tests/lib/libvirt-host.sh, TCP on 127.0.0.1).
# For monitor, meta-data and validate-all: median wall time and median CPU time (user+sys
# of the agent and every process it waited for, from wait4 rusage) over N calls each.
# Prints a markdown table and the CPU estimate for 500 VMs monitored every 10 s, beside the
# cost of exec'ing /bin/true (what any agent pays per call before its first instruction).
#   tests/bench/vm-bench.sh [N]        (default N=21; root; after tests/setup.sh)
#   VM_AGENT=path   agent binary (default target/release/vm, else the installed one)
set -euo pipefail
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
N=${1:-21}
PORT=${BENCH_PORT:-19871}
VD=/usr/lib/ocf/resource.d/heartbeat/VirtualDomain
AGENT=${VM_AGENT:-$REPO/target/release/vm}
[ -x "$AGENT" ] || AGENT=/usr/lib/ocf/resource.d/paddock/vm
[ -x "$AGENT" ] || { echo "no vm agent binary (cargo build --release -p paddock-vm)"; exit 1; }
[ -x "$VD" ] || { echo "VirtualDomain not installed (resource-agents)"; exit 1; }
W=$(mktemp -d /tmp/paddock-vm-bench.XXXXXX)
export PADDOCK_VIRT_DIR=$W/virt
HOSTS=$REPO/tests/lib/libvirt-host.sh
cleanup() { "$HOSTS" stop bench >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
KDIR=$("$REPO/tests/lib/build-tinyvm.sh")
ACCEL=$(cat "$KDIR/accel" 2>/dev/null || echo qemu)
"$HOSTS" start bench "$PORT" >/dev/null
URI=qemu+tcp://127.0.0.1:$PORT/system
truncate -s 1M "$W/disk.raw"
. "$REPO/tests/lib/tinyvm.sh"
TINYVM_DIR=$KDIR TINYVM_TYPE=$ACCEL tinyvm_xml benchvm "$W/serial.log" "$W/disk.raw" >"$W/benchvm.xml"
mkdir -p "$W/rsctmp-vd" "$W/rsctmp-vm"
export OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=benchvm OCF_RESKEY_config=$W/benchvm.xml \
    OCF_RESKEY_hypervisor=$URI OCF_RESKEY_CRM_meta_timeout=30000 OCF_RESKEY_CRM_meta_interval=10000
HA_RSCTMP=$W/rsctmp-vm "$AGENT" start 2>/dev/null || { echo "cannot start the bench VM"; exit 1; }

python3 - "$N" "$VD" "$AGENT" "$W" <<'EOPY'
import os, statistics, subprocess, sys, time
n, vd, vm, w = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def measure(agent, action, rsctmp):
    env = dict(os.environ, HA_RSCTMP=rsctmp)
    walls, cpus, rcs = [], [], set()
    for _ in range(n):
        t = time.perf_counter()
        p = subprocess.Popen([agent, action], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t)
        cpus.append(ru.ru_utime + ru.ru_stime)
        rcs.add(os.waitstatus_to_exitcode(status))
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, sorted(rcs)

rows = []
for action in ["monitor", "meta-data", "validate-all"]:
    a = measure(vd, action, w + "/rsctmp-vd")
    b = measure(vm, action, w + "/rsctmp-vm")
    rows.append((action, a, b))

print(f"\nmedian of {n} calls each, same running guest, libvirtd over TCP 127.0.0.1 ({os.cpu_count()} CPUs)\n")
print("| action | VirtualDomain wall ms | VirtualDomain CPU ms | paddock vm wall ms | paddock vm CPU ms | wall x | CPU x | rc VD / vm |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for action, a, b in rows:
    wx = a[0] / b[0] if b[0] else float("inf")
    cx = a[1] / b[1] if b[1] else float("inf")
    print(f"| {action} | {a[0]:.1f} | {a[1]:.1f} | {b[0]:.1f} | {b[1]:.1f} | {wx:.0f}x | {cx:.0f}x | {a[2]} / {b[2]} |")
mon = rows[0]
calls_per_s = 500 / 10
for name, r in (("VirtualDomain", mon[1]), ("paddock vm", mon[2])):
    print(f"\n500 VMs, monitor every 10 s ({calls_per_s:.0f} calls/s): {name} {calls_per_s * r[1] / 1000 * 100:.1f} % of one CPU", end="")
print()
floor = measure("/bin/true", "monitor", w + "/rsctmp-vm")
print(f"\n500 VMs, monitor every 10 s: exec floor (/bin/true, {floor[1]:.2f} ms CPU per call) {calls_per_s * floor[1] / 1000 * 100:.1f} % of one CPU")
ok = mon[2][1] * 20 <= mon[1][1] and mon[2][0] < 10
print(f"\ntarget (monitor >= 20x less CPU than VirtualDomain and < 10 ms wall): {'met' if ok else 'NOT met'}")
fleet = calls_per_s * mon[2][1] / 1000 * 100
print(f"target (500 VMs every 10 s < 1 % of one CPU): {'met' if fleet < 1 else 'NOT met'} ({fleet:.1f} %)")
EOPY
HA_RSCTMP=$W/rsctmp-vm OCF_RESKEY_force_stop=true "$AGENT" stop 2>/dev/null || true
