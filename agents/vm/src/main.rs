//! `ocf:paddock:vm` (installed as /usr/lib/ocf/resource.d/paddock/vm).
fn main() -> std::process::ExitCode {
    ocf::run(&paddock_vm::VmAgent)
}
