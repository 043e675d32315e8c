//! Shared by the integration tests: run the agent, start/stop a sushy-emulator BMC
//! (tests/lib/redfish-bmc.sh), and a small scripted HTTP responder for failure modes the
//! emulator cannot produce.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The emulator's password in tests: distinctive, so that we can look for it in any output.
pub const PASSWORD: &str = "Xyzzy-s3cret-4711";

pub const NODE1: &str = "11111111-1111-4111-8111-000000000001";
pub const NODE2: &str = "11111111-1111-4111-8111-000000000002";

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn describe(&self) -> String {
        format!(
            "exit {} after {:?}\nstdout: {}\nstderr: {}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// Failed with exactly one line on stderr, which contains `needle`, and nothing leaked.
    pub fn assert_failed_with(&self, needle: &str) {
        assert_eq!(self.code, 1, "{}", self.describe());
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "not one error line: {}",
            self.describe()
        );
        assert!(
            self.stderr.contains(needle),
            "no '{needle}' in: {}",
            self.describe()
        );
        self.assert_no_secret();
    }

    pub fn assert_no_secret(&self) {
        assert!(
            !self.stdout.contains(PASSWORD) && !self.stderr.contains(PASSWORD),
            "the password leaked: {}",
            self.describe()
        );
    }
}

pub fn agent_binary() -> &'static str {
    env!("CARGO_BIN_EXE_fence_paddock_redfish")
}

/// Run the agent with `options` on stdin (as Pacemaker does: no secret on argv).
pub fn run_agent(options: &[(&str, &str)]) -> Outcome {
    run_agent_env(options, &[])
}

/// Run the agent with `options` on stdin and `env` added to its environment.
pub fn run_agent_env(options: &[(&str, &str)], env: &[(&str, &str)]) -> Outcome {
    let input: String = options.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let started = Instant::now();
    // the plug cache of this test process, not the machine's
    let cache = std::env::temp_dir().join(format!("paddock-redfish-cache-{}", std::process::id()));
    let mut child = Command::new(agent_binary())
        .env("PADDOCK_REDFISH_CACHE", cache)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fence_paddock_redfish");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let output = child
        .wait_with_output()
        .expect("wait for fence_paddock_redfish");
    let outcome = Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    outcome.assert_no_secret();
    outcome
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A sushy-emulator BMC started by tests/lib/redfish-bmc.sh, stopped on drop.
pub struct Bmc {
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Bmc {
    /// `mode`: http, https or selfsigned; `listen`: 127.0.0.1 or ::1.
    pub fn start(mode: &str, listen: &str) -> Bmc {
        if listen == "::1" {
            TcpListener::bind("[::1]:0").expect(
                "IPv6 loopback ::1 unavailable on this machine (net.ipv6.conf.lo.disable_ipv6?)",
            );
        }
        let venv = std::env::var("PADDOCK_TEST_VENV")
            .unwrap_or_else(|_| "/opt/paddock-test/venv".to_string());
        let emulator = Path::new(&venv).join("bin/sushy-emulator");
        assert!(
            emulator.is_file(),
            "{} is missing: install sushy-tools with tests/setup.d/redfish.sh (make setup does)",
            emulator.display()
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let script = project_root().join("tests/lib/redfish-bmc.sh");
        // a port can be taken between free_port() and the emulator's bind: try a few
        for _ in 0..3 {
            let port = free_port();
            let output = Command::new(&script)
                .args([
                    "start",
                    &dir.path().display().to_string(),
                    &port.to_string(),
                    mode,
                    listen,
                ])
                .env("REDFISH_BMC_PASSWORD", PASSWORD)
                // power changes land 1-2 s after the request: long enough for an outside
                // observer to see a reboot's Off, short enough for quick tests
                .env("REDFISH_BMC_POWER_DELAY", "2")
                .output()
                .expect("run tests/lib/redfish-bmc.sh (missing?)");
            if output.status.success() {
                return Bmc { port, dir };
            }
            let stderr = String::from_utf8_lossy(&output.stderr);
            if !stderr.contains("Address already in use") {
                panic!("redfish-bmc.sh start failed (run tests/setup.d/redfish.sh?): {stderr}");
            }
        }
        panic!("redfish-bmc.sh: no free port after 3 tries");
    }

    pub fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The PowerState of a system as the emulator reports it, read without the agent
    /// (plain HTTP only).
    pub fn power_state(&self, uuid: &str) -> String {
        self.try_power_state(uuid)
            .unwrap_or_else(|| panic!("curl could not read system {uuid}"))
    }

    /// As [`Bmc::power_state`], None when the emulator did not answer this once (a sampler
    /// running beside the agent skips such a sample).
    pub fn try_power_state(&self, uuid: &str) -> Option<String> {
        let credentials = format!("admin:{PASSWORD}");
        let output = Command::new("curl")
            .args(["-sf", "--max-time", "5", "-K", "-"])
            .arg(format!(
                "http://127.0.0.1:{}/redfish/v1/Systems/{uuid}",
                self.port
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                // credentials through stdin (-K -), not argv
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(format!("user = \"{credentials}\"\n").as_bytes())?;
                child.wait_with_output()
            })
            .expect("run curl");
        if !output.status.success() {
            return None;
        }
        let body: serde_json::Value = serde_json::from_slice(&output.stdout).expect("system JSON");
        Some(body["PowerState"].as_str().unwrap_or("none").to_string())
    }
}

impl Drop for Bmc {
    fn drop(&mut self) {
        let script = project_root().join("tests/lib/redfish-bmc.sh");
        let _ = Command::new(script)
            .args(["stop", &self.dir.path().display().to_string()])
            .status();
    }
}

/// One request as the scripted responder saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// What the scripted responder answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A scripted HTTP/1.1 server on 127.0.0.1 (keep-alive, Content-Length bodies). It records every
/// request. It stops accepting when dropped (connections end with the test process).
pub struct Scripted {
    pub port: u16,
    pub log: Arc<Mutex<Vec<Request>>>,
}

impl Scripted {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind scripted server");
        let port = listener.local_addr().expect("addr").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let server_log = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let log = server_log.clone();
                std::thread::spawn(move || serve(stream, &*handler, &log));
            }
        });
        Scripted { port, log }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log").clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Request {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let reply = handler(&request);
        log.lock().expect("log").push(request);
        let mut head = format!(
            "HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        if !reply.body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer
            .write_all(head.as_bytes())
            .and_then(|_| writer.write_all(reply.body.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

/// Options to reach a BMC on 127.0.0.1:port over plain HTTP.
pub fn http_options(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("ip", "127.0.0.1".into()),
        ("ipport", port.to_string()),
        ("ssl", "0".into()),
        ("username", "admin".into()),
        ("password", PASSWORD.into()),
    ]
}

/// `base` plus `extra` (later names win in the agent), as borrowed pairs for run_agent.
pub fn with<'a>(
    base: &'a [(&'static str, String)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    base.iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(extra.iter().copied())
        .collect()
}
