//! What the capacity check reads from the CIB: the nodes (failover segment, capacity,
//! attributes), the resources (priority, stickiness, utilization), the location constraints
//! with their rules, and what Paddock's placement model does not cover (so that Pacemaker's
//! own scheduler answers instead).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use roxmltree::{Document, Node};

use crate::rules::read_rule;
pub use crate::rules::{
    add_scores, parse_score, CompareAs, Expression, Operation, Rule, RuleScore, Term,
};

/// The node attribute naming a node's failover segment: the hosts that share storage, inside
/// which VMs fail over. Nodes without it form one segment of their own.
pub const SEGMENT_ATTRIBUTE: &str = "paddock-segment";

/// Amounts by utilization attribute (`memory`, `cpu`, `hv_memory`...).
pub type Amounts = BTreeMap<String, i64>;

/// A Pacemaker score: an integer where ±1,000,000 stands for ±INFINITY.
pub type Score = i64;
pub const INFINITY: Score = 1_000_000;

/// The newest schema major version and feature set major this reader knows.
const NEWEST_SCHEMA_MAJOR: u32 = 3;
const NEWEST_FEATURE_SET_MAJOR: u32 = 3;

/// `placement-strategy`: how ties between equally scored nodes are broken and whether node
/// capacity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Default,
    Utilization,
    Balanced,
    Minimal,
}

#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub name: String,
    pub id: String,
    /// Permanent attributes, transient ones from the status, and the built-in `#uname`, `#id`,
    /// `#kind`...: what location rules test.
    pub attributes: BTreeMap<String, String>,
    pub capacity: Amounts,
}

/// What a top-level entry of `<resources>` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Primitive,
    Group,
    /// An anonymous clone, not promotable, of primitives without utilization, at most one
    /// instance per node: when the node of an instance fails, that instance has nowhere to go.
    PlainClone,
    /// Any other clone (promotable, unique, several instances per node...) or a bundle.
    OtherClone,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub kind: Kind,
    /// The primitives it is made of (itself, for a primitive).
    pub primitives: Vec<String>,
    pub priority: Score,
    pub stickiness: Score,
    /// target-role=Stopped: it is not meant to run.
    pub stopped_by_role: bool,
    /// Its own utilization (a primitive's) or its primitives' together.
    pub utilization: Amounts,
    /// Failures on a node after which it may not run there (0: no limit).
    pub migration_threshold: Score,
    /// Failures expire (failure-timeout): a ban by fail count does not last.
    pub failure_timeout: bool,
    /// Why the model cannot move it (a constraint it does not evaluate, unmanaged...); such a
    /// resource may only stay where it runs.
    pub unmodelled: Option<String>,
}

/// One rsc_location constraint on one resource.
#[derive(Debug, Clone)]
pub struct Location {
    pub resource: String,
    pub how: LocationScore,
}

#[derive(Debug, Clone)]
pub enum LocationScore {
    Node {
        node: String,
        score: Score,
    },
    /// Each rule that holds on a node adds its score there.
    Rules(Vec<Rule>),
}

pub struct Cib {
    /// Node name → segment ("" when the node has none).
    pub segments: BTreeMap<String, String>,
    /// Node name → its utilization (capacity).
    pub capacity: BTreeMap<String, Amounts>,
    /// The nodes in CIB order.
    pub nodes: Vec<NodeConfig>,
    /// The top-level resources in CIB order (the scheduler's last tie-break).
    pub resources: Vec<Resource>,
    pub locations: Vec<Location>,
    pub strategy: Strategy,
    /// symmetric-cluster: resources may run anywhere unless told otherwise.
    pub symmetric: bool,
    /// stonith-enabled: a failed node is fenced, and until then what ran there still counts as
    /// running there.
    pub fencing: bool,
    /// Why the model cannot answer for this CIB at all (empty: it may).
    pub unsupported: Vec<String>,
    /// Resource → node → fail count (INFINITY after a failed start).
    pub fail_counts: BTreeMap<String, BTreeMap<String, Score>>,
    /// Primitive id → (priority, utilization), for the report.
    primitives: BTreeMap<String, (Option<String>, Amounts)>,
}

impl Cib {
    pub fn parse(text: &str) -> Result<Cib> {
        let doc = Document::parse(text).context("cannot parse the CIB")?;
        check_versions(doc.root_element())?;
        let configuration = doc
            .descendants()
            .find(|n| n.has_tag_name("configuration"))
            .context("the CIB has no <configuration>")?;
        let status = doc.descendants().find(|n| n.has_tag_name("status"));
        let options = cluster_options(configuration);
        let mut cib = Cib {
            segments: BTreeMap::new(),
            capacity: BTreeMap::new(),
            nodes: Vec::new(),
            resources: Vec::new(),
            locations: Vec::new(),
            strategy: Strategy::Default,
            symmetric: true,
            fencing: true,
            unsupported: Vec::new(),
            fail_counts: BTreeMap::new(),
            primitives: BTreeMap::new(),
        };
        cib.read_options(&options, doc.root_element());
        cib.read_nodes(configuration, status, &options, doc.root_element());
        cib.read_resources(configuration);
        cib.read_constraints(configuration);
        if let Some(status) = status {
            cib.read_fail_counts(status);
        }
        Ok(cib)
    }

    /// The segment of a node ("" for none, or a node the configuration does not list).
    pub fn segment(&self, node: &str) -> &str {
        self.segments.get(node).map(String::as_str).unwrap_or("")
    }

    /// A resource's utilization; `rsc:1` (a clone instance) is its primitive's.
    pub fn utilization(&self, resource: &str) -> Amounts {
        let base = resource.split(':').next().unwrap_or(resource);
        self.primitives
            .get(base)
            .map(|(_, u)| u.clone())
            .unwrap_or_default()
    }

    /// `priority=N memory=M ...` of a resource, for the report ("" when it has neither).
    pub fn describe(&self, resource: &str) -> String {
        let base = resource.split(':').next().unwrap_or(resource);
        let Some((priority, utilization)) = self.primitives.get(base) else {
            return String::new();
        };
        priority
            .iter()
            .map(|p| format!("priority={p}"))
            .chain(utilization.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }

    fn read_options(&mut self, options: &BTreeMap<String, String>, cib: Node) {
        self.strategy = match options.get("placement-strategy").map(String::as_str) {
            None | Some("default") => Strategy::Default,
            Some("utilization") => Strategy::Utilization,
            Some("balanced") => Strategy::Balanced,
            Some("minimal") => Strategy::Minimal,
            Some(other) => {
                self.unsupported.push(format!("placement-strategy={other}"));
                Strategy::Default
            }
        };
        self.symmetric = options.get("symmetric-cluster").is_none_or(|v| is_true(v));
        self.fencing = options.get("stonith-enabled").is_none_or(|v| is_true(v));
        if options.get("maintenance-mode").is_some_and(|v| is_true(v)) {
            self.unsupported.push("maintenance-mode".into());
        }
        if options
            .get("stop-all-resources")
            .is_some_and(|v| is_true(v))
        {
            self.unsupported.push("stop-all-resources".into());
        }
        if options
            .get("node-health-strategy")
            .is_some_and(|v| v != "none")
        {
            self.unsupported.push("node-health-strategy".into());
        }
        // Without quorum the scheduler stops everything unless told to ignore it.
        let quorate = cib.attribute("have-quorum").is_some_and(is_true);
        if !quorate && options.get("no-quorum-policy").map(String::as_str) != Some("ignore") {
            self.unsupported.push("no quorum".into());
        }
    }

    fn read_nodes(
        &mut self,
        configuration: Node,
        status: Option<Node>,
        options: &BTreeMap<String, String>,
        cib: Node,
    ) {
        let transient = transient_attributes(status);
        let dc = cib.attribute("dc-uuid").unwrap_or("");
        let cluster_name = options.get("cluster-name").cloned().unwrap_or_default();
        let nodes = configuration.children().find(|n| n.has_tag_name("nodes"));
        for node in nodes
            .iter()
            .flat_map(|n| n.children())
            .filter(|n| n.has_tag_name("node"))
        {
            let Some(name) = node.attribute("uname") else {
                continue;
            };
            let id = node.attribute("id").unwrap_or(name);
            if node.attribute("type").is_some_and(|t| t != "member") {
                self.unsupported.push(format!(
                    "node {name} of type {}",
                    node.attribute("type").unwrap_or("")
                ));
            }
            if has_rules(node, "instance_attributes") || has_rules(node, "utilization") {
                self.unsupported
                    .push(format!("rules in the attributes of node {name}"));
            }
            let mut attributes = nvpairs(node, "instance_attributes");
            attributes.extend(transient.get(id).cloned().unwrap_or_default());
            let builtin = [
                ("#uname", name.to_string()),
                ("#id", id.to_string()),
                ("#kind", "cluster".to_string()),
                ("#is_dc", (id == dc).to_string()),
                ("#cluster-name", cluster_name.clone()),
            ];
            for (key, value) in builtin {
                attributes.insert(key.to_string(), value);
            }
            let site = attributes
                .get("site-name")
                .cloned()
                .unwrap_or_else(|| cluster_name.clone());
            attributes.insert("#site-name".into(), site);
            let segment = attributes
                .get(SEGMENT_ATTRIBUTE)
                .cloned()
                .unwrap_or_default();
            self.segments.insert(name.to_string(), segment);
            self.capacity.insert(name.to_string(), amounts(node));
            self.nodes.push(NodeConfig {
                name: name.to_string(),
                id: id.to_string(),
                attributes,
                capacity: amounts(node),
            });
        }
    }

    fn read_resources(&mut self, configuration: Node) {
        let defaults = configuration
            .children()
            .find(|n| n.has_tag_name("rsc_defaults"));
        if defaults.is_some_and(|d| has_rules(d, "meta_attributes")) {
            self.unsupported.push("rules in rsc_defaults".into());
        }
        let mut defaults = defaults
            .map(|d| nvpairs(d, "meta_attributes"))
            .unwrap_or_default();
        let cluster = cluster_options(configuration);
        if let Some(old) = cluster.get("default-resource-stickiness") {
            defaults
                .entry("resource-stickiness".into())
                .or_insert_with(|| old.clone());
        }
        let Some(resources) = configuration
            .children()
            .find(|n| n.has_tag_name("resources"))
        else {
            return;
        };
        for primitive in resources
            .descendants()
            .filter(|n| n.has_tag_name("primitive"))
        {
            let Some(id) = primitive.attribute("id") else {
                continue;
            };
            let priority = nvpairs(primitive, "meta_attributes").remove("priority");
            self.primitives
                .insert(id.to_string(), (priority, amounts(primitive)));
        }
        // Without a fence device a failed node cannot be fenced, and what ran there is not
        // recovered (nor does anything start): not what the model assumes.
        let fence_devices = resources
            .descendants()
            .any(|n| n.has_tag_name("primitive") && n.attribute("class") == Some("stonith"));
        if self.fencing && !fence_devices {
            self.unsupported
                .push("stonith-enabled without a fence device".into());
        }
        for top in resources.children().filter(Node::is_element) {
            if let Some(resource) = self.top_level(top, &defaults) {
                self.resources.push(resource);
            }
        }
    }

    /// One top-level resource with its meta attributes resolved (defaults, then its own).
    fn top_level(
        &mut self,
        element: Node,
        defaults: &BTreeMap<String, String>,
    ) -> Option<Resource> {
        let id = element.attribute("id")?.to_string();
        let mut meta = defaults.clone();
        meta.extend(nvpairs(element, "meta_attributes"));
        let primitives: Vec<Node> = if element.has_tag_name("primitive") {
            vec![element]
        } else {
            element
                .descendants()
                .filter(|n| n.has_tag_name("primitive"))
                .collect()
        };
        let mut utilization = Amounts::new();
        for p in &primitives {
            for (k, v) in amounts(*p) {
                *utilization.entry(k).or_default() += v;
            }
        }
        let mut unmodelled = None;
        let kind = match element.tag_name().name() {
            "primitive" => Kind::Primitive,
            "group" => Kind::Group,
            "clone" | "master" => {
                let plain = element.has_tag_name("clone")
                    && !meta.get("promotable").is_some_and(|v| is_true(v))
                    && !meta.get("globally-unique").is_some_and(|v| is_true(v))
                    && meta.get("clone-node-max").is_none_or(|v| v == "1")
                    && utilization.is_empty();
                if plain {
                    Kind::PlainClone
                } else {
                    Kind::OtherClone
                }
            }
            "bundle" => {
                self.unsupported.push(format!("bundle {id}"));
                Kind::OtherClone
            }
            // templates and tags are no resources
            _ => return None,
        };
        let has_meta_rules = std::iter::once(element)
            .chain(primitives.iter().copied())
            .any(|n| has_rules(n, "meta_attributes") || has_rules(n, "utilization"));
        if has_meta_rules {
            unmodelled = Some("rules in its meta attributes or utilization".to_string());
        }
        if primitives.iter().any(|p| p.attribute("template").is_some()) {
            unmodelled = Some("a resource template".to_string());
        }
        if primitives
            .iter()
            .any(|p| p.attribute("class") == Some("ocf") && p.attribute("type") == Some("remote"))
            || meta.contains_key("remote-node")
        {
            self.unsupported.push(format!("Pacemaker Remote node {id}"));
        }
        if meta.get("is-managed").is_some_and(|v| !is_true(v)) {
            unmodelled = Some("unmanaged".to_string());
        }
        let score_of = |name: &str, fallback: Score| {
            meta.get(name)
                .map(|v| parse_score(v).ok_or(()))
                .unwrap_or(Ok(fallback))
        };
        let scores = (
            score_of("priority", 0),
            score_of("resource-stickiness", 0),
            score_of("migration-threshold", INFINITY),
        );
        let (priority, stickiness, migration_threshold) = match scores {
            (Ok(p), Ok(s), Ok(m)) => (p, s, m),
            _ => {
                unmodelled = Some(
                    "a priority, stickiness or migration-threshold that is no score".to_string(),
                );
                (0, 0, INFINITY)
            }
        };
        let stopped_by_role = meta
            .get("target-role")
            .is_some_and(|r| r.eq_ignore_ascii_case("stopped"));
        if kind != Kind::Primitive {
            unmodelled.get_or_insert_with(|| format!("a {}", element.tag_name().name()));
        }
        Some(Resource {
            id,
            kind,
            primitives: primitives
                .iter()
                .filter_map(|p| p.attribute("id"))
                .map(str::to_string)
                .collect(),
            priority,
            stickiness,
            stopped_by_role,
            utilization,
            migration_threshold,
            failure_timeout: meta.contains_key("failure-timeout"),
            unmodelled,
        })
    }

    fn read_constraints(&mut self, configuration: Node) {
        let Some(constraints) = configuration
            .children()
            .find(|n| n.has_tag_name("constraints"))
        else {
            return;
        };
        for constraint in constraints.children().filter(Node::is_element) {
            let id = constraint.attribute("id").unwrap_or("?");
            let name = constraint.tag_name().name();
            match name {
                "rsc_location" => self.read_location(constraint, id),
                "rsc_order" if !is_mandatory_order(constraint) => {}
                "rsc_colocation" | "rsc_order" | "rsc_ticket" => {
                    let why = format!("{} {id}", name.trim_start_matches("rsc_"));
                    for resource in referenced_resources(constraint) {
                        self.mark_unmodelled(&resource, &why);
                    }
                }
                _ => {}
            }
        }
    }

    fn read_location(&mut self, constraint: Node, id: &str) {
        if constraint.attribute("rsc-pattern").is_some() {
            self.unsupported
                .push(format!("location {id} with rsc-pattern"));
            return;
        }
        let resources = referenced_resources(constraint);
        let role_limited = constraint
            .attribute("role")
            .is_some_and(|r| !r.eq_ignore_ascii_case("started"));
        let how = if let Some(node) = constraint.attribute("node") {
            constraint
                .attribute("score")
                .and_then(parse_score)
                .map(|score| LocationScore::Node {
                    node: node.to_string(),
                    score,
                })
        } else {
            constraint
                .children()
                .filter(|n| n.has_tag_name("rule"))
                .map(read_rule)
                .collect::<Option<Vec<Rule>>>()
                .map(LocationScore::Rules)
        };
        match how {
            Some(how) if !role_limited => {
                for resource in resources {
                    self.locations.push(Location {
                        resource,
                        how: how.clone(),
                    });
                }
            }
            _ => {
                for resource in resources {
                    self.mark_unmodelled(&resource, &format!("location {id}"));
                }
            }
        }
    }

    /// A constraint the model does not evaluate names `resource` (or one of its primitives).
    fn mark_unmodelled(&mut self, resource: &str, why: &str) {
        for r in &mut self.resources {
            if r.id == resource || r.primitives.iter().any(|p| p == resource) {
                r.unmodelled.get_or_insert_with(|| why.to_string());
            }
        }
    }

    fn read_fail_counts(&mut self, status: Node) {
        for state in status.children().filter(|n| n.has_tag_name("node_state")) {
            let Some(node) = state.attribute("uname") else {
                continue;
            };
            let attributes = state
                .children()
                .filter(|n| n.has_tag_name("transient_attributes"))
                .flat_map(|t| nvpairs(t, "instance_attributes"));
            for (name, value) in attributes {
                let Some(rest) = name.strip_prefix("fail-count-") else {
                    continue;
                };
                // fail-count-RSC#OP_INTERVAL (Pacemaker 2) or fail-count-RSC (older)
                let resource = rest.split('#').next().unwrap_or(rest);
                let resource = resource.split(':').next().unwrap_or(resource);
                let count = parse_score(&value).unwrap_or(0);
                let total = self
                    .fail_counts
                    .entry(resource.to_string())
                    .or_default()
                    .entry(node.to_string())
                    .or_default();
                *total = add_scores(*total, count);
            }
        }
    }
}

/// A CIB from a newer Pacemaker than this tool knows is refused, not guessed at.
fn check_versions(cib: Node) -> Result<()> {
    if !cib.has_tag_name("cib") {
        bail!("not a CIB: the root element is <{}>", cib.tag_name().name());
    }
    if let Some(schema) = cib.attribute("validate-with") {
        let version = schema.strip_prefix("pacemaker-").unwrap_or("");
        let major = version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        match major {
            Some(m) if m <= NEWEST_SCHEMA_MAJOR => {}
            _ if schema == "pacemaker-next" || schema == "none" => {}
            _ => bail!(
                "the CIB's schema {schema} is newer than this paddock knows (up to pacemaker-{NEWEST_SCHEMA_MAJOR}.x)"
            ),
        }
    }
    if let Some(feature_set) = cib.attribute("crm_feature_set") {
        let parts: Option<Vec<u32>> = feature_set.split('.').map(|p| p.parse().ok()).collect();
        match parts.as_deref() {
            Some([major, ..]) if *major <= NEWEST_FEATURE_SET_MAJOR => {}
            _ => bail!(
                "the CIB's feature set {feature_set} is unknown to this paddock (it knows up to {NEWEST_FEATURE_SET_MAJOR}.x)"
            ),
        }
    }
    Ok(())
}

/// crm_config's cluster options (name → value).
fn cluster_options(configuration: Node) -> BTreeMap<String, String> {
    configuration
        .children()
        .filter(|n| n.has_tag_name("crm_config"))
        .flat_map(|c| nvpairs(c, "cluster_property_set"))
        .collect()
}

/// Node id → transient attributes (the status section's).
fn transient_attributes(status: Option<Node>) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    for state in status
        .iter()
        .flat_map(|s| s.children())
        .filter(|n| n.has_tag_name("node_state"))
    {
        let Some(id) = state.attribute("id") else {
            continue;
        };
        let values: BTreeMap<String, String> = state
            .children()
            .filter(|n| n.has_tag_name("transient_attributes"))
            .flat_map(|t| nvpairs(t, "instance_attributes"))
            .collect();
        all.insert(id.to_string(), values);
    }
    all
}

/// An order constraint that can keep a resource from starting (kind Mandatory, the default, or
/// a positive score); Optional and Serialize ones only sequence actions.
fn is_mandatory_order(order: Node) -> bool {
    match order.attribute("kind") {
        Some(kind) => kind.eq_ignore_ascii_case("mandatory"),
        None => order
            .attribute("score")
            .and_then(parse_score)
            .is_none_or(|s| s > 0),
    }
}

/// The resources a constraint names, directly or in resource sets.
fn referenced_resources(constraint: Node) -> Vec<String> {
    let direct = ["rsc", "with-rsc", "first", "then"]
        .iter()
        .filter_map(|a| constraint.attribute(*a));
    let in_sets = constraint
        .descendants()
        .filter(|n| n.has_tag_name("resource_ref"))
        .filter_map(|n| n.attribute("id"));
    direct.chain(in_sets).map(str::to_string).collect()
}

fn is_true(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "on" | "yes" | "y" | "1"
    )
}

/// Whether an element's `set` children hold rules (values that depend on time or nodes).
fn has_rules(element: Node, set: &str) -> bool {
    element
        .children()
        .filter(|n| n.has_tag_name(set))
        .any(|s| s.children().any(|c| c.has_tag_name("rule")))
}

/// name → value of the nvpairs in an element's `set` children (instance_attributes...).
fn nvpairs(element: Node, set: &str) -> BTreeMap<String, String> {
    element
        .children()
        .filter(|n| n.has_tag_name(set))
        .flat_map(|s| s.children())
        .filter(|n| n.has_tag_name("nvpair"))
        .filter_map(|n| {
            Some((
                n.attribute("name")?.to_string(),
                n.attribute("value")?.to_string(),
            ))
        })
        .collect()
}

/// The `<utilization>` of an element, as numbers (non-numeric values are left out).
fn amounts(element: Node) -> Amounts {
    nvpairs(element, "utilization")
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.trim().parse().ok()?)))
        .collect()
}

/// The segment a resource's location constraints confine it to: the one segment of every node
/// where its score is above -INFINITY ("" for the nodes without one). None when they leave it
/// more than one segment (or none at all).
pub fn confining_segment(cib: &Cib, resource: &str) -> Option<String> {
    let allowed: BTreeSet<&str> = cib
        .nodes
        .iter()
        .filter(|node| location_score(cib, resource, node).is_none_or(|s| s > -INFINITY))
        .map(|node| cib.segment(&node.name))
        .collect();
    match allowed.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

/// The sum of a resource's location constraint scores on a node (None: one cannot be told).
pub fn location_score(cib: &Cib, resource: &str, node: &NodeConfig) -> Option<Score> {
    let mut total = 0;
    for location in cib.locations.iter().filter(|l| l.resource == resource) {
        match &location.how {
            LocationScore::Node { node: name, score } => {
                if *name == node.name {
                    total = add_scores(total, *score);
                }
            }
            LocationScore::Rules(rules) => {
                for rule in rules {
                    if let Some(score) = rule.score_on(&node.attributes).ok()? {
                        total = add_scores(total, score);
                    }
                }
            }
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CIB: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
          <nvpair id="o1" name="placement-strategy" value="balanced"/><nvpair id="o2" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes>
        <node id="1" uname="node1"><instance_attributes id="a"><nvpair id="a1" name="paddock-segment" value="rack-a"/></instance_attributes>
          <utilization id="u"><nvpair id="u1" name="memory" value="192"/><nvpair id="u2" name="cpu" value="4"/></utilization></node>
        <node id="2" uname="node2"/></nodes>
      <resources><primitive id="vm-db" class="ocf" provider="paddock" type="vm">
        <meta_attributes id="m"><nvpair id="m1" name="priority" value="10"/></meta_attributes>
        <utilization id="vu"><nvpair id="vu1" name="memory" value="96"/><nvpair id="vu2" name="cpu" value="x"/></utilization>
      </primitive>
      <group id="g"><primitive id="g1" class="ocf" provider="pacemaker" type="Dummy"/></group></resources>
      <constraints>
        <rsc_location id="seg" rsc="vm-db"><rule id="r" score="-INFINITY"><expression id="e" attribute="paddock-segment" operation="ne" value="RACK-A"/></rule></rsc_location>
        <rsc_order id="o" first="vm-db" then="g1" kind="Optional"/>
      </constraints>
      <rsc_defaults><meta_attributes id="d"><nvpair id="d1" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>
      </configuration><status/></cib>"#;

    #[test]
    fn segments_capacity_and_resources() {
        let cib = Cib::parse(CIB).expect("parses");
        assert_eq!(cib.segment("node1"), "rack-a");
        assert_eq!(cib.segment("node2"), "");
        assert_eq!(cib.capacity["node1"]["memory"], 192);
        assert_eq!(cib.utilization("vm-db")["memory"], 96);
        assert!(
            !cib.utilization("vm-db").contains_key("cpu"),
            "non-numeric left out"
        );
        assert_eq!(cib.describe("vm-db"), "priority=10 memory=96");
        assert_eq!(cib.describe("nothing"), "");
        assert_eq!(cib.strategy, Strategy::Balanced);
        assert!(cib.unsupported.is_empty(), "{:?}", cib.unsupported);
        let vm = cib.resource("vm-db").expect("listed");
        assert_eq!((vm.priority, vm.stickiness), (10, 100));
        assert!(vm.unmodelled.is_none(), "an optional order does not count");
        assert_eq!(cib.resource("g").expect("listed").kind, Kind::Group);
    }

    #[test]
    fn segment_rules_compare_without_case() {
        let cib = Cib::parse(CIB).expect("parses");
        assert_eq!(location_score(&cib, "vm-db", &cib.nodes[0]), Some(0));
        assert_eq!(
            location_score(&cib, "vm-db", &cib.nodes[1]),
            Some(-INFINITY)
        );
        assert_eq!(confining_segment(&cib, "vm-db").as_deref(), Some("rack-a"));
        assert_eq!(confining_segment(&cib, "g"), None);
    }

    #[test]
    fn scores_saturate() {
        assert_eq!(parse_score("-INFINITY"), Some(-INFINITY));
        assert_eq!(parse_score("+INFINITY"), Some(INFINITY));
        assert_eq!(parse_score("5000000"), Some(INFINITY));
        assert_eq!(parse_score("red"), None);
        assert_eq!(add_scores(INFINITY, -INFINITY), -INFINITY);
        assert_eq!(add_scores(INFINITY, 5), INFINITY);
        assert_eq!(add_scores(999_999, 5), INFINITY);
    }

    #[test]
    fn a_truncated_cib_is_an_error() {
        assert!(Cib::parse(&CIB[..200]).is_err());
        assert!(Cib::parse("<cib/>").is_err());
    }

    #[test]
    fn a_newer_schema_or_feature_set_is_refused() {
        let newer = CIB.replace("<cib ", r#"<cib validate-with="pacemaker-9.0" "#);
        let error = Cib::parse(&newer).err().expect("refused").to_string();
        assert!(error.contains("pacemaker-9.0"), "{error}");
        let unknown = CIB.replace("<cib ", r#"<cib crm_feature_set="banana" "#);
        assert!(Cib::parse(&unknown).is_err());
        let known = CIB.replace(
            "<cib ",
            r#"<cib validate-with="pacemaker-3.9" crm_feature_set="3.16.1" "#,
        );
        assert!(Cib::parse(&known).is_ok());
        assert!(Cib::parse("<html/>").is_err());
    }
}
