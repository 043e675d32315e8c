//! The agent without a cloud: metadata and man page, argument errors, and the deadline when
//! Nova does not answer (a stand-in Keystone on loopback whose catalog points at a silent port).

mod common;

use common::{run_agent, run_args};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

const PASSWORD: &str = "Pw-Xyzzy-4711";

#[test]
fn metadata_validates_against_fence_agents_schema_and_keeps_fence_compute_names() {
    let outcome = run_args(&["-o", "metadata"]);
    outcome.assert_ok();
    // fence-agents' schema as installed by its Debian package
    let schema = std::path::Path::new("/usr/share/cluster/relaxng/metadata.rng");
    assert!(
        schema.is_file(),
        "{} missing (fence-agents; run tests/setup.sh)",
        schema.display()
    );
    let (valid, said) = ocf::conformance::xmllint(schema, &outcome.stdout);
    assert!(valid, "metadata invalid: {said}");
    let xml = &outcome.stdout;
    for name in [
        "auth_url",
        "username",
        "password",
        "password_script",
        "project_name",
        "tenant_name",
        "user_domain",
        "user-domain",
        "project_domain",
        "project-domain",
        "region_name",
        "endpoint_type",
        "ssl_insecure",
        "insecure",
        "domain",
        "compute-domain",
        "record_only",
        "no_shared_storage",
        "plug",
        "application_credential_id",
    ] {
        assert!(
            xml.contains(&format!("name=\"{name}\"")),
            "metadata lacks {name}"
        );
    }
    for getopt in [
        "--auth-url=",
        "--tenant-name=",
        "--project-name=",
        "--user-domain=",
        "--project-domain=",
    ] {
        assert!(xml.contains(getopt), "metadata lacks {getopt}");
    }
    for action in [
        "on", "off", "reboot", "status", "list", "monitor", "metadata",
    ] {
        assert!(
            xml.contains(&format!("<action name=\"{action}\"")),
            "no action {action}"
        );
    }
}

#[test]
fn manpage_needs_no_credentials() {
    let outcome = run_args(&["-o", "manpage"]);
    outcome.assert_ok();
    assert!(
        outcome.stdout.starts_with(".TH FENCE_PADDOCK_COMPUTE 8"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.stdout.contains("auth\\-url"));
}

#[test]
fn argument_errors_are_one_line_and_exit_1() {
    run_args(&["-o", "status", "-n", "compute1"]).assert_failed_with("You have to set auth_url");
    run_args(&[
        "-o",
        "off",
        "--auth-url",
        "http://127.0.0.1:9/v3",
        "-l",
        "admin",
        "--tenant-name",
        "admin",
    ])
    .assert_failed_with("You have to enter plug");
    run_args(&[
        "-o",
        "status",
        "--auth-url",
        "http://127.0.0.1:9/v3",
        "-l",
        "admin",
        "--project-name",
        "admin",
        "-n",
        "c1",
    ])
    .assert_failed_with("no password");
    run_args(&["-o", "status", "--endpoint-type", "private", "-n", "c1"])
        .assert_failed_with("--endpoint-type");
    let base = [
        ("auth_url", "http://127.0.0.1:9/v3"),
        ("username", "admin"),
        ("plug", "c1"),
        ("action", "status"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut o = base.to_vec();
        o.extend_from_slice(extra);
        run_agent(&o, Some(PASSWORD))
    };
    with(&[]).assert_failed_with("You have to set project_name (or tenant_name)");
    with(&[("project_name", "a"), ("tenant_name", "b")]).assert_failed_with("differ");
    with(&[
        ("project_name", "a"),
        ("ssl_insecure", "1"),
        ("ssl_ca_file", "/x.pem"),
    ])
    .assert_failed_with("contradict");
    with(&[("project_name", "a"), ("auth_url", "keystone:5000")]).assert_failed_with("not an http");
    with(&[("tenant_name", "a"), ("action", "dance")]).assert_failed_with("Unrecognised action");
    // a CA file that is no CA file: said before any connection
    with(&[("tenant_name", "a"), ("ssl_ca_file", "/nonexistent/ca.pem")])
        .assert_failed_with("/nonexistent/ca.pem");
}

/// A listener that accepts and never answers; its port.
fn silent_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// A stand-in Keystone: every request gets a token whose catalog sends compute to `nova_port`.
fn keystone(nova_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let answer = serde_json::json!({"token": {"catalog": [{"type": "compute", "endpoints": [
                {"interface": "internal", "region_id": "RegionOne", "url": format!("http://127.0.0.1:{nova_port}/v2.1")}
            ]}]}})
            .to_string();
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 201 Created\r\nX-Subject-Token: tok-Xyzzy\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    port
}

#[test]
fn a_silent_nova_is_bounded_by_the_deadline() {
    let keystone = keystone(silent_port());
    let auth_url = format!("http://127.0.0.1:{keystone}/v3");
    let options = [
        ("auth_url", auth_url.as_str()),
        ("username", "admin"),
        ("project_name", "admin"),
        ("plug", "compute1"),
        ("action", "off"),
        ("shell_timeout", "1"),
        ("power_timeout", "2"),
    ];
    let outcome = run_agent(&options, Some(PASSWORD));
    assert_eq!(outcome.code, 1, "{}", outcome.describe());
    assert!(
        outcome.stderr.contains("no answer within"),
        "{}",
        outcome.describe()
    );
    // status read (1 s); not more than the shell and power timeouts allow
    assert!(
        outcome.elapsed < Duration::from_secs(6),
        "{}",
        outcome.describe()
    );
    assert!(!outcome.stderr.contains("tok-Xyzzy"));

    let silent_keystone = format!("http://127.0.0.1:{}/v3", silent_port());
    let options = [
        ("auth_url", silent_keystone.as_str()),
        ("username", "admin"),
        ("project_name", "admin"),
        ("plug", "compute1"),
        ("action", "status"),
        ("login_timeout", "1"),
    ];
    let outcome = run_agent(&options, Some(PASSWORD));
    outcome.assert_failed_with("Unable to connect/login");
    assert!(
        outcome.stderr.contains("no answer within"),
        "{}",
        outcome.describe()
    );
    assert!(
        outcome.elapsed < Duration::from_secs(3),
        "{}",
        outcome.describe()
    );
}
