//! Pacemaker's own scheduler, asked through `crm_simulate`: where resources run now, and where
//! they would run once some nodes have failed (and been fenced).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use paddock_base::command::{run_bounded, Limits};
use paddock_base::Deadline;

/// Longest a single crm_simulate or cibadmin may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the cluster configuration and state come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The running cluster (`crm_simulate -L`, `cibadmin --query`).
    Live,
    /// A saved CIB (`cibadmin --query > FILE`).
    Saved(PathBuf),
}

impl Source {
    fn args(&self) -> Vec<String> {
        match self {
            Source::Live => vec!["-L".into()],
            Source::Saved(path) => vec!["-x".into(), path.display().to_string()],
        }
    }

    /// The CIB as XML text.
    pub fn cib_text(&self) -> Result<String> {
        match self {
            Source::Saved(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display())),
            Source::Live => run("cibadmin", &["--query".to_string()]),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Live => "live CIB".into(),
            Source::Saved(path) => format!("saved CIB {}", path.display()),
        }
    }
}

/// Nodes and where each resource runs, from one `<cluster_status>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    /// Node name → online.
    pub online: BTreeMap<String, bool>,
    /// Resource id → nodes it is active on (empty: stopped).
    pub running: BTreeMap<String, Vec<String>>,
    /// Resource id → its agent (`ocf:paddock:vm`, `stonith:fence_paddock_ipmi`).
    pub agents: BTreeMap<String, String>,
}

/// The placement as it is.
pub fn current(source: &Source) -> Result<Placement> {
    let xml = run(
        "crm_simulate",
        &[source.args(), vec!["--output-as=xml".into()]].concat(),
    )?;
    parse(&xml, "cluster_status")
}

/// The placement once `failed` nodes have failed and the scheduler has recovered what it can.
pub fn after_failing(source: &Source, failed: &[&str]) -> Result<Placement> {
    let mut args = source.args();
    args.push("--simulate".into());
    args.extend(failed.iter().map(|n| format!("--node-fail={n}")));
    args.push("--output-as=xml".into());
    parse(&run("crm_simulate", &args)?, "revised_cluster_status")
}

const ACTIVE_ROLES: &[&str] = &["Started", "Promoted", "Unpromoted", "Master", "Slave"];

/// Read one status element (`cluster_status` or `revised_cluster_status`) of crm_simulate's
/// XML output.
pub fn parse(xml: &str, element: &str) -> Result<Placement> {
    let doc = roxmltree::Document::parse(xml).context("cannot parse crm_simulate's output")?;
    let Some(status) = doc.descendants().find(|n| n.has_tag_name(element)) else {
        bail!("crm_simulate's output has no <{element}>");
    };
    let mut placement = Placement::default();
    for node in status.descendants().filter(|n| n.has_tag_name("node")) {
        if let (Some(name), Some(online)) = (node.attribute("name"), node.attribute("online")) {
            placement.online.insert(name.to_string(), online == "true");
        }
    }
    for resource in status.descendants().filter(|n| n.has_tag_name("resource")) {
        let Some(id) = resource.attribute("id") else {
            continue;
        };
        let active = resource
            .attribute("role")
            .is_some_and(|r| ACTIVE_ROLES.contains(&r));
        let nodes: Vec<String> = if active {
            resource
                .children()
                .filter(|n| n.has_tag_name("node"))
                .filter_map(|n| n.attribute("name"))
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        placement
            .running
            .entry(id.to_string())
            .or_default()
            .extend(nodes);
        if let Some(agent) = resource.attribute("resource_agent") {
            placement.agents.insert(id.to_string(), agent.to_string());
        }
    }
    Ok(placement)
}

/// Run a Pacemaker tool, bounded; its stdout, or its last line of complaint as the error.
fn run(program: &str, args: &[String]) -> Result<String> {
    let mut command = Command::new(program);
    command.args(args);
    let limits = Limits {
        keep_bytes: 256 * 1024 * 1024,
        ..Limits::default()
    };
    let output = run_bounded(&mut command, Deadline::after(COMMAND_TIMEOUT), limits).map_err(
        |e| match e {
            paddock_base::command::RunError::Spawn { .. } => {
                anyhow::anyhow!("{program} not found (install pacemaker-cli-utils)")
            }
            other => anyhow::anyhow!("{other}"),
        },
    )?;
    if !output.success() {
        let text = output.stderr_text();
        let stdout = output.stdout_text();
        let why = text
            .lines()
            .chain(stdout.lines())
            .rfind(|l| !l.trim().is_empty())
            .map(str::trim)
            .map(str::to_string)
            .unwrap_or_else(|| output.describe_status());
        bail!("{program} {} failed: {why}", args.join(" "));
    }
    Ok(output.stdout_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nodes_and_where_resources_run() {
        let xml = r#"<pacemaker-result><cluster_status><nodes>
            <node name="node1" online="true"/><node name="node2" online="false"/></nodes>
            <resources>
              <resource id="vm-a" resource_agent="ocf:paddock:vm" role="Started"><node name="node1"/></resource>
              <resource id="vm-b" resource_agent="ocf:paddock:vm" role="Stopped"/>
              <clone id="c"><resource id="svc:0" resource_agent="ocf:paddock:procwatch" role="Started"><node name="node1"/></resource></clone>
            </resources></cluster_status></pacemaker-result>"#;
        let p = parse(xml, "cluster_status").expect("parses");
        assert_eq!(p.online.get("node1"), Some(&true));
        assert_eq!(p.online.get("node2"), Some(&false));
        assert_eq!(p.running["vm-a"], vec!["node1"]);
        assert!(p.running["vm-b"].is_empty());
        assert_eq!(p.running["svc:0"], vec!["node1"]);
        assert_eq!(p.agents["vm-a"], "ocf:paddock:vm");
    }

    #[test]
    fn bad_output_is_an_error_not_a_panic() {
        assert!(parse("<pacemaker-result>", "cluster_status").is_err());
        assert!(parse("<pacemaker-result/>", "cluster_status").is_err());
    }
}
