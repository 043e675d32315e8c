//! ocf:paddock:vmwatch — reports a failed VM to Pacemaker the moment libvirt says so.
#![forbid(unsafe_code)]

mod agent;
mod cluster;
mod daemon;
#[cfg(test)]
mod fake_libvirtd;
mod records;
mod services;
mod state;
mod verdict;
mod watch;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The daemon is this same binary (see daemon.rs); never an OCF action.
    if args.first().map(String::as_str) == Some(daemon::DAEMON_ARG) {
        return daemon::main(&args[1..]);
    }
    ocf::run(&agent::VmWatch)
}
