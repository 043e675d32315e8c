//! procwatch with Nova credentials against the real Nova lab (tests/lib/novalab.sh): a service
//! that cannot be started disables the host's nova-compute service in Nova with a
//! `paddock-procwatch:` reason, and running again enables it, only when the reason is ours.
//! Skipped, saying so, when the lab is not running. The host: PADDOCK_EVACUATE_TEST_HOST, else
//! compute4 when the lab has it, else compute3 (its service's status only is changed).

mod common;

use common::Lab;
use openstack::testlab::{find_lab, LabEnv};
use openstack::{ComputeService, Deadline, Nova, ServiceStatus, Session};
use std::time::Duration;

/// The tests change one service's status: they take turns.
static HOST_IN_USE: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Cloud {
    _turn: std::sync::MutexGuard<'static, ()>,
    env: LabEnv,
    nova: Nova,
    host: String,
}

/// The lab's settings and a Nova handle; None (after saying why) when the lab does not answer
/// (see openstack::testlab for PADDOCK_NOVALAB=skip and PADDOCK_REQUIRE_NOVALAB=1).
fn cloud() -> Option<Cloud> {
    let turn = HOST_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
    let (env, nova, host) = find_lab(|env| {
        let credentials = env.credentials().ok_or("no OS_* credentials")?;
        let deadline = Deadline::after(Duration::from_secs(15));
        let nova = Session::login(&credentials, &deadline)
            .and_then(|session| session.nova())
            .map_err(|e| e.to_string())?;
        let services = nova
            .compute_services(&deadline)
            .map_err(|e| e.to_string())?;
        let host = std::env::var("PADDOCK_EVACUATE_TEST_HOST").unwrap_or_else(|_| {
            if services.iter().any(|s| s.host == "compute4") {
                "compute4"
            } else {
                "compute3"
            }
            .to_string()
        });
        Ok((env.clone(), nova, host))
    })?;
    Some(Cloud {
        _turn: turn,
        env,
        nova,
        host,
    })
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
            lab.set(param, &self.env.require(var));
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
    let password = cloud.env.require("OS_PASSWORD");
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
