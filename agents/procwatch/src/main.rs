//! ocf:paddock:procwatch — starts, watches and restarts a host service.

mod agent;
mod command;
mod config;
mod identity;
mod matcher;
mod nova;
mod probe;
mod procinfo;
mod run;
mod service;
mod spawn;
mod state;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The daemonizing helper is this same binary (see spawn.rs); never an OCF action.
    if std::env::args().nth(1).as_deref() == Some(spawn::HELPER_ARG) {
        return spawn::helper_main();
    }
    ocf::run(&agent::ProcWatch)
}
