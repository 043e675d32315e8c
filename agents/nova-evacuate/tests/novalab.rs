//! Against the real Nova lab (tests/lib/novalab.sh: Keystone, nova-api, fake-driver computes
//! on loopback); skipped, saying so, when the lab is not running. A compute host "fails" as in
//! the system test: its nova-compute is killed, then it is forced down as the fence agent does;
//! the agent's daemon must evacuate what the policy says, leave the rest, mark the host, and
//! give the host back once it is unforced. The tests take turns on one host:
//! PADDOCK_EVACUATE_TEST_HOST, else compute4 when the lab has it, else compute3.

mod common;

use common::{wait_for, Agent, Lab};
use serde_json::Value;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static HOST_IN_USE: Mutex<()> = Mutex::new(());

const IMAGE: &str = "11111111-2222-3333-4444-555555555555";
const IMAGE_NOT_HA: &str = "22222222-3333-4444-5555-666666666666";
const IMAGE_EVACUABLE: &str = "33333333-4444-5555-6666-777777777777";
const FLAVOR: &str = "1";
const FLAVOR_NOT_HA: &str = "2";

fn host(lab: &Lab) -> String {
    std::env::var("PADDOCK_EVACUATE_TEST_HOST").unwrap_or_else(|_| {
        if lab.has_host("compute4") {
            "compute4"
        } else {
            "compute3"
        }
        .to_string()
    })
}

fn lab() -> Option<(Lab, std::sync::MutexGuard<'static, ()>)> {
    let turn = HOST_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
    Some((Lab::find()?, turn))
}

fn agent(lab: &Lab, extra: &[(&str, &str)]) -> Agent {
    let mut agent = Agent::new(extra);
    for (k, v) in lab.params() {
        agent.set(k, &v);
    }
    for (k, v) in extra {
        agent.set(k, v);
    }
    agent
}

fn settled_on(server: &Value) -> Option<(String, String)> {
    let status = server["status"].as_str()?.to_string();
    let task = server["OS-EXT-STS:task_state"].as_str();
    let host = server["OS-EXT-SRV-ATTR:host"].as_str()?.to_string();
    (task.is_none()).then_some((status, host))
}

/// A server to boot: name, image, flavor, metadata.
type Wanted<'a> = (String, &'a str, &'a str, Vec<(&'a str, &'a str)>);

/// Boots servers on `host` and waits until they are ACTIVE. A host given back a moment ago may
/// still carry Nova's COMPUTE_STATUS_DISABLED trait in placement (nova-compute clears it
/// shortly after): a server that finds no valid host is booted again.
fn boot_all(lab: &Lab, host: &str, wanted: &[Wanted]) -> Vec<String> {
    let end = Instant::now() + Duration::from_secs(300);
    let mut ids: Vec<String> = wanted
        .iter()
        .map(|(name, image, flavor, meta)| lab.boot(name, host, image, flavor, meta))
        .collect();
    for (i, (name, image, flavor, meta)) in wanted.iter().enumerate() {
        loop {
            let s = lab.server(&ids[i]);
            if settled_on(&s).is_some_and(|(st, _)| st == "ACTIVE") {
                break;
            }
            if s["status"] == "ERROR" {
                assert!(
                    Instant::now() < end,
                    "server {name} keeps going to ERROR: {s}"
                );
                let _ = lab.call("DELETE", &format!("/servers/{}", ids[i]), None);
                std::thread::sleep(Duration::from_secs(2));
                ids[i] = lab.boot(name, host, image, flavor, meta);
                continue;
            }
            assert!(Instant::now() < end, "server {name} not ACTIVE: {s}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    ids
}

/// The host back to normal: nova-compute started, evacuations completed, unforced.
fn bring_back(lab: &Lab, host: &str) {
    lab.compute("start", host);
    wait_for(
        "the evacuations from the host completed",
        Duration::from_secs(180),
        || {
            let m = lab
                .call(
                    "GET",
                    &format!("/os-migrations?host={host}&migration_type=evacuation"),
                    None,
                )
                .ok()?;
            m["migrations"]
                .as_array()?
                .iter()
                .filter(|m| m["source_compute"] == host)
                .all(|m| {
                    ["completed", "failed", "error", "cancelled"]
                        .contains(&m["status"].as_str().unwrap_or(""))
                })
                .then_some(())
        },
    );
    wait_for("Nova to take the unforce", Duration::from_secs(120), || {
        lab.force(host, false).ok()
    });
}

fn mark_of(lab: &Lab, host: &str) -> Option<String> {
    let s = lab.service(host);
    s["disabled_reason"]
        .as_str()
        .filter(|r| r.starts_with("paddock-evacuate:"))
        .map(str::to_string)
}

#[test]
fn the_policy_decides_who_is_evacuated_and_the_rest_stays_reported() {
    let Some((lab, _turn)) = lab() else { return };
    let host = host(&lab);
    let prefix = "ne-policy-";
    lab.restore(&host, prefix);
    // the host's aggregate says "not HA": only instances that say otherwise below it go
    lab.aggregate("ne-test-no-ha", &host, &[("paddock:ha", "false")]);
    // name, image, flavor, metadata, the decision the log must show, evacuated
    type Spec<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        &'a str,
        bool,
    );
    let specs: Vec<Spec> = vec![
        (
            "meta-on-over-flavor",
            IMAGE,
            FLAVOR_NOT_HA,
            vec![("paddock:ha", "true")],
            "instance metadata paddock:ha=true",
            true,
        ),
        (
            "image-evacuable",
            IMAGE_EVACUABLE,
            FLAVOR,
            vec![],
            "image property evacuable=true",
            true,
        ),
        (
            "meta-evacuable-over-image",
            IMAGE_NOT_HA,
            FLAVOR,
            vec![("evacuable", "")],
            "instance metadata evacuable=",
            true,
        ),
        (
            "plain",
            IMAGE,
            FLAVOR,
            vec![],
            "not HA by aggregate ne-test-no-ha paddock:ha=false",
            false,
        ),
        (
            "meta-off",
            IMAGE_EVACUABLE,
            FLAVOR,
            vec![("paddock:ha", "false")],
            "not HA by instance metadata paddock:ha=false",
            false,
        ),
        (
            "flavor-off-over-image",
            IMAGE_EVACUABLE,
            FLAVOR_NOT_HA,
            vec![],
            "not HA by flavor extra spec paddock:ha=false",
            false,
        ),
        (
            "image-off",
            IMAGE_NOT_HA,
            FLAVOR,
            vec![],
            "not HA by image property paddock:ha=false",
            false,
        ),
    ];
    let wanted: Vec<Wanted> = specs
        .iter()
        .map(|(name, image, flavor, meta, _, _)| {
            (format!("{prefix}{name}"), *image, *flavor, meta.clone())
        })
        .collect();
    let ids = boot_all(&lab, &host, &wanted);
    let go: Vec<(&str, String, &str)> = specs
        .iter()
        .zip(&ids)
        .filter(|((.., ha), _)| *ha)
        .map(|((name, _, _, _, why, _), id)| (*name, id.clone(), *why))
        .collect();
    let stay: Vec<(&str, String, &str)> = specs
        .iter()
        .zip(&ids)
        .filter(|((.., ha), _)| !*ha)
        .map(|((name, _, _, _, why, _), id)| (*name, id.clone(), *why))
        .collect();
    // an operator had disabled the host before it failed: the reason comes back afterwards
    lab.set_status(&host, Some("operator: new disks on Friday"));

    let agent = agent(&lab, &[("hosts", &host), ("interval", "1")]);
    let start = agent.action("start");
    assert_eq!(start.code, 0, "{}", start.stderr);
    assert_eq!(agent.action("monitor").code, 0);
    lab.compute("kill", &host);
    lab.force(&host, true).unwrap();
    let mark = wait_for("the host marked done", Duration::from_secs(60), || {
        mark_of(&lab, &host)
    });
    assert!(
        mark.starts_with("paddock-evacuate: 3 evacuated, 4 left by policy, 0 failed, at ")
            && mark.ends_with(" | was disabled: operator: new disks on Friday"),
        "{mark}"
    );
    for (name, id, _) in &go {
        wait_for(
            &format!("{name} ACTIVE elsewhere"),
            Duration::from_secs(120),
            || settled_on(&lab.server(id)).filter(|(st, h)| st == "ACTIVE" && *h != host),
        );
    }
    for (name, id, _) in &stay {
        let s = lab.server(id);
        assert_eq!(
            s["OS-EXT-SRV-ATTR:host"],
            host.as_str(),
            "{name} moved: {s}"
        );
    }
    let log = agent.log_text();
    for (name, id, why) in &go {
        assert!(
            log.contains(&format!(
                "{host}: evacuating {prefix}{name} ({id}): HA by {why}"
            )),
            "{name}:\n{log}"
        );
    }
    for (name, id, why) in &stay {
        assert!(
            log.contains(&format!("{host}: left {prefix}{name} ({id}) ({why}")),
            "{name}:\n{log}"
        );
    }
    let journal = agent.journal_text();
    for task in ["\"evacuate\"", "\"left\"", "\"host-done\""] {
        assert!(journal.contains(task), "journal without {task}:\n{journal}");
    }
    assert!(!log.contains(&lab.password) && !journal.contains(&lab.password));

    bring_back(&lab, &host);
    let s = wait_for("the host given back", Duration::from_secs(30), || {
        let s = lab.service(&host);
        (s["disabled_reason"] == "operator: new disks on Friday").then_some(s)
    });
    assert_eq!(
        s["status"], "disabled",
        "the operator's disable must stay: {s}"
    );
    // the journal line follows Nova's change by a moment
    wait_for("host-back in the journal", Duration::from_secs(5), || {
        agent.journal_text().contains("\"host-back\"").then_some(())
    });
    assert_eq!(agent.action("stop").code, 0);
    lab.delete_aggregate("ne-test-no-ha");
    lab.restore(&host, prefix);
}

#[test]
fn ten_instances_are_evacuated_in_parallel_and_timed() {
    let Some((lab, _turn)) = lab() else { return };
    let host = host(&lab);
    let prefix = "ne-ten-";
    lab.restore(&host, prefix);
    // the benchmark runs this with other sizes and bounds
    let count: usize = std::env::var("PADDOCK_EVACUATE_BENCH_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let parallel = std::env::var("PADDOCK_EVACUATE_BENCH_PARALLEL").unwrap_or_else(|_| "3".into());
    let wanted: Vec<Wanted> = (0..count)
        .map(|n| (format!("{prefix}{n}"), IMAGE, FLAVOR, vec![]))
        .collect();
    let ids = boot_all(&lab, &host, &wanted);
    let mut agent = agent(
        &lab,
        &[("hosts", &host), ("interval", "1"), ("parallel", &parallel)],
    );
    agent.debug = true;
    assert_eq!(agent.action("start").code, 0);
    // as in a cluster, where the agent runs long before a host fails: its connections are warm
    wait_for(
        "the daemon's first warm-up",
        Duration::from_secs(30),
        || agent.log_text().contains("warm-up:").then_some(()),
    );
    lab.compute("kill", &host);

    let forced = Instant::now();
    match std::env::var("PADDOCK_EVACUATE_BENCH_FENCE") {
        // the whole chain, as the benchmark wants it: the fence agent's off, then the daemon
        Ok(fence_agent) => fence_off(&lab, &fence_agent, &host),
        Err(_) => lab.force(&host, true).unwrap(),
    }
    eprintln!("forced down after {} ms", forced.elapsed().as_millis());
    let mark = wait_for("the host marked done", Duration::from_secs(60), || {
        mark_of(&lab, &host)
    });
    let marked = forced.elapsed();
    assert!(
        mark.starts_with(&format!(
            "paddock-evacuate: {count} evacuated, 0 left by policy, 0 failed"
        )),
        "{mark}"
    );
    let mut pending: Vec<&String> = ids.iter().collect();
    let mut targets = std::collections::BTreeSet::new();
    while !pending.is_empty() {
        assert!(
            forced.elapsed() < Duration::from_secs(180),
            "not all ACTIVE elsewhere: {pending:?}"
        );
        pending.retain(|id| match settled_on(&lab.server(id)) {
            Some((st, h)) if st == "ACTIVE" && h != host => {
                targets.insert(h);
                false
            }
            _ => true,
        });
        std::thread::sleep(Duration::from_millis(100));
    }
    let all_active = forced.elapsed();
    let accepted = agent
        .log_text()
        .lines()
        .find_map(|l| {
            l.split("last request accepted ")
                .nth(1)
                .map(|r| r.split(" after").next().unwrap_or("").to_string())
        })
        .unwrap_or_default();
    let verbose = std::env::var("PADDOCK_EVACUATE_BENCH_LOG").is_ok();
    for line in agent
        .log_text()
        .lines()
        .filter(|l| verbose || l.contains("request(s) answered") || l.contains("done:"))
    {
        eprintln!("daemon: {line}");
    }
    eprintln!(
        "MEASURED {count} instances, parallel={parallel}: force-down -> host marked done (after the last evacuation accepted) {:.2} s \
         (daemon: last accepted {accepted} after it saw the host); -> all ACTIVE elsewhere {:.2} s; targets {targets:?}",
        marked.as_secs_f64(),
        all_active.as_secs_f64()
    );
    assert!(
        marked < Duration::from_secs(10 + count as u64 / 2),
        "{marked:?}"
    );

    bring_back(&lab, &host);
    wait_for("the host enabled again", Duration::from_secs(30), || {
        let s = lab.service(&host);
        (s["status"] == "enabled").then_some(())
    });
    assert_eq!(agent.action("stop").code, 0);
    lab.restore(&host, prefix);
}

#[test]
fn credentials_keystone_refuses_fail_the_start_as_a_configuration_error() {
    let Some((lab, _turn)) = lab() else { return };
    let wrong = "wr0ng-pw-never-shown";
    let agent = agent(&lab, &[("password", wrong), ("hosts", "no-such-host")]);
    let start = agent.action("start");
    assert_eq!(start.code, 6, "{}", start.stderr);
    assert!(
        start
            .reason()
            .contains("Keystone refused the credentials for user"),
        "{}",
        start.stderr
    );
    assert!(!start.stderr.contains(wrong) && !agent.log_text().contains(wrong));
    assert!(
        start.elapsed < Duration::from_secs(10),
        "{:?}",
        start.elapsed
    );
    assert_eq!(
        agent.action("monitor").code,
        7,
        "a failed start leaves no daemon"
    );
}

#[test]
fn ocf_tester_passes_against_the_lab() {
    let Some((lab, _turn)) = lab() else { return };
    let agent = agent(&lab, &[]);
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{}\n", lab.password)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = std::process::Command::new("ocf-tester")
        .args(["-n", "nova-evacuate-tester"])
        .args(["-o", &format!("auth_url={}", lab.auth_url)])
        .args(["-o", &format!("username={}", lab.username)])
        .args(["-o", &format!("project_name={}", lab.project_name)])
        .args(["-o", &format!("password_file={}", password_file.display())])
        .args(["-o", "hosts=no-such-host"])
        .arg("-o")
        .arg(format!("logfile={}", agent.log().display()))
        .arg(common::BIN)
        .env("HA_RSCTMP", agent.dir.path())
        .output()
        .expect("ocf-tester (Debian's resource-agents)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("passed all tests"),
        "ocf-tester:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `fence_paddock_compute` (the path in PADDOCK_EVACUATE_BENCH_FENCE) off for `host`: options on
/// stdin, the password in its environment, a token cache of its own.
fn fence_off(lab: &Lab, agent: &str, host: &str) {
    use std::io::Write;
    let cache = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(agent)
        .env("PADDOCK_FENCE_PASSWORD", &lab.password)
        .env("PADDOCK_COMPUTE_TOKEN_CACHE", cache.path())
        .env("PADDOCK_JOURNAL", cache.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run fence_paddock_compute");
    let input = format!(
        "action=off\nplug={host}\nauth_url={}\nusername={}\nproject_name={}\n",
        lab.auth_url, lab.username, lab.project_name
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "fence_paddock_compute off: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The anchors in the same lab, for BENCHMARK.md: Debian's fence_compute off, then
/// fence_evacuate off (sequential, it returns once every request is accepted). Runs only with
/// PADDOCK_EVACUATE_BENCH_ANCHORS=1 (PADDOCK_EVACUATE_BENCH_COUNT instances, default 10).
#[test]
fn anchors_fence_compute_and_fence_evacuate_timed() {
    if std::env::var("PADDOCK_EVACUATE_BENCH_ANCHORS").is_err() {
        eprintln!(
            "SKIPPED: set PADDOCK_EVACUATE_BENCH_ANCHORS=1 to time fence_compute + fence_evacuate"
        );
        return;
    }
    let Some((lab, _turn)) = lab() else { return };
    let host = host(&lab);
    let prefix = "ne-anchor-";
    lab.restore(&host, prefix);
    let count: usize = std::env::var("PADDOCK_EVACUATE_BENCH_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let wanted: Vec<Wanted> = (0..count)
        .map(|n| (format!("{prefix}{n}"), IMAGE, FLAVOR, vec![]))
        .collect();
    let ids = boot_all(&lab, &host, &wanted);
    lab.compute("kill", &host);
    let anchor = |agent: &str, action: &str| {
        let out = std::process::Command::new(openstack::testlab::script())
            .args([
                "anchor",
                agent,
                &format!("action={action}"),
                &format!("plug={host}"),
                "no_shared_storage=1",
            ])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let fenced = Instant::now();
    let (rc, out) = anchor("fence_compute", "off");
    assert_eq!(rc, 0, "fence_compute off: {out}");
    let forced = fenced.elapsed();
    let (rc, out) = anchor("fence_evacuate", "off");
    assert_eq!(rc, 0, "fence_evacuate off: {out}");
    let accepted = fenced.elapsed();
    let mut pending: Vec<&String> = ids.iter().collect();
    while !pending.is_empty() {
        assert!(
            fenced.elapsed() < Duration::from_secs(300),
            "not all ACTIVE elsewhere: {pending:?}"
        );
        pending.retain(|id| {
            !settled_on(&lab.server(id)).is_some_and(|(st, h)| st == "ACTIVE" && h != host)
        });
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "MEASURED anchors, {count} instances: fence_compute off returned {:.2} s; fence_evacuate off returned (every evacuation accepted) {:.2} s; all ACTIVE elsewhere {:.2} s",
        forced.as_secs_f64(),
        accepted.as_secs_f64(),
        fenced.elapsed().as_secs_f64()
    );
    bring_back(&lab, &host);
    lab.restore(&host, prefix);
}

/// Nothing is kept in the cluster: a host forced down while no agent ran is found and
/// evacuated by the agent started afterwards (on any node), from what Nova shows.
#[test]
fn an_agent_started_after_the_failure_finds_the_work_in_nova() {
    let Some((lab, _turn)) = lab() else { return };
    let host = host(&lab);
    let prefix = "ne-late-";
    lab.restore(&host, prefix);
    let wanted: Vec<Wanted> = (0..2)
        .map(|n| (format!("{prefix}{n}"), IMAGE, FLAVOR, vec![]))
        .collect();
    let ids = boot_all(&lab, &host, &wanted);
    lab.compute("kill", &host);
    lab.force(&host, true).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(mark_of(&lab, &host).is_none(), "marked without an agent?");

    let agent = agent(&lab, &[("hosts", &host)]);
    assert_eq!(agent.action("start").code, 0);
    let mark = wait_for("the host marked done", Duration::from_secs(60), || {
        mark_of(&lab, &host)
    });
    assert!(
        mark.starts_with("paddock-evacuate: 2 evacuated, 0 left by policy, 0 failed"),
        "{mark}"
    );
    for id in &ids {
        wait_for("ACTIVE elsewhere", Duration::from_secs(120), || {
            settled_on(&lab.server(id)).filter(|(st, h)| st == "ACTIVE" && *h != host)
        });
    }
    // a second agent (the resource moved) finds the host marked and does nothing more
    assert_eq!(agent.action("stop").code, 0);
    let moved = self::agent(&lab, &[("hosts", &host)]);
    assert_eq!(moved.action("start").code, 0);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !moved.log_text().contains("evacuating"),
        "{}",
        moved.log_text()
    );
    assert_eq!(mark_of(&lab, &host).as_deref(), Some(mark.as_str()));

    bring_back(&lab, &host);
    wait_for("the host enabled again", Duration::from_secs(30), || {
        (lab.service(&host)["status"] == "enabled").then_some(())
    });
    assert_eq!(moved.action("stop").code, 0);
    lab.restore(&host, prefix);
}
