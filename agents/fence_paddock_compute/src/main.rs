//! fence_paddock_compute: the stonith framework runs the life cycle; the agent is in the library.

fn main() -> std::process::ExitCode {
    stonith::run(&fence_paddock_compute::ComputeAgent)
}
