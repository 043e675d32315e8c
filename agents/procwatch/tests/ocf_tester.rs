//! resource-agents' own compliance tool, ocf-tester, against the built agent.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn ocf_tester_passes() {
    assert!(
        std::path::Path::new("/usr/sbin/ocf-tester").is_file(),
        "ocf-tester is not installed: install Debian's resource-agents (make setup does)"
    );
    let lab = Lab::new("tester");
    // ocf-tester runs meta-data as user nobody: the agent must be reachable for it.
    let dir = lab.path("ocf");
    std::fs::create_dir(&dir).unwrap();
    let agent = dir.join("procwatch");
    std::fs::copy(BIN, &agent).unwrap();
    for p in [lab.dir.path(), dir.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("ocf-tester")
        .args(["-n", "pwtester", "-o"])
        .arg(format!("command={}", lab.svc("sleep")))
        .arg("-o")
        .arg(format!("logfile={}", lab.path("service.log").display()))
        .arg(&agent)
        .env("HA_RSCTMP", lab.dir.path())
        .output()
        .expect("ocf-tester must be installed (resource-agents)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ocf-tester failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("passed all tests"), "{stdout}");
    assert!(
        lab.own_processes().is_empty(),
        "ocf-tester's final stop left processes"
    );
}
