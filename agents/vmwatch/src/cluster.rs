//! What the watcher tells Pacemaker: a resource's failure (`crm_resource --fail`, so Pacemaker
//! recovers it by the resource's own policy: in place first, elsewhere once
//! migration-threshold is reached) and the state of libvirt as a node attribute.

use std::process::Command;
use std::time::Duration;

use ocf::command::{run_bounded, Limits};
use ocf::Deadline;

/// The node attribute that says whether this node's libvirt answers: `ok`, or `down` and why.
pub const LIBVIRT_ATTRIBUTE: &str = "paddock-libvirt";

const COMMAND_TIME: Duration = Duration::from_secs(15);

/// Tells Pacemaker that `resource` failed on `node`.
pub fn report_failure(resource: &str, node: &str) -> Result<(), String> {
    run(Command::new("crm_resource").args(["--fail", "--resource", resource, "--node", node]))
}

/// A reported failure, into the operator's event journal (when there is one): the watcher's
/// decision, next to Pacemaker's own events about the recovery.
pub fn record(resource: &str, what: &str) {
    paddock_base::journal::record_decision("vmwatch", None, resource, "report", what);
}

/// Publishes `value` as this node's libvirt attribute (transient: gone when the node leaves).
pub fn publish_libvirt_state(value: &str) -> Result<(), String> {
    run(Command::new("attrd_updater").args(["--name", LIBVIRT_ATTRIBUTE, "--update", value]))
}

/// This node's name in the cluster (when Pacemaker did not pass it): crm_node's answer, else
/// the host name, which is what Pacemaker calls the node unless told otherwise.
pub fn local_node() -> Result<String, String> {
    let asked = run_bounded(
        Command::new("crm_node").arg("--name"),
        Deadline::after(COMMAND_TIME),
        Limits::default(),
    );
    if let Ok(out) = asked {
        let name = out.stdout_text().trim().to_string();
        if out.success() && !name.is_empty() {
            return Ok(name);
        }
    }
    let host = nix::unistd::gethostname().map_err(|e| format!("no node name: {e}"))?;
    let host = host.to_string_lossy();
    let short = host.split('.').next().unwrap_or_default();
    tracing::warn!("crm_node --name did not answer; taking the host name {short} as the node name");
    Ok(short.to_string())
}

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command
            .get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = run_bounded(command, Deadline::after(COMMAND_TIME), Limits::default())
        .map_err(|e| format!("{shown}: {e}"))?;
    if out.success() {
        Ok(())
    } else {
        Err(format!(
            "{shown}: {}{}",
            out.describe_status(),
            out.last_line_suffix()
        ))
    }
}
