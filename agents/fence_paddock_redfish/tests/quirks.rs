//! fence_paddock_redfish against the quirks of real BMCs, each served by a scripted responder
//! with exactly the answers that caused trouble: a ResetActionInfo link that answers 404, `on`
//! during a graceful shutdown, trailing slashes, collections whose count or order is off, a
//! system under Systems that is not a member, odd ResetType lists; and the plug cache.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A BMC with Basic auth only, serving `resources` by path (GET), applying resets to the
/// PowerState of the system they target, and recording what was asked.
struct Bmc {
    resources: Mutex<HashMap<String, Value>>,
    /// ResetTypes the BMC accepts (others: 400); None accepts the standard ones.
    accepts: Option<Vec<&'static str>>,
    /// Reads of a system left before a transition (PoweringOff/PoweringOn) settles.
    settles_after_reads: Mutex<u32>,
    /// GETs answered 500 "database is locked" before the BMC answers again (a busy BMC).
    busy_for_gets: Mutex<u32>,
}

const ROOT: &str = "/redfish/v1/";
const SYSTEMS: &str = "/redfish/v1/Systems";

fn system(id: &str, name: &str, power: &str, extra_reset: Value) -> Value {
    let mut reset = json!({"target": format!("{SYSTEMS}/{id}/Actions/ComputerSystem.Reset")});
    if let (Some(reset), Some(extra)) = (reset.as_object_mut(), extra_reset.as_object()) {
        reset.extend(extra.clone());
    }
    json!({"@odata.id": format!("{SYSTEMS}/{id}"), "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
        "Id": id, "Name": name, "UUID": format!("uuid-{id}"), "PowerState": power,
        "Actions": {"#ComputerSystem.Reset": reset}})
}

/// Resources by path, a trailing slash or not (as BMCs serve them).
fn key(path: &str) -> String {
    path.trim_end_matches('/').to_string()
}

fn settled(power: &str) -> &'static str {
    match power {
        "PoweringOff" => "Off",
        "PoweringOn" => "On",
        _ => "",
    }
}

impl Bmc {
    fn new(systems: Vec<Value>, collection: Value) -> Arc<Bmc> {
        let mut resources = HashMap::new();
        resources.insert(
            key(ROOT),
            json!({"@odata.id": ROOT, "Systems": {"@odata.id": SYSTEMS}}),
        );
        resources.insert(key(SYSTEMS), collection);
        for system in systems {
            let uri = key(system["@odata.id"].as_str().expect("uri"));
            resources.insert(uri, system);
        }
        Arc::new(Bmc {
            resources: Mutex::new(resources),
            accepts: None,
            settles_after_reads: Mutex::new(0),
            busy_for_gets: Mutex::new(0),
        })
    }

    fn power(&self, uri: &str) -> String {
        self.resources.lock().expect("lock")[&key(uri)]["PowerState"]
            .as_str()
            .expect("power")
            .to_string()
    }

    fn set_power(&self, uri: &str, power: &str) {
        self.resources
            .lock()
            .expect("lock")
            .get_mut(&key(uri))
            .expect("system")["PowerState"] = json!(power);
    }

    fn answer(&self, request: &Request) -> Reply {
        let path = key(&request.path);
        if path != key(ROOT) && !request.headers.contains_key("authorization") {
            return Reply::json(
                401,
                json!({"error": {"message": "authentication required"}}),
            );
        }
        if request.method == "POST" {
            return self.reset(&path, &request.body);
        }
        {
            let mut busy = self.busy_for_gets.lock().expect("lock");
            if *busy > 0 {
                *busy -= 1;
                return Reply::json(500, json!({"error": {"message": "database is locked"}}));
            }
        }
        let mut resources = self.resources.lock().expect("lock");
        let Some(resource) = resources.get_mut(&path) else {
            return Reply::json(404, json!({"error": {"message": "not found"}}));
        };
        let power = resource["PowerState"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !settled(&power).is_empty() {
            let mut left = self.settles_after_reads.lock().expect("lock");
            if *left == 0 {
                resource["PowerState"] = json!(settled(&power));
            } else {
                *left -= 1;
            }
        }
        Reply::json(200, resource.clone())
    }

    fn reset(&self, target: &str, body: &str) -> Reply {
        let body: Value = serde_json::from_str(body).unwrap_or_default();
        let reset_type = body["ResetType"].as_str().unwrap_or_default().to_string();
        let standard = [
            "On",
            "ForceOn",
            "ForceOff",
            "ForceRestart",
            "GracefulShutdown",
        ];
        let accepted = match &self.accepts {
            Some(list) => list.contains(&reset_type.as_str()),
            None => standard.contains(&reset_type.as_str()),
        };
        let Some(system) = target
            .strip_suffix("/Actions/ComputerSystem.Reset")
            .filter(|_| accepted)
        else {
            return Reply::json(
                400,
                json!({"error": {"message": format!("ResetType {reset_type} refused")}}),
            );
        };
        let power = match reset_type.as_str() {
            "ForceOff" | "GracefulShutdown" => "Off",
            _ => "On",
        };
        self.set_power(system, power);
        Reply::json(204, Value::Null)
    }
}

fn serve(bmc: Arc<Bmc>) -> Scripted {
    Scripted::start(move |request| bmc.answer(request))
}

fn members(uris: &[&str], count: usize) -> Value {
    let members: Vec<Value> = uris.iter().map(|u| json!({"@odata.id": u})).collect();
    json!({"@odata.id": SYSTEMS, "Members": members, "Members@odata.count": count})
}

fn reset_posts(server: &Scripted) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body.clone())
        .collect()
}

#[test]
fn a_reset_action_info_answering_404_falls_back_to_the_standard_reset_type() {
    let linked = json!({"@Redfish.ActionInfo": format!("{SYSTEMS}/1/ResetActionInfo")});
    let bmc = Bmc::new(
        vec![system("1", "node1", "On", linked)],
        members(&["/redfish/v1/Systems/1"], 1),
    );
    let server = serve(bmc.clone());
    let off = run_agent(&with(
        &http_options(server.port),
        &[("action", "off"), ("plug", "1"), ("verbose", "1")],
    ));
    assert_eq!(
        (off.code, off.stdout.as_str()),
        (0, "Success: Powered OFF\n"),
        "{}",
        off.describe()
    );
    assert!(
        off.stderr.contains("reset options unreadable"),
        "{}",
        off.describe()
    );
    assert!(off.stderr.contains("HTTP 404"), "{}", off.describe());
    assert_eq!(reset_posts(&server), vec![r#"{"ResetType":"ForceOff"}"#]);
    assert_eq!(bmc.power("/redfish/v1/Systems/1"), "Off");
}

#[test]
fn a_refused_reset_is_reported_as_refused_not_as_a_timeout() {
    let bmc = Arc::new(Bmc {
        accepts: Some(vec!["On"]),
        ..Arc::try_unwrap(Bmc::new(
            vec![system("1", "node1", "On", json!({}))],
            members(&["/redfish/v1/Systems/1"], 1),
        ))
        .ok()
        .expect("unshared")
    });
    let server = serve(bmc);
    let off = run_agent(&with(
        &http_options(server.port),
        &[("action", "off"), ("power_timeout", "1")],
    ));
    off.assert_failed_with("refused the power OFF request");
    assert!(!off.stderr.contains("Timed out"), "{}", off.describe());
    assert!(
        off.stderr.contains("ResetType ForceOff refused"),
        "{}",
        off.describe()
    );
}

#[test]
fn on_during_a_graceful_shutdown_waits_for_off_then_powers_on() {
    let bmc = Bmc::new(
        vec![system("1", "node1", "PoweringOff", json!({}))],
        members(&["/redfish/v1/Systems/1"], 1),
    );
    *bmc.settles_after_reads.lock().expect("lock") = 3;
    let server = serve(bmc.clone());
    let on = run_agent(&with(
        &http_options(server.port),
        &[("action", "on"), ("stonith_status_sleep", "0.1")],
    ));
    assert_eq!(
        (on.code, on.stdout.as_str()),
        (0, "Success: Powered ON\n"),
        "Already ON during PoweringOff leaves the machine off: {}",
        on.describe()
    );
    assert_eq!(reset_posts(&server), vec![r#"{"ResetType":"On"}"#]);
    assert_eq!(bmc.power("/redfish/v1/Systems/1"), "On");
}

#[test]
fn off_during_power_on_acts_once_the_transition_is_over() {
    let bmc = Bmc::new(
        vec![system("1", "node1", "PoweringOn", json!({}))],
        members(&["/redfish/v1/Systems/1"], 1),
    );
    *bmc.settles_after_reads.lock().expect("lock") = 2;
    let server = serve(bmc.clone());
    let off = run_agent(&with(&http_options(server.port), &[("action", "off")]));
    assert_eq!(off.stdout, "Success: Powered OFF\n", "{}", off.describe());
    assert_eq!(reset_posts(&server), vec![r#"{"ResetType":"ForceOff"}"#]);
}

#[test]
fn trailing_slashes_odd_counts_and_order_do_not_matter() {
    // ids and targets with a trailing slash, a count that disagrees with Members, members out
    // of order
    let mut second = system("2", "node2", "On", json!({}));
    second["@odata.id"] = json!("/redfish/v1/Systems/2/");
    second["Actions"]["#ComputerSystem.Reset"]["target"] =
        json!("/redfish/v1/Systems/2/Actions/ComputerSystem.Reset/");
    let bmc = Bmc::new(
        vec![
            system("3", "node3", "On", json!({})),
            second,
            system("1", "node1", "On", json!({})),
        ],
        members(
            &[
                "/redfish/v1/Systems/3",
                "/redfish/v1/Systems/2/",
                "/redfish/v1/Systems/1",
            ],
            7,
        ),
    );
    let server = serve(bmc.clone());
    for plug in ["2", "node2", "uuid-2"] {
        bmc.set_power("/redfish/v1/Systems/2/", "On");
        let off = run_agent(&with(
            &http_options(server.port),
            &[("action", "off"), ("plug", plug)],
        ));
        assert_eq!(
            off.stdout,
            "Success: Powered OFF\n",
            "{plug}: {}",
            off.describe()
        );
        assert_eq!(bmc.power("/redfish/v1/Systems/2/"), "Off", "{plug}");
        assert_eq!(bmc.power("/redfish/v1/Systems/1"), "On", "{plug}");
        assert_eq!(bmc.power("/redfish/v1/Systems/3"), "On", "{plug}");
    }
    let list = run_agent(&with(&http_options(server.port), &[("action", "list")]));
    assert_eq!(list.stdout.lines().count(), 3, "{}", list.describe());
}

#[test]
fn a_system_under_systems_that_is_not_a_member_is_never_chosen() {
    let bmc = Bmc::new(
        vec![
            system("1", "node1", "On", json!({})),
            system("2", "node2", "On", json!({})),
            system("9", "spare", "On", json!({})),
        ],
        members(&["/redfish/v1/Systems/1", "/redfish/v1/Systems/2"], 2),
    );
    let server = serve(bmc.clone());
    for plug in ["9", "spare"] {
        let off = run_agent(&with(
            &http_options(server.port),
            &[("action", "off"), ("plug", plug)],
        ));
        off.assert_failed_with("matches no system");
    }
    assert_eq!(bmc.power("/redfish/v1/Systems/9"), "On");
    assert!(reset_posts(&server).is_empty());
}

#[test]
fn odd_reset_type_lists_are_used_or_refused_clearly() {
    // non-standard extras (Off, PowerCycle) and a merged bogus value beside the standard ones
    let odd = json!({"ResetType@Redfish.AllowableValues":
        ["On", "Off", "ForceOff", "PowerCycle", "GracefulShutdownGracefulRestart"]});
    let bmc = Bmc::new(
        vec![system("1", "node1", "On", odd)],
        members(&["/redfish/v1/Systems/1"], 1),
    );
    let server = serve(bmc.clone());
    let base = http_options(server.port);
    let off = run_agent(&with(&base, &[("action", "off")]));
    assert_eq!(off.stdout, "Success: Powered OFF\n", "{}", off.describe());
    assert_eq!(reset_posts(&server), vec![r#"{"ResetType":"ForceOff"}"#]);
    // diag: no Nmi, refused before anything is sent, naming what the BMC offers
    let diag = run_agent(&with(&base, &[("action", "diag")]));
    diag.assert_failed_with("no Nmi for this system (allowed ResetType: On, Off, ForceOff, PowerCycle, GracefulShutdownGracefulRestart)");
    // only non-standard values: off is refused, not guessed ("Off" may be a graceful one)
    let only_odd = json!({"ResetType@Redfish.AllowableValues": ["On", "Off"]});
    let bmc = Bmc::new(
        vec![system("1", "node1", "On", only_odd)],
        members(&["/redfish/v1/Systems/1"], 1),
    );
    let server = serve(bmc.clone());
    let off = run_agent(&with(&http_options(server.port), &[("action", "off")]));
    off.assert_failed_with(
        "the BMC offers no ForceOff for this system (allowed ResetType: On, Off)",
    );
    assert!(reset_posts(&server).is_empty());
}

#[test]
fn a_busy_bmc_answering_500_to_reads_is_asked_again() {
    let bmc = Bmc::new(
        vec![system("1", "node1", "On", json!({}))],
        members(&["/redfish/v1/Systems/1"], 1),
    );
    let server = serve(bmc.clone());
    let base = http_options(server.port);
    // two busy answers in a row: the third asking of the same read gets through
    *bmc.busy_for_gets.lock().expect("lock") = 2;
    let off = run_agent(&with(&base, &[("action", "off"), ("plug", "1")]));
    assert_eq!(
        (off.code, off.stdout.as_str()),
        (0, "Success: Powered OFF\n"),
        "{}",
        off.describe()
    );
    assert_eq!(bmc.power("/redfish/v1/Systems/1"), "Off");
    assert_eq!(reset_posts(&server).len(), 1, "the reset was sent once");
    // busy for good: after three askings of a read, the BMC's error, not a guess
    *bmc.busy_for_gets.lock().expect("lock") = 1000;
    let status = run_agent(&with(&base, &[("action", "status"), ("plug", "1")]));
    status.assert_failed_with("HTTP 500");
    assert!(
        status.stderr.contains("database is locked"),
        "{}",
        status.describe()
    );
}

#[test]
fn status_by_plug_reads_one_system_once_the_plug_is_remembered() {
    let bmc = Bmc::new(
        vec![
            system("1", "node1", "On", json!({})),
            system("2", "node2", "Off", json!({})),
        ],
        members(&["/redfish/v1/Systems/1", "/redfish/v1/Systems/2"], 2),
    );
    let server = serve(bmc.clone());
    let cache = tempfile::tempdir().expect("tempdir");
    let env = [(
        "PADDOCK_REDFISH_CACHE",
        cache.path().to_str().expect("utf-8"),
    )];
    let status = || {
        let before = server.requests().len();
        let r = run_agent_env(
            &with(
                &http_options(server.port),
                &[("action", "status"), ("plug", "node2")],
            ),
            &env,
        );
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (2, "Status: OFF\n"),
            "{}",
            r.describe()
        );
        let requests = &server.requests()[before..];
        let unauthenticated: Vec<&str> = requests
            .iter()
            .filter(|r| !r.headers.contains_key("authorization"))
            .map(|r| r.path.as_str())
            .collect();
        assert!(
            unauthenticated.iter().all(|p| *p == ROOT),
            "{unauthenticated:?}"
        );
        requests
            .iter()
            .filter(|r| r.headers.contains_key("authorization"))
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    };
    // first time: the root (no credentials), the collection and every member (a Name)
    assert_eq!(status().len(), 3);
    // then: the remembered system only, not even the root
    let before = server.requests().len();
    assert_eq!(status(), vec!["/redfish/v1/Systems/2"]);
    assert_eq!(server.requests().len(), before + 1, "one request in all");
    // the system behind the URI is another one now: found again, not trusted
    {
        let mut resources = bmc.resources.lock().expect("lock");
        let two = resources.get_mut("/redfish/v1/Systems/2").expect("2");
        two["Name"] = json!("node7");
        let one = resources.get_mut("/redfish/v1/Systems/1").expect("1");
        one["Name"] = json!("node2");
        one["PowerState"] = json!("Off");
    }
    let moved = status();
    assert!(moved.len() > 1, "stale entry trusted: {moved:?}");
    assert_eq!(status(), vec!["/redfish/v1/Systems/1"]);
}
