//! Against the real Nova lab (tests/lib/novalab.sh: Keystone, nova-api, three fake-driver
//! computes on loopback). Skipped, saying so, when the lab is not running. The tests share one
//! compute host (compute3, or PADDOCK_COMPUTE_TEST_HOST), so they take turns.

mod common;

use common::{Lab, Outcome};
use openstack::{ComputeService, Deadline, ServiceStatus};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static HOST_IN_USE: Mutex<()> = Mutex::new(());

fn host() -> String {
    std::env::var("PADDOCK_COMPUTE_TEST_HOST").unwrap_or_else(|_| "compute3".into())
}

/// The lab and the turn on the test host; None when the lab is not running.
fn lab() -> Option<(Lab, std::sync::MutexGuard<'static, ()>)> {
    let turn = HOST_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::find()?;
    restore(&lab);
    Some((lab, turn))
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(20))
}

/// The test host's service as Nova shows it (read without the agent).
fn service(lab: &Lab) -> ComputeService {
    let host = host();
    lab.nova()
        .compute_services(&deadline())
        .expect("list services")
        .into_iter()
        .find(|s| s.host == host)
        .unwrap_or_else(|| panic!("the lab has no {host}"))
}

/// The test host unforced and enabled, as a test expects to find it.
fn restore(lab: &Lab) {
    let s = service(lab);
    let nova = lab.nova();
    if s.forced_down {
        nova.set_forced_down(&s.id, false, &deadline())
            .expect("unforce");
    }
    if s.status == ServiceStatus::Disabled
        && s.disabled_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("paddock-fence:"))
    {
        nova.set_disabled(&s.id, None, &deadline()).expect("enable");
    }
}

fn run(lab: &Lab, action: &str, extra: &[(&str, &str)]) -> Outcome {
    let host = host();
    let mut options = vec![("action", action), ("plug", host.as_str())];
    options.extend_from_slice(extra);
    lab.run(&options)
}

#[test]
fn list_monitor_and_status() {
    let Some((lab, _turn)) = lab() else { return };
    let list = lab.run(&[("action", "list")]);
    list.assert_ok();
    let lines: Vec<&str> = list.stdout.lines().collect();
    for n in 1..=3 {
        assert!(
            lines.contains(&format!("compute{n},").as_str()),
            "{}",
            list.describe()
        );
    }
    let status = lab.run(&[("action", "list-status")]);
    status.assert_ok();
    assert!(
        status.stdout.contains(&format!("{},,ON", host())),
        "{}",
        status.describe()
    );
    lab.run(&[("action", "monitor")]).assert_ok();

    let on = run(&lab, "status", &[]);
    on.assert_ok();
    assert_eq!(on.stdout.trim(), "Status: ON");
    // the domain is added to a short plug, and a full one accepted
    let host = host();
    let full = format!("{host}.example.com");
    for (plug, domain) in [
        (host.as_str(), "example.com"),
        (full.as_str(), "example.com"),
    ] {
        let outcome = lab.run(&[("action", "status"), ("plug", plug), ("domain", domain)]);
        assert_eq!(outcome.code, 0, "{plug}/{domain}: {}", outcome.describe());
    }
    // tenant_name and the command line spellings are fence_compute's
    lab.run(&[
        ("action", "status"),
        ("plug", &host),
        ("project_name", ""),
        ("tenant_name", &lab.project_name),
    ])
    .assert_ok();
}

#[test]
fn off_forces_the_service_down_and_on_unforces_it() {
    let Some((lab, _turn)) = lab() else { return };
    let started = Instant::now();
    let off = run(&lab, "off", &[]);
    let took = started.elapsed();
    off.assert_ok();
    assert_eq!(
        off.stdout.trim(),
        "Success: Powered OFF",
        "{}",
        off.describe()
    );
    assert!(
        service(&lab).forced_down,
        "Nova does not show forced_down after off"
    );
    eprintln!(
        "off: forced_down confirmed, agent exited after {:.2} s",
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(5), "off took {took:?}");

    let status = run(&lab, "status", &[]);
    assert_eq!(
        (status.code, status.stdout.trim()),
        (2, "Status: OFF"),
        "{}",
        status.describe()
    );
    let again = run(&lab, "off", &[]);
    again.assert_ok();
    assert_eq!(again.stdout.trim(), "Success: Already OFF");

    let on = run(&lab, "on", &[]);
    on.assert_ok();
    assert_eq!(on.stdout.trim(), "Success: Powered ON", "{}", on.describe());
    assert!(!service(&lab).forced_down, "still forced down after on");
    run(&lab, "status", &[]).assert_ok();
}

#[test]
fn reboot_is_an_off_that_stays_off() {
    let Some((lab, _turn)) = lab() else { return };
    let reboot = run(&lab, "reboot", &[]);
    reboot.assert_ok();
    assert!(
        reboot.stdout.contains("Success: Powered OFF") && !reboot.stderr.contains("ERROR"),
        "a reboot is an off, and says so without an error: {}",
        reboot.describe()
    );
    assert!(
        service(&lab).forced_down,
        "reboot must leave the service forced down"
    );
    restore(&lab);
}

#[test]
fn record_only_disables_without_forcing_down() {
    let Some((lab, _turn)) = lab() else { return };
    let record = [("record_only", "1")];
    run(&lab, "off", &record).assert_ok();
    let s = service(&lab);
    assert!(!s.forced_down, "record_only must not force down");
    assert_eq!(s.status, ServiceStatus::Disabled);
    assert!(
        s.disabled_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("paddock-fence:")),
        "{s:?}"
    );
    assert_eq!(run(&lab, "status", &record).code, 2);
    // without record_only, a disabled service is not a fenced one
    assert_eq!(run(&lab, "status", &[]).code, 0);
    run(&lab, "on", &record).assert_ok();
    assert_eq!(service(&lab).status, ServiceStatus::Enabled);
}

#[test]
fn wrong_credentials_and_unknown_hosts_are_clear_errors() {
    let Some((lab, _turn)) = lab() else { return };
    let wrong = "Wrong-Pw-4711";
    let outcome = common::run_agent(
        &lab.options(&[("action", "status"), ("plug", "compute1")]),
        Some(wrong),
    );
    outcome.assert_failed_with(&format!(
        "Keystone refused the credentials for user {}",
        lab.username
    ));
    assert!(!outcome.stderr.contains(&lab.password));

    let unknown = run(&lab, "off", &[("plug", "compute9")]);
    unknown.assert_failed_with("no nova-compute service on host 'compute9'");
    assert!(
        unknown.stderr.contains("compute1, compute2, compute3"),
        "{}",
        unknown.describe()
    );

    let region = run(&lab, "status", &[("region_name", "Mars")]);
    region.assert_failed_with("in region Mars");
}

/// The unfencing of a host whose instances were evacuated: Nova refuses to unforce it while the
/// evacuations are `done` but not `completed` (until its nova-compute runs again); `on` keeps
/// asking within its time and succeeds once Nova agrees, or fails saying why.
#[test]
fn on_waits_until_nova_lets_the_host_back() {
    let Some((lab, _turn)) = lab() else { return };
    let host = host();
    let index = host
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .to_string();
    let name = format!("hfence-{}", std::process::id());
    let server = lab.script(&["boot", &name, &host]).trim().to_string();
    lab.script(&["kill-compute", &index]);
    let compute_back = || lab.script(&["start-compute", &index]);

    let off = run(&lab, "off", &[]);
    if off.code != 0 {
        compute_back();
        panic!("off: {}", off.describe());
    }
    let nova = lab.nova();
    nova.evacuate(&server, &deadline()).expect("evacuate");
    let evacuated = Instant::now();
    while !nova
        .migrations(&host, "evacuation", &deadline())
        .expect("migrations")
        .iter()
        .any(|m| m.instance_uuid == server && m.status == "done")
    {
        assert!(
            evacuated.elapsed() < Duration::from_secs(60),
            "evacuation not done in 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // the host is still dead: Nova refuses, the agent says so with Nova's reason
    let refused = run(&lab, "on", &[("power_timeout", "3"), ("retry_on", "0")]);
    refused.assert_failed_with("stays forced down");
    assert!(
        refused
            .stderr
            .contains("evacuation migration records remain"),
        "{}",
        refused.describe()
    );
    assert!(
        refused.elapsed < Duration::from_secs(15),
        "{}",
        refused.describe()
    );
    assert!(service(&lab).forced_down);

    // the host comes back while `on` is asking
    let agent = std::thread::scope(|scope| {
        let waiting =
            scope.spawn(|| run(&lab, "on", &[("power_timeout", "120"), ("retry_on", "0")]));
        std::thread::sleep(Duration::from_secs(2));
        let restarted = Instant::now();
        compute_back();
        let outcome = waiting.join().expect("agent thread");
        (outcome, restarted.elapsed())
    });
    let (on, after_restart) = agent;
    on.assert_ok();
    assert_eq!(on.stdout.trim(), "Success: Powered ON", "{}", on.describe());
    assert!(!service(&lab).forced_down);
    nova.delete_server(&server, &deadline())
        .expect("delete the test server");
    eprintln!(
        "on: refused while {host} was down ({:.1} s with power_timeout=3); unforced {:.1} s after nova-compute was started again (agent ran {:.1} s)",
        refused.elapsed.as_secs_f64(),
        after_restart.as_secs_f64(),
        on.elapsed.as_secs_f64()
    );
}

/// A second run takes the token from the cache (no login); a token Nova refuses is dropped and
/// the agent logs in again, within the same run.
#[test]
fn the_token_is_reused_and_a_refused_one_replaced() {
    let Some((lab, _turn)) = lab() else { return };
    run(&lab, "status", &[]).assert_ok();
    let cached = run(&lab, "status", &[("verbose", "1")]);
    cached.assert_ok();
    assert!(
        cached.stderr.contains("token from the cache"),
        "{}",
        cached.describe()
    );
    let started = Instant::now();
    let quick = run(&lab, "status", &[]);
    quick.assert_ok();
    eprintln!(
        "status with a cached token: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    // every entry of the cache now holds a token Keystone never issued
    for entry in std::fs::read_dir(common::token_cache_dir()).expect("cache dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read entry");
        let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
        json["token"] = serde_json::json!("gAAAAA-not-a-token");
        std::fs::write(&path, json.to_string()).expect("write entry");
    }
    let renewed = run(&lab, "status", &[("verbose", "1")]);
    renewed.assert_ok();
    assert!(
        renewed.stderr.contains("logging in again"),
        "{}",
        renewed.describe()
    );
    let again = run(&lab, "status", &[("verbose", "1")]);
    assert!(
        again.stderr.contains("token from the cache"),
        "{}",
        again.describe()
    );
}
