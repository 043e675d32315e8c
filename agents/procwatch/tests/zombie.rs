//! A service that died but whose parent does not reap it is a zombie: monitor must call that a
//! failure with a reason, not "running". This test binary makes itself a child subreaper, so the
//! daemonized service is re-parented to it, and then does not reap it. (Own test binary: the
//! subreaper setting is process-wide.)

mod common;
use common::*;
use std::time::Duration;

#[test]
fn zombie_service_is_a_monitor_failure() {
    nix::sys::prctl::set_child_subreaper(true).expect("become a child subreaper");
    let mut lab = Lab::new("zombie");
    lab.set("command", &lab.svc("sleep"));
    let r = lab.run("start");
    assert_eq!(r.code, 0, "{r:?}");
    let pid = lab.recorded_pid();
    let ppid: i32 = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap()
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        ppid,
        std::process::id() as i32,
        "the service was re-parented to this subreaper"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("zombie", Duration::from_secs(3), || {
        proc_state(pid) == Some('Z')
    });
    let r = lab.run("monitor");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.reason().contains(&format!("process {pid} is a zombie")),
        "{r:?}"
    );
    // A probe too: a zombie is not a healthy service.
    assert_eq!(
        lab.run_with("monitor", &[("OCF_RESKEY_CRM_meta_interval", "0")])
            .code,
        1
    );
    // Stop treats it as gone; once reaped, monitor says not running.
    assert_eq!(lab.run("stop").code, 0);
    nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
    assert_eq!(lab.run("monitor").code, 7);
}
