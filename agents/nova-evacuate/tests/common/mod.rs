//! Running the agent as Pacemaker would (OCF environment, the password in the environment,
//! never on argv), and the Nova lab (tests/lib/novalab.sh) with a few REST calls of its own
//! to set the scene: boot and delete servers, aggregates, kill and start computes.
#![allow(dead_code)]

use openstack::testlab::LabEnv;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_nova-evacuate");

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn reason(&self) -> &str {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("ocf-exit-reason:"))
            .unwrap_or("")
    }
}

/// One resource: its parameters and a state directory, log and journal of its own.
pub struct Agent {
    pub dir: tempfile::TempDir,
    pub params: Vec<(String, String)>,
    /// HA_debug=1 for the actions and the daemon.
    pub debug: bool,
}

impl Agent {
    pub fn new(params: &[(&str, &str)]) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("journal")).unwrap();
        let mut agent = Agent {
            dir,
            params: Vec::new(),
            debug: false,
        };
        let log = agent.log();
        agent.set("logfile", log.to_str().unwrap());
        for (k, v) in params {
            agent.set(k, v);
        }
        agent
    }
    pub fn set(&mut self, key: &str, value: &str) {
        self.params.retain(|(k, _)| k != key);
        self.params.push((key.into(), value.into()));
    }
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("nova-evacuate.log")
    }
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }
    pub fn journal(&self) -> PathBuf {
        self.dir.path().join("journal")
    }
    /// Every line the journal holds.
    pub fn journal_text(&self) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(self.journal()).unwrap().flatten() {
            all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
        all
    }
    pub fn run(&self, action: &str, interval_ms: &str) -> Run {
        let mut cmd = Command::new(BIN);
        cmd.arg(action)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HA_RSCTMP", self.dir.path())
            .env("PADDOCK_JOURNAL", self.journal())
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RESOURCE_INSTANCE", "evacuate-test")
            .env("OCF_RESKEY_CRM_meta_interval", interval_ms)
            .env("OCF_RESKEY_CRM_meta_timeout", "30000");
        if self.debug {
            cmd.env("HA_debug", "1");
        }
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
    pub fn action(&self, action: &str) -> Run {
        self.run(action, "10000")
    }
    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.path().join("paddock-nova-evacuate/pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.action("stop");
    }
}

pub fn wait_for<T>(what: &str, limit: Duration, mut done: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + limit;
    loop {
        if let Some(r) = done() {
            return r;
        }
        assert!(
            Instant::now() < end,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Nova lab: credentials and a token of our own for the scene-setting REST calls.
pub struct Lab {
    pub auth_url: String,
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub nova_url: String,
    token: String,
    http: ureq::Agent,
}

impl Lab {
    /// The lab, once Keystone gives us a token; None (after saying why) when it is not running
    /// (see openstack::testlab for PADDOCK_NOVALAB=skip and PADDOCK_REQUIRE_NOVALAB=1).
    pub fn find() -> Option<Lab> {
        openstack::testlab::find_lab(|env| {
            Self::from_env(env).ok_or_else(|| "Keystone gave no token".to_string())
        })
    }

    fn from_env(env: &LabEnv) -> Option<Lab> {
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let mut lab = Lab {
            auth_url: env.get("OS_AUTH_URL")?,
            username: env.get("OS_USERNAME")?,
            password: env.get("OS_PASSWORD")?,
            project_name: env.get("OS_PROJECT_NAME")?,
            nova_url: env
                .get("NOVA_URL")
                .unwrap_or_else(|| "http://127.0.0.1:18774/v2.1".into()),
            token: String::new(),
            http,
        };
        lab.token = lab.login()?;
        Some(lab)
    }

    fn login(&self) -> Option<String> {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.username, "domain": {"name": "Default"}, "password": self.password}}},
            "scope": {"project": {"name": self.project_name, "domain": {"name": "Default"}}}}});
        let url = format!("{}/auth/tokens", self.auth_url.trim_end_matches('/'));
        let reply = self
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .ok()?;
        if !reply.status().is_success() {
            return None;
        }
        reply
            .headers()
            .get("X-Subject-Token")?
            .to_str()
            .ok()
            .map(str::to_string)
    }

    /// The agent's credential parameters for this lab.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("auth_url", self.auth_url.clone()),
            ("username", self.username.clone()),
            ("password", self.password.clone()),
            ("project_name", self.project_name.clone()),
        ]
    }

    /// A compute API call (microversion 2.74: an admin may pick a server's host); the answer's body.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.nova_url);
        let version = "compute 2.74";
        let reply = match (method, body) {
            ("GET", _) => self
                .http
                .get(&url)
                .header("X-Auth-Token", &self.token)
                .header("OpenStack-API-Version", version)
                .call(),
            ("DELETE", _) => self
                .http
                .delete(&url)
                .header("X-Auth-Token", &self.token)
                .header("OpenStack-API-Version", version)
                .call(),
            ("POST", Some(b)) => self
                .http
                .post(&url)
                .header("X-Auth-Token", &self.token)
                .header("OpenStack-API-Version", version)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            ("PUT", Some(b)) => self
                .http
                .put(&url)
                .header("X-Auth-Token", &self.token)
                .header("OpenStack-API-Version", version)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            other => return Err(format!("bad call {other:?}")),
        };
        let mut reply = reply.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = reply.status();
        let text = reply.body_mut().read_to_string().unwrap_or_default();
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn service(&self, host: &str) -> Value {
        let body = self
            .call(
                "GET",
                &format!("/os-services?binary=nova-compute&host={host}"),
                None,
            )
            .unwrap();
        body["services"][0].clone()
    }

    pub fn has_host(&self, host: &str) -> bool {
        self.service(host).is_object()
    }

    pub fn server(&self, id: &str) -> Value {
        self.call("GET", &format!("/servers/{id}"), None).unwrap()["server"].clone()
    }

    /// Boots a server on `host` (not waiting for it).
    pub fn boot(
        &self,
        name: &str,
        host: &str,
        image: &str,
        flavor: &str,
        meta: &[(&str, &str)],
    ) -> String {
        let metadata: serde_json::Map<String, Value> = meta
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let body = json!({"server": {"name": name, "imageRef": image, "flavorRef": flavor,
            "networks": "none", "host": host, "metadata": metadata}});
        self.call("POST", "/servers", Some(body)).unwrap()["server"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn delete_servers_named(&self, prefix: &str) {
        let list = self.call("GET", "/servers?all_tenants=1", None).unwrap();
        let ids: Vec<String> = list["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
            .filter_map(|s| s["id"].as_str().map(str::to_string))
            .collect();
        for id in &ids {
            let _ = self.call("DELETE", &format!("/servers/{id}"), None);
        }
        wait_for("the test servers deleted", Duration::from_secs(120), || {
            ids.iter()
                .all(|id| self.call("GET", &format!("/servers/{id}"), None).is_err())
                .then_some(())
        });
    }

    /// An aggregate holding `host` with `metadata`; returns its id.
    pub fn aggregate(&self, name: &str, host: &str, metadata: &[(&str, &str)]) -> u64 {
        self.delete_aggregate(name);
        let id = self
            .call(
                "POST",
                "/os-aggregates",
                Some(json!({"aggregate": {"name": name}})),
            )
            .unwrap()["aggregate"]["id"]
            .as_u64()
            .unwrap();
        self.call(
            "POST",
            &format!("/os-aggregates/{id}/action"),
            Some(json!({"add_host": {"host": host}})),
        )
        .unwrap();
        let meta: serde_json::Map<String, Value> = metadata
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        self.call(
            "POST",
            &format!("/os-aggregates/{id}/action"),
            Some(json!({"set_metadata": {"metadata": meta}})),
        )
        .unwrap();
        id
    }

    pub fn delete_aggregate(&self, name: &str) {
        let list = self.call("GET", "/os-aggregates", None).unwrap();
        for a in list["aggregates"].as_array().into_iter().flatten() {
            if a["name"] != name {
                continue;
            }
            let id = a["id"].as_u64().unwrap();
            for host in a["hosts"].as_array().into_iter().flatten() {
                let _ = self.call(
                    "POST",
                    &format!("/os-aggregates/{id}/action"),
                    Some(json!({"remove_host": {"host": host}})),
                );
            }
            let _ = self.call("DELETE", &format!("/os-aggregates/{id}"), None);
        }
    }

    /// Sets forced_down (service UUID, microversion 2.53).
    pub fn force(&self, host: &str, down: bool) -> Result<(), String> {
        let id = self.service(host)["id"].as_str().unwrap().to_string();
        self.call(
            "PUT",
            &format!("/os-services/{id}"),
            Some(json!({"forced_down": down})),
        )
        .map(|_| ())
    }

    pub fn set_status(&self, host: &str, reason: Option<&str>) {
        let id = self.service(host)["id"].as_str().unwrap().to_string();
        let body = match reason {
            Some(r) => json!({"status": "disabled", "disabled_reason": r}),
            None => json!({"status": "enabled"}),
        };
        self.call("PUT", &format!("/os-services/{id}"), Some(body))
            .unwrap();
    }

    /// novalab.sh kill-compute / start-compute N.
    pub fn compute(&self, verb: &str, host: &str) {
        let n = host.trim_start_matches("compute");
        let out = Command::new(openstack::testlab::script())
            .args([format!("{verb}-compute"), n.to_string()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "novalab.sh {verb}-compute {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The host as a test expects to find it: up, not forced down, enabled, no servers of ours.
    pub fn restore(&self, host: &str, prefix: &str) {
        self.delete_servers_named(prefix);
        // a test that failed half-way may have left it killed ("already running" otherwise)
        let _ = Command::new(openstack::testlab::script())
            .args(["start-compute", host.trim_start_matches("compute")])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        let s = self.service(host);
        if s["forced_down"] == true {
            wait_for("the host unforced", Duration::from_secs(120), || {
                self.force(host, false).ok()
            });
        }
        if s["status"] == "disabled" {
            self.set_status(host, None);
        }
        wait_for(
            "the host's nova-compute up",
            Duration::from_secs(90),
            || (self.service(host)["state"] == "up").then_some(()),
        );
    }
}
