#!/bin/bash
# Benchmark: the operator's tool at scale, in one run.
#  - paddock-alert: CPU per alert (median of N runs, wait4 rusage), beside Pacemaker's own sample
#    alert agent that appends to a file (alert_file.sh.sample), the anchor operators copy;
#  - paddock history over a generated journal of 1,000,000 events (3 nodes): wall time, peak RSS;
#  - paddock report over the same journal;
#  - paddock capacity on generated CIBs of 8 nodes / 100 VMs, 16 / 300 and 32 / 1,000 (Dummy
#    resources with memory utilization, placed by crm_simulate first, at most 60 s for that):
#    wall time for the single-node failures.
#   tests/bench/paddock-bench.sh [N]   (default N=201; after make install, pacemaker-cli-utils)
set -euo pipefail
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
N=${1:-201}
PADDOCK=${PADDOCK:-$(command -v paddock || echo "$REPO/target/release/paddock")}
ALERT=${PADDOCK_ALERT:-/usr/libexec/paddock/paddock-alert}
[ -x "$ALERT" ] || ALERT=$REPO/target/release/paddock-alert
SAMPLE=/usr/share/pacemaker/alerts/alert_file.sh.sample
for f in "$PADDOCK" "$ALERT"; do [ -x "$f" ] || { echo "$f missing (make install)"; exit 1; }; done
command -v crm_simulate >/dev/null || { echo "crm_simulate missing (pacemaker-cli-utils)"; exit 1; }
W=$(mktemp -d /tmp/paddock-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

python3 - "$N" "$ALERT" "$SAMPLE" "$PADDOCK" "$W" <<'EOPY'
import json, os, random, resource, statistics, subprocess, sys, time
n, alert, sample, paddock, w = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]

def run(argv, env=None, stdout=subprocess.DEVNULL, limit=None):
    t = time.perf_counter()
    if limit:
        argv = ["timeout", str(limit)] + argv
    p = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode(errors="replace")
    return (time.perf_counter() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss,
            os.waitstatus_to_exitcode(status), err)

rows = []
# --- alert agents: one resource-operation alert, as Pacemaker passes it
def alert_env(recipient):
    now = time.time()
    return dict(os.environ, CRM_alert_kind="resource", CRM_alert_node="node1", CRM_alert_rsc="vm-db",
                CRM_alert_task="monitor", CRM_alert_interval="10000", CRM_alert_desc="not running",
                CRM_alert_rc="7", CRM_alert_target_rc="0", CRM_alert_status="0",
                CRM_alert_timestamp="%H:%M:%S.%06N", CRM_alert_timestamp_epoch=str(int(now)),
                CRM_alert_timestamp_usec="123456", CRM_alert_recipient=recipient,
                CRM_alert_version="2.1.5", CRM_alert_node_sequence="1")
def cpu_of(argv, env):
    cpus = [run(argv, env)[1] * 1000 for _ in range(n)]
    return statistics.median(cpus)
os.makedirs(f"{w}/events")
paddock_ms = cpu_of([alert], alert_env(f"{w}/events"))
lines = sum(1 for f in os.listdir(f"{w}/events") for _ in open(f"{w}/events/{f}"))
rows.append(("paddock-alert, CPU per alert (median)", f"{paddock_ms:.2f} ms", f"{lines} lines written"))
if os.path.exists(sample):
    sample_ms = cpu_of(["sh", sample], alert_env(f"{w}/sample.log"))
    rows.append(("Pacemaker's alert_file.sh.sample, CPU per alert (median)", f"{sample_ms:.2f} ms",
                 f"{sample_ms / paddock_ms:.1f}x paddock-alert"))

# --- a journal of 1,000,000 events on 3 nodes: each node reports the cluster's events
random.seed(7)
t0 = time.time() - 30 * 86400
os.makedirs(f"{w}/journal")
files = {r: open(f"{w}/journal/{r}.jsonl", "w") for r in ("node1", "node2", "node3")}
total = 1_000_000
per = total // 3
t = t0
for i in range(per):
    t += 2.5
    rsc = f"vm-{random.randrange(200)}"
    node = f"node{random.randrange(1, 4)}"
    task, rc = random.choice([("monitor", "0"), ("start", "0"), ("stop", "0"), ("monitor", "7")])
    base = {"time": t, "kind": "resource", "node": node,
            "fields": {"kind": "resource", "node": node, "rsc": rsc, "task": task, "rc": rc,
                       "target_rc": "0", "status": "0", "desc": "ok" if rc == "0" else "not running",
                       "interval": "10000" if task == "monitor" else "0",
                       "timestamp_epoch": str(int(t)), "timestamp_usec": "0"}}
    for r, f in files.items():
        ev = dict(base, reporter=r, time=t + random.random() * 0.5)
        f.write(json.dumps(ev) + "\n")
for f in files.values(): f.close()
size = sum(os.path.getsize(f"{w}/journal/{r}.jsonl") for r in files)
wall, cpu, rss, rc, err = run([paddock, "history", "--journal", f"{w}/journal", "--since", "3650d"])
rows.append((f"paddock history, {per * 3:,} events ({size / 2**20:.0f} MiB, 3 nodes)",
             f"{wall:.2f} s", f"peak RSS {rss / 1024:.0f} MiB, exit {rc}"))
wall, cpu, rss, rc, err = run([paddock, "report", "--journal", f"{w}/journal", "--since", "3650d"])
rows.append((f"paddock report, same journal", f"{wall:.2f} s", f"peak RSS {rss / 1024:.0f} MiB, exit {rc}"))

# --- generated CIBs (N nodes, M VMs), placed by Pacemaker's scheduler, then paddock capacity
def capacity_row(n_nodes, n_vms, limit):
    nodes = "".join(f'<node id="{i}" uname="node{i}"><utilization id="u{i}"><nvpair id="u{i}m" name="memory" value="{n_vms * 4096 // n_nodes * 2}"/></utilization></node>' for i in range(1, n_nodes + 1))
    rscs = "".join(
        f'<primitive id="vm{i}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<meta_attributes id="vm{i}-m"><nvpair id="vm{i}-p" name="priority" value="{100 if i % 10 == 0 else 0}"/></meta_attributes>'
        f'<utilization id="vm{i}-u"><nvpair id="vm{i}-um" name="memory" value="{1024 * random.choice([1, 2, 4])}"/></utilization>'
        f'<operations><op id="vm{i}-mon" name="monitor" interval="10s"/></operations></primitive>'
        for i in range(n_vms))
    status = "".join(f'<node_state id="{i}" uname="node{i}" in_ccm="true" crmd="online" join="member" expected="member"/>' for i in range(1, n_nodes + 1))
    cib = (f'<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
           f'<configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/>'
           f'<nvpair id="o2" name="placement-strategy" value="balanced"/></cluster_property_set></crm_config>'
           f'<nodes>{nodes}</nodes><resources>{rscs}</resources><constraints/></configuration>'
           f'<status>{status}</status></cib>')
    base = f"{w}/cib-{n_nodes}-{n_vms}"
    open(f"{base}-0.xml", "w").write(cib)
    wall, cpu, rss, rc, err = run(["crm_simulate", "-x", f"{base}-0.xml", "-S", "-O", f"{base}.xml", "-Q"], limit=limit)
    if rc != 0:
        rows.append((f"crm_simulate placing {n_vms:,} VMs on {n_nodes} nodes", f"> {limit} s" if rc == 124 else "failed",
                     "Pacemaker's own scheduler, one transition: paddock capacity needs one per failure"))
        return
    place = wall
    wall, cpu, rss, rc, err = run([paddock, "capacity", "--cib", f"{base}.xml"], limit=limit * n_nodes)
    rows.append((f"paddock capacity, {n_nodes} nodes, {n_vms:,} VMs ({n_nodes} failures simulated)", f"{wall:.1f} s",
                 f"exit {rc} (0 all come back, 1 some would not); one crm_simulate placement alone: {place:.1f} s"))
capacity_row(8, 100, 60)
capacity_row(16, 300, 60)
capacity_row(32, 1000, 60)

print("| what | measured | notes |")
print("|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
EOPY
