//! `vm-libvirt` (installed as /usr/libexec/paddock/vm-libvirt): the complete `ocf:paddock:vm`
//! agent, linked with libvirt. The `vm` front end runs it for every action but monitor and
//! meta-data; run directly, it behaves exactly as `vm`.
fn main() -> std::process::ExitCode {
    ocf::run(&paddock_vm::VmAgent)
}
