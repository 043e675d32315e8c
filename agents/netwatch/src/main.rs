//! ocf:paddock:netwatch — watches one network and answers its loss by policy.
#![forbid(unsafe_code)]

mod agent;
mod cluster;
mod config;
mod daemon;
mod link;
mod probe;
mod round;
mod status;
mod target;
#[cfg(test)]
mod testnet;
mod verdict;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The daemon is this same binary (see daemon.rs); never an OCF action.
    if args.first().map(String::as_str) == Some(daemon::DAEMON_ARG) {
        return daemon::main(&args[1..]);
    }
    ocf::run(&agent::NetWatch)
}
