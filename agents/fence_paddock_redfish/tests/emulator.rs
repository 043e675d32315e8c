//! fence_paddock_redfish against sushy-emulator (sushy-tools, fake driver; see
//! tests/lib/redfish-bmc.sh), over HTTP, HTTPS with a test CA, a self-signed CA:TRUE
//! certificate, and IPv6. Needs tests/setup.d/redfish.sh to have run.

mod common;

use common::*;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

/// Run `action` while sampling the emulator's PowerState of `uuid` from outside the agent.
fn watching(bmc: &Bmc, uuid: &str, action: impl FnOnce() -> Outcome) -> (Outcome, Vec<String>) {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut seen = Vec::new();
            while !done.load(Ordering::SeqCst) {
                // a sample the busy emulator failed to answer is skipped, not fatal
                seen.extend(bmc.try_power_state(uuid));
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            seen
        });
        let outcome = action();
        done.store(true, Ordering::SeqCst);
        (outcome, sampler.join().expect("sampler"))
    })
}

#[test]
fn off_on_reboot_change_the_power_the_emulator_reports() {
    let bmc = Bmc::start("http", "127.0.0.1");
    let base = http_options(bmc.port);
    let node1 = |action: &'static str| with(&base, &[("plug", "node1"), ("action", action)]);

    let status = run_agent(&node1("status"));
    assert_eq!(
        (status.code, status.stdout.as_str()),
        (0, "Status: ON\n"),
        "{}",
        status.describe()
    );

    let off = run_agent(&node1("off"));
    assert_eq!(off.code, 0, "{}", off.describe());
    // the fake driver applies the change ~1 s after the request: the agent waited to see it
    assert_eq!(bmc.power_state(NODE1), "Off");
    let status = run_agent(&node1("status"));
    assert_eq!(
        (status.code, status.stdout.as_str()),
        (2, "Status: OFF\n"),
        "{}",
        status.describe()
    );

    let on = run_agent(&node1("on"));
    assert_eq!(on.code, 0, "{}", on.describe());
    assert_eq!(bmc.power_state(NODE1), "On");

    let (reboot, seen) = watching(&bmc, NODE1, || run_agent(&node1("reboot")));
    assert_eq!(reboot.code, 0, "{}", reboot.describe());
    assert_eq!(bmc.power_state(NODE1), "On");
    // a reboot that went through off, as seen from outside
    assert!(
        seen.contains(&"Off".to_string()),
        "never off during the reboot: {seen:?}"
    );

    // the other systems were left alone
    assert_eq!(bmc.power_state(NODE2), "Off");
}

#[test]
fn reboot_by_cycle_and_refused_reset_types() {
    let bmc = Bmc::start("http", "127.0.0.1");
    let base = http_options(bmc.port);
    let (cycle, seen) = watching(&bmc, NODE1, || {
        run_agent(&with(
            &base,
            &[("plug", NODE1), ("action", "reboot"), ("method", "cycle")],
        ))
    });
    assert_eq!(cycle.code, 0, "{}", cycle.describe());
    assert_eq!(bmc.power_state(NODE1), "On");
    // the fake driver shows Off while a ForceRestart is pending
    assert!(
        seen.contains(&"Off".to_string()),
        "no restart seen: {seen:?}"
    );

    // sushy lists Nmi as allowed but the fake driver answers 501: the agent says so
    let diag = run_agent(&with(&base, &[("plug", "node1"), ("action", "diag")]));
    diag.assert_failed_with("HTTP 501: Power state Nmi is not supported");
}

#[test]
fn plug_chooses_among_several_systems() {
    let bmc = Bmc::start("http", "127.0.0.1");
    let base = http_options(bmc.port);
    let status =
        |plug: &'static str| run_agent(&with(&base, &[("plug", plug), ("action", "status")]));
    // node2 is Off: by Id (= UUID in the emulator), by Name, by UUID in capitals
    for plug in [NODE2, "node2", "11111111-1111-4111-8111-000000000002"] {
        let outcome = status(plug);
        assert_eq!(
            (outcome.code, outcome.stdout.as_str()),
            (2, "Status: OFF\n"),
            "{plug}: {}",
            outcome.describe()
        );
    }
    let upper = run_agent(&with(
        &base,
        &[
            ("plug", "11111111-1111-4111-8111-000000000002"),
            ("action", "status"),
        ],
    ));
    assert_eq!(upper.code, 2);
    let upper_uuid = NODE2.to_uppercase();
    let by_uuid = run_agent(&with(
        &base,
        &[("plug", upper_uuid.as_str()), ("action", "status")],
    ));
    assert_eq!(by_uuid.code, 2, "{}", by_uuid.describe());

    status("twin").assert_failed_with("plug 'twin' is ambiguous");
    let missing = run_agent(&with(&base, &[("action", "status")]));
    missing.assert_failed_with("the BMC manages 4 systems, set plug to one of: ");
    assert!(
        missing.stderr.contains("(node1)") && missing.stderr.contains("(node2)"),
        "{}",
        missing.describe()
    );
    status("node9").assert_failed_with("plug 'node9' matches no system");

    // a fixed systems_uri needs no plug (fence_redfish's way)
    let uri = format!("/redfish/v1/Systems/{NODE2}");
    let fixed = run_agent(&with(
        &base,
        &[("systems_uri", uri.as_str()), ("action", "status")],
    ));
    assert_eq!(fixed.code, 2, "{}", fixed.describe());
}

#[test]
fn list_and_list_status_show_every_system() {
    let bmc = Bmc::start("http", "127.0.0.1");
    let base = http_options(bmc.port);
    let list = run_agent(&with(&base, &[("action", "list")]));
    assert_eq!(list.code, 0, "{}", list.describe());
    let mut lines: Vec<&str> = list.stdout.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!("{NODE1},node1"),
            format!("{NODE2},node2"),
            "11111111-1111-4111-8111-000000000003,twin".into(),
            "11111111-1111-4111-8111-000000000004,twin".into(),
        ]
    );
    let status = run_agent(&with(&base, &[("action", "list-status")]));
    assert_eq!(status.code, 0, "{}", status.describe());
    assert!(
        status.stdout.contains(&format!("{NODE1},node1,ON\n")),
        "{}",
        status.describe()
    );
    assert!(
        status.stdout.contains(&format!("{NODE2},node2,OFF\n")),
        "{}",
        status.describe()
    );
    let monitor = run_agent(&with(&base, &[("action", "monitor")]));
    assert_eq!(monitor.code, 0, "{}", monitor.describe());
}

#[test]
fn wrong_password_and_wrong_uris_fail_in_one_line() {
    let bmc = Bmc::start("http", "127.0.0.1");
    let base = http_options(bmc.port);
    let wrong = run_agent(&with(
        &base,
        &[
            ("password", "not-the-password"),
            ("plug", "node1"),
            ("action", "status"),
        ],
    ));
    wrong.assert_failed_with("HTTP 401");
    assert!(
        !wrong.stderr.contains("not-the-password"),
        "{}",
        wrong.describe()
    );

    let systems = run_agent(&with(
        &base,
        &[
            ("systems_uri", "/redfish/v1/Systems/nope"),
            ("action", "off"),
        ],
    ));
    systems.assert_failed_with("check systems_uri");
    let root = run_agent(&with(
        &base,
        &[
            ("redfish_uri", "/wrong/v9"),
            ("plug", "node1"),
            ("action", "status"),
        ],
    ));
    root.assert_failed_with("check redfish_uri");
    // the power of node1 did not change through all that
    assert_eq!(bmc.power_state(NODE1), "On");

    // the password from password_script (a file, so the password is on no command line)
    let script = bmc.dir.path().join("password.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho '{PASSWORD}'\n")).expect("write script");
    let command = format!("sh {}", script.display());
    let mut by_script: Vec<(&str, &str)> = with(&base, &[("plug", "node1"), ("action", "status")]);
    by_script.retain(|(name, _)| *name != "password");
    by_script.push(("password_script", command.as_str()));
    let scripted = run_agent(&by_script);
    assert_eq!(scripted.code, 0, "{}", scripted.describe());

    // verbose output has the options, never the password
    let verbose = run_agent(&with(
        &base,
        &[("plug", "node1"), ("action", "status"), ("verbose", "1")],
    ));
    assert_eq!(verbose.code, 0, "{}", verbose.describe());
    assert!(
        verbose.stderr.contains("password=***"),
        "{}",
        verbose.describe()
    );
}

#[test]
fn https_with_the_test_ca_verified_untrusted_refused_insecure_accepted() {
    let bmc = Bmc::start("https", "127.0.0.1");
    let port = bmc.port.to_string();
    let ca = bmc.file("ca.pem");
    let base = [
        ("ip", "127.0.0.1"),
        ("ipport", port.as_str()),
        ("username", "admin"),
        ("password", PASSWORD),
    ];
    let run = |extra: &[(&'static str, &str)]| {
        let mut options: Vec<(&str, &str)> = base.to_vec();
        options.extend_from_slice(extra);
        options.extend_from_slice(&[("plug", "node1"), ("action", "status")]);
        run_agent(&options)
    };
    let verified = run(&[("ssl_ca_file", ca.as_str())]);
    assert_eq!(
        (verified.code, verified.stdout.as_str()),
        (0, "Status: ON\n"),
        "{}",
        verified.describe()
    );
    // by name too: the certificate names localhost
    let by_name = run_agent(&[
        ("ip", &format!("localhost:{port}")),
        ("ssl_ca_file", &ca),
        ("username", "admin"),
        ("password", PASSWORD),
        ("plug", "node1"),
        ("action", "status"),
    ]);
    assert_eq!(by_name.code, 0, "{}", by_name.describe());

    // the server's own (CA:FALSE) certificate instead of the CA: pinned
    let leaf = bmc.file("server.pem");
    let pinned = run(&[("ssl_ca_file", leaf.as_str())]);
    assert_eq!(pinned.code, 0, "{}", pinned.describe());

    // default: the system roots; SSL_CERT_FILE names the system bundle, as for OpenSSL
    let mut options: Vec<(&str, &str)> = base.to_vec();
    options.extend_from_slice(&[("plug", "node1"), ("action", "status")]);
    let system_roots = run_agent_env(&options, &[("SSL_CERT_FILE", ca.as_str())]);
    assert_eq!(system_roots.code, 0, "{}", system_roots.describe());

    // default: the system roots, which do not know the test CA
    run(&[]).assert_failed_with("certificate is not trusted (unknown issuer)");
    let insecure = run(&[("ssl_insecure", "1")]);
    assert_eq!(insecure.code, 0, "{}", insecure.describe());
    // plain HTTP to a TLS port and TLS to... a CA file that is not one
    run(&[("ssl_ca_file", "/nonexistent/ca.pem")])
        .assert_failed_with("ssl_ca_file /nonexistent/ca.pem: cannot read");
    let http = run(&[("ip", "http://127.0.0.1")]);
    assert_eq!(http.code, 1, "{}", http.describe());
}

#[test]
fn self_signed_ca_leaf_pinned_through_ssl_ca_file_or_ssl_insecure() {
    let bmc = Bmc::start("selfsigned", "127.0.0.1");
    let port = bmc.port.to_string();
    let leaf = bmc.file("server.pem");
    // another certificate of the same kind, which this BMC does not have
    let stranger = tempfile::tempdir().expect("temp dir");
    let stranger_pem = stranger.path().join("other.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(stranger.path().join("other.key"))
        .arg("-out")
        .arg(&stranger_pem)
        .output()
        .expect("run openssl");
    assert!(
        made.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let stranger_pem = stranger_pem.display().to_string();
    let run = |extra: (&'static str, &str)| {
        run_agent(&[
            ("ip", "127.0.0.1"),
            ("ipport", &port),
            ("username", "admin"),
            ("password", PASSWORD),
            ("plug", "node2"),
            ("action", "status"),
            extra,
        ])
    };
    // the BMC's own certificate in ssl_ca_file: pinned, verified
    let pinned = run(("ssl_ca_file", &leaf));
    assert_eq!(
        (pinned.code, pinned.stdout.as_str()),
        (2, "Status: OFF\n"),
        "{}",
        pinned.describe()
    );
    // a certificate that is not the BMC's: refused, with what to do
    run(("ssl_ca_file", &stranger_pem))
        .assert_failed_with("certificate is a CA certificate (CA:TRUE)");
    // the system roots do not help either
    run(("ssl", "1")).assert_failed_with("(CA:TRUE)");
    let insecure = run(("ssl_insecure", "1"));
    assert_eq!(
        (insecure.code, insecure.stdout.as_str()),
        (2, "Status: OFF\n"),
        "{}",
        insecure.describe()
    );
}

#[test]
fn ipv6_literal_with_and_without_brackets() {
    let bmc = Bmc::start("https", "::1");
    let port = bmc.port.to_string();
    let ca = bmc.file("ca.pem");
    let bracketed = format!("[::1]:{port}");
    for (ip, ipport) in [
        ("::1", port.as_str()),
        ("[::1]", port.as_str()),
        (bracketed.as_str(), "443"),
    ] {
        let outcome = run_agent(&[
            ("ip", ip),
            ("ipport", ipport),
            ("ssl_ca_file", &ca),
            ("username", "admin"),
            ("password", PASSWORD),
            ("plug", "node2"),
            ("action", "status"),
        ]);
        assert_eq!(
            (outcome.code, outcome.stdout.as_str()),
            (2, "Status: OFF\n"),
            "{ip}: {}",
            outcome.describe()
        );
    }
}

#[test]
fn metadata_validates_and_matches_fence_redfish_parameters() {
    let outcome = run_agent(&[("action", "metadata")]);
    assert_eq!(outcome.code, 0, "{}", outcome.describe());
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("metadata.xml");
    std::fs::write(&file, &outcome.stdout).expect("write metadata");
    // fence-agents' schema as installed by its Debian package
    let schema = "/usr/share/cluster/relaxng/metadata.rng";
    let xmllint = Command::new("xmllint")
        .args(["--noout", "--relaxng", schema])
        .arg(&file)
        .output()
        .expect("run xmllint (libxml2-utils missing? run tests/setup.sh)");
    assert!(
        xmllint.status.success(),
        "metadata invalid: {}",
        String::from_utf8_lossy(&xmllint.stderr)
    );
    let xml = &outcome.stdout;
    for needle in [
        r#"<resource-agent name="fence_paddock_redfish""#,
        r#"<parameter name="ip" unique="0" required="1" obsoletes="ipaddr">"#,
        r#"<parameter name="plug" unique="0" required="0" obsoletes="port">"#,
        r#"<parameter name="username" unique="0" required="1" obsoletes="login">"#,
        r#"<parameter name="password_script""#,
        r#"<parameter name="ipport""#,
        r#"<content type="integer" default="443"/>"#,
        r#"<content type="string" default="/redfish/v1"/>"#,
        r#"<parameter name="systems_uri" unique="0" required="0" obsoletes="systems-uri">"#,
        // fence_redfish's own spellings, so that pcs takes its configurations
        r#"<parameter name="systems-uri" unique="0" required="0" deprecated="1">"#,
        r#"<parameter name="redfish-uri" unique="0" required="0" deprecated="1">"#,
        r#"<parameter name="ssl_insecure""#,
        r#"<parameter name="ssl_secure""#,
        r#"<parameter name="ssl_ca_file""#,
        r#"<action name="list-status"/>"#,
        r#"<action name="diag"/>"#,
    ] {
        assert!(xml.contains(needle), "metadata lacks {needle}:\n{xml}");
    }
}
