#!/bin/bash
# tests/bench/procwatch-bench.sh [N] -- cost of one `monitor` of a running service:
# ocf:paddock:procwatch vs resource-agents' ocf:heartbeat:anything watching the SAME process
# (started by procwatch; anything reads the same pidfile), in two set-ups:
#   process  -- is the process alive (procwatch also checks start time and state)
#   http     -- plus an HTTP health check: procwatch probe=http://... (in-process) vs
#               anything monitor_hook="curl -fsS ..." (what an anything user writes)
# Each agent runs N times per set-up, interleaved (same machine load); per call: wall time and
# CPU time (user+system of the agent and all it forked, from getrusage(RUSAGE_CHILDREN)).
# /bin/true gives the floor: what creating any process costs on this machine.
# Prints a markdown table of medians and the verdict on the target (>= 20x less CPU);
# exits non-zero only when it cannot measure.
#   PROCWATCH=path (default: target/release/procwatch of this repo)
set -u
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
N=${1:-200}
PROCWATCH=${PROCWATCH:-$REPO/target/release/procwatch}
ANYTHING=/usr/lib/ocf/resource.d/heartbeat/anything
die() { echo "procwatch-bench: $*" >&2; exit 2; }
[ -x "$PROCWATCH" ] || die "$PROCWATCH not built (cargo build --release -p paddock-procwatch)"
[ -x "$ANYTHING" ] || die "$ANYTHING missing (resource-agents)"
for t in python3 curl; do command -v $t >/dev/null || die "$t missing (tests/setup.sh)"; done

W=$(mktemp -d /tmp/procwatch-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=bench HA_RSCTMP=$W \
    OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=20000
PW_ENV=(OCF_RESKEY_command="python3 -m http.server $PORT --bind 127.0.0.1 --directory $W"
        OCF_RESKEY_pidfile="$W/service.pid" OCF_RESKEY_logfile="$W/service.log")
cleanup() { env "${PW_ENV[@]}" "$PROCWATCH" stop >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
echo ok > "$W/index.html"
env "${PW_ENV[@]}" OCF_RESKEY_probe="http://127.0.0.1:$PORT/index.html" "$PROCWATCH" start 2>/dev/null ||
    die "procwatch start failed"

python3 - "$N" "$PROCWATCH" "$ANYTHING" "$W" "$PORT" <<'PY'
import os, resource, statistics, subprocess, sys, time
n, procwatch, anything, w, port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
url = f"http://127.0.0.1:{port}/index.html"
base = dict(os.environ)
pw = dict(base, OCF_RESKEY_command=f"python3 -m http.server {port} --bind 127.0.0.1 --directory {w}",
          OCF_RESKEY_pidfile=f"{w}/service.pid", OCF_RESKEY_logfile=f"{w}/service.log")
an = dict(base, OCF_RESKEY_binfile="/usr/bin/python3", OCF_RESKEY_pidfile=f"{w}/service.pid",
          OCF_RESKEY_logfile=f"{w}/anything.log")
setups = {
    "process": {"ocf:paddock:procwatch": ([procwatch, "monitor"], pw),
                "ocf:heartbeat:anything": ([anything, "monitor"], an),
                "/bin/true (floor)": (["/bin/true"], base)},
    "http": {"ocf:paddock:procwatch": ([procwatch, "monitor"], dict(pw, OCF_RESKEY_probe=url)),
             "ocf:heartbeat:anything": ([anything, "monitor"], dict(an, OCF_RESKEY_monitor_hook=f"curl -fsS -o /dev/null {url}"))},
}
def once(argv, env):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.perf_counter()
    rc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        sys.exit(f"{' '.join(argv)} returned {rc}")
    return (t1 - t0) * 1000, ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
med = statistics.median
print(f"monitor of a running service, median of {n} calls each, interleaved\n")
print("| set-up | agent | wall ms | CPU ms (user+sys, incl. children) | CPU ms above the floor |")
print("|---|---|---:|---:|---:|")
ratios = {}
floor = None
for setup, agents in setups.items():
    wall = {k: [] for k in agents}; cpu = {k: [] for k in agents}
    for _ in range(n):
        for name, (argv, env) in agents.items():
            a, b = once(argv, env); wall[name].append(a); cpu[name].append(b)
    if "/bin/true (floor)" in cpu:
        floor = med(cpu["/bin/true (floor)"])
    for name in agents:
        above = "" if name.startswith("/bin/true") else f"{med(cpu[name]) - floor:.2f}"
        print(f"| {setup} | {name} | {med(wall[name]):.2f} | {med(cpu[name]):.2f} | {above} |")
    p, a = med(cpu["ocf:paddock:procwatch"]), med(cpu["ocf:heartbeat:anything"])
    ratios[setup] = (a / p, (a - floor) / max(p - floor, 1e-3), med(wall["ocf:heartbeat:anything"]) / med(wall["ocf:paddock:procwatch"]))
    print(f"| {setup} | anything / procwatch | {ratios[setup][2]:.1f}x | {ratios[setup][0]:.1f}x | {ratios[setup][1]:.1f}x |")
print()
for setup, (cpu_ratio, above_ratio, _) in ratios.items():
    verdict = "met" if cpu_ratio >= 20 else "NOT met"
    print(f"target >= 20x less CPU per monitor ({setup}): {verdict} -- {cpu_ratio:.1f}x total, {above_ratio:.1f}x above the process-creation floor")
PY
