//! procwatch with Nova credentials against the real Nova lab (tests/lib/novalab.sh): a service
//! that cannot be started disables the host's nova-compute service in Nova with a
//! `paddock-procwatch:` reason, and running again enables it, only when the reason is ours.
//! Skipped, saying so, when the lab is not running. The host: PADDOCK_EVACUATE_TEST_HOST, else
//! compute4 when the lab has it, else compute3 (its service's status only is changed).

mod common;

use common::Lab;
use openstack::{ComputeService, Deadline, Nova, ServiceStatus, Session};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The tests change one service's status: they take turns.
static HOST_IN_USE: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Cloud {
    _turn: std::sync::MutexGuard<'static, ()>,
    env: Vec<(String, String)>,
    nova: Nova,
    host: String,
}

fn get(env: &[(String, String)], name: &str) -> Option<String> {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The lab's OS_* settings (environment, else `novalab.sh env`) and a Nova handle; None when
/// the lab does not answer.
fn cloud() -> Option<Cloud> {
    let turn = HOST_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
    // run-all.sh's cargo stage: the lab is still coming up; tests/system/25 runs these later
    if std::env::var("PADDOCK_NOVALAB").is_ok_and(|v| v == "skip") {
        eprintln!("SKIPPED: PADDOCK_NOVALAB=skip (run with the Nova lab up)");
        return None;
    }
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("OS_"))
        .collect();
    if get(&env, "OS_AUTH_URL").is_none() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lib/novalab.sh");
        let out = Command::new(script)
            .arg("env")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                l.split_once('=').map(|(k, v)| {
                    (
                        k.trim().to_string(),
                        v.trim().trim_matches(['"', '\'']).to_string(),
                    )
                })
            })
            .collect();
    }
    let found = (|| {
        let mut credentials = openstack::Credentials::password(
            &get(&env, "OS_AUTH_URL")?,
            &get(&env, "OS_USERNAME")?,
            openstack::Secret::new(get(&env, "OS_PASSWORD")?),
            &get(&env, "OS_PROJECT_NAME")?,
        );
        credentials.region_name = get(&env, "OS_REGION_NAME");
        let deadline = Deadline::after(Duration::from_secs(15));
        let nova = Session::login(&credentials, &deadline).ok()?.nova().ok()?;
        let services = nova.compute_services(&deadline).ok()?;
        let host = std::env::var("PADDOCK_EVACUATE_TEST_HOST").unwrap_or_else(|_| {
            if services.iter().any(|s| s.host == "compute4") {
                "compute4"
            } else {
                "compute3"
            }
            .to_string()
        });
        Some((env.clone(), nova, host))
    })();
    let found = found.map(|(env, nova, host)| Cloud {
        _turn: turn,
        env,
        nova,
        host,
    });
    if found.is_none() {
        let why = "the Nova lab is not running (start it: tests/lib/novalab.sh up)";
        if std::env::var("PADDOCK_REQUIRE_NOVALAB").is_ok_and(|v| v == "1") {
            panic!("{why}, and PADDOCK_REQUIRE_NOVALAB=1");
        }
        eprintln!("SKIPPED: {why}");
    }
    found
}

impl Cloud {
    fn service(&self) -> ComputeService {
        self.nova
            .compute_services(&Deadline::after(Duration::from_secs(15)))
            .unwrap()
            .into_iter()
            .find(|s| s.host == self.host)
            .unwrap()
    }
    fn set(&self, reason: Option<&str>) {
        let id = self.service().id;
        self.nova
            .set_disabled(&id, reason, &Deadline::after(Duration::from_secs(15)))
            .unwrap();
    }
    /// A procwatch instance with this lab's credentials (the password in OCF_RESKEY_password).
    fn procwatch(&self, name: &str) -> Lab {
        let mut lab = Lab::new(name);
        for (param, var) in [
            ("auth_url", "OS_AUTH_URL"),
            ("username", "OS_USERNAME"),
            ("password", "OS_PASSWORD"),
            ("project_name", "OS_PROJECT_NAME"),
        ] {
            lab.set(param, &get(&self.env, var).unwrap());
        }
        lab.set("nova_host", &self.host);
        std::fs::create_dir_all(lab.path("journal")).unwrap();
        let journal = lab.path("journal").to_string_lossy().into_owned();
        lab.extra_env.push(("PADDOCK_JOURNAL".into(), journal));
        lab
    }
}

fn journal_text(lab: &Lab) -> String {
    std::fs::read_dir(lab.path("journal"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

#[test]
fn a_service_that_cannot_start_disables_nova_compute_and_running_again_enables_it() {
    let Some(cloud) = cloud() else { return };
    cloud.set(None);
    let mut lab = cloud.procwatch("nova");
    let password = get(&cloud.env, "OS_PASSWORD").unwrap();
    lab.set("command", &lab.svc("exit"));
    let start = lab.run("start");
    assert_eq!(start.code, 1, "{start:?}");
    let s = cloud.service();
    let reason = s.disabled_reason.clone().unwrap_or_default();
    assert_eq!(s.status, ServiceStatus::Disabled, "{s:?}");
    assert!(
        reason.starts_with("paddock-procwatch: pw-nova: could not be started: process "),
        "{reason}"
    );
    assert!(
        !reason.contains("last log line"),
        "the service's own log stays out of Nova: {reason}"
    );
    assert!(start.elapsed < Duration::from_secs(18), "{start:?}");
    assert!(journal_text(&lab).contains("\"nova-disable\""));
    assert!(!start.stderr.contains(&password));

    lab.set("command", &lab.svc("sleep"));
    let start = lab.run("start");
    assert_eq!(start.code, 0, "{start:?}");
    let s = cloud.service();
    assert_eq!(
        (s.status, s.disabled_reason.as_deref()),
        (ServiceStatus::Enabled, None),
        "{s:?}"
    );
    assert!(journal_text(&lab).contains("\"nova-enable\""));
    assert_eq!(lab.run("stop").code, 0);
}

#[test]
fn a_reason_that_is_not_ours_is_never_overwritten_nor_cleared() {
    let Some(cloud) = cloud() else { return };
    cloud.set(Some("operator: firmware update"));
    let mut lab = cloud.procwatch("nova-op");
    lab.set("command", &lab.svc("exit"));
    assert_eq!(lab.run("start").code, 1);
    assert_eq!(
        cloud.service().disabled_reason.as_deref(),
        Some("operator: firmware update")
    );
    lab.set("command", &lab.svc("sleep"));
    assert_eq!(lab.run("start").code, 0);
    let s = cloud.service();
    assert_eq!(
        (s.status, s.disabled_reason.as_deref()),
        (ServiceStatus::Disabled, Some("operator: firmware update"))
    );
    assert_eq!(lab.run("stop").code, 0);
    cloud.set(None);
}

#[test]
fn nova_unreachable_at_start_is_caught_up_by_the_next_monitor() {
    let Some(cloud) = cloud() else { return };
    cloud.set(None);
    let mut lab = cloud.procwatch("nova-late");
    lab.set("command", &lab.svc("exit"));
    assert_eq!(lab.run("start").code, 1);
    assert_eq!(cloud.service().status, ServiceStatus::Disabled);
    // the service starts while Keystone cannot be reached: the start succeeds all the same
    let auth_url = lab
        .params
        .iter()
        .find(|(k, _)| k == "auth_url")
        .unwrap()
        .1
        .clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    lab.set("auth_url", &format!("http://127.0.0.1:{port}/v3"));
    lab.set("command", &lab.svc("sleep"));
    let start = lab.run("start");
    assert_eq!(start.code, 0, "{start:?}");
    assert_eq!(cloud.service().status, ServiceStatus::Disabled);
    // Keystone back: the next monitor enables it
    lab.set("auth_url", &auth_url);
    assert_eq!(lab.run("monitor").code, 0);
    assert_eq!(cloud.service().status, ServiceStatus::Enabled);
    assert_eq!(lab.run("stop").code, 0);
}
