//! Runs the real procwatch binary with an OCF environment against real (python) daemons,
//! each test in its own directory; every process whose arguments name that directory is
//! killed when the test ends, pass or fail.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_procwatch");

/// The test daemon: one python script with modes (sleep, ignore-term, fork, exit, http).
const SVC_PY: &str = r#"
import os, signal, sys, time
mode = sys.argv[1]
if mode == "sleep":
    time.sleep(100000)
elif mode == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ignoring SIGTERM", flush=True)
    while True:
        time.sleep(100000)
elif mode == "fork":
    pidfile = sys.argv[2]
    if os.fork() == 0:
        os.setsid()
        if pidfile != "-":
            with open(pidfile, "w") as f:
                f.write(str(os.getpid()) + "\n")
        time.sleep(100000)
    time.sleep(0.1)
    os._exit(0)
elif mode == "exit":
    print("fatal: cannot bind 127.0.0.1:1", file=sys.stderr, flush=True)
    sys.exit(3)
elif mode == "http":
    import http.server, functools
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.path.dirname(sys.argv[0]))
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
"#;

pub struct Outcome {
    pub code: i32,
    pub stderr: String,
    pub stdout: String,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn reason(&self) -> String {
        let reasons: Vec<&str> = self
            .stderr
            .lines()
            .filter_map(|l| l.strip_prefix("ocf-exit-reason:"))
            .collect();
        assert!(
            reasons.len() <= 1,
            "more than one exit reason: {}",
            self.stderr
        );
        reasons.first().map(|s| s.to_string()).unwrap_or_default()
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rc={} after {:?}\nstderr:\n{}",
            self.code, self.elapsed, self.stderr
        )
    }
}

pub struct Lab {
    pub dir: tempfile::TempDir,
    pub instance: String,
    pub params: Vec<(String, String)>,
    pub extra_env: Vec<(String, String)>,
}

impl Lab {
    pub fn new(name: &str) -> Lab {
        let dir = tempfile::Builder::new()
            .prefix(&format!("pw-{name}-"))
            .tempdir()
            .expect("tempdir");
        std::fs::write(dir.path().join("svc.py"), SVC_PY).expect("write svc.py");
        std::fs::write(dir.path().join("index.html"), "ok\n").expect("write index");
        let mut lab = Lab {
            dir,
            instance: format!("pw-{name}"),
            params: Vec::new(),
            extra_env: Vec::new(),
        };
        let log = lab.path("service.log");
        lab.set("logfile", log.to_str().unwrap());
        lab
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `python3 DIR/svc.py MODE ARGS...`, a command line naming the test dir.
    pub fn svc(&self, mode_and_args: &str) -> String {
        format!("python3 {} {mode_and_args}", self.path("svc.py").display())
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.params.retain(|(k, _)| k != key);
        self.params.push((key.to_string(), value.to_string()));
        self
    }

    pub fn unset(&mut self, key: &str) -> &mut Self {
        self.params.retain(|(k, _)| k != key);
        self
    }

    pub fn run(&self, action: &str) -> Outcome {
        self.run_with(action, &[])
    }

    pub fn run_with(&self, action: &str, env: &[(&str, &str)]) -> Outcome {
        let mut cmd = Command::new(BIN);
        cmd.arg(action)
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RA_VERSION_MAJOR", "1")
            .env("OCF_RA_VERSION_MINOR", "1")
            .env("OCF_RESOURCE_INSTANCE", &self.instance)
            .env("HA_RSCTMP", self.dir.path())
            .env("OCF_RESKEY_CRM_meta_interval", "10000")
            .env("OCF_RESKEY_CRM_meta_timeout", "20000");
        for (k, v) in &self.params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        for (k, v) in self
            .extra_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(env.iter().copied())
        {
            cmd.env(k, v);
        }
        let t = Instant::now();
        let out: Output = cmd.output().expect("run procwatch");
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            elapsed: t.elapsed(),
        }
    }

    pub fn state_file(&self) -> PathBuf {
        self.path(&format!("procwatch-{}.state", self.instance))
    }

    /// The pid procwatch recorded at start.
    pub fn recorded_pid(&self) -> i32 {
        let text = std::fs::read_to_string(self.state_file()).expect("state file");
        text.lines()
            .find_map(|l| l.strip_prefix("pid="))
            .expect("pid line")
            .parse()
            .expect("pid")
    }

    /// Processes whose command line names this test's directory.
    pub fn own_processes(&self) -> Vec<i32> {
        let marker = self.dir.path().to_string_lossy().into_owned();
        let me = std::process::id() as i32;
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| *pid != me)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| {
                        String::from_utf8_lossy(&c)
                            .replace('\0', " ")
                            .contains(&marker)
                    })
                    .unwrap_or(false)
            })
            .filter(|pid| proc_state(*pid).is_some_and(|s| s != 'Z'))
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for pid in self.own_processes() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// /proc/PID/stat state letter.
pub fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

pub fn alive(pid: i32) -> bool {
    proc_state(pid).is_some_and(|s| s != 'Z')
}

pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
