//! Pacemaker's own tools, asked through `crm_simulate` and `crm_mon`: where resources run now,
//! and where the scheduler would run them once some nodes have failed (and been fenced).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use paddock_base::command::{run_bounded, Limits};
use paddock_base::Deadline;

/// Longest a single crm_simulate, crm_mon or cibadmin may take.
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

    /// The CIB's text and a file holding it, read once: for the live cluster, one
    /// `cibadmin --query` saved to a temporary file, so that every later question is asked of
    /// the same CIB.
    pub fn snapshot(&self) -> Result<(String, CibFile)> {
        let text = self.cib_text()?;
        let file = match self {
            Source::Saved(path) => CibFile {
                path: path.clone(),
                temporary: false,
            },
            Source::Live => CibFile::temporary(&text)?,
        };
        Ok((text, file))
    }
}

/// A CIB on disk for `crm_simulate -x` and `CIB_file=... crm_mon`; a temporary one is removed
/// when dropped.
#[derive(Debug)]
pub struct CibFile {
    path: PathBuf,
    temporary: bool,
}

impl CibFile {
    fn temporary(text: &str) -> Result<CibFile> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("paddock-cib-{}-{stamp}.xml", std::process::id()));
        // create_new: never write through a link someone placed there; 0600: the CIB holds
        // the fence devices' passwords
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let saved = CibFile {
            path,
            temporary: true,
        };
        file.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", saved.path.display()))?;
        Ok(saved)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same CIB as a Source for crm_simulate.
    pub fn source(&self) -> Source {
        Source::Saved(self.path.clone())
    }
}

impl Drop for CibFile {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
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
    /// Online nodes that cannot take resources (standby, maintenance, shutting down...).
    pub unable: BTreeSet<String>,
    /// Resource id → what is wrong with it (failed, blocked, unmanaged, orphaned).
    pub troubled: BTreeMap<String, String>,
}

/// The placement as it is.
pub fn current(source: &Source) -> Result<Placement> {
    let xml = run(
        "crm_simulate",
        &[source.args(), vec!["--output-as=xml".into()]].concat(),
    )?;
    parse(&xml, "cluster_status")
}

/// The placement as it is in a CIB file, from `crm_mon` (which, unlike crm_simulate, does not
/// run the scheduler: seconds instead of minutes on a thousand resources).
pub fn current_in(file: &Path) -> Result<Placement> {
    let mut command = Command::new("crm_mon");
    command
        .env("CIB_file", file)
        .args(["-1", "--inactive", "--output-as=xml"]);
    let xml = run_command(command, "crm_mon")?;
    parse(&xml, "pacemaker-result")
}

/// The orders Pacemaker keeps nodes in, which its sorts start from: where its comparisons of
/// nodes are not transitive (free capacity over several utilization attributes), they decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeOrders {
    /// The cluster's node list (what resources are compared over).
    pub listed: Vec<String>,
    /// A resource's table of allowed nodes in a symmetric cluster (what a resource's node
    /// choice sorts), as it iterates.
    pub allowed: Vec<String>,
}

/// Ask Pacemaker for its node orders: schedule one resource on a CIB of just these nodes
/// (`(id, name)`) with tracing on, and read the order it sets and lists the node scores in.
/// None when its trace does not say (another Pacemaker version).
pub fn node_orders(nodes: &[(String, String)]) -> Result<Option<NodeOrders>> {
    const PROBE: &str = "paddock-order-probe";
    let escape = |v: &str| {
        v.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
    };
    let configured: String = nodes
        .iter()
        .map(|(id, name)| format!(r#"<node id="{}" uname="{}"/>"#, escape(id), escape(name)))
        .collect();
    let states: String = nodes
        .iter()
        .map(|(id, name)| {
            format!(
                r#"<node_state id="{}" uname="{}" in_ccm="true" crmd="online" join="member" expected="member"/>"#,
                escape(id),
                escape(name)
            )
        })
        .collect();
    let text = format!(
        r#"<cib have-quorum="1" validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes>{configured}</nodes><resources><primitive id="{PROBE}" class="ocf" provider="pacemaker" type="Dummy"/></resources><constraints/></configuration><status>{states}</status></cib>"#
    );
    let file = CibFile::temporary(&text)?;
    let mut command = Command::new("crm_simulate");
    command.arg("-x").arg(file.path()).args(["-R", "-VVVVVV"]);
    let (_, trace) = run_command_output(command, "crm_simulate (node order probe)")?;
    let after = |marker: &str| -> Vec<String> {
        trace
            .lines()
            .filter_map(|line| line.split_once(marker))
            .filter_map(|(_, rest)| rest.rsplit_once(':'))
            .map(|(node, _)| node.trim().to_string())
            .collect()
    };
    let listed = after(&format!("Setting symmetric_default for {PROBE} on "));
    let allowed = after(&format!("Pre-assignment: {PROBE} allocation score on "));
    let complete = |order: &[String]| {
        order.len() == nodes.len() && nodes.iter().all(|(_, n)| order.contains(n))
    };
    Ok((complete(&listed) && complete(&allowed)).then_some(NodeOrders { listed, allowed }))
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

/// Node states (crm_mon's attributes) in which an online node takes no resources.
const UNABLE_NODE_STATES: &[&str] = &["standby", "maintenance", "shutdown", "pending", "unclean"];

/// Resource states (crm_mon's attributes, with the value that means trouble).
const TROUBLED_RESOURCE_STATES: &[(&str, &str)] = &[
    ("failed", "true"),
    ("blocked", "true"),
    ("managed", "false"),
    ("orphaned", "true"),
];

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
            if UNABLE_NODE_STATES
                .iter()
                .any(|state| node.attribute(*state) == Some("true"))
            {
                placement.unable.insert(name.to_string());
            }
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
        for (state, bad) in TROUBLED_RESOURCE_STATES {
            if resource.attribute(*state) == Some(*bad) {
                let what = if *state == "managed" {
                    "unmanaged"
                } else {
                    state
                };
                placement.troubled.insert(id.to_string(), what.to_string());
            }
        }
    }
    Ok(placement)
}

/// Run a Pacemaker tool, bounded; its stdout, or its last line of complaint as the error.
fn run(program: &str, args: &[String]) -> Result<String> {
    let mut command = Command::new(program);
    command.args(args);
    run_command(command, &format!("{program} {}", args.join(" ")))
}

fn run_command(command: Command, what: &str) -> Result<String> {
    run_command_output(command, what).map(|(stdout, _)| stdout)
}

/// A tool's stdout and stderr, when it succeeds.
fn run_command_output(mut command: Command, what: &str) -> Result<(String, String)> {
    let program = command.get_program().to_string_lossy().into_owned();
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
        bail!("{what} failed: {why}");
    }
    Ok((output.stdout_text(), output.stderr_text()))
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
    fn a_temporary_cib_is_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let file = CibFile::temporary("<cib/>").expect("written");
        let path = file.path().to_path_buf();
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn crm_mon_flags_become_unable_nodes_and_troubled_resources() {
        let xml = r#"<pacemaker-result><nodes>
            <node name="n1" online="true" standby="true"/><node name="n2" online="true" standby="false"/></nodes>
            <resources><resource id="a" role="Started" failed="true" managed="true"><node name="n2"/></resource>
            <resource id="b" role="Started" managed="false"><node name="n2"/></resource></resources></pacemaker-result>"#;
        let p = parse(xml, "pacemaker-result").expect("parses");
        assert!(p.unable.contains("n1") && !p.unable.contains("n2"));
        assert_eq!(p.troubled["a"], "failed");
        assert_eq!(p.troubled["b"], "unmanaged");
    }

    #[test]
    fn bad_output_is_an_error_not_a_panic() {
        assert!(parse("<pacemaker-result>", "cluster_status").is_err());
        assert!(parse("<pacemaker-result/>", "cluster_status").is_err());
    }
}
