//! fence_paddock_redfish against scripted HTTP responders, for what sushy-emulator cannot do:
//! a BMC that never answers, a reset answered 500, Redfish sessions, ActionInfo, task monitors
//! and a PoweringOff state.

mod common;

use common::*;
use serde_json::json;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SYSTEM: &str = "/redfish/v1/Systems/1";
const RESET: &str = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset";

fn root(with_sessions: bool) -> serde_json::Value {
    let mut root = json!({"@odata.id": "/redfish/v1/", "Id": "RootService", "Systems": {"@odata.id": "/redfish/v1/Systems"}});
    if with_sessions {
        root["Links"] = json!({"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}});
    }
    root
}

fn collection() -> serde_json::Value {
    json!({"Members": [{"@odata.id": SYSTEM}], "Members@odata.count": 1})
}

#[test]
fn a_bmc_that_accepts_and_never_answers_fails_within_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // accept and hold every connection, answer nothing
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let base = http_options(port);
    let ca = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        ca.path(),
        "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let ca = ca.path().display().to_string();
    // plain HTTP, and a TLS handshake that never gets an answer (both TLS code paths)
    for extra in [
        [("ssl", "0")],
        [("ssl_insecure", "1")],
        [("ssl_ca_file", ca.as_str())],
    ] {
        let mut options = with(&base, &[("action", "status"), ("login_timeout", "2")]);
        options.retain(|(name, _)| *name != "ssl");
        options.extend_from_slice(&extra);
        let outcome = run_agent(&options);
        outcome.assert_failed_with("no answer within");
        let took = outcome.elapsed;
        assert!(took < Duration::from_secs(5), "{extra:?} took {took:?}");
        assert!(
            took >= Duration::from_millis(1500),
            "{extra:?} gave up early: {took:?}"
        );
    }
}

#[test]
fn a_reset_answered_500_fails_with_the_redfish_message() {
    let bmc = Scripted::start(
        |request| match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/redfish/v1/") => Reply::json(200, root(false)),
            ("GET", "/redfish/v1/Systems") => Reply::json(200, collection()),
            ("GET", SYSTEM) => Reply::json(
                200,
                json!({"@odata.id": SYSTEM, "Id": "1", "Name": "node1", "PowerState": "On",
                "Actions": {"#ComputerSystem.Reset": {"target": RESET,
                    "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart"]}}}),
            ),
            ("POST", RESET) => Reply::json(
                500,
                json!({"error": {"code": "Base.1.8.GeneralError", "message": "A general error has occurred.",
                "@Message.ExtendedInfo": [{"MessageId": "Oem.1.0.PowerControlFault",
                    "Message": "The power controller did not respond."}]}}),
            ),
            _ => Reply::json(404, json!({})),
        },
    );
    let base = http_options(bmc.port);
    let outcome = run_agent(&with(&base, &[("action", "off"), ("plug", "node1")]));
    outcome.assert_failed_with(
        "reset ForceOff of system 1 (node1): HTTP 500: The power controller did not respond.",
    );
    // no session offered: Basic auth on the requests that need it
    let requests = bmc.requests();
    assert!(requests
        .iter()
        .any(|r| r.method == "POST" && r.path == RESET && r.body.contains("\"ForceOff\"")));
    assert!(requests
        .iter()
        .filter(|r| r.path != "/redfish/v1/")
        .all(|r| r.headers.contains_key("authorization")));
}

/// A BMC with sessions, an ActionInfo instead of inline AllowableValues, a task monitor, and a
/// power-off that goes through PoweringOff.
struct Modern {
    power: Mutex<&'static str>,
    polls_left: AtomicUsize,
    task_polls: AtomicUsize,
}

fn modern_bmc(state: Arc<Modern>) -> Scripted {
    Scripted::start(move |request| {
        let token_ok = request.headers.get("x-auth-token").map(String::as_str) == Some("tok-123");
        let path = request.path.as_str();
        if path != "/redfish/v1/" && path != "/redfish/v1/SessionService/Sessions" && !token_ok {
            return Reply::json(401, json!({"error": {"message": "no valid session"}}));
        }
        match (request.method.as_str(), path) {
            ("GET", "/redfish/v1/") => Reply::json(200, root(true)),
            ("POST", "/redfish/v1/SessionService/Sessions") => {
                let body: serde_json::Value =
                    serde_json::from_str(&request.body).unwrap_or_default();
                if body["UserName"] == "admin" && body["Password"] == PASSWORD {
                    Reply::json(
                        201,
                        json!({"@odata.id": "/redfish/v1/SessionService/Sessions/7", "Id": "7"}),
                    )
                    .header("X-Auth-Token", "tok-123")
                    .header("Location", "/redfish/v1/SessionService/Sessions/7")
                } else {
                    Reply::json(
                        401,
                        json!({"error": {"@Message.ExtendedInfo": [{"Message": "Invalid credentials."}]}}),
                    )
                }
            }
            ("DELETE", "/redfish/v1/SessionService/Sessions/7") => Reply::json(204, json!(null)),
            ("GET", "/redfish/v1/Systems") => Reply::json(200, collection()),
            ("GET", SYSTEM) => {
                let mut power = state.power.lock().expect("power");
                // PoweringOff lasts a few polls, then Off
                if *power == "PoweringOff" && state.polls_left.fetch_sub(1, Ordering::SeqCst) <= 1 {
                    *power = "Off";
                }
                Reply::json(
                    200,
                    json!({"@odata.id": SYSTEM, "Id": "1", "Name": "node1", "UUID": "u-1", "PowerState": *power,
                        "Actions": {"#ComputerSystem.Reset": {"target": RESET,
                            "@Redfish.ActionInfo": "/redfish/v1/Systems/1/ResetActionInfo"}}}),
                )
            }
            ("GET", "/redfish/v1/Systems/1/ResetActionInfo") => Reply::json(
                200,
                json!({"Parameters": [{"Name": "ResetType", "Required": true,
                    "AllowableValues": ["ForceOn", "ForceOff", "PowerCycle", "PushPowerButton"]}]}),
            ),
            ("POST", RESET) => {
                let body: serde_json::Value =
                    serde_json::from_str(&request.body).unwrap_or_default();
                let mut power = state.power.lock().expect("power");
                match body["ResetType"].as_str() {
                    Some("ForceOff") => *power = "PoweringOff",
                    Some("ForceOn") => *power = "On",
                    _ => return Reply::json(400, json!({"error": {"message": "bad ResetType"}})),
                }
                // an absolute URL naming the BMC by another address: followed on our address
                Reply::json(202, json!({})).header(
                    "Location",
                    "https://10.99.0.1/redfish/v1/TaskService/TaskMonitors/9",
                )
            }
            ("GET", "/redfish/v1/TaskService/TaskMonitors/9") => {
                if state.task_polls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Reply::json(202, json!({"TaskState": "Running"}))
                } else {
                    Reply::json(200, json!({"TaskState": "Completed", "TaskStatus": "OK"}))
                }
            }
            _ => Reply::json(404, json!({})),
        }
    })
}

#[test]
fn session_action_info_task_monitor_and_powering_off() {
    let state = Arc::new(Modern {
        power: Mutex::new("On"),
        polls_left: AtomicUsize::new(0),
        task_polls: AtomicUsize::new(0),
    });
    let bmc = modern_bmc(state.clone());
    let base = http_options(bmc.port);

    // PoweringOff is not off: status says ON
    *state.power.lock().expect("power") = "PoweringOff";
    state.polls_left.store(100, Ordering::SeqCst);
    let status = run_agent(&with(&base, &[("action", "status")]));
    assert_eq!(
        (status.code, status.stdout.as_str()),
        (0, "Status: ON\n"),
        "{}",
        status.describe()
    );

    // off: ForceOff (from the ActionInfo), task followed, then polled through 3 PoweringOff reads
    *state.power.lock().expect("power") = "On";
    state.polls_left.store(3, Ordering::SeqCst);
    let before = bmc.requests().len();
    let off = run_agent(&with(
        &base,
        &[("action", "off"), ("stonith_status_sleep", "0.1")],
    ));
    assert_eq!(
        (off.code, off.stdout.as_str()),
        (0, "Success: Powered OFF\n"),
        "{}",
        off.describe()
    );
    let requests = bmc.requests()[before..].to_vec();
    let posts: Vec<_> = requests.iter().filter(|r| r.path == RESET).collect();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].body.contains("\"ForceOff\""), "{}", posts[0].body);
    let after_post = requests.iter().position(|r| r.path == RESET).expect("post");
    let task_reads = requests[after_post..]
        .iter()
        .filter(|r| r.path.contains("TaskMonitors"))
        .count();
    assert_eq!(task_reads, 3, "task monitor not followed to completion");
    let system_reads = requests[after_post..]
        .iter()
        .filter(|r| r.path == SYSTEM)
        .count();
    assert!(
        system_reads >= 3,
        "the agent did not keep polling through PoweringOff: {system_reads} reads"
    );
    assert_eq!(*state.power.lock().expect("power"), "Off");

    // the session: one login, the token on every later request, no Basic, deleted at the end
    let logins = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Sessions"))
        .count();
    assert_eq!(logins, 1);
    assert!(
        requests
            .iter()
            .all(|r| !r.headers.contains_key("authorization")),
        "Basic auth sent"
    );
    let last = requests.last().expect("requests");
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("DELETE", "/redfish/v1/SessionService/Sessions/7")
    );

    // on: ForceOn, as the ActionInfo offers no On
    let on = run_agent(&with(&base, &[("action", "on")]));
    assert_eq!(on.code, 0, "{}", on.describe());
    assert!(bmc
        .requests()
        .iter()
        .any(|r| r.path == RESET && r.body.contains("\"ForceOn\"")));

    // diag: no Nmi offered, refused before any reset is sent
    let posts_before = bmc.requests().iter().filter(|r| r.path == RESET).count();
    let diag = run_agent(&with(&base, &[("action", "diag")]));
    diag.assert_failed_with("the BMC offers no Nmi for this system (allowed ResetType: ForceOn, ForceOff, PowerCycle, PushPowerButton)");
    assert_eq!(
        bmc.requests().iter().filter(|r| r.path == RESET).count(),
        posts_before
    );

    // wrong password: the session login says so
    let wrong = run_agent(&with(&base, &[("password", "nope"), ("action", "status")]));
    wrong.assert_failed_with("HTTP 401: Invalid credentials.");
}

#[test]
fn off_times_out_when_powering_off_never_ends() {
    let state = Arc::new(Modern {
        power: Mutex::new("On"),
        polls_left: AtomicUsize::new(usize::MAX / 2),
        task_polls: AtomicUsize::new(5),
    });
    let bmc = modern_bmc(state.clone());
    let base = http_options(bmc.port);
    let off = run_agent(&with(
        &base,
        &[
            ("action", "off"),
            ("power_timeout", "2"),
            ("stonith_status_sleep", "0.2"),
        ],
    ));
    assert_eq!(off.code, 1, "PoweringOff taken for Off: {}", off.describe());
    assert!(off.elapsed < Duration::from_secs(8), "{}", off.describe());
    assert_eq!(*state.power.lock().expect("power"), "PoweringOff");
}

#[test]
fn sessions_linked_but_refused_fall_back_to_basic() {
    let bmc = Scripted::start(|request| {
        let basic = request
            .headers
            .get("authorization")
            .is_some_and(|v| v.starts_with("Basic "));
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/redfish/v1/") => Reply::json(200, root(true)),
            ("POST", "/redfish/v1/SessionService/Sessions") => Reply::json(405, json!({})),
            (_, _) if !basic => Reply::json(401, json!({})),
            ("GET", "/redfish/v1/Systems") => Reply::json(200, collection()),
            ("GET", SYSTEM) => Reply::json(
                200,
                json!({"@odata.id": SYSTEM, "Id": "1", "PowerState": "Off"}),
            ),
            _ => Reply::json(404, json!({})),
        }
    });
    let base = http_options(bmc.port);
    let status = run_agent(&with(&base, &[("action", "status"), ("verbose", "1")]));
    assert_eq!(status.code, 2, "{}", status.describe());
    assert!(
        status.stdout.contains("Status: OFF"),
        "{}",
        status.describe()
    );
    assert!(
        status.stderr.contains("Basic auth (no Redfish sessions)"),
        "{}",
        status.describe()
    );
    // no session to delete
    assert!(bmc.requests().iter().all(|r| r.method != "DELETE"));
}

#[test]
fn a_service_root_behind_auth_gets_basic() {
    let bmc = Scripted::start(|request| {
        let basic = request
            .headers
            .get("authorization")
            .is_some_and(|v| v.starts_with("Basic "));
        match (request.method.as_str(), request.path.as_str()) {
            (_, _) if !basic => Reply::json(401, json!({"error": {"message": "login first"}})),
            ("GET", "/redfish/v1/") => Reply::json(200, root(false)),
            ("GET", "/redfish/v1/Systems") => Reply::json(200, collection()),
            ("GET", SYSTEM) => Reply::json(
                200,
                json!({"@odata.id": SYSTEM, "Id": "1", "PowerState": "On"}),
            ),
            _ => Reply::json(404, json!({})),
        }
    });
    let base = http_options(bmc.port);
    let status = run_agent(&with(&base, &[("action", "status")]));
    assert_eq!(
        (status.code, status.stdout.as_str()),
        (0, "Status: ON\n"),
        "{}",
        status.describe()
    );
    let roots = bmc
        .requests()
        .iter()
        .filter(|r| r.path == "/redfish/v1/")
        .count();
    assert_eq!(roots, 2, "one try without, one with credentials");
}
