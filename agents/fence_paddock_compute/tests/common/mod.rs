//! Shared by the integration tests: run the agent (options on stdin, the password in the
//! environment, never on argv), and find the Nova lab (tests/lib/novalab.sh).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

    /// Failed (exit 1) with exactly one line on stderr, which contains `needle`.
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
    }

    pub fn assert_ok(&self) {
        assert_eq!(self.code, 0, "{}", self.describe());
    }
}

pub fn agent_binary() -> &'static str {
    env!("CARGO_BIN_EXE_fence_paddock_compute")
}

/// Run the agent with `options` on stdin and `password` in PADDOCK_FENCE_PASSWORD; the password
/// must show nowhere in what it prints.
pub fn run_agent(options: &[(&str, &str)], password: Option<&str>) -> Outcome {
    let input: String = options.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let started = Instant::now();
    let mut command = Command::new(agent_binary());
    command
        .env_remove("PADDOCK_FENCE_PASSWORD")
        // no event journal of this machine, and this test process's own token cache
        .env("PADDOCK_COMPUTE_TOKEN_CACHE", token_cache_dir())
        .env(
            "PADDOCK_JOURNAL",
            std::env::temp_dir().join("paddock-compute-test-no-journal"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PADDOCK_FENCE_PASSWORD", password);
    }
    let mut child = command.spawn().expect("start fence_paddock_compute");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("wait for the agent");
    let outcome = Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    if let Some(password) = password.filter(|p| p.len() >= 4) {
        assert!(
            !outcome.stdout.contains(password) && !outcome.stderr.contains(password),
            "the password leaked: {}",
            outcome.describe()
        );
    }
    outcome
}

/// The token cache of this test process's agent runs (under target/, not the machine's /run).
pub fn token_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("compute-tokens-{}", std::process::id()))
}

/// Run the agent with arguments (no secret among them).
pub fn run_args(args: &[&str]) -> Outcome {
    let started = Instant::now();
    let output = Command::new(agent_binary())
        .args(args)
        .env_remove("PADDOCK_FENCE_PASSWORD")
        .env("PADDOCK_COMPUTE_TOKEN_CACHE", token_cache_dir())
        .stdin(Stdio::null())
        .output()
        .expect("run fence_paddock_compute");
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Nova lab's credentials, as tests/lib/novalab.sh prints them.
#[derive(Debug, Clone)]
pub struct Lab {
    pub auth_url: String,
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub region_name: String,
}

impl Lab {
    /// The lab, once Keystone and Nova answer; None (after saying why) when it is not running
    /// (see openstack::testlab for PADDOCK_NOVALAB=skip and PADDOCK_REQUIRE_NOVALAB=1).
    pub fn find() -> Option<Lab> {
        openstack::testlab::find_lab(|env| {
            let get = |name: &str| env.get(name).ok_or_else(|| format!("no {name}"));
            let lab = Lab {
                auth_url: get("OS_AUTH_URL")?,
                username: get("OS_USERNAME")?,
                password: get("OS_PASSWORD")?,
                project_name: get("OS_PROJECT_NAME")?,
                region_name: get("OS_REGION_NAME").unwrap_or_else(|_| "RegionOne".into()),
            };
            lab.answers().map_err(|e| e.to_string())?;
            Ok(lab)
        })
    }

    /// Whether Keystone and Nova answer (the lab is up).
    fn answers(&self) -> Result<(), openstack::Error> {
        let deadline = openstack::Deadline::after(Duration::from_secs(10));
        let nova = openstack::Session::login(&self.credentials(), &deadline)?.nova()?;
        nova.compute_services(&deadline).map(|_| ())
    }

    pub fn credentials(&self) -> openstack::Credentials {
        let mut c = openstack::Credentials::password(
            &self.auth_url,
            &self.username,
            openstack::Secret::new(&self.password),
            &self.project_name,
        );
        c.region_name = Some(self.region_name.clone());
        c
    }

    /// A Nova handle of our own, to see what the agent did without the agent.
    pub fn nova(&self) -> openstack::Nova {
        let deadline = openstack::Deadline::after(Duration::from_secs(15));
        openstack::Session::login(&self.credentials(), &deadline)
            .and_then(|s| s.nova())
            .expect("log in to the lab")
    }

    /// The agent's options for this lab plus `extra`.
    pub fn options<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut options = vec![
            ("auth_url", self.auth_url.as_str()),
            ("username", self.username.as_str()),
            ("project_name", self.project_name.as_str()),
            ("region_name", self.region_name.as_str()),
        ];
        options.extend_from_slice(extra);
        options
    }

    /// Run the agent against the lab with `extra` options.
    pub fn run(&self, extra: &[(&str, &str)]) -> Outcome {
        run_agent(&self.options(extra), Some(&self.password))
    }

    /// tests/lib/novalab.sh with `args`; its stdout, or a panic saying what failed.
    pub fn script(&self, args: &[&str]) -> String {
        let output = Command::new(openstack::testlab::script())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tests/lib/novalab.sh");
        assert!(
            output.status.success(),
            "novalab.sh {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}
