//! The fence_paddock_ipmi binary against a real ipmi_sim: actions and their observed effect,
//! IPMI 1.5, cipher suites, privilege, Kg, wrong credentials, unreachable/lossy/garbage peers,
//! secrets hygiene and metadata.

mod common;

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{free_port, Bmc};
use std::path::Path;

const AGENT: &str = env!("CARGO_BIN_EXE_fence_paddock_ipmi");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn run(args: &[&str], stdin: Option<&str>) -> Run {
    let started = Instant::now();
    let mut child = Command::new(AGENT)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agent");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("agent output");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    assert!(
        !r.stderr.contains("panicked"),
        "agent panicked: {}",
        r.stderr
    );
    r
}

fn lanplus_args(port: u16) -> Vec<String> {
    [
        "--ip=127.0.0.1",
        &format!("--ipport={port}"),
        "--username=admin",
        "--password=secret",
        "--lanplus",
        "--power-wait=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn agent(port: u16, extra: &[&str]) -> Run {
    let mut args = lanplus_args(port);
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs, None)
}

#[test]
fn status_off_on_reboot_are_observed_on_the_machine() {
    let bmc = Bmc::start("actions", &[]);
    let r = agent(bmc.port, &["-o", "status"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "Status: ON"), "{}", r.stderr);

    let r = agent(bmc.port, &["-o", "off"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Success: Powered OFF"), "{}", r.stdout);
    assert_eq!(
        bmc.power(),
        "off",
        "agent reported OFF; the machine must be off"
    );
    let r = agent(bmc.port, &["-o", "status"]);
    assert_eq!((r.code, r.stdout.trim()), (2, "Status: OFF"));
    let r = agent(bmc.port, &["-o", "off"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Already OFF"), "{}", r.stdout);

    let r = agent(bmc.port, &["-o", "on"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        bmc.wait_power("on", 1),
        "agent reported ON; the machine must be on"
    );

    // onoff reboot: the machine process is replaced (new PID) and ends up on.
    let r = agent(bmc.port, &["-o", "reboot"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Success: Rebooted"), "{}", r.stdout);
    assert!(bmc.wait_power("on", 1));

    let r = agent(bmc.port, &["-o", "reboot", "--method=cycle"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(bmc.wait_power("on", 5));

    let r = agent(bmc.port, &["-o", "monitor"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // diag is sent as Chassis Control "diagnostic interrupt"; ipmi_sim refuses it without a VM
    // connected to its serial channel (ipmitool gets the same answer): a clear error, no change.
    let r = agent(bmc.port, &["-o", "diag"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("Chassis Control failed: completion code 0xcc"),
        "{}",
        r.stderr
    );
    assert_eq!(bmc.power(), "on");
}

#[test]
fn ipmi_1_5_lanplus_0() {
    let bmc = Bmc::start("v15", &[]);
    for auth in ["md5", "password", "none"] {
        let r = run(
            &[
                "--ip=127.0.0.1",
                &format!("--ipport={}", bmc.port),
                "-l",
                "admin",
                "-p",
                "secret",
                "-A",
                auth,
                "-o",
                "status",
            ],
            None,
        );
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, "Status: ON"),
            "auth {auth}: {}",
            r.stderr
        );
    }
    let r = run(
        &[
            "--ip=127.0.0.1",
            &format!("--ipport={}", bmc.port),
            "-l",
            "admin",
            "-p",
            "secret",
            "--power-wait=0",
            "-o",
            "off",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(bmc.power(), "off");
}

#[test]
fn cipher_suites_0_to_3_and_unsupported_ones() {
    let bmc = Bmc::start("cipher", &[]);
    for c in ["0", "1", "2", "3"] {
        let r = agent(bmc.port, &["-o", "status", "-C", c]);
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, "Status: ON"),
            "cipher {c}: {}",
            r.stderr
        );
    }
    // Suite 17 is valid for the agent; this ipmi_sim has no SHA256 and refuses it clearly.
    let r = agent(bmc.port, &["-o", "status", "-C", "17"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("cipher suite 17: invalid authentication algorithm"),
        "{}",
        r.stderr
    );
    assert!(r.elapsed < Duration::from_secs(1), "{:?}", r.elapsed);
    for bad in ["4", "99", "x"] {
        let r = agent(bmc.port, &["-o", "status", "-C", bad]);
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("cipher"), "{}", r.stderr);
    }
}

#[test]
fn operator_privilege_can_fence() {
    let bmc = Bmc::start("oper", &[]);
    let port = format!("--ipport={}", bmc.port);
    let r = run(
        &[
            "-a",
            "127.0.0.1",
            &port,
            "-l",
            "oper",
            "-p",
            "opsecret",
            "-P",
            "-L",
            "operator",
            "--power-wait=0",
            "-o",
            "off",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(bmc.power(), "off");
    // A user-level session may read but not change power: a clear error, machine untouched.
    let r = run(
        &[
            "-a",
            "127.0.0.1",
            &port,
            "-l",
            "user",
            "-p",
            "usersecret",
            "-P",
            "-L",
            "user",
            "--power-wait=0",
            "-o",
            "on",
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("insufficient privilege"), "{}", r.stderr);
    assert_eq!(bmc.power(), "off");
}

#[test]
fn wrong_password_is_one_clear_line_quickly() {
    let bmc = Bmc::start("badpw", &[]);
    let r = run(
        &[
            "-a",
            "127.0.0.1",
            &format!("--ipport={}", bmc.port),
            "-l",
            "admin",
            "-p",
            "Wr0ngPassw0rd",
            "-P",
            "-o",
            "off",
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.elapsed < Duration::from_secs(2), "took {:?}", r.elapsed);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{}", r.stderr);
    assert!(errors[0].contains("wrong password"), "{}", r.stderr);
    assert!(!r.stderr.contains("Wr0ngPassw0rd") && !r.stdout.contains("Wr0ngPassw0rd"));
    assert_eq!(bmc.power(), "on");

    // IPMI 1.5: the BMC silently drops the Activate Session; the agent concludes after ~2 s.
    let r = run(
        &[
            "-a",
            "127.0.0.1",
            &format!("--ipport={}", bmc.port),
            "-l",
            "admin",
            "-p",
            "Wr0ngPassw0rd",
            "-o",
            "off",
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.elapsed < Duration::from_secs(3), "took {:?}", r.elapsed);
    assert!(r.stderr.contains("wrong password"), "{}", r.stderr);
    assert!(!r.stderr.contains("Wr0ngPassw0rd"));
    assert_eq!(bmc.power(), "on");
}

#[test]
fn kg_key_right_wrong_and_invalid() {
    let bmc = Bmc::start("kg", &["--kg", "6b67736563726574"]);
    let r = agent(
        bmc.port,
        &["-o", "status", "--hexadecimal-kg=6b67736563726574"],
    );
    assert_eq!((r.code, r.stdout.trim()), (0, "Status: ON"), "{}", r.stderr);
    let r = agent(bmc.port, &["-o", "status", "--hexadecimal-kg=0badc0ffee"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Kg"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("0badc0ffee"),
        "the key leaked: {}",
        r.stderr
    );
    let r = agent(
        bmc.port,
        &["-o", "status", "--hexadecimal-kg=not-hex-kg-value"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("hexadecimal_kg"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("not-hex-kg-value"),
        "the key leaked: {}",
        r.stderr
    );
}

#[test]
fn unreachable_bmc_ends_within_login_timeout() {
    let port = free_port(); // nothing listens there
    let r = agent(port, &["-o", "status", "--login-timeout=2"]);
    assert_eq!(r.code, 1);
    assert!(r.elapsed < Duration::from_secs(4), "took {:?}", r.elapsed);
    assert!(r.stderr.contains("no answer"), "{}", r.stderr);
}

/// A UDP relay between agent and BMC that drops every other datagram from the agent, and
/// every third answer of the BMC.
struct LossyProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    dropped: Arc<AtomicUsize>,
}

impl LossyProxy {
    fn start(bmc_port: u16) -> LossyProxy {
        let front = UdpSocket::bind("127.0.0.1:0").expect("bind proxy");
        let back = UdpSocket::bind("127.0.0.1:0").expect("bind proxy upstream");
        back.connect(("127.0.0.1", bmc_port))
            .expect("connect upstream");
        for s in [&front, &back] {
            s.set_read_timeout(Some(Duration::from_millis(50)))
                .expect("timeout");
        }
        let port = front.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicUsize::new(0));
        let client = Arc::new(Mutex::new(None));
        let (front2, back2) = (
            front.try_clone().expect("clone"),
            back.try_clone().expect("clone"),
        );
        let mut threads = Vec::new();
        {
            let (stop, dropped, client) = (stop.clone(), dropped.clone(), client.clone());
            threads.push(std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                let mut n_seen = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    if let Ok((n, from)) = front.recv_from(&mut buf) {
                        *client.lock().expect("lock") = Some(from);
                        n_seen += 1;
                        if n_seen % 2 == 1 {
                            dropped.fetch_add(1, Ordering::SeqCst);
                            continue;
                        }
                        let _ = back.send(&buf[..n]);
                    }
                }
            }));
        }
        {
            let (stop, dropped) = (stop.clone(), dropped.clone());
            threads.push(std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                let mut n_seen = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    if let Ok(n) = back2.recv(&mut buf) {
                        n_seen += 1;
                        if n_seen.is_multiple_of(3) {
                            dropped.fetch_add(1, Ordering::SeqCst);
                            continue;
                        }
                        if let Some(to) = *client.lock().expect("lock") {
                            let _ = front2.send_to(&buf[..n], to);
                        }
                    }
                }
            }));
        }
        LossyProxy {
            port,
            stop,
            threads,
            dropped,
        }
    }
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn lossy_network_succeeds_through_retransmission() {
    let bmc = Bmc::start("lossy", &[]);
    let proxy = LossyProxy::start(bmc.port);
    let r = agent(proxy.port, &["-o", "status", "-v"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "Status: ON"), "{}", r.stderr);
    assert!(r.stderr.contains("retransmitting"), "{}", r.stderr);
    assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
    let r = agent(proxy.port, &["-o", "off", "--login-timeout=10"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(bmc.power(), "off");
    assert!(proxy.dropped.load(Ordering::SeqCst) >= 4);
}

#[test]
fn garbage_answers_fail_within_deadline_without_panic() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let port = server.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut i = 0u8;
        while !stop2.load(Ordering::SeqCst) {
            if let Ok((n, from)) = server.recv_from(&mut buf) {
                i = i.wrapping_add(1);
                // Plausible headers with junk after them, echoes, truncations, random bytes.
                let junk: Vec<u8> = (0..(i as usize * 7) % 90)
                    .map(|k| (k as u8).wrapping_mul(i).wrapping_add(31))
                    .collect();
                let mut rmcpp = vec![6, 0, 0xff, 7, 6, i % 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 200, 0];
                rmcpp.extend_from_slice(&junk);
                for reply in [
                    rmcpp,
                    buf[..n].to_vec(),
                    buf[..n / 2].to_vec(),
                    junk,
                    vec![6, 0, 0xff, 7, 0, 0],
                ] {
                    let _ = server.send_to(&reply, from);
                }
            }
        }
    });
    for extra in [
        &["-o", "status", "--login-timeout=2"][..],
        &["-o", "status", "--login-timeout=2", "--lanplus=0"][..],
    ] {
        let mut args: Vec<String> = lanplus_args(port);
        if extra.contains(&"--lanplus=0") {
            args.retain(|a| a != "--lanplus");
        }
        args.extend(
            extra
                .iter()
                .filter(|a| **a != "--lanplus=0")
                .map(|s| s.to_string()),
        );
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&refs, None);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.elapsed < Duration::from_secs(4), "took {:?}", r.elapsed);
        assert_eq!(
            r.stderr.lines().filter(|l| l.contains("ERROR")).count(),
            1,
            "{}",
            r.stderr
        );
    }
    stop.store(true, Ordering::SeqCst);
    let _ = t.join();
}

/// Processes (other than `self_pid`) whose command line contains `needle`.
fn processes_showing(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(needle) {
                found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// The password of the BMC's user "fencer": a string no other process on the machine shows.
const UNIQUE_PW: &str = "Fx-Pw-9dJ2kq";

#[test]
fn password_from_stdin_and_script_never_shown() {
    let bmc = Bmc::start("secret", &[]);
    let stdin = format!("ip=127.0.0.1\nipport={}\nusername=fencer\npassword={UNIQUE_PW}\nlanplus=1\naction=status\nverbose=1\n", bmc.port);
    let r = run(&[], Some(&stdin));
    assert_eq!((r.code, r.stdout.trim()), (0, "Status: ON"), "{}", r.stderr);
    assert!(
        r.stderr.contains("DEBUG"),
        "verbose log expected: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains(UNIQUE_PW) && !r.stdout.contains(UNIQUE_PW),
        "{}",
        r.stderr
    );

    // Wrong password with -v: the error names the user, never the password tried.
    let stdin = format!("ip=127.0.0.1\nipport={}\nusername=fencer\npassword=x{UNIQUE_PW}\nlanplus=1\naction=status\nverbose=1\n", bmc.port);
    let r = run(&[], Some(&stdin));
    assert_eq!(r.code, 1);
    assert!(
        !r.stderr.contains(UNIQUE_PW) && !r.stdout.contains(UNIQUE_PW),
        "{}",
        r.stderr
    );

    // password_script: slow on purpose, so that every process's argv can be looked at while
    // the agent and its children run.
    let dir = std::env::temp_dir().join(format!("paddock-ipmi-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("pw.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nsleep 0.6\nprintf '%s\\n' '{UNIQUE_PW}'\n"),
    )
    .expect("script");
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .expect("chmod");
    let stdin = format!(
        "ip=127.0.0.1\nipport={}\nusername=fencer\npassword_script={}\nlanplus=1\naction=off\npower_wait=0\nverbose=1\n",
        bmc.port,
        script.display()
    );
    let watching = Arc::new(AtomicBool::new(true));
    let w2 = watching.clone();
    let watcher = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut scans = 0u32;
        while w2.load(Ordering::SeqCst) {
            seen.extend(processes_showing(UNIQUE_PW));
            scans += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        (seen, scans)
    });
    let r = run(&[], Some(&stdin));
    watching.store(false, Ordering::SeqCst);
    let (seen, scans) = watcher.join().expect("watcher");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(bmc.power(), "off");
    assert!(r.stderr.contains("password source: Script"), "{}", r.stderr);
    assert!(
        !r.stderr.contains(UNIQUE_PW) && !r.stdout.contains(UNIQUE_PW),
        "{}",
        r.stderr
    );
    assert!(scans >= 10, "the argv watcher barely ran ({scans} scans)");
    assert!(seen.is_empty(), "password visible in argv: {seen:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn target_bridging_is_refused_and_ipmitool_options_accepted() {
    let bmc = Bmc::start("compat", &[]);
    let r = agent(bmc.port, &["-o", "status", "--target=0x72"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("target"), "{}", r.stderr);
    let r = agent(
        bmc.port,
        &[
            "-o",
            "status",
            "--ipmitool-path=/usr/bin/ipmitool",
            "--ipmitool-timeout=1",
        ],
    );
    assert_eq!((r.code, r.stdout.trim()), (0, "Status: ON"), "{}", r.stderr);
    assert!(
        r.stderr.contains("ipmitool_path is ignored"),
        "{}",
        r.stderr
    );
}

#[test]
fn metadata_validates_and_keeps_fence_ipmilan_names() {
    let r = run(&["-o", "metadata"], None);
    assert_eq!(r.code, 0);
    let dir = std::env::temp_dir().join(format!("paddock-ipmi-meta-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("metadata.xml");
    std::fs::write(&file, &r.stdout).expect("write");
    let schema = Path::new("/usr/share/cluster/relaxng/metadata.rng");
    assert!(
        schema.is_file(),
        "{} is missing: install Debian's fence-agents (make setup does)",
        schema.display()
    );
    let out = Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(schema)
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils) must be installed");
    assert!(
        out.status.success(),
        "metadata invalid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "ip",
        "ipaddr",
        "ipport",
        "username",
        "login",
        "password",
        "passwd",
        "password_script",
        "lanplus",
        "cipher",
        "privlvl",
        "hexadecimal_kg",
        "auth",
        "method",
        "power_wait",
        "power_timeout",
        "login_timeout",
        "target",
        "ipmitool_path",
        "ipmitool_timeout",
        "delay",
        "retry_on",
        "port_as_ip",
    ] {
        assert!(
            r.stdout.contains(&format!("name=\"{name}\"")),
            "parameter {name} missing"
        );
    }
    assert!(r
        .stdout
        .contains(r#"<parameter name="lanplus" unique="0" required="0">"#));
    assert!(r.stdout.contains(r#"default="administrator""#));
    assert!(r.stdout.contains(r#"default="623""#));
    assert!(r.stdout.contains(r#"<action name="diag"/>"#));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A peer that refuses every Open Session Request with "no cipher suite match" (as a BMC
/// without suite 3 would) and records the algorithms asked for.
#[test]
fn default_cipher_falls_back_from_3_to_17() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let port = server.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let peer = std::thread::spawn(move || {
        let mut asked = Vec::new();
        let mut buf = [0u8; 512];
        while !stop2.load(Ordering::SeqCst) {
            let Ok((n, from)) = server.recv_from(&mut buf) else {
                continue;
            };
            let d = &buf[..n];
            // RMCP+ pre-session packet carrying an Open Session Request (payload type 0x10)
            if n >= 16 + 32 && d[4] == 0x06 && d[5] == 0x10 {
                let p = &d[16..];
                asked.push((p[12], p[20], p[28]));
                let reply = [
                    6, 0, 0xff, 7, 6, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, p[0], 0x11,
                ];
                let _ = server.send_to(&reply, from);
            }
        }
        asked
    });
    let r = agent(port, &["-o", "status", "-v"]);
    stop.store(true, Ordering::SeqCst);
    let asked = peer.join().expect("peer");
    assert_eq!(r.code, 1);
    assert!(r.elapsed < Duration::from_secs(1), "took {:?}", r.elapsed);
    assert_eq!(
        asked,
        vec![(1, 1, 1), (3, 4, 1)],
        "suite 3 then suite 17 (auth, integrity, confidentiality)"
    );
    assert!(r.stderr.contains("trying 17"), "{}", r.stderr);
    assert!(
        r.stderr.contains("cipher suite 17: no cipher suite match"),
        "{}",
        r.stderr
    );
    // An explicit cipher is not replaced.
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let r = agent(
        server.local_addr().expect("addr").port(),
        &["-o", "status", "-C", "3", "--login-timeout=1"],
    );
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("trying 17"), "{}", r.stderr);
}
