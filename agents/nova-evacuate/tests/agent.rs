//! The agent as Pacemaker and resource-agents' tools see it, without a cloud: metadata valid
//! for both schemas and OCF 1.1, bad input answered with the right code and a reason naming
//! the item (never the password), and a Keystone that does not answer: start succeeds, monitor
//! says degraded with the reason, then fails after unreachable_limit; the password is on no
//! command line.

mod common;

use common::{wait_for, Agent};
use ocf::conformance::xmllint;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "pw-s3cret-never-shown";

/// A Keystone URL nobody answers on (a port we hold without accepting).
fn silent_url(listener: &TcpListener) -> String {
    format!(
        "http://127.0.0.1:{}/v3",
        listener.local_addr().unwrap().port()
    )
}

fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/v3")
}

#[test]
fn meta_data_is_valid_for_both_schemas_and_ocf_1_1() {
    let agent = Agent::new(&[]);
    let meta = agent.action("meta-data");
    assert_eq!(meta.code, 0);
    for schema in [
        "/usr/share/resource-agents/metadata.rng",
        "/usr/share/pcs/data/ocf-1.1.rng",
    ] {
        let (ok, err) = xmllint(Path::new(schema), &meta.stdout);
        assert!(ok, "{schema}: {err}");
    }
    let problems = ocf::conformance::ocf_1_1_problems(&meta.stdout);
    assert!(problems.is_empty(), "not OCF 1.1: {problems:?}");
    for name in [
        "auth_url",
        "username",
        "password",
        "password_script",
        "password_file",
        "project_name",
        "tenant_name",
        "user_domain",
        "project_domain",
        "region_name",
        "endpoint_type",
        "ssl_insecure",
        "ssl_ca_file",
        "no_shared_storage",
        "interval",
        "parallel",
        "default_ha",
        "unreachable_limit",
        "hosts",
        "logfile",
    ] {
        assert!(meta.stdout.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(meta
        .stdout
        .contains("<resource-agent name=\"nova-evacuate\""));
    let man = agent.action("manpage");
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains("paddock:ha"),
        "the man page explains the policy"
    );
}

#[test]
fn bad_input_is_err_configured_naming_the_item_and_never_the_password() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("username", "admin"), ("password", SECRET)], "'auth_url'"),
        (
            &[("auth_url", "http://k/v3"), ("password", SECRET)],
            "username",
        ),
        (
            &[("auth_url", "http://k/v3"), ("username", "admin")],
            "password_script",
        ),
        (
            &[
                ("auth_url", "keystone:5000"),
                ("username", "a"),
                ("password", SECRET),
            ],
            "'auth_url'",
        ),
        (
            &[
                ("auth_url", "http://k/v3"),
                ("username", "a"),
                ("password", SECRET),
                ("parallel", "0"),
            ],
            "'parallel'",
        ),
        (
            &[
                ("auth_url", "http://k/v3"),
                ("username", "a"),
                ("password", SECRET),
                ("endpoint_type", "x"),
            ],
            "'endpoint_type'",
        ),
    ];
    for (params, needle) in cases {
        let agent = Agent::new(params);
        for action in ["validate-all", "start"] {
            let r = agent.action(action);
            assert_eq!(r.code, 6, "{action} {params:?}: {}", r.stderr);
            assert!(r.reason().contains(needle), "{params:?}: {}", r.stderr);
            assert!(!r.stderr.contains(SECRET) && !r.stdout.contains(SECRET));
        }
        // a probe of a misconfigured resource: not running; stop: nothing to do
        assert_eq!(agent.run("monitor", "0").code, 7);
        assert_eq!(agent.action("stop").code, 0);
    }
}

#[test]
fn a_password_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let agent = Agent::new(&[
        ("auth_url", "http://127.0.0.1:9/v3"),
        ("username", "admin"),
        ("password_file", file.to_str().unwrap()),
    ]);
    let r = agent.action("start");
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.reason().contains("chmod 600"), "{}", r.stderr);
    assert!(!r.stderr.contains(SECRET));
}

#[test]
fn keystone_not_answering_starts_degraded_then_fails_after_the_limit() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut agent = Agent::new(&[
        ("auth_url", &refused_url()),
        ("username", "admin"),
        ("password", SECRET),
        ("unreachable_limit", "3"),
    ]);
    let start = agent.action("start");
    assert_eq!(start.code, 0, "{}", start.stderr);
    let pid = agent.daemon_pid().expect("the daemon wrote its pid");
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        !cmdline.contains(SECRET),
        "the password is on the daemon's command line"
    );
    assert!(cmdline.contains("__nova_evacuate_daemon"));

    let monitor = agent.action("monitor");
    assert_eq!(monitor.code, 190, "{}", monitor.stderr);
    assert!(
        monitor.reason().contains("no answer from the cloud"),
        "{}",
        monitor.stderr
    );
    assert!(
        monitor.elapsed < Duration::from_secs(1),
        "monitor reads a file: {:?}",
        monitor.elapsed
    );
    let failed = wait_for(
        "monitor to fail after unreachable_limit",
        Duration::from_secs(15),
        || {
            let m = agent.action("monitor");
            (m.code == 1).then_some(m)
        },
    );
    assert!(
        failed.reason().contains("unreachable_limit=3"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        agent.action("start").code,
        0,
        "start of a running agent is a no-op"
    );
    assert_eq!(agent.action("stop").code, 0);
    assert_eq!(agent.action("monitor").code, 7);
    assert!(
        !agent.log_text().contains(SECRET),
        "the password is in the log"
    );

    // a Keystone that accepts the connection and says nothing: the start still ends in time
    agent.set("auth_url", &silent_url(&listener));
    let start = agent.action("start");
    assert_eq!(start.code, 0, "{}", start.stderr);
    assert!(
        start.elapsed < Duration::from_secs(29),
        "{:?}",
        start.elapsed
    );
    assert_eq!(agent.action("stop").code, 0);
}
