#!/bin/bash
# Benchmark: the operator's tool at scale, in one run.
#  - paddock-alert: CPU per alert (median of N runs, wait4 rusage), beside Pacemaker's own sample
#    alert agent that appends to a file (alert_file.sh.sample), the anchor operators copy;
#  - paddock history over a generated journal of 1,000,000 events (3 nodes): wall time, peak RSS;
#  - paddock report over the same journal;
#  - paddock capacity on generated, settled CIBs of 8 nodes / 100 VMs, 16 / 300 and 32 / 1,000
#    (racks of 8 nodes as failover segments, VMs kept in theirs by location rules, memory and
#    cpu utilization, priorities, stickiness, quorum, a start + monitor on each VM's node and a
#    probe everywhere else in the status): wall time for all single-node failures (default
#    engine), beside one crm_simulate failure scenario (the anchor, at most 300 s), and whether
#    the placement model and crm_simulate agree on every scenario of the 8 / 100 one.
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
import json, os, random, re, resource, statistics, subprocess, sys, time
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

# --- generated CIBs (N nodes, M VMs) as a running cluster has them, then paddock capacity
def digests():
    """The op-digests Pacemaker records for a parameterless Dummy (a settled status needs them,
    or the scheduler restarts everything for a changed definition)."""
    cib = ('<cib have-quorum="1" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
           '<configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>'
           '<nodes><node id="1" uname="n1"/></nodes><resources><primitive id="x" class="ocf" provider="pacemaker" type="Dummy">'
           '<operations><op id="x-mon" name="monitor" interval="10s"/></operations></primitive></resources><constraints/></configuration>'
           '<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>')
    open(f"{w}/digests.xml", "w").write(cib)
    subprocess.run(["crm_simulate", "-x", f"{w}/digests.xml", "-S", "-Q", "-O", f"{w}/digests-out.xml"], capture_output=True)
    out = open(f"{w}/digests-out.xml").read()
    start = re.search(r'operation="start"[^>]*op-digest="([0-9a-f]+)"', out).group(1)
    monitor = re.search(r'interval="10000"[^>]*op-digest="([0-9a-f]+)"', out).group(1)
    return start, monitor

def realistic_cib(n_nodes, n_vms, seed=13):
    r = random.Random(seed)
    start_digest, monitor_digest = digests()
    nv = lambda prefix, d: "".join(f'<nvpair id="{prefix}-{k}" name="{k}" value="{v}"/>' for k, v in d.items())
    names = [f"node{i}" for i in range(1, n_nodes + 1)]
    rack = {n: f"rack-{chr(97 + i // 8)}" for i, n in enumerate(names)}
    # hosts sized so that the VMs fill about 65% of memory and cpu (7 GiB, 3.4 cpus on average)
    per_node = n_vms / n_nodes
    capacity = {"memory": int(per_node * 7168 / 0.65) // 4096 * 4096 + 4096, "cpu": int(per_node * 3.4 / 0.65) + 1}
    nodes = "".join(f'<node id="{i}" uname="{n}"><instance_attributes id="{n}-a">{nv(n + "-a", {"paddock-segment": rack[n]})}</instance_attributes>'
                    f'<utilization id="{n}-u">{nv(n + "-u", capacity)}</utilization></node>' for i, n in enumerate(names, 1))
    used = {n: {"memory": 0, "cpu": 0} for n in names}
    vms = []
    for i in range(n_vms):
        need = {"memory": 1024 * r.choice([2, 4, 4, 8, 8, 16]), "cpu": r.choice([1, 2, 2, 4, 8])}
        prio = r.choice([100] + [10] * 2 + [0] * 7)
        home = rack[names[i % n_nodes]]
        room = [n for n in names if rack[n] == home and all(used[n][k] + v <= capacity[k] for k, v in need.items())]
        node = min(room, key=lambda n: used[n]["memory"]) if room else None
        if node:
            for k, v in need.items():
                used[node][k] += v
        vms.append((f"vm{i}", need, prio, home, node))
    resources = "".join(f'<primitive id="{v}" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="{v}-m">{nv(v + "-m", {"priority": p})}</meta_attributes>'
                        f'<utilization id="{v}-u">{nv(v + "-u", need)}</utilization><operations><op id="{v}-mon" name="monitor" interval="10s"/></operations></primitive>'
                        for v, need, p, _, _ in vms)
    constraints = "".join(f'<rsc_location id="{v}-in-{home}" rsc="{v}"><rule id="{v}-in-{home}-r" score="-INFINITY">'
                          f'<expression id="{v}-in-{home}-e" attribute="paddock-segment" operation="ne" value="{home}"/></rule></rsc_location>'
                          for v, _, _, home, _ in vms)
    def op(v, n, task, interval, rc):
        key = f"{v}_{task}_{interval}"
        magic = f"1:1:{7 if rc == 7 else 0}:aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
        return (f'<lrm_rsc_op id="{v}_last_0" ' if interval == 0 else f'<lrm_rsc_op id="{key}" ') + (
                f'operation_key="{key}" operation="{task}" crm-debug-origin="bench" crm_feature_set="3.16.1" transition-key="{magic}" '
                f'transition-magic="0:{rc};{magic}" exit-reason="" on_node="{n}" call-id="{3 if interval else 2}" rc-code="{rc}" op-status="0" '
                f'interval="{interval}" last-rc-change="1700000000" exec-time="1" queue-time="0" op-digest="{monitor_digest if interval else start_digest}"/>')
    status = []
    for i, n in enumerate(names, 1):
        history = "".join(f'<lrm_resource id="{v}" class="ocf" provider="pacemaker" type="Dummy">'
                          + (op(v, n, "start", 0, 0) + op(v, n, "monitor", 10000, 0) if node == n else op(v, n, "monitor", 0, 7))
                          + '</lrm_resource>' for v, _, _, _, node in vms)
        status.append(f'<node_state id="{i}" uname="{n}" in_ccm="true" crmd="online" join="member" expected="member">'
                      f'<lrm id="{i}"><lrm_resources>{history}</lrm_resources></lrm></node_state>')
    options = {"stonith-enabled": "false", "placement-strategy": "balanced"}
    return (f'<cib have-quorum="1" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" dc-uuid="1">'
            f'<configuration><crm_config><cluster_property_set id="o">{nv("o", options)}</cluster_property_set></crm_config>'
            f'<nodes>{nodes}</nodes><resources>{resources}</resources><constraints>{constraints}</constraints>'
            f'<rsc_defaults><meta_attributes id="d">{nv("d", {"resource-stickiness": 100})}</meta_attributes></rsc_defaults>'
            f'</configuration><status>{"".join(status)}</status></cib>')

def scenarios_of(cib, engine):
    p = subprocess.run([paddock, "capacity", "--cib", cib, "--engine", engine, "--json"], capture_output=True, text=True)
    if p.returncode == 2:
        return None
    return sorted((s["failed"], sorted(s["not_restarted"]), sorted(map(tuple, [(x, tuple(y)) for x, y in s["restarted"]])))
                  for s in json.loads(p.stdout)["scenarios"])

def capacity_row(n_nodes, n_vms, anchor_limit=300):
    cib = f"{w}/cib-{n_nodes}-{n_vms}.xml"
    open(cib, "w").write(realistic_cib(n_nodes, n_vms))
    wall, cpu, rss, rc, err = run([paddock, "capacity", "--cib", cib], limit=3600)
    anchor, _, _, arc, _ = run(["crm_simulate", "-x", cib, "-S", "-Q", "--node-fail=node1"], limit=anchor_limit)
    anchor_text = f"{anchor:.1f} s" if arc == 0 else (f"> {anchor_limit} s" if arc == 124 else "failed")
    rows.append((f"paddock capacity, {n_nodes} nodes, {n_vms:,} VMs ({n_nodes} failures, racks of 8)", f"{wall:.1f} s",
                 f"exit {rc} (0 all come back, 1 some would not); one crm_simulate failure scenario: {anchor_text}"))
    return cib

small = capacity_row(8, 100)
capacity_row(16, 300)
capacity_row(32, 1000)
model, pacemaker = scenarios_of(small, "model"), scenarios_of(small, "pacemaker")
agree = "yes" if model is not None and model == pacemaker else "NO"
rows.append(("placement model = crm_simulate, 8 nodes / 100 VMs", agree,
             f"{len(pacemaker or [])} scenarios: the VMs left stopped and where each restarted one runs"))

print("| what | measured | notes |")
print("|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
EOPY
