#!/bin/bash
# Test 0b (no cluster needed, a few s): the crm shell variants of crm-examples/
# load into a CIB file (CIB_file=..., crm configure load update), pass
# crm_verify, and say what the pcs variants the lab runs say (CIB of a lab
# run: fixtures/cib-roomy.xml): same devices, host lists, priorities,
# utilization, placement, stickiness, optional priority order.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
F=$LAB_BIN/fixtures
EX=$REPO/crm-examples
for c in crm crm_verify python3; do
    command -v "$c" >/dev/null || { report_fail "$c not installed (crmsh, pacemaker-cli-utils)"; exit 1; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# the lab's nodes, nothing configured
python3 - "$F/cib-roomy.xml" "$tmp/cib.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1]); r = t.getroot(); cfg = r.find("configuration")
for tag in ("resources", "constraints"):
    for c in list(cfg.find(tag)): cfg.find(tag).remove(c)
for tag in ("rsc_defaults", "op_defaults"):
    if cfg.find(tag) is not None: cfg.remove(cfg.find(tag))
for n in cfg.find("nodes"):
    for u in n.findall("utilization"): n.remove(u)
for ns in r.find("status"):                  # nodes stay online, with no resource history
    for l in ns.findall("lrm"): ns.remove(l)
t.write(sys.argv[2])
PY
export CIB_file=$tmp/cib.xml
for f in fencing/fencing.crm ha-vms/ha-vms.crm; do
    check "crm configure load update $f" eval 'crm configure load update "$EX/$f" > "$tmp/out" 2>&1 || { cat "$tmp/out"; false; }'
done
check "crm_verify accepts the result without warnings" crm_verify -x "$tmp/cib.xml"
unset CIB_file

# what both configurations say, one line per fact, compared
facts() {
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
cfg = ET.parse(sys.argv[1]).getroot().find("configuration")
nv = lambda e, n: {p.get("name"): p.get("value") for p in e.iter("nvpair")} if e is not None else {}
out = []
props = nv(cfg.find("crm_config"), None)
for k in ("stonith-enabled", "stonith-action", "placement-strategy", "load-threshold"):
    out.append(f"property {k}={props.get(k)}")
out.append(f"stickiness={nv(cfg.find('rsc_defaults'), None).get('resource-stickiness')}")
for p in cfg.iter("primitive"):
    if p.get("type") == "vmwatch":      # checked on its own below: the lab's CIB predates it
        continue
    a = nv(p.find("instance_attributes"), None); m = nv(p.find("meta_attributes"), None)
    if p.get("class") == "stonith":
        out.append(f"{p.get('id')} stonith:{p.get('type')} host_list={a.get('pcmk_host_list')} lanplus={a.get('lanplus')}")
    else:
        u = nv(p.find("utilization"), None)
        out.append(f"{p.get('id')} {p.get('class')}:{p.get('provider')}:{p.get('type')} priority={m.get('priority')} "
                   f"allow-migrate={m.get('allow-migrate')} has_memory_utilization={'memory' in u} "
                   f"autoset={a.get('autoset_utilization_cpu')},{a.get('autoset_utilization_hv_memory')},{a.get('autoset_utilization_host_memory')}")
        for op in p.iter("op"):
            out.append(f"{p.get('id')} op {op.get('name')} interval={op.get('interval').rstrip('s') or 0} timeout={op.get('timeout')}")
for l in cfg.iter("rsc_location"):
    out.append(f"location {l.get('rsc')} {l.get('score')} {l.get('node')}")
for o in cfg.iter("rsc_order"):
    sets = [" ".join(r.get("id") for r in s.iter("resource_ref")) for s in o.iter("resource_set")]
    out.append(f"order {o.get('kind')} " + " | ".join(sets))
for n in cfg.find("nodes"):
    out.append(f"node {n.get('uname')} memory_capacity={'memory' in nv(n.find('utilization'), None)}")
print("\n".join(sorted(out)))
PY
}
check "the crm variant clones ocf:paddock:vmwatch" \
    grep -q 'type="vmwatch"' "$tmp/cib.xml"
# networks/: no lab run yet, so the two variants are compared with each other: each added to a
# copy of the configuration above (fencing is needed for on-fail=fence), both accepted by
# crm_verify
cp "$tmp/cib.xml" "$tmp/net-pcs.xml"; cp "$tmp/cib.xml" "$tmp/net-crm.xml"
check "networks.pcs.sh builds a CIB file (pcs -f)" \
    eval 'PCS="pcs -f $tmp/net-pcs.xml" sh "$EX/networks/networks.pcs.sh" > "$tmp/out" 2>&1 || { cat "$tmp/out"; false; }'
check "crm configure load update networks/networks.crm" \
    eval 'CIB_file=$tmp/net-crm.xml crm configure load update "$EX/networks/networks.crm" > "$tmp/out" 2>&1 || { cat "$tmp/out"; false; }'
for v in pcs crm; do
    check "crm_verify accepts the networks example ($v variant)" crm_verify -x "$tmp/net-$v.xml"
done
netfacts() {
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
cfg = ET.parse(sys.argv[1]).getroot().find("configuration")
nv = lambda e: {p.get("name"): p.get("value") for p in e.iter("nvpair")} if e is not None else {}
out = [f"property node-health-strategy={nv(cfg.find('crm_config')).get('node-health-strategy')}"]
for c in cfg.iter("clone"):
    p = c.find("primitive")
    if p is None or p.get("type") != "netwatch":
        continue
    out.append(f"clone of {p.get('id')} interleave={nv(c.find('meta_attributes')).get('interleave')}"
               # node health applies to the top-level resource: the clone must allow unhealthy nodes
               f" allow-unhealthy-nodes={nv(c.find('meta_attributes')).get('allow-unhealthy-nodes')}")
    out.append(f"{p.get('id')} {p.get('class')}:{p.get('provider')}:{p.get('type')} "
               + " ".join(f"{k}={v}" for k, v in sorted(nv(p.find('instance_attributes')).items())))
    for op in p.iter("op"):
        out.append(f"{p.get('id')} op {op.get('name')} interval={op.get('interval').rstrip('s') or 0} "
                   f"timeout={op.get('timeout')} on-fail={op.get('on-fail')}")
print("\n".join(sorted(out)))
PY
}
netfacts "$tmp/net-pcs.xml" > "$tmp/net-pcs.facts"; netfacts "$tmp/net-crm.xml" > "$tmp/net-crm.facts"
check "networks: the crm variant configures what the pcs variant does ($(wc -l < "$tmp/net-pcs.facts") facts: 3 clones, policies fence/migrate/alert, on-fail=fence on storage)" \
    eval 'diff "$tmp/net-pcs.facts" "$tmp/net-crm.facts" &&
          grep -q "on_loss=fence" "$tmp/net-pcs.facts" && grep -q "on_loss=migrate" "$tmp/net-pcs.facts" &&
          grep -q "on_loss=alert" "$tmp/net-pcs.facts" && grep -q "netwatch-storage op monitor .*on-fail=fence" "$tmp/net-pcs.facts" &&
          [ "$(grep -c "^clone of .* allow-unhealthy-nodes=true" "$tmp/net-pcs.facts")" = 3 ]'
# instance-ha/: both variants on top of the fencing example (fence-nodeN), compared with each other
cp "$tmp/cib.xml" "$tmp/iha-pcs.xml"; cp "$tmp/cib.xml" "$tmp/iha-crm.xml"
check "instance-ha.pcs.sh builds a CIB file (pcs -f)" \
    eval 'PCS="pcs -f $tmp/iha-pcs.xml" sh "$EX/instance-ha/instance-ha.pcs.sh" > "$tmp/out" 2>&1 || { cat "$tmp/out"; false; }'
check "crm configure load update instance-ha/instance-ha.crm" \
    eval 'CIB_file=$tmp/iha-crm.xml crm configure load update "$EX/instance-ha/instance-ha.crm" > "$tmp/out" 2>&1 || { cat "$tmp/out"; false; }'
for v in pcs crm; do
    check "crm_verify accepts the instance-ha example ($v variant)" crm_verify -x "$tmp/iha-$v.xml"
done
ihafacts() {
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
cfg = ET.parse(sys.argv[1]).getroot().find("configuration")
nv = lambda e: {p.get("name"): p.get("value") for p in e.iter("nvpair")} if e is not None else {}
out = []
for p in cfg.iter("primitive"):
    if p.get("type") not in ("fence_paddock_compute", "nova-evacuate", "procwatch"):
        continue
    out.append(f"{p.get('id')} {p.get('class')}:{p.get('type')} "
               + " ".join(f"{k}={v}" for k, v in sorted(nv(p.find('instance_attributes')).items())))
    for op in p.iter("op"):  # pcs adds the metadata's other operations: monitors only
        if op.get("name") == "monitor":
            out.append(f"{p.get('id')} op monitor interval={op.get('interval').rstrip('s')} timeout={op.get('timeout')}")
for c in cfg.iter("clone"):
    if c.find("primitive") is not None and c.find("primitive").get("type") == "procwatch":
        out.append(f"clone {c.get('id')} interleave={nv(c.find('meta_attributes')).get('interleave')}")
for l in cfg.iter("fencing-level"):
    out.append(f"level {l.get('index')} {l.get('target')}: {l.get('devices')}")
print("\n".join(sorted(out)))
PY
}
ihafacts "$tmp/iha-pcs.xml" > "$tmp/iha-pcs.facts"; ihafacts "$tmp/iha-crm.xml" > "$tmp/iha-crm.facts"
check "instance-ha: the crm variant configures what the pcs variant does ($(wc -l < "$tmp/iha-pcs.facts") facts: 3 levels power+nova, nova-evacuate, procwatch clone)" \
    eval 'diff "$tmp/iha-pcs.facts" "$tmp/iha-crm.facts" &&
          [ "$(grep -c "^level 1 node[1-3]: fence-node[1-3],fence-nova$" "$tmp/iha-pcs.facts")" = 3 ] &&
          grep -q "^nova-evacuate ocf:nova-evacuate " "$tmp/iha-pcs.facts" &&
          grep -q "^nova-compute ocf:procwatch .*profile=nova-compute" "$tmp/iha-pcs.facts"'
# the lab runs vm-* on its own paths/addresses/agents: compare what does not depend on them
norm() { sed -e 's/stonith:fence_[a-z_]*/stonith:FENCE/' -e 's/ocf:[a-z]*:[A-Za-z]*/ocf:VM/' -e 's/INFINITY/inf/i'; }
facts "$F/cib-roomy.xml" | norm > "$tmp/pcs.facts"
facts "$tmp/cib.xml" | norm > "$tmp/crm.facts"
if diff "$tmp/pcs.facts" "$tmp/crm.facts" > "$tmp/diff"; then
    report_pass "crm variants configure what the pcs variants configured in the lab ($(wc -l < "$tmp/pcs.facts") facts)"
else
    report_fail "crm variants differ from the pcs variants run in the lab:"; cat "$tmp/diff"
fi
finish
