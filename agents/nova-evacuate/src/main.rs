//! ocf:paddock:nova-evacuate — rebuilds the instances of fenced OpenStack compute hosts on
//! other hosts, by per-instance HA policy.
#![forbid(unsafe_code)]

mod agent;
mod config;
mod daemon;
mod evacuate;
mod marker;
mod policy;
mod pool;
mod status;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The daemon is this same binary (see daemon.rs); never an OCF action.
    if args.first().map(String::as_str) == Some(daemon::DAEMON_ARG) {
        return daemon::main(&args[1..]);
    }
    ocf::run(&agent::NovaEvacuate)
}
