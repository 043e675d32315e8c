//! Running a helper command (hook, exec probe, init script) by argv with extra environment,
//! bounded by a deadline: the framework's bounded runner, which kills the command's process group.

pub use ocf::command::{Limits, Output};
use ocf::Deadline;
use std::process::Command;

/// Run `argv` with extra `env`, stdin from /dev/null, until it exits or the deadline passes.
pub fn run_bounded(
    argv: &[&str],
    env: &[(String, String)],
    deadline: Deadline,
    limits: Limits,
) -> Result<Output, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    ocf::command::run_bounded(&mut command, deadline, limits).map_err(|e| e.to_string())
}
