//! Paddock's placement model against Pacemaker's own scheduler: random small clusters (4-8
//! nodes, 20-60 VMs, priorities, memory/cpu utilization, one or two failover segments kept by
//! location rules, every placement strategy, fence devices, a clone, a standby node) with a
//! settled status, and the lab's saved CIBs. For the cluster as it is and for every
//! single-node failure, the model must answer (no fallback) and say what crm_simulate says:
//! which resources stay stopped and where each restarted one runs.
//!
//! Needs crm_simulate and crm_mon (pacemaker-cli-utils); skipped, saying so, without them.
//! PADDOCK_PLACEMENT_CASES=N checks N random clusters (default 10), from PADDOCK_PLACEMENT_SEED.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use paddock::capacity::{self, Args, Engine, Report, Shell};

fn pacemaker_missing() -> Option<String> {
    for tool in ["crm_simulate", "crm_mon"] {
        let found = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("{tool} is not installed (pacemaker-cli-utils)"));
        }
    }
    None
}

macro_rules! require_pacemaker {
    () => {
        if let Some(why) = pacemaker_missing() {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
}

fn args(cib: &Path, engine: Engine) -> Args {
    Args {
        cib: Some(cib.to_path_buf()),
        node: Vec::new(),
        failures: 1,
        include_stonith: true,
        engine,
        segment_rules: None,
        json: false,
    }
}

/// Per scenario (failed nodes joined by +, "-" for none): who stays stopped, where the
/// restarted ones go.
type Verdicts = BTreeMap<String, (Vec<String>, Vec<(String, Vec<String>)>)>;

fn verdicts(report: &Report) -> Verdicts {
    report
        .scenarios
        .iter()
        .map(|s| {
            let key = if s.failed.is_empty() {
                "-".to_string()
            } else {
                s.failed.join("+")
            };
            let mut stopped = s.not_restarted.clone();
            stopped.sort();
            let mut restarted = s.restarted.clone();
            restarted.sort();
            (key, (stopped, restarted))
        })
        .collect()
}

/// The model's answer (engine auto, which must not fall back) against crm_simulate's.
fn check_against_pacemaker(cib: &Path) -> Result<usize, String> {
    let model = capacity::run(&args(cib, Engine::Auto)).map_err(|e| format!("{e:#}"))?;
    if let Some(why) = model.pacemaker_because.first() {
        return Err(format!("the model did not answer: {why}"));
    }
    let pacemaker = capacity::run(&args(cib, Engine::Pacemaker)).map_err(|e| format!("{e:#}"))?;
    let (ours, theirs) = (verdicts(&model), verdicts(&pacemaker));
    let keys: std::collections::BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    let mut differences = Vec::new();
    for key in keys {
        match (ours.get(key), theirs.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => differences.push(format!("{key}: model {a:?}, crm_simulate {b:?}")),
        }
    }
    if differences.is_empty() {
        Ok(pacemaker.scenarios.len())
    } else {
        Err(differences.join("\n    "))
    }
}

#[test]
fn the_model_answers_as_crm_simulate_on_random_clusters() {
    require_pacemaker!();
    let cases: u64 = env_number("PADDOCK_PLACEMENT_CASES", 10);
    let first: u64 = env_number("PADDOCK_PLACEMENT_SEED", 1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let digests = Digests::ask_pacemaker(dir.path());
    let mut failures = Vec::new();
    let mut scenarios = 0;
    for seed in first..first + cases {
        let cluster = Cluster::random(seed);
        let path = dir.path().join(format!("cluster-{seed}.xml"));
        std::fs::write(&path, cluster.cib(&digests)).expect("write the CIB");
        match check_against_pacemaker(&path) {
            Ok(n) => scenarios += n,
            Err(why) => {
                let kept = std::env::temp_dir().join(format!("paddock-placement-{seed}.xml"));
                let _ = std::fs::copy(&path, &kept);
                failures.push(format!("seed {seed} ({}): {why}", kept.display()));
            }
        }
    }
    eprintln!("{cases} random clusters, {scenarios} scenarios compared with crm_simulate");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_model_answers_as_crm_simulate_on_the_lab_cibs() {
    require_pacemaker!();
    for name in [
        "cib-roomy.xml",
        "cib-two-per-node.xml",
        "cib-segments.xml",
        "cib-segments-open.xml",
    ] {
        let path = fixtures().join(name);
        if let Err(why) = check_against_pacemaker(&path) {
            panic!("{name}: {why}");
        }
    }
}

/// The rules `--segment-rules pcs` proposes, added as the XML pcs writes, keep the VMs in
/// their segment: the verdict becomes the one of the CIB configured by hand with such rules.
#[test]
fn proposed_segment_rules_keep_vms_in_their_segment() {
    require_pacemaker!();
    let open = fixtures().join("cib-segments-open.xml");
    let mut asked = args(&open, Engine::Auto);
    asked.segment_rules = Some(Shell::Pcs);
    asked.include_stonith = false;
    let report = capacity::run(&asked).expect("segment rules");
    let rules = report.segment_rules.expect("rules listed");
    let mut proposed: Vec<(&str, &str)> = rules
        .iter()
        .map(|r| (r.resource.as_str(), r.segment.as_str()))
        .collect();
    proposed.sort();
    assert_eq!(
        proposed,
        [
            ("vm-batch1", "rack-b"),
            ("vm-batch2", "rack-b"),
            ("vm-batch3", "rack-a"),
            ("vm-db", "rack-a"),
            ("vm-web", "rack-a"),
        ]
    );
    for rule in &rules {
        let expected = format!(
            "pcs constraint location {} rule score=-INFINITY paddock-segment ne {}",
            rule.resource, rule.segment
        );
        assert_eq!(rule.command, expected);
    }
    // what `pcs constraint location R rule score=-INFINITY paddock-segment ne S` writes
    let locations: String = rules
        .iter()
        .map(|r| {
            format!(
                r#"<rsc_location id="location-{0}" rsc="{0}"><rule id="location-{0}-rule" score="-INFINITY"><expression id="location-{0}-rule-expr" operation="ne" attribute="paddock-segment" value="{1}"/></rule></rsc_location>"#,
                r.resource, r.segment
            )
        })
        .collect();
    let text = std::fs::read_to_string(&open).expect("fixture");
    let kept = text.replacen("<constraints>", &format!("<constraints>{locations}"), 1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("kept.xml");
    std::fs::write(&path, kept).expect("write");

    let by_hand = capacity::run(&args(&fixtures().join("cib-segments.xml"), Engine::Auto))
        .expect("capacity of the hand-made CIB");
    let with_rules = capacity::run(&args(&path, Engine::Auto)).expect("capacity with the rules");
    let without = capacity::run(&args(&open, Engine::Auto)).expect("capacity without rules");
    assert_eq!(verdicts(&with_rules), verdicts(&by_hand));
    assert!(!with_rules.ok, "rack-b's only host failing strands its VMs");
    assert!(without.ok, "without rules rack-b's VMs go to rack-a");
    let mut again = args(&path, Engine::Auto);
    again.segment_rules = Some(Shell::Crm);
    again.include_stonith = false;
    let left = capacity::run(&again).expect("segment rules again");
    assert_eq!(left.segment_rules.map(|r| r.len()), Some(0));
}

#[test]
fn a_cib_from_a_newer_pacemaker_is_refused_in_one_line() {
    let text = std::fs::read_to_string(fixtures().join("cib-roomy.xml")).expect("fixture");
    let dir = tempfile::tempdir().expect("temporary directory");
    for (from, to) in [
        (
            r#"validate-with="pacemaker-3.9""#,
            r#"validate-with="pacemaker-9.0""#,
        ),
        (r#"crm_feature_set="3.16.1""#, r#"crm_feature_set="9.0.0""#),
    ] {
        let path = dir.path().join("newer.xml");
        std::fs::write(&path, text.replace(from, to)).expect("write");
        let error = capacity::run(&args(&path, Engine::Auto)).expect_err("refused");
        let line = format!("{error:#}");
        assert!(line.contains("9.0"), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lab/fixtures")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The operation digests Pacemaker records for a parameterless Dummy: a settled status must
/// carry them, or the scheduler restarts everything for a changed definition.
struct Digests {
    start: String,
    monitor: String,
}

impl Digests {
    fn ask_pacemaker(dir: &Path) -> Digests {
        let input = dir.join("digests.xml");
        let output = dir.join("digests-out.xml");
        let cib = r#"<cib have-quorum="1" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes><node id="1" uname="n1"/></nodes><resources><primitive id="x" class="ocf" provider="pacemaker" type="Dummy"><operations><op id="x-mon" name="monitor" interval="10s"/></operations></primitive></resources><constraints/></configuration><status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>"#;
        std::fs::write(&input, cib).expect("write");
        let status = Command::new("crm_simulate")
            .arg("-x")
            .arg(&input)
            .args(["-S", "-Q", "-O"])
            .arg(&output)
            .output()
            .expect("crm_simulate runs");
        assert!(status.status.success(), "crm_simulate -S -O failed");
        let text = std::fs::read_to_string(&output).expect("simulated CIB");
        let doc = roxmltree::Document::parse(&text).expect("simulated CIB parses");
        let digest = |interval: &str| -> String {
            doc.descendants()
                .filter(|n| n.has_tag_name("lrm_rsc_op"))
                .find(|n| {
                    n.attribute("interval") == Some(interval)
                        && (interval != "0" || n.attribute("operation") == Some("start"))
                })
                .and_then(|n| n.attribute("op-digest"))
                .expect("digest recorded")
                .to_string()
        };
        Digests {
            start: digest("0"),
            monitor: digest("10000"),
        }
    }
}

/// splitmix64: reproducible without a crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

struct Node {
    name: String,
    capacity: Vec<(&'static str, i64)>,
    segment: Option<&'static str>,
}

struct Vm {
    id: String,
    utilization: Vec<(&'static str, i64)>,
    meta: Vec<(&'static str, String)>,
    segment: Option<&'static str>,
    /// (node, score) of a location constraint of its own
    preference: Option<(usize, &'static str)>,
    node: Option<usize>,
}

struct Cluster {
    strategy: &'static str,
    stickiness: &'static str,
    nodes: Vec<Node>,
    vms: Vec<Vm>,
    fence_devices: bool,
    stonith: bool,
    clone: bool,
    standby: Option<usize>,
    optional_order: Option<(usize, usize)>,
}

const NAMES: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "node1", "node2",
    "node10", "hv-b3", "hv-a7",
];

impl Cluster {
    fn random(seed: u64) -> Cluster {
        let mut rng = Rng(seed);
        let node_count = 4 + rng.below(5);
        let mut names: Vec<&str> = NAMES.to_vec();
        let strategy = rng.pick(&["default", "utilization", "balanced", "minimal"]);
        let stickiness = rng.pick(&["0", "50", "100", "100", "100", "INFINITY"]);
        let segments = rng.pick(&[1, 1, 2]);
        let cpu = rng.chance(50);
        let mut nodes = Vec::new();
        for i in 0..node_count {
            let name = names.remove(rng.below(names.len())).to_string();
            let mut capacity = vec![("memory", rng.pick(&[8192, 12288, 16384]))];
            if cpu && rng.chance(90) {
                capacity.push(("cpu", rng.pick(&[4, 8, 16])));
            }
            let segment = (segments > 1).then(|| ["rack-a", "rack-b"][i * 2 / node_count]);
            nodes.push(Node {
                name,
                capacity,
                segment,
            });
        }
        let vm_count = 20 + rng.below(41);
        let mut vms = Vec::new();
        for i in 0..vm_count {
            let mut utilization = vec![("memory", rng.pick(&[1024, 2048, 4096]))];
            if cpu {
                utilization.push(("cpu", rng.pick(&[1, 2, 4])));
            }
            let mut meta = vec![("priority", rng.pick(&[0, 0, 0, 10, 100]).to_string())];
            if rng.chance(5) {
                meta.push(("target-role", "Stopped".to_string()));
            }
            if rng.chance(10) {
                meta.push(("resource-stickiness", rng.pick(&[0, 10, 200]).to_string()));
            }
            let segment = (segments > 1 && rng.chance(90)).then(|| rng.pick(&["rack-a", "rack-b"]));
            let preference = rng.chance(20).then(|| {
                (
                    rng.below(node_count),
                    rng.pick(&["50", "200", "-INFINITY", "-50", "INFINITY"]),
                )
            });
            vms.push(Vm {
                id: format!("vm-{i:02}"),
                utilization,
                meta,
                segment,
                preference,
                node: None,
            });
        }
        let fence_devices = rng.chance(50);
        let stonith = fence_devices && rng.chance(70);
        let clone = rng.chance(30);
        let standby = rng.chance(20).then(|| rng.below(node_count));
        let optional_order = rng
            .chance(30)
            .then(|| (rng.below(vm_count), rng.below(vm_count)));
        let mut cluster = Cluster {
            strategy,
            stickiness,
            nodes,
            vms,
            fence_devices,
            stonith,
            clone,
            standby,
            optional_order,
        };
        cluster.place(&mut rng);
        cluster
    }

    /// Where each VM runs now: a random node that may take it and has room (VMs started one
    /// after the other over time), or none.
    fn place(&mut self, rng: &mut Rng) {
        let mut used: Vec<BTreeMap<&str, i64>> = vec![BTreeMap::new(); self.nodes.len()];
        let mut order: Vec<usize> = (0..self.vms.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for index in order {
            let vm = &self.vms[index];
            if vm.meta.iter().any(|(k, _)| *k == "target-role") || rng.chance(3) {
                continue;
            }
            let allowed: Vec<usize> = (0..self.nodes.len())
                .filter(|n| Some(*n) != self.standby)
                .filter(|n| vm.segment.is_none() || vm.segment == self.nodes[*n].segment)
                .filter(|n| !matches!(vm.preference, Some((p, s)) if p == *n && s.starts_with('-')))
                .filter(|n| {
                    vm.utilization.iter().all(|(k, v)| {
                        let capacity = self.nodes[*n]
                            .capacity
                            .iter()
                            .find(|(c, _)| c == k)
                            .map_or(0, |(_, c)| *c);
                        used[*n].get(k).copied().unwrap_or(0) + v <= capacity
                    })
                })
                .collect();
            if allowed.is_empty() {
                continue;
            }
            let node = allowed[rng.below(allowed.len())];
            for (k, v) in &vm.utilization {
                *used[node].entry(k).or_default() += v;
            }
            self.vms[index].node = Some(node);
        }
    }

    fn cib(&self, digests: &Digests) -> String {
        let pairs = |prefix: &str, pairs: &[(&str, String)]| -> String {
            pairs
                .iter()
                .map(|(k, v)| format!(r#"<nvpair id="{prefix}-{k}" name="{k}" value="{v}"/>"#))
                .collect()
        };
        fn amounts(a: &[(&'static str, i64)]) -> Vec<(&'static str, String)> {
            a.iter().map(|(k, v)| (*k, v.to_string())).collect()
        }
        let mut nodes = String::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let mut attributes = Vec::new();
            if let Some(segment) = node.segment {
                attributes.push(("paddock-segment", segment.to_string()));
            }
            if self.standby == Some(i) {
                attributes.push(("standby", "on".to_string()));
            }
            let name = &node.name;
            nodes.push_str(&format!(r#"<node id="{}" uname="{name}">"#, i + 1));
            if !attributes.is_empty() {
                let set = pairs(&format!("{name}-a"), &attributes);
                nodes.push_str(&format!(
                    r#"<instance_attributes id="{name}-a">{set}</instance_attributes>"#
                ));
            }
            let capacity = pairs(&format!("{name}-u"), &amounts(&node.capacity));
            nodes.push_str(&format!(
                r#"<utilization id="{name}-u">{capacity}</utilization></node>"#
            ));
        }
        let mut resources = String::new();
        let mut constraints = String::new();
        for vm in &self.vms {
            let id = &vm.id;
            let meta = pairs(&format!("{id}-m"), &vm.meta);
            let utilization = pairs(&format!("{id}-u"), &amounts(&vm.utilization));
            resources.push_str(&format!(
                r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="{id}-m">{meta}</meta_attributes><utilization id="{id}-u">{utilization}</utilization><operations><op id="{id}-mon" name="monitor" interval="10s"/></operations></primitive>"#
            ));
            if let Some(segment) = vm.segment {
                constraints.push_str(&format!(
                    r#"<rsc_location id="seg-{id}" rsc="{id}"><rule id="seg-{id}-r" score="-INFINITY"><expression id="seg-{id}-e" attribute="paddock-segment" operation="ne" value="{segment}"/></rule></rsc_location>"#
                ));
            }
            if let Some((node, score)) = vm.preference {
                let node = &self.nodes[node].name;
                constraints.push_str(&format!(
                    r#"<rsc_location id="pref-{id}" rsc="{id}" node="{node}" score="{score}"/>"#
                ));
            }
        }
        // fence-X runs on the next node that is not in standby, and never on X
        let fence_hosts: Vec<(String, usize)> = if self.fence_devices {
            let n = self.nodes.len();
            (0..n)
                .map(|i| {
                    let next = (1..n)
                        .map(|k| (i + k) % n)
                        .find(|h| Some(*h) != self.standby);
                    (self.nodes[i].name.clone(), next.unwrap_or((i + 1) % n))
                })
                .collect()
        } else {
            Vec::new()
        };
        for (target, _) in &fence_hosts {
            resources.push_str(&format!(
                r#"<primitive id="fence-{target}" class="stonith" type="fence_dummy"><operations><op id="fence-{target}-mon" name="monitor" interval="10s"/></operations></primitive>"#
            ));
            constraints.push_str(&format!(
                r#"<rsc_location id="fence-{target}-away" rsc="fence-{target}" node="{target}" score="-INFINITY"/>"#
            ));
        }
        if self.clone {
            resources.push_str(r#"<clone id="svc-clone"><primitive id="svc" class="ocf" provider="pacemaker" type="Dummy"><operations><op id="svc-mon" name="monitor" interval="10s"/></operations></primitive></clone>"#);
        }
        if let Some((first, then)) = self.optional_order.filter(|(a, b)| a != b) {
            let (a, b) = (&self.vms[first].id, &self.vms[then].id);
            constraints.push_str(&format!(
                r#"<rsc_order id="order-{a}-{b}" first="{a}" then="{b}" kind="Optional"/>"#
            ));
        }
        let mut status = String::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let mut history = String::new();
            let mut record = |id: &str, class: &str, running_here: bool| {
                let agent = if class == "stonith" {
                    r#"class="stonith" type="fence_dummy""#
                } else {
                    r#"class="ocf" provider="pacemaker" type="Dummy""#
                };
                let ops = if running_here {
                    op(id, &node.name, "start", 0, 0, digests)
                        + &op(id, &node.name, "monitor", 10000, 0, digests)
                } else {
                    op(id, &node.name, "monitor", 0, 7, digests)
                };
                history.push_str(&format!(
                    r#"<lrm_resource id="{id}" {agent}>{ops}</lrm_resource>"#
                ));
            };
            for vm in &self.vms {
                record(&vm.id, "ocf", vm.node == Some(i));
            }
            for (target, host) in &fence_hosts {
                record(&format!("fence-{target}"), "stonith", *host == i);
            }
            if self.clone {
                record("svc", "ocf", self.standby != Some(i));
            }
            status.push_str(&format!(
                r#"<node_state id="{0}" uname="{1}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="{0}"><lrm_resources>{history}</lrm_resources></lrm></node_state>"#,
                i + 1,
                node.name
            ));
        }
        let options = pairs(
            "o",
            &[
                ("stonith-enabled", self.stonith.to_string()),
                ("placement-strategy", self.strategy.to_string()),
            ],
        );
        let defaults = pairs("d", &[("resource-stickiness", self.stickiness.to_string())]);
        format!(
            r#"<cib have-quorum="1" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" dc-uuid="1"><configuration><crm_config><cluster_property_set id="o">{options}</cluster_property_set></crm_config><nodes>{nodes}</nodes><resources>{resources}</resources><constraints>{constraints}</constraints><rsc_defaults><meta_attributes id="d">{defaults}</meta_attributes></rsc_defaults></configuration><status>{status}</status></cib>"#
        )
    }
}

/// One operation of a resource's history on a node, as the controller records it.
fn op(id: &str, node: &str, task: &str, interval: u32, rc: u32, digests: &Digests) -> String {
    let key = format!("{id}_{task}_{interval}");
    let op_id = if interval == 0 {
        format!("{id}_last_0")
    } else {
        key.clone()
    };
    let transition = format!(
        "1:1:{}:aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
        if rc == 7 { 7 } else { 0 }
    );
    let digest = if interval == 0 {
        &digests.start
    } else {
        &digests.monitor
    };
    format!(
        r#"<lrm_rsc_op id="{op_id}" operation_key="{key}" operation="{task}" crm-debug-origin="paddock-test" crm_feature_set="3.16.1" transition-key="{transition}" transition-magic="0:{rc};{transition}" exit-reason="" on_node="{node}" call-id="{}" rc-code="{rc}" op-status="0" interval="{interval}" last-rc-change="1700000000" exec-time="1" queue-time="0" op-digest="{digest}"/>"#,
        if task == "start" {
            2
        } else if interval == 0 {
            1
        } else {
            3
        }
    )
}
