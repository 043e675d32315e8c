//! What the capacity check needs from the CIB's configuration: each node's failover segment
//! and capacity, each resource's priority and utilization.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use roxmltree::{Document, Node};

/// The node attribute naming a node's failover segment: the hosts that share storage, inside
/// which VMs fail over. Nodes without it form one segment of their own.
pub const SEGMENT_ATTRIBUTE: &str = "paddock-segment";

/// Amounts by utilization attribute (`memory`, `cpu`, `hv_memory`...).
pub type Amounts = BTreeMap<String, i64>;

pub struct Cib {
    /// Node name → segment ("" when the node has none).
    pub segments: BTreeMap<String, String>,
    /// Node name → its utilization (capacity).
    pub capacity: BTreeMap<String, Amounts>,
    /// Primitive id → (priority, utilization).
    resources: BTreeMap<String, (Option<String>, Amounts)>,
}

impl Cib {
    pub fn parse(text: &str) -> Result<Cib> {
        let doc = Document::parse(text).context("cannot parse the CIB")?;
        let configuration = doc
            .descendants()
            .find(|n| n.has_tag_name("configuration"))
            .context("the CIB has no <configuration>")?;
        let mut cib = Cib {
            segments: BTreeMap::new(),
            capacity: BTreeMap::new(),
            resources: BTreeMap::new(),
        };
        let nodes = configuration.children().find(|n| n.has_tag_name("nodes"));
        for node in nodes
            .iter()
            .flat_map(|n| n.children())
            .filter(|n| n.has_tag_name("node"))
        {
            let Some(name) = node.attribute("uname") else {
                continue;
            };
            let segment = nvpairs(node, "instance_attributes")
                .remove(SEGMENT_ATTRIBUTE)
                .unwrap_or_default();
            cib.segments.insert(name.to_string(), segment);
            cib.capacity.insert(name.to_string(), amounts(node));
        }
        for primitive in configuration
            .descendants()
            .filter(|n| n.has_tag_name("primitive"))
        {
            let Some(id) = primitive.attribute("id") else {
                continue;
            };
            let priority = nvpairs(primitive, "meta_attributes").remove("priority");
            cib.resources
                .insert(id.to_string(), (priority, amounts(primitive)));
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
        self.resources
            .get(base)
            .map(|(_, u)| u.clone())
            .unwrap_or_default()
    }

    /// `priority=N memory=M ...` of a resource, for the report ("" when it has neither).
    pub fn describe(&self, resource: &str) -> String {
        let base = resource.split(':').next().unwrap_or(resource);
        let Some((priority, utilization)) = self.resources.get(base) else {
            return String::new();
        };
        priority
            .iter()
            .map(|p| format!("priority={p}"))
            .chain(utilization.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const CIB: &str = r#"<cib><configuration><nodes>
        <node id="1" uname="node1"><instance_attributes id="a"><nvpair id="a1" name="paddock-segment" value="rack-a"/></instance_attributes>
          <utilization id="u"><nvpair id="u1" name="memory" value="192"/><nvpair id="u2" name="cpu" value="4"/></utilization></node>
        <node id="2" uname="node2"/></nodes>
      <resources><primitive id="vm-db" class="ocf" provider="paddock" type="vm">
        <meta_attributes id="m"><nvpair id="m1" name="priority" value="10"/></meta_attributes>
        <utilization id="vu"><nvpair id="vu1" name="memory" value="96"/><nvpair id="vu2" name="cpu" value="x"/></utilization>
      </primitive></resources></configuration><status/></cib>"#;

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
    }

    #[test]
    fn a_truncated_cib_is_an_error() {
        assert!(Cib::parse(&CIB[..200]).is_err());
        assert!(Cib::parse("<cib/>").is_err());
    }
}
