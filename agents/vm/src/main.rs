//! `ocf:paddock:vm` (installed as /usr/lib/ocf/resource.d/paddock/vm): the front end, which
//! answers monitor and meta-data itself and hands every other action to `vm-libvirt`.
fn main() -> std::process::ExitCode {
    ocf::run(&paddock_vm::front::FrontAgent)
}
