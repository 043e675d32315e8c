//! The agent as Pacemaker and resource-agents' tools see it: metadata valid for both schemas,
//! ocf-tester's start/monitor/stop cycle, bad parameters, a libvirt that does not answer
//! (degraded) and a killed daemon (not running).

use ocf::conformance::xmllint;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vmwatch");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn log(&self) -> PathBuf {
        self.dir.path().join("vmwatch.log")
    }
    fn run(&self, action: &str, params: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(BIN);
        cmd.arg(action)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HA_RSCTMP", self.dir.path())
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RESOURCE_INSTANCE", "vmwatch")
            .env("OCF_RESKEY_CRM_meta_on_node", "testnode")
            .env("OCF_RESKEY_CRM_meta_timeout", "20000")
            .env("OCF_RESKEY_logfile", self.log());
        for (k, v) in params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run("stop", &[]);
    }
}

#[test]
fn meta_data_is_valid_for_both_schemas() {
    let lab = Lab::new();
    let meta = lab.run("meta-data", &[]);
    assert_eq!(meta.code, 0);
    for schema in [
        "/usr/share/resource-agents/metadata.rng",
        "/usr/share/pcs/data/ocf-1.1.rng",
    ] {
        let (ok, err) = xmllint(Path::new(schema), &meta.stdout);
        assert!(ok, "{schema}: {err}");
    }
    let problems = ocf::conformance::ocf_1_1_problems(&meta.stdout);
    assert!(problems.is_empty(), "not OCF 1.1: {problems:?}");
    for needle in [
        "name=\"hypervisor\"",
        "name=\"logfile\"",
        "<action name=\"monitor\"",
    ] {
        assert!(meta.stdout.contains(needle), "{needle}");
    }
}

#[test]
fn a_uri_the_watcher_cannot_speak_is_a_configuration_error() {
    let lab = Lab::new();
    let r = lab.run("validate-all", &[("hypervisor", "test:///default")]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("hypervisor=test:///default"),
        "{}",
        r.stderr
    );
    assert_eq!(lab.run("validate-all", &[]).code, 0);
}

#[test]
fn ocf_tester_passes() {
    let lab = Lab::new();
    let out = Command::new("ocf-tester")
        .args(["-n", "vmwatch-tester", "-o"])
        .arg(format!("logfile={}", lab.log().display()))
        .arg(BIN)
        .env("HA_RSCTMP", lab.dir.path())
        .output()
        .expect("ocf-tester (Debian's resource-agents)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("passed all tests"),
        "ocf-tester:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// libvirt not there: the watcher runs, says so in its log and its monitor is degraded; a
/// killed daemon is "not running"; a second start does not start a second daemon.
#[test]
fn an_unreachable_libvirt_degrades_and_a_killed_daemon_is_not_running() {
    let lab = Lab::new();
    let uri = format!(
        "qemu+unix:///system?socket={}",
        lab.dir.path().join("nothing-here").display()
    );
    let params = [("hypervisor", uri.as_str())];
    assert_eq!(lab.run("monitor", &params).code, 7);
    let started = lab.run("start", &params);
    assert_eq!(started.code, 0, "{}", started.stderr);
    assert_eq!(lab.run("start", &params).code, 0);
    let pid: i32 = std::fs::read_to_string(lab.dir.path().join("paddock-vmwatch/pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let limit = Instant::now() + Duration::from_secs(10);
    let degraded = loop {
        let m = lab.run("monitor", &params);
        if m.code != 0 || Instant::now() > limit {
            break m;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(degraded.code, 190, "{}", degraded.stderr);
    assert!(
        degraded.stderr.contains("not answering since"),
        "{}",
        degraded.stderr
    );
    let log = std::fs::read_to_string(lab.log()).unwrap();
    assert!(log.contains("reconnecting"), "{log}");
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let limit = Instant::now() + Duration::from_secs(5);
    while lab.run("monitor", &params).code != 7 {
        assert!(
            Instant::now() < limit,
            "a killed watcher still counts as running"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(lab.run("stop", &params).code, 0);
}
