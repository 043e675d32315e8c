//! The agent as Pacemaker and resource-agents' tools see it: metadata valid for both schemas,
//! ocf-tester's cycle, bad input answered with the right exit code and a reason naming the bad
//! item, an unreachable network at start (probe: not running; start: fails, with the reason,
//! within its timeout), and a network lost while watched. Outside a cluster attrd_updater
//! fails: the watcher logs it and, unable to read the other nodes, never acts beyond alert.

use ocf::conformance::xmllint;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_netwatch");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn reason(&self) -> &str {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("ocf-exit-reason:"))
            .unwrap_or("")
    }
}

struct Lab {
    dir: tempfile::TempDir,
    params: Vec<(String, String)>,
}

impl Lab {
    fn new(params: &[(&str, &str)]) -> Lab {
        let mut lab = Lab {
            dir: tempfile::tempdir().unwrap(),
            params: Vec::new(),
        };
        let log = lab.log();
        lab.set("logfile", log.to_str().unwrap());
        for (k, v) in params {
            lab.set(k, v);
        }
        lab
    }
    fn set(&mut self, key: &str, value: &str) {
        self.params.retain(|(k, _)| k != key);
        self.params.push((key.into(), value.into()));
    }
    fn log(&self) -> PathBuf {
        self.dir.path().join("netwatch.log")
    }
    fn run(&self, action: &str, interval_ms: &str) -> Run {
        let mut cmd = Command::new(BIN);
        cmd.arg(action)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HA_RSCTMP", self.dir.path())
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RESOURCE_INSTANCE", "netwatch-test")
            .env("OCF_RESKEY_CRM_meta_on_node", "testnode")
            .env("OCF_RESKEY_CRM_meta_interval", interval_ms)
            .env("OCF_RESKEY_CRM_meta_timeout", "20000");
        for (k, v) in &self.params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        let t = Instant::now();
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: t.elapsed(),
        }
    }
    fn action(&self, action: &str) -> Run {
        self.run(action, "5000")
    }
    fn probe(&self) -> Run {
        self.run("monitor", "0")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.action("stop");
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> Option<Run>) -> Run {
    let end = Instant::now() + limit;
    loop {
        if let Some(r) = done() {
            return r;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn meta_data_is_valid_for_both_schemas() {
    let lab = Lab::new(&[]);
    let meta = lab.action("meta-data");
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
    for name in [
        "network",
        "interfaces",
        "targets",
        "threshold",
        "interval",
        "misses",
        "on_loss",
        "logfile",
    ] {
        assert!(meta.stdout.contains(&format!("name=\"{name}\"")), "{name}");
    }
}

#[test]
fn ocf_tester_passes() {
    let lab = Lab::new(&[]);
    let out = Command::new("ocf-tester")
        .args(["-n", "netwatch-tester"])
        .args(["-o", "network=tester", "-o", "interfaces=lo", "-o"])
        .arg("targets=127.0.0.1")
        .arg("-o")
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

#[test]
fn an_unknown_interface_is_a_configuration_error_naming_it() {
    let lab = Lab::new(&[
        ("network", "storage"),
        ("interfaces", "lo nosuch-if0"),
        ("targets", "127.0.0.1"),
    ]);
    let r = lab.action("validate-all");
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.reason().contains("interface nosuch-if0 does not exist"),
        "{}",
        r.stderr
    );
    let start = lab.action("start");
    assert_eq!(start.code, 6, "{}", start.stderr);
}

#[test]
fn a_target_list_with_garbage_is_a_configuration_error_naming_the_item() {
    for (targets, bad) in [
        ("127.0.0.1 storage-gw", "'storage-gw'"),
        ("tcp:127.0.0.1", "'tcp:127.0.0.1'"),
        ("arp:fd00::1%lo", "'arp:fd00::1%lo'"),
    ] {
        let lab = Lab::new(&[("network", "storage"), ("targets", targets)]);
        let r = lab.action("validate-all");
        assert_eq!(r.code, 6, "{targets}: {}", r.stderr);
        assert!(
            r.reason().contains(bad) && r.reason().contains("'targets'"),
            "{targets}: {}",
            r.stderr
        );
        // a probe of a resource that cannot run here: not running, not an error
        assert_eq!(lab.probe().code, 7, "{}", lab.probe().stderr);
    }
    let none = Lab::new(&[("network", "storage")]);
    assert_eq!(none.action("validate-all").code, 6);
}

#[test]
fn unreachable_targets_at_start_fail_the_start_with_the_reason() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let lab = Lab::new(&[
        ("network", "storage"),
        ("targets", &format!("tcp:{closed}")),
        ("misses", "2"),
    ]);
    assert_eq!(lab.action("validate-all").code, 0);
    let probe = lab.probe();
    assert_eq!(probe.code, 7, "{}", probe.stderr);
    let start = lab.action("start");
    assert_eq!(start.code, 1, "{}", start.stderr);
    assert!(
        start
            .reason()
            .contains("network storage: 2 rounds failed at start")
            && start.reason().contains(&format!("tcp:{closed}")),
        "{}",
        start.stderr
    );
    // misses x interval = 2 s, and nothing left running
    assert!(
        start.elapsed < Duration::from_secs(6),
        "{:?}",
        start.elapsed
    );
    assert_eq!(lab.probe().code, 7);
}

/// Watched, then the peer stops answering: lost after misses x interval, degraded with the
/// reason; on_loss=fence without the other nodes' states stays an alert (never act blind);
/// the peer back: ok again. A killed watcher is not running.
#[test]
fn a_lost_network_degrades_the_monitor_and_its_return_clears_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let lab = Lab::new(&[
        ("network", "tenant"),
        ("interfaces", "lo"),
        ("targets", &format!("tcp:{addr}")),
        ("on_loss", "fence"),
    ]);
    let start = lab.action("start");
    assert_eq!(start.code, 0, "{}", start.stderr);
    assert_eq!(lab.action("start").code, 0, "a second start is a no-op");
    let monitor = lab.action("monitor");
    assert_eq!(monitor.code, 0, "{}", monitor.stderr);
    assert!(
        monitor.elapsed < Duration::from_millis(500),
        "{:?}",
        monitor.elapsed
    );
    drop(listener);
    let lost = wait_for("the loss", Duration::from_secs(10), || {
        let m = lab.action("monitor");
        (m.code != 0).then_some(m)
    });
    assert_eq!(lost.code, 190, "{}", lost.stderr);
    assert!(
        lost.reason().contains("network tenant lost ("),
        "{}",
        lost.stderr
    );
    assert!(
        lost.reason().contains(&format!("tcp:{addr}")),
        "{}",
        lost.stderr
    );
    // settled: the other nodes cannot be read here, so fence is not applied
    let blind = wait_for("the guard's verdict", Duration::from_secs(10), || {
        let m = lab.action("monitor");
        m.reason().contains("other nodes unreadable").then_some(m)
    });
    assert_eq!(blind.code, 190, "{}", blind.stderr);
    assert!(
        blind.reason().contains("on_loss=fence not applied"),
        "{}",
        blind.stderr
    );
    let _back = TcpListener::bind(addr).unwrap();
    wait_for("the return", Duration::from_secs(10), || {
        let m = lab.action("monitor");
        (m.code == 0).then_some(m)
    });
    let log = std::fs::read_to_string(lab.log()).unwrap();
    assert!(log.contains("network tenant lost"), "{log}");
    assert!(log.contains("network tenant works"), "{log}");
    let pid: i32 = std::fs::read_to_string(lab.dir.path().join("paddock-netwatch-tenant/pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    wait_for(
        "a killed watcher to be not running",
        Duration::from_secs(5),
        || {
            let m = lab.action("monitor");
            (m.code == 7).then_some(m)
        },
    );
    assert_eq!(lab.action("stop").code, 0);
}
