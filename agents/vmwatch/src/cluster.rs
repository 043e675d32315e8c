//! What the watcher tells Pacemaker: a resource's failure (`crm_resource --fail`, so Pacemaker
//! recovers it by the resource's own policy: in place first, elsewhere once
//! migration-threshold is reached) and the state of libvirt as a node attribute.

use std::process::Command;
use std::time::Duration;

use ocf::command::run_checked;
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
    let asked = run_checked(
        Command::new("crm_node").arg("--name"),
        Deadline::after(COMMAND_TIME),
    );
    if let Some(name) = asked.ok().map(|out| out.trim().to_string()) {
        if !name.is_empty() {
            return Ok(name);
        }
    }
    let short = paddock_base::journal::this_node();
    if short.is_empty() {
        return Err(
            "no node name: crm_node --name did not answer and there is no host name".into(),
        );
    }
    tracing::warn!("crm_node --name did not answer; taking the host name {short} as the node name");
    Ok(short)
}

/// Runs a Pacemaker tool bounded by COMMAND_TIME; why it failed, if it did.
fn run(command: &mut Command) -> Result<(), String> {
    run_checked(command, Deadline::after(COMMAND_TIME)).map(|_| ())
}
