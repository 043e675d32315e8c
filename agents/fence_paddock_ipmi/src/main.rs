//! fence_paddock_ipmi: the stonith framework runs the life cycle; the agent is in the library.

fn main() -> std::process::ExitCode {
    stonith::run(&fence_paddock_ipmi::agent::IpmiAgent)
}
