//! What the watcher tells Pacemaker and reads back from it, through attrd_updater (transient
//! node attributes: gone when the node leaves the cluster or reboots).
//!
//! - `paddock-net-NETWORK` = `ok` | `lost`: this node's view of the network;
//! - `#health-paddock-NETWORK` = `green` | `red` (on_loss=migrate only): Pacemaker's node
//!   health, acted on by the cluster property node-health-strategy.

use std::process::Command;
use std::time::Duration;

use ocf::command::run_checked as run;
use ocf::Deadline;

pub fn state_attribute(network: &str) -> String {
    format!("paddock-net-{network}")
}

pub fn health_attribute(network: &str) -> String {
    format!("#health-paddock-{network}")
}

pub fn publish(name: &str, value: &str, deadline: Deadline) -> Result<(), String> {
    run(
        Command::new("attrd_updater").args(["--name", name, "--update", value]),
        deadline,
    )
    .map(|_| ())
}

pub fn delete(name: &str, deadline: Deadline) -> Result<(), String> {
    run(
        Command::new("attrd_updater").args(["--name", name, "--delete"]),
        deadline,
    )
    .map(|_| ())
}

/// Every node's value of `name`, as attrd_updater prints them.
pub fn query_all(name: &str, deadline: Deadline) -> Result<String, String> {
    run(&mut query_all_command(name), deadline)
}

/// The daemon inherits the start action's environment, and with `OCF_RESKEY_CRM_meta_on_node`
/// set attrd_updater 2.1 answers `--query --all` with that node's value only: the guard would
/// see this node alone and act on a network-wide failure (found in the three-node lab). So
/// the query runs without the variables that name a target node.
fn query_all_command(name: &str) -> Command {
    let mut command = Command::new("attrd_updater");
    command.args(["--query", "--all", "--name", name]);
    for var in TARGET_NODE_ENV {
        command.env_remove(var);
    }
    command
}

/// What makes Pacemaker's tools default to one node (pcmk__node_attr_target).
const TARGET_NODE_ENV: [&str; 3] = [
    "OCF_RESKEY_CRM_meta_on_node",
    "OCF_RESKEY_CRM_meta_container_attribute_target",
    "OCF_RESKEY_CRM_meta_physical_host",
];

/// Whether the cluster fences lost nodes (the property stonith-enabled; Pacemaker's default is
/// true).
pub fn fencing_enabled(deadline: Deadline) -> Result<bool, String> {
    let out = run(
        Command::new("crm_attribute").args([
            "--type",
            "crm_config",
            "--name",
            "stonith-enabled",
            "--query",
            "--quiet",
            "--default",
            "true",
        ]),
        deadline,
    )?;
    ocf::params::parse_bool(out.trim())
        .ok_or_else(|| format!("stonith-enabled is '{}', not a boolean", out.trim()))
}

/// Leaves the Corosync membership at once: the other nodes see this node lost (and fence it)
/// without waiting for its token to time out. `--force`: Pacemaker is not asked first (it
/// would stop the resources, which is what a lost storage network prevents).
pub fn leave_membership(deadline: Deadline) -> Result<(), String> {
    run(
        Command::new("corosync-cfgtool").args(["-H", "--force"]),
        deadline,
    )
    .map(|_| ())
}

/// This node's name in the cluster (when Pacemaker did not pass it): crm_node's answer, else
/// the short host name, which is what Pacemaker calls the node unless told otherwise.
pub fn local_node() -> String {
    let asked = run(
        Command::new("crm_node").arg("--name"),
        Deadline::after(Duration::from_secs(5)),
    );
    match asked.map(|out| out.trim().to_string()) {
        Ok(name) if !name.is_empty() => name,
        _ => paddock_base::journal::this_node(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_query_of_every_node_does_not_inherit_a_target_node() {
        let command = super::query_all_command("paddock-net-tenant");
        let removed: Vec<_> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.to_string_lossy().into_owned())
            .collect();
        assert!(removed.contains(&"OCF_RESKEY_CRM_meta_on_node".to_string()));
        assert_eq!(removed.len(), super::TARGET_NODE_ENV.len());
    }

    #[test]
    fn attribute_names_carry_the_network() {
        assert_eq!(super::state_attribute("storage"), "paddock-net-storage");
        assert_eq!(super::health_attribute("tenant"), "#health-paddock-tenant");
    }
}
