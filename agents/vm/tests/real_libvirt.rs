//! The agent binary against real libvirtd + qemu daemons started by this test
//! (tests/lib/libvirt-host.sh: two "hosts" in private mount namespaces on 127.0.0.1) and the
//! tiny guest (tests/lib/build-tinyvm.sh). One test function: the scenarios share the daemons
//! and run in order. Needs root, libvirt-daemon, qemu-system-x86, tini, busybox-static,
//! resource-agents (ocf-tester) — tests/setup.sh installs them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ocf::Deadline;
use paddock_vm::libvirt::{DomainStatus, Hypervisor, PauseReason};
use paddock_vm::process_check;

const PORT_A: u16 = 19811;
const PORT_B: u16 = 19812;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script(name: &str) -> PathBuf {
    repo().join("tests/lib").join(name)
}

fn uri(port: u16) -> String {
    format!("qemu+tcp://127.0.0.1:{port}/system")
}

fn sh(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Stops the libvirt hosts (their qemu too) however the test ends.
struct Hosts(Vec<&'static str>);

impl Drop for Hosts {
    fn drop(&mut self) {
        for h in &self.0 {
            let _ = Command::new(script("libvirt-host.sh"))
                .args(["stop", h])
                .output();
        }
    }
}

struct Lab {
    dir: tempfile::TempDir,
    kernel_dir: PathBuf,
    accel: String,
}

impl Lab {
    fn shared(&self) -> PathBuf {
        self.dir.path().join("shared")
    }

    /// The event journal the agent writes its decisions into (PADDOCK_JOURNAL).
    fn journal(&self) -> PathBuf {
        self.dir.path().join("journal")
    }

    fn serial(&self, name: &str) -> PathBuf {
        self.shared().join(format!("{name}-serial.log"))
    }

    /// Writes the tiny guest's domain XML; `disk` defaults to a 1 MiB raw file in the shared dir.
    fn config(&self, name: &str, uuid_tail: u32, disk: Option<&Path>, accel: &str) -> PathBuf {
        let disk = match disk {
            Some(d) => d.to_path_buf(),
            None => {
                let d = self.shared().join(format!("{name}-disk.raw"));
                fs::write(&d, vec![0u8; 1 << 20]).expect("disk image");
                d
            }
        };
        let serial = self.serial(name);
        let xml = format!(
            "<domain type='{accel}'>
  <name>{name}</name>
  <uuid>7b1c6a52-1d7e-4c55-9a3e-{uuid_tail:012}</uuid>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{k}/vmlinuz</kernel><initrd>{k}/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' error_policy='stop'/>
      <source file='{disk}'/><target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='{serial}' append='on'/></serial>
    <console type='file'><source path='{serial}' append='on'/><target type='serial'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
",
            k = self.kernel_dir.display(),
            disk = disk.display(),
            serial = serial.display(),
        );
        let path = self.dir.path().join(format!("{name}.xml"));
        fs::write(&path, xml).expect("config");
        path
    }

    fn boots(&self, name: &str) -> usize {
        fs::read_to_string(self.serial(name))
            .unwrap_or_default()
            .matches("tinyvm: up")
            .count()
    }

    fn wait_boots(&self, name: &str, n: usize, within: Duration) -> bool {
        let t = Instant::now();
        while t.elapsed() < within {
            if self.boots(name) >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn last_tick(&self, name: &str) -> u64 {
        fs::read_to_string(self.serial(name))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix("tinyvm: tick ")
                    .and_then(|n| n.trim().parse().ok())
            })
            .next_back()
            .unwrap_or(0)
    }
}

struct Outcome {
    rc: i32,
    stderr: String,
    elapsed: Duration,
}

/// Runs the installed-to-be binary (the `vm` front end) as Pacemaker would.
fn agent(
    lab: &Lab,
    action: &str,
    instance: &str,
    params: &[(&str, &str)],
    meta: &[(&str, &str)],
) -> Outcome {
    run_binary(
        env!("CARGO_BIN_EXE_vm"),
        lab,
        action,
        instance,
        params,
        meta,
    )
}

/// The complete agent (libvirt library), run directly to compare the front end's answers with.
const FULL_AGENT: &str = env!("CARGO_BIN_EXE_vm-libvirt");

fn run_binary(
    binary: &str,
    lab: &Lab,
    action: &str,
    instance: &str,
    params: &[(&str, &str)],
    meta: &[(&str, &str)],
) -> Outcome {
    let mut cmd = Command::new(binary);
    cmd.arg(action)
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", instance)
        .env("HA_RSCTMP", lab.dir.path().join("rsctmp"))
        .env(paddock_base::journal::DIR_ENV, lab.journal())
        .env("OCF_RESKEY_CRM_meta_timeout", "30000")
        .env("OCF_RESKEY_CRM_meta_interval", "10000");
    for (k, v) in params {
        cmd.env(format!("OCF_RESKEY_{k}"), v);
    }
    for (k, v) in meta {
        cmd.env(format!("OCF_RESKEY_CRM_meta_{k}"), v);
    }
    let t = Instant::now();
    let out = cmd.output().expect("run the vm agent");
    let o = Outcome {
        rc: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: t.elapsed(),
    };
    eprintln!(
        "  {} {action} {instance}: rc={} in {} ms",
        Path::new(binary)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
        o.rc,
        o.elapsed.as_millis()
    );
    o
}

fn expect(o: Outcome, rc: i32, what: &str) -> Outcome {
    assert_eq!(
        o.rc, rc,
        "{what}: expected rc {rc}, got {} after {:?}; stderr:\n{}",
        o.rc, o.elapsed, o.stderr
    );
    o
}

fn status(hv: &Hypervisor, name: &str) -> Option<DomainStatus> {
    hv.find(name, None, Deadline::after(Duration::from_secs(10)))
        .expect("libvirt answers")
        .map(|f| f.status)
}

/// KVM when the tiny guest boots under it here, else TCG; the answer is cached with the guest.
fn choose_accel(lab: &Lab, a: &str) -> String {
    if let Ok(v) = std::env::var("PADDOCK_TINYVM_ACCEL") {
        return v;
    }
    let cache = lab.kernel_dir.join("accel");
    if let Ok(v) = fs::read_to_string(&cache) {
        return v.trim().to_string();
    }
    let accel = if Path::new("/dev/kvm").exists() {
        let cfg = lab.config("pvm-kvmprobe", 99, None, "kvm");
        let p = [
            ("config", cfg.to_str().unwrap_or_default()),
            ("hypervisor", a),
            ("force_stop", "true"),
        ];
        let started = agent(lab, "start", "kvmprobe", &p, &[]).rc == 0;
        let booted = started && lab.wait_boots("pvm-kvmprobe", 1, Duration::from_secs(8));
        agent(lab, "stop", "kvmprobe", &p, &[]);
        if booted {
            "kvm"
        } else {
            "qemu"
        }
    } else {
        "qemu"
    };
    eprintln!("tiny guest runs with type='{accel}'");
    let _ = fs::write(&cache, accel);
    accel.to_string()
}

#[test]
fn real_libvirtd_and_qemu_scenarios() {
    let t0 = Instant::now();
    let kernel_dir = PathBuf::from(sh(&script("build-tinyvm.sh"), &[]));
    let dir = tempfile::Builder::new()
        .prefix("paddock-vm-test-")
        .tempdir_in("/tmp")
        .expect("tempdir");
    fs::create_dir_all(dir.path().join("shared")).expect("shared dir");
    fs::create_dir_all(dir.path().join("journal")).expect("journal dir");
    std::env::set_var("PADDOCK_VIRT_DIR", dir.path().join("hosts"));
    let mut lab = Lab {
        dir,
        kernel_dir,
        accel: String::new(),
    };
    // Declared after `lab`: dropped (daemons stopped) before the lab directory is removed.
    let _hosts = Hosts(vec!["pvm-a", "pvm-b"]);
    sh(
        &script("libvirt-host.sh"),
        &["start", "pvm-a", &PORT_A.to_string()],
    );
    sh(
        &script("libvirt-host.sh"),
        &["start", "pvm-b", &PORT_B.to_string()],
    );
    let (a, b) = (uri(PORT_A), uri(PORT_B));
    lab.accel = choose_accel(&lab, &a);
    let accel = lab.accel.clone();
    let hv_a =
        Hypervisor::connect(Some(&a), Deadline::after(Duration::from_secs(10))).expect("host A");
    let hv_b =
        Hypervisor::connect(Some(&b), Deadline::after(Duration::from_secs(10))).expect("host B");

    eprintln!("== start, monitor, graceful stop");
    let cfg = lab.config("pvm1", 1, None, &accel);
    let p = [
        ("config", cfg.to_str().unwrap_or_default()),
        ("hypervisor", a.as_str()),
    ];
    expect(
        agent(&lab, "monitor", "vm1", &p, &[("interval", "0")]),
        7,
        "probe before start",
    );
    expect(
        agent(&lab, "validate-all", "vm1", &p, &[]),
        0,
        "validate-all",
    );
    expect(agent(&lab, "start", "vm1", &p, &[]), 0, "start");
    assert_eq!(status(&hv_a, "pvm1"), Some(DomainStatus::Running));
    assert!(
        lab.wait_boots("pvm1", 1, Duration::from_secs(60)),
        "guest never came up"
    );
    let m = expect(agent(&lab, "monitor", "vm1", &p, &[]), 0, "monitor running");
    assert!(
        m.elapsed < Duration::from_secs(1),
        "monitor took {:?}",
        m.elapsed
    );
    // The front end's own remote-protocol client, over host A's UNIX socket this time.
    let socket = lab.dir.path().join("hosts/pvm-a/run/libvirt/libvirt-sock");
    let unix_uri = format!("qemu+unix:///system?socket={}", socket.display());
    let pu = [
        ("config", cfg.to_str().unwrap_or_default()),
        ("hypervisor", unix_uri.as_str()),
    ];
    expect(
        agent(&lab, "monitor", "vm1", &pu, &[]),
        0,
        "monitor over the UNIX socket",
    );
    expect(
        run_binary(FULL_AGENT, &lab, "monitor", "vm1", &p, &[]),
        0,
        "the complete agent agrees",
    );
    expect(
        agent(&lab, "start", "vm1", &p, &[]),
        0,
        "start when running",
    );
    expect(
        agent(&lab, "monitor", "vm1", &p, &[("interval", "0")]),
        0,
        "probe running",
    );

    eprintln!("== libvirtd SIGSTOPped: monitor answers within its timeout");
    let daemon: i32 = sh(&script("libvirt-host.sh"), &["pid", "pvm-a"])
        .parse()
        .expect("libvirtd pid");
    let pid = nix::unistd::Pid::from_raw(daemon);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP libvirtd");
    let stalled = agent(&lab, "monitor", "vm1", &p, &[("timeout", "5000")]);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).expect("SIGCONT libvirtd");
    let stalled = expect(
        stalled,
        0,
        "monitor with libvirtd stopped (qemu process fallback)",
    );
    assert!(
        stalled.elapsed < Duration::from_secs(5),
        "monitor took {:?} with a 5 s timeout",
        stalled.elapsed
    );
    assert!(
        stalled.stderr.contains("qemu process"),
        "{}",
        stalled.stderr
    );

    let stop = expect(agent(&lab, "stop", "vm1", &p, &[]), 0, "graceful stop");
    assert!(
        stop.elapsed < Duration::from_secs(15),
        "graceful stop took {:?}",
        stop.elapsed
    );
    let serial = fs::read_to_string(lab.serial("pvm1")).unwrap_or_default();
    assert!(
        serial.contains("ACPI power button -> poweroff"),
        "guest did not power off by ACPI:\n{serial}"
    );
    assert_eq!(status(&hv_a, "pvm1"), None);
    expect(agent(&lab, "monitor", "vm1", &p, &[]), 7, "monitor stopped");
    expect(agent(&lab, "stop", "vm1", &p, &[]), 0, "stop when stopped");

    eprintln!("== snapshot: stop saves the memory, start restores it (no reboot)");
    let snap_dir = lab.dir.path().join("snapshots");
    fs::create_dir_all(&snap_dir).expect("snapshot dir");
    let scfg = lab.config("pvm-snap", 6, None, &accel);
    let ps = [
        ("config", scfg.to_str().unwrap_or_default()),
        ("hypervisor", a.as_str()),
        ("snapshot", snap_dir.to_str().unwrap_or_default()),
    ];
    expect(agent(&lab, "start", "vmsnap", &ps, &[]), 0, "start");
    assert!(
        lab.wait_boots("pvm-snap", 1, Duration::from_secs(60)),
        "guest never came up"
    );
    std::thread::sleep(Duration::from_secs(1));
    expect(agent(&lab, "stop", "vmsnap", &ps, &[]), 0, "stop (save)");
    let image = snap_dir.join("pvm-snap.state");
    assert!(image.exists(), "no saved image {}", image.display());
    assert_eq!(status(&hv_a, "pvm-snap"), None);
    let tick_saved = lab.last_tick("pvm-snap");
    expect(
        agent(&lab, "start", "vmsnap", &ps, &[]),
        0,
        "start (restore)",
    );
    assert!(!image.exists(), "image not removed after restore");
    assert_eq!(status(&hv_a, "pvm-snap"), Some(DomainStatus::Running));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        lab.last_tick("pvm-snap") > tick_saved,
        "restored guest runs on (ticks {tick_saved} -> {})",
        lab.last_tick("pvm-snap")
    );
    assert_eq!(lab.boots("pvm-snap"), 1, "restored, not rebooted");
    let no_snap = [ps[0], ps[1], ("force_stop", "true")];
    expect(agent(&lab, "stop", "vmsnap", &no_snap, &[]), 0, "stop");

    eprintln!("== crash: qemu killed");
    expect(agent(&lab, "start", "vm1", &p, &[]), 0, "start");
    let pids = process_check::qemu_pids("pvm1");
    assert_eq!(pids.len(), 1, "one qemu for pvm1: {pids:?}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pids[0] as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill qemu");
    let t = Instant::now();
    loop {
        let o = agent(&lab, "monitor", "vm1", &p, &[]);
        if o.rc == 7 {
            break;
        }
        assert!(
            o.rc == 0 && t.elapsed() < Duration::from_secs(10),
            "after qemu was killed: rc {}: {}",
            o.rc,
            o.stderr
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    expect(agent(&lab, "stop", "vm1", &p, &[]), 0, "stop after crash");

    eprintln!(
        "== paused by user: running but degraded (190), since when; stop destroys it at once"
    );
    expect(agent(&lab, "start", "vm1", &p, &[]), 0, "start");
    hv_a.suspend("pvm1", Deadline::after(Duration::from_secs(10)))
        .expect("suspend");
    assert_eq!(
        status(&hv_a, "pvm1"),
        Some(DomainStatus::Paused(PauseReason::User))
    );
    let first = expect(
        agent(&lab, "monitor", "vm1", &p, &[]),
        190,
        "paused by user",
    );
    let since = |o: &Outcome| {
        o.stderr
            .lines()
            .find_map(|l| l.strip_prefix("ocf-exit-reason:pvm1: paused by user since "))
            .map(str::to_string)
    };
    let when = since(&first).expect("the exit reason says since when it is paused");
    std::thread::sleep(Duration::from_millis(1100));
    let again = expect(agent(&lab, "monitor", "vm1", &p, &[]), 190, "still paused");
    assert_eq!(since(&again), Some(when), "the pause's start moved");
    let stop = expect(agent(&lab, "stop", "vm1", &p, &[]), 0, "stop paused");
    assert!(
        stop.elapsed < Duration::from_secs(5),
        "stop of a paused domain took {:?}",
        stop.elapsed
    );

    eprintln!("== a guest that ignores the shutdown request is destroyed; the journal says so");
    // no ACPI: the power button request reaches nothing in the guest
    let deaf = lab.config("pvmdeaf", 9, None, &accel);
    let xml = fs::read_to_string(&deaf).expect("config");
    fs::write(&deaf, xml.replace("<features><acpi/></features>", "")).expect("config");
    let pd = [
        ("config", deaf.to_str().unwrap_or_default()),
        ("hypervisor", a.as_str()),
    ];
    expect(agent(&lab, "start", "vmdeaf", &pd, &[]), 0, "start");
    let stop = expect(
        agent(&lab, "stop", "vmdeaf", &pd, &[("timeout", "20000")]),
        0,
        "stop escalated",
    );
    assert!(
        stop.elapsed < Duration::from_secs(20),
        "stop took {:?}",
        stop.elapsed
    );
    assert!(
        !status(&hv_a, "pvmdeaf").is_some_and(|s| s.is_active()),
        "pvmdeaf still runs"
    );
    let journal = fs::read_to_string(
        lab.journal()
            .join(format!("{}.jsonl", paddock_base::journal::this_node())),
    )
    .unwrap_or_default();
    assert!(
        journal.lines().any(|l| l.contains("\"agent\":\"vm\"")
            && l.contains("\"rsc\":\"vmdeaf\"")
            && l.contains("pvmdeaf did not shut down in")),
        "no escalation in the journal: {journal}"
    );

    eprintln!("== paused on an I/O error (disk on a full filesystem) is a failure");
    let full = lab.shared().join("full");
    fs::create_dir_all(&full).expect("dir");
    let full_s = full.to_string_lossy().to_string();
    // Mounted inside host A's mount namespace, where qemu runs.
    sh(
        &script("libvirt-host.sh"),
        &[
            "nsenter",
            "pvm-a",
            "sh",
            "-c",
            &format!("mount -t tmpfs -o size=256k tmpfs {full_s} && truncate -s 8M {full_s}/disk.raw && (dd if=/dev/zero of={full_s}/fill bs=4k 2>/dev/null; true)"),
        ],
    );
    let io_cfg = lab.config("pvm-io", 3, Some(&full.join("disk.raw")), &accel);
    let pio = [
        ("config", io_cfg.to_str().unwrap_or_default()),
        ("hypervisor", a.as_str()),
    ];
    expect(agent(&lab, "start", "vmio", &pio, &[]), 0, "start");
    let t = Instant::now();
    let failed = loop {
        let o = agent(&lab, "monitor", "vmio", &pio, &[]);
        if o.rc != 0 {
            break o;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no I/O error pause within 60 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let failed = expect(failed, 1, "monitor of a domain paused on an I/O error");
    assert!(failed.stderr.contains("I/O error"), "{}", failed.stderr);
    let full = expect(
        run_binary(FULL_AGENT, &lab, "monitor", "vmio", &pio, &[]),
        1,
        "the complete agent agrees on the I/O error",
    );
    assert!(full.stderr.contains("I/O error"), "{}", full.stderr);
    assert_eq!(
        status(&hv_a, "pvm-io"),
        Some(DomainStatus::Paused(PauseReason::IoError))
    );
    expect(agent(&lab, "stop", "vmio", &pio, &[]), 0, "stop");

    eprintln!("== live migration A -> B, failed migration leaves it where it was");
    let mcfg = lab.config("pvm-mig", 4, None, &accel);
    let pm_a = [
        ("config", mcfg.to_str().unwrap_or_default()),
        ("hypervisor", a.as_str()),
        ("remoteuri", b.as_str()),
        ("migrate_options", "--unsafe"),
        ("migration_downtime", "300"),
    ];
    let pm_b = [
        ("config", mcfg.to_str().unwrap_or_default()),
        ("hypervisor", b.as_str()),
        ("remoteuri", a.as_str()),
        ("migrate_options", "--unsafe"),
    ];
    let to_b = [
        ("migrate_source", "nodeA"),
        ("migrate_target", "nodeB"),
        ("timeout", "60000"),
    ];
    expect(agent(&lab, "start", "vmmig", &pm_a, &[]), 0, "start on A");
    assert!(
        lab.wait_boots("pvm-mig", 1, Duration::from_secs(60)),
        "guest never came up"
    );
    let tick_before = lab.last_tick("pvm-mig");
    let mig = expect(
        agent(&lab, "migrate_to", "vmmig", &pm_a, &to_b),
        0,
        "migrate_to B",
    );
    assert!(mig.stderr.contains("live migration"), "{}", mig.stderr);
    expect(
        agent(&lab, "migrate_from", "vmmig", &pm_b, &to_b),
        0,
        "migrate_from A",
    );
    assert_eq!(status(&hv_a, "pvm-mig"), None, "gone from A");
    assert_eq!(
        status(&hv_b, "pvm-mig"),
        Some(DomainStatus::Running),
        "running on B"
    );
    expect(
        agent(&lab, "monitor", "vmmig", &pm_a, &[]),
        7,
        "monitor on A",
    );
    expect(
        agent(&lab, "monitor", "vmmig", &pm_b, &[]),
        0,
        "monitor on B",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        lab.last_tick("pvm-mig") > tick_before,
        "guest kept running (ticks {tick_before} -> {})",
        lab.last_tick("pvm-mig")
    );
    assert_eq!(
        lab.boots("pvm-mig"),
        1,
        "guest was not rebooted by the migration"
    );
    let unreachable = [
        pm_b[0],
        pm_b[1],
        ("remoteuri", "qemu+tcp://127.0.0.1:1/system"),
        pm_b[3],
    ];
    let to_a = [
        ("migrate_source", "nodeB"),
        ("migrate_target", "nodeA"),
        ("timeout", "20000"),
    ];
    let bad = expect(
        agent(&lab, "migrate_to", "vmmig", &unreachable, &to_a),
        1,
        "migrate_to an unreachable target",
    );
    assert!(bad.elapsed < Duration::from_secs(20), "{:?}", bad.elapsed);
    assert_eq!(
        status(&hv_b, "pvm-mig"),
        Some(DomainStatus::Running),
        "still running on B"
    );
    // Bounded: at 1 MiB/s the guest's memory cannot move within the timeout; the migration is
    // abandoned at the deadline and the guest stays on B.
    let slow = [pm_b[0], pm_b[1], pm_b[2], pm_b[3], ("migration_speed", "1")];
    let to_a_short = [
        ("migrate_source", "nodeB"),
        ("migrate_target", "nodeA"),
        ("timeout", "15000"),
    ];
    let cut = expect(
        agent(&lab, "migrate_to", "vmmig", &slow, &to_a_short),
        1,
        "migrate_to past its deadline",
    );
    assert!(
        cut.elapsed < Duration::from_secs(15),
        "migrate_to took {:?} with a 15 s timeout",
        cut.elapsed
    );
    assert_eq!(
        status(&hv_b, "pvm-mig"),
        Some(DomainStatus::Running),
        "still running on B after the abandoned migration"
    );
    assert!(
        !matches!(status(&hv_a, "pvm-mig"), Some(s) if s.is_active()),
        "no copy left on A"
    );
    expect(
        agent(&lab, "monitor", "vmmig", &pm_b, &[]),
        0,
        "monitor on B",
    );
    expect(agent(&lab, "stop", "vmmig", &pm_b, &[]), 0, "stop on B");

    eprintln!("== ocf-tester");
    let tcfg = lab.config("pvm-tester", 5, None, &accel);
    let out = Command::new("ocf-tester")
        .args(["-n", "vmtester", "-o"])
        .arg(format!("config={}", tcfg.display()))
        .args(["-o", &format!("hypervisor={a}")])
        .arg(env!("CARGO_BIN_EXE_vm"))
        .env("HA_RSCTMP", lab.dir.path().join("rsctmp"))
        .output()
        .expect("ocf-tester must be installed (resource-agents)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("passed all tests"),
        "ocf-tester:\n{text}"
    );
    eprintln!("all real-libvirt scenarios passed in {:?}", t0.elapsed());
}
