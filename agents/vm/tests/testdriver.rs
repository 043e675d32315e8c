//! The agent's actions against libvirt's test driver (no daemon, no qemu): in-process, because
//! test:///default keeps its state per process, and only while a connection is open (each test
//! holds one). Each test uses its own domain names, so they can run in parallel.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ocf::{Deadline, Env};
use paddock_vm::libvirt::{DomainStatus, Hypervisor, PauseReason};
use paddock_vm::VmAgent;

struct Case {
    dir: tempfile::TempDir,
    keeper: Hypervisor,
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(10))
}

fn domain_xml(name: &str) -> String {
    format!(
        "<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>\
         <os><type>hvm</type></os><devices><disk type='file' device='disk'>\
         <source file='/var/tmp/{name}.img'/><target dev='vda'/></disk></devices></domain>"
    )
}

impl Case {
    fn new() -> Case {
        let keeper = Hypervisor::connect(Some("test:///default"), deadline()).expect("test driver");
        Case {
            dir: tempfile::tempdir().expect("tempdir"),
            keeper,
        }
    }

    fn config(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(format!("{name}.xml"));
        fs::write(&p, domain_xml(name)).expect("write config");
        p
    }

    /// Runs one action in-process; returns (exit code, stderr).
    fn run(&self, action: &str, instance: &str, params: &[(&str, &str)]) -> (i32, String) {
        let mut env = Env::from_pairs([
            ("OCF_ROOT", "/usr/lib/ocf"),
            ("OCF_RESOURCE_INSTANCE", instance),
            ("OCF_RESKEY_hypervisor", "test:///default"),
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
            ("OCF_RESKEY_CRM_meta_interval", "10000"),
        ]);
        env.set("HA_RSCTMP", self.dir.path().to_string_lossy().to_string());
        for (k, v) in params {
            env.set(format!("OCF_RESKEY_{k}"), v.to_string());
        }
        let c = ocf::run_captured(&VmAgent, &[action], &env);
        (c.code, c.stderr)
    }

    fn status(&self, name: &str) -> Option<DomainStatus> {
        self.keeper
            .find(name, None, deadline())
            .expect("find")
            .map(|f| f.status)
    }
}

#[test]
fn start_monitor_stop_cycle_is_idempotent() {
    let c = Case::new();
    let cfg = c.config("td-cycle");
    let p = [("config", cfg.to_str().unwrap_or_default())];
    assert_eq!(
        c.run("monitor", "r-cycle", &p).0,
        7,
        "not running before start"
    );
    let (rc, err) = c.run("start", "r-cycle", &p);
    assert_eq!(rc, 0, "start: {err}");
    assert_eq!(c.status("td-cycle"), Some(DomainStatus::Running));
    assert_eq!(c.run("monitor", "r-cycle", &p).0, 0);
    // started again while running: success, still one domain
    assert_eq!(c.run("start", "r-cycle", &p).0, 0);
    let (rc, err) = c.run("stop", "r-cycle", &p);
    assert_eq!(rc, 0, "stop: {err}");
    assert_eq!(
        c.status("td-cycle"),
        None,
        "transient domain gone after stop"
    );
    assert_eq!(c.run("stop", "r-cycle", &p).0, 0, "stop when stopped");
    assert_eq!(c.run("monitor", "r-cycle", &p).0, 7);
}

#[test]
fn force_stop_and_every_shutdown_mode_stop_the_domain() {
    let c = Case::new();
    let cfg = c.config("td-modes");
    let path = cfg.to_str().unwrap_or_default();
    for extra in [
        ("force_stop", "true"),
        ("shutdown_mode", "acpi"),
        ("shutdown_mode", "default"),
    ] {
        let p = [("config", path), extra];
        assert_eq!(c.run("start", "r-modes", &p).0, 0);
        let t = Instant::now();
        let (rc, err) = c.run("stop", "r-modes", &p);
        assert_eq!(rc, 0, "stop with {extra:?}: {err}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{extra:?} took {:?}",
            t.elapsed()
        );
        assert_eq!(c.status("td-modes"), None);
    }
    let (rc, err) = c.run(
        "start",
        "r-modes",
        &[("config", path), ("shutdown_mode", "reboot")],
    );
    assert_eq!(rc, 6, "unknown shutdown_mode: {err}");
    assert!(err.contains("shutdown_mode"), "{err}");
}

#[test]
fn paused_by_user_is_running_but_degraded() {
    let c = Case::new();
    let cfg = c.config("td-pause");
    let p = [("config", cfg.to_str().unwrap_or_default())];
    assert_eq!(c.run("start", "r-pause", &p).0, 0);
    c.keeper.suspend("td-pause", deadline()).expect("suspend");
    assert_eq!(
        c.status("td-pause"),
        Some(DomainStatus::Paused(PauseReason::User))
    );
    let (rc, err) = c.run("monitor", "r-pause", &p);
    assert_eq!(rc, 190, "OCF_DEGRADED: {err}");
    assert!(err.contains("td-pause: paused by user since "), "{err}");
    assert_eq!(
        c.run("stop", "r-pause", &p).0,
        0,
        "a paused domain stops (destroy)"
    );
    assert_eq!(c.status("td-pause"), None);
}

#[test]
fn missing_unreadable_and_foreign_configs_are_refused() {
    let c = Case::new();
    let missing = c.dir.path().join("missing.xml");
    let p = [("config", missing.to_str().unwrap_or_default())];
    let (rc, err) = c.run("start", "r-missing", &p);
    assert_eq!(rc, 5, "missing config on start: {err}");
    assert!(err.contains("missing.xml"), "{err}");
    assert_eq!(
        c.run("monitor", "r-missing", &[p[0], ("CRM_meta_interval", "0")])
            .0,
        7,
        "probe"
    );
    assert_eq!(c.run("validate-all", "r-missing", &p).0, 5);
    // a directory cannot be read as a file (root reads any mode, so chmod would not do)
    let p = [("config", c.dir.path().to_str().unwrap_or_default())];
    assert_eq!(c.run("start", "r-dir", &p).0, 5);
    let net = c.dir.path().join("net.xml");
    fs::write(&net, "<network><name>default</name></network>").expect("write");
    let (rc, err) = c.run(
        "validate-all",
        "r-net",
        &[("config", net.to_str().unwrap_or_default())],
    );
    assert_eq!(rc, 6, "{err}");
    assert!(err.contains("not a libvirt domain"), "{err}");
    let relative = [("config", "vm.xml")];
    assert_eq!(c.run("validate-all", "r-rel", &relative).0, 6);
    assert_eq!(c.run("start", "r-none", &[]).0, 6, "config is required");
}

#[test]
fn start_refuses_a_stale_definition_when_the_config_vanished() {
    let c = Case::new();
    let cfg = c.config("td-stale");
    let p = [("config", cfg.to_str().unwrap_or_default())];
    assert_eq!(c.run("start", "r-stale", &p).0, 0);
    fs::remove_file(&cfg).expect("remove");
    // monitor and stop still find the domain by its remembered identity
    assert_eq!(c.run("monitor", "r-stale", &p).0, 0);
    assert_eq!(c.run("stop", "r-stale", &p).0, 0);
    assert_eq!(c.status("td-stale"), None);
    let (rc, err) = c.run("start", "r-stale", &p);
    assert_eq!(rc, 5, "{err}");
    assert_eq!(
        c.status("td-stale"),
        None,
        "nothing started from a remembered definition"
    );
}

#[test]
fn unanswering_hypervisor_fails_fast_and_bounded() {
    let c = Case::new();
    let cfg = c.config("td-unreach");
    let dead = "qemu+tcp://127.0.0.1:1/system";
    let p = [
        ("config", cfg.to_str().unwrap_or_default()),
        ("hypervisor", dead),
    ];
    let t = Instant::now();
    let (rc, err) = c.run("validate-all", "r-unreach", &p);
    assert_eq!(rc, 1, "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert_eq!(c.run("start", "r-unreach", &p).0, 1);
    // type='test' has no qemu process to check: monitor cannot tell → failure, not a hang
    assert_eq!(c.run("monitor", "r-unreach", &p).0, 1);
    // a qemu domain: fallback to /proc, where no qemu of that name runs
    let kvm = c.dir.path().join("kvm.xml");
    fs::write(&kvm, "<domain type='kvm'><name>td-no-such-qemu</name><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>").expect("write");
    let (rc, err) = c.run(
        "monitor",
        "r-unreach-kvm",
        &[
            ("config", kvm.to_str().unwrap_or_default()),
            ("hypervisor", dead),
        ],
    );
    assert_eq!(rc, 7, "{err}");
    assert!(err.contains("no qemu process"), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn a_domain_running_at_another_uri_is_not_running_here() {
    let c = Case::new();
    let node = c.dir.path().join("node.xml");
    fs::write(
        &node,
        "<node><domain type='test'><name>td-elsewhere</name><memory>65536</memory><os><type>hvm</type></os></domain></node>",
    )
    .expect("write node");
    let other_uri = format!("test://{}", node.display());
    let _other = Hypervisor::connect(Some(&other_uri), deadline()).expect("second test driver");
    let cfg = c.config("td-elsewhere");
    let here = [("config", cfg.to_str().unwrap_or_default())];
    let there = [here[0], ("hypervisor", other_uri.as_str())];
    assert_eq!(
        c.run("monitor", "r-else", &there).0,
        0,
        "running at the other URI"
    );
    assert_eq!(
        c.run("monitor", "r-else", &here).0,
        7,
        "not at test:///default"
    );
    assert_eq!(c.run("start", "r-else", &here).0, 0);
    assert_eq!(c.status("td-elsewhere"), Some(DomainStatus::Running));
    assert_eq!(c.run("stop", "r-else", &here).0, 0);
}

#[test]
fn unsupported_parameters_and_options_are_configuration_errors() {
    let c = Case::new();
    let cfg = c.config("td-unsup");
    let path = cfg.to_str().unwrap_or_default();
    for bad in [
        ("monitor_scripts", "/bin/true"),
        ("migrate_options", "--copy-storage-all"),
        ("stateless", "1"),
        ("force_stop", "maybe"),
    ] {
        let (rc, err) = c.run("validate-all", "r-unsup", &[("config", path), bad]);
        assert_eq!(rc, 6, "{bad:?}: {err}");
    }
    assert_eq!(
        c.run(
            "validate-all",
            "r-unsup",
            &[("config", path), ("stateless", "false")]
        )
        .0,
        0
    );
}

#[test]
fn check_level_10_wants_shared_storage() {
    let c = Case::new();
    let cfg = c.config("td-shared");
    let path = cfg.to_str().unwrap_or_default();
    let run = |extra: &[(&str, &str)]| {
        let mut env_params = vec![("config", path)];
        env_params.extend_from_slice(extra);
        c.run("validate-all", "r-shared", &env_params)
    };
    assert_eq!(run(&[]).0, 0, "level 0 does not look at storage");
    let mut env = Env::from_pairs([
        ("OCF_RESOURCE_INSTANCE", "r-shared"),
        ("OCF_RESKEY_hypervisor", "test:///default"),
        ("OCF_CHECK_LEVEL", "10"),
    ]);
    env.set("OCF_RESKEY_config", path.to_string());
    env.set("HA_RSCTMP", c.dir.path().to_string_lossy().to_string());
    let out = ocf::run_captured(&VmAgent, &["validate-all"], &env);
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(
        out.stderr.contains("vda") && out.stderr.contains("not shared"),
        "{}",
        out.stderr
    );
    env.set("OCF_RESKEY_shared_storage", "/var/tmp");
    let out = ocf::run_captured(&VmAgent, &["validate-all"], &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn snapshot_directory_must_exist() {
    let c = Case::new();
    let cfg = c.config("td-snap");
    let p = [
        ("config", cfg.to_str().unwrap_or_default()),
        ("snapshot", "/nonexistent/paddock-snap"),
    ];
    assert_eq!(c.run("validate-all", "r-snap", &p).0, 5);
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vm")
}

#[test]
fn metadata_validates_against_the_ocf_schema_and_keeps_virtualdomain_defaults() {
    let out = Command::new(bin())
        .arg("meta-data")
        .output()
        .expect("run vm meta-data");
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8_lossy(&out.stdout).to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("vm.xml");
    fs::write(&file, &xml).expect("write");
    let schema = "/usr/share/resource-agents/metadata.rng";
    let lint = Command::new("xmllint")
        .args(["--noout", "--relaxng", schema])
        .arg(&file)
        .output()
        .expect("xmllint must be installed");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let problems = ocf::conformance::ocf_1_1_problems(&xml);
    assert!(problems.is_empty(), "not OCF 1.1: {problems:?}");
    for needle in [
        r#"name="config""#,
        r#"name="autoset_utilization_cpu""#,
        r#"name="shutdown_mode""#,
        r#"name="migrate_to""#,
        r#"name="shared_storage""#,
    ] {
        assert!(xml.contains(needle), "meta-data lacks {needle}");
    }
    let unknown = Command::new(bin()).arg("frobnicate").output().expect("run");
    assert_eq!(unknown.status.code(), Some(3));
}

#[test]
fn save_config_on_stop_writes_the_current_definition_back() {
    let c = Case::new();
    let cfg = c.config("td-save");
    let before = fs::read_to_string(&cfg).expect("read");
    assert!(!before.contains("<uuid>"));
    let p = [
        ("config", cfg.to_str().unwrap_or_default()),
        ("save_config_on_stop", "true"),
    ];
    assert_eq!(c.run("start", "r-save", &p).0, 0);
    let (rc, err) = c.run("stop", "r-save", &p);
    assert_eq!(rc, 0, "{err}");
    let after = fs::read_to_string(&cfg).expect("read");
    assert!(
        after.contains("<uuid>") && after.contains("<name>td-save</name>"),
        "config not rewritten by libvirt's definition:\n{after}"
    );
    assert_eq!(
        c.run("start", "r-save", &p).0,
        0,
        "the saved config starts again"
    );
    assert_eq!(c.run("stop", "r-save", &[p[0]]).0, 0);
}

#[test]
fn validate_wants_an_executable_emulator() {
    let c = Case::new();
    let cfg = c.dir.path().join("emu.xml");
    fs::write(&cfg, "<domain type='test'><name>td-emu</name><devices><emulator>/nonexistent/qemu-system-x86_64</emulator></devices></domain>").expect("write");
    let (rc, err) = c.run(
        "validate-all",
        "r-emu",
        &[("config", cfg.to_str().unwrap_or_default())],
    );
    assert_eq!(rc, 5, "{err}");
    assert!(err.contains("/nonexistent/qemu-system-x86_64"), "{err}");
}

#[test]
fn a_libvirtd_that_accepts_but_never_answers_costs_at_most_the_timeout() {
    // A TCP listener that accepts connections and never says a word: a wedged libvirtd.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let _accepting = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    let c = Case::new();
    let kvm = c.dir.path().join("wedged.xml");
    fs::write(&kvm, "<domain type='kvm'><name>td-wedged</name><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>").expect("write");
    let uri = format!("qemu+tcp://127.0.0.1:{port}/system");
    let p = [
        ("config", kvm.to_str().unwrap_or_default()),
        ("hypervisor", uri.as_str()),
        ("CRM_meta_timeout", "3000"),
    ];
    for (action, want) in [("monitor", 7), ("validate-all", 1), ("stop", 1)] {
        let t = Instant::now();
        let (rc, err) = c.run(action, "r-wedged", &p);
        assert_eq!(rc, want, "{action}: {err}");
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{action} took {:?} with a 3 s timeout",
            t.elapsed()
        );
        assert!(err.contains("did not answer"), "{action}: {err}");
    }
}

#[test]
fn start_resources_starts_the_domains_virtual_network() {
    let c = Case::new();
    let net_xml = "<network><name>td-net</name><bridge name='tdbr0'/><forward mode='nat'/>\
                   <ip address='192.168.251.1' netmask='255.255.255.0'/></network>";
    c.keeper
        .call("define network", deadline(), move |conn| {
            conn.define_network_xml(net_xml).map(|_| ())
        })
        .expect("define an inactive network");
    let active = |c: &Case| {
        c.keeper
            .call("network state", deadline(), |conn| {
                conn.lookup_network_by_name("td-net")?.is_active()
            })
            .expect("network state")
    };
    assert!(!active(&c));
    let cfg = c.dir.path().join("net-vm.xml");
    fs::write(
        &cfg,
        "<domain type='test'><name>td-netvm</name><memory>65536</memory><os><type>hvm</type></os>\
         <devices><interface type='network'><source network='td-net'/></interface></devices></domain>",
    )
    .expect("write");
    let p = [
        ("config", cfg.to_str().unwrap_or_default()),
        ("start_resources", "true"),
    ];
    let (rc, err) = c.run("start", "r-net", &p);
    assert_eq!(rc, 0, "{err}");
    assert!(active(&c), "start_resources did not start td-net");
    assert_eq!(c.run("stop", "r-net", &p).0, 0);
}
