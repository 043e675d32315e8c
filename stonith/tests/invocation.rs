//! Options, actions and exit codes of whole invocations: argv and stdin modes, errors,
//! validate-all, help/version/metadata, password sources and secrets in logs.

mod sim;

use sim::{run, Sim, SimAgent};
use stonith::PowerState;

fn off_agent() -> SimAgent {
    SimAgent::new(Sim {
        power: PowerState::Off,
        ..Sim::default()
    })
}

#[test]
fn stdin_mode_with_fence_agents_aliases() {
    let a = off_agent();
    let stdin = "# from pacemaker\nagent=fence_sim\naction=status\nipaddr=10.0.0.1\nlogin=admin\npasswd=from-stdin\nport=node1\nnodename=node1\nnodeid=1\n";
    let r = run(&a, &[], stdin, &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, "Status: OFF\n"), "{r:?}");
    assert_eq!(a.state().password_seen.as_deref(), Some("from-stdin"));
    assert_eq!(a.state().plug_seen.as_deref(), Some("node1"));
    assert!(
        r.stderr.is_empty(),
        "no warnings for known keys: {}",
        r.stderr
    );
}

#[test]
fn stdin_unknown_key_is_warned_and_ignored() {
    let a = off_agent();
    let r = run(&a, &[], "action=status\nip=x\nfrobnicate=1\n", &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("Ignoring unknown option 'frobnicate'"),
        "{}",
        r.stderr
    );
}

#[test]
fn malformed_stdin_is_one_line_and_exit_1() {
    let a = off_agent();
    for stdin in [
        "action=status\nip=x\nthis is not an option\n",
        "ip=x\nipport=abc\n",
        "ip=x\nlanplus=perhaps\n",
    ] {
        let r = run(&a, &[], stdin, &[]);
        assert_eq!(r.code, 1, "{stdin}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    assert_eq!(a.state().connects, 0);
}

#[test]
fn bad_command_line_is_one_line_and_exit_1() {
    let a = off_agent();
    for argv in [
        vec!["--frobnicate"],
        vec!["-o"],
        vec!["-o", "status", "--ipport", "x"],
    ] {
        let r = run(&a, &argv, "", &[]);
        assert_eq!(r.code, 1, "{argv:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
}

#[test]
fn unknown_action_is_one_line_and_exit_1() {
    let a = off_agent();
    let r = run(&a, &["-o", "explode", "-a", "x"], "", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1);
    assert!(r.stderr.contains("Unrecognised action 'explode'"));
    assert_eq!(a.state().connects, 0);
}

#[test]
fn missing_ip_fails_like_fence_agents() {
    let a = off_agent();
    let r = run(&a, &["-o", "status"], "", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("You have to enter fence address"),
        "{}",
        r.stderr
    );
}

#[test]
fn validate_all_checks_without_connecting() {
    let a = off_agent();
    assert_eq!(run(&a, &["-o", "validate-all", "-a", "x"], "", &[]).code, 0);
    assert_eq!(run(&a, &["-o", "validate-all"], "", &[]).code, 1);
    let r = run(
        &a,
        &["-o", "validate-all", "-a", "x", "-u", "70000"],
        "",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not a port number"), "{}", r.stderr);
    // the agent's own check runs too
    let r = run(&a, &["-o", "validate-all", "-a", "x", "-u", "9"], "", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("ipport 9 is not"), "{}", r.stderr);
    assert_eq!(a.state().connects, 0);
}

#[test]
fn help_version_metadata_need_no_device() {
    let a = off_agent();
    let r = run(&a, &["-h"], "", &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("-a, --ip=[ip]"));
    let r = run(&a, &["--version"], "", &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("fence_sim "));
    for action in ["metadata", "meta-data"] {
        let r = run(&a, &["-o", action], "", &[]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.starts_with("<?xml"));
    }
    let r = run(&a, &[], "action=metadata\n", &[]);
    assert!(r.stdout.contains("<resource-agent name=\"fence_sim\""));
    let r = run(&a, &["-o", "manpage"], "", &[]);
    assert!(r.stdout.starts_with(".TH FENCE_SIM 8"));
    assert_eq!(a.state().connects, 0);
}

#[test]
fn password_from_script_and_environment() {
    let a = off_agent();
    let r = run(
        &a,
        &["-o", "status", "-a", "x", "-S", "echo from-script"],
        "",
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(a.state().password_seen.as_deref(), Some("from-script"));

    let r = run(
        &a,
        &[],
        "action=status\nip=x\npasswd_script=echo from-stdin-script\n",
        &[],
    );
    assert_eq!(r.code, 2);
    assert_eq!(
        a.state().password_seen.as_deref(),
        Some("from-stdin-script")
    );

    let r = run(
        &a,
        &["-o", "status", "-a", "x"],
        "",
        &[("PADDOCK_FENCE_PASSWORD", "from-env")],
    );
    assert_eq!(r.code, 2);
    assert_eq!(a.state().password_seen.as_deref(), Some("from-env"));

    let r = run(&a, &["-o", "status", "-a", "x", "-S", "exit 4"], "", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("password_script exited with status 4"),
        "{}",
        r.stderr
    );
}

#[test]
fn verbose_log_masks_secrets() {
    let a = off_agent();
    let r = run(
        &a,
        &[
            "-v",
            "-o",
            "status",
            "-a",
            "x",
            "-p",
            "hunter2",
            "--hexadecimal-kg",
            "c0ffee",
        ],
        "",
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("password=***"), "{}", r.stderr);
    assert!(r.stderr.contains("hexadecimal_kg=***"), "{}", r.stderr);
    assert!(
        r.stderr.contains("simulated session open"),
        "agent lines are logged: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("hunter2"));
    assert!(!r.stderr.contains("c0ffee"));
    assert_eq!(a.state().password_seen.as_deref(), Some("hunter2"));

    let r = run(
        &a,
        &[],
        "verbose=1\naction=status\nip=x\npassword=hunter2\n",
        &[],
    );
    assert!(r.stderr.contains("password=***"), "{}", r.stderr);
    assert!(!r.stderr.contains("hunter2"));
}

#[test]
fn quiet_without_verbose() {
    let a = off_agent();
    let r = run(&a, &["-o", "status", "-a", "x"], "", &[]);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn debug_file_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fence.log");
    std::fs::write(&path, "previous run\n").unwrap();
    let a = off_agent();
    let path_str = path.to_str().unwrap();
    let r = run(
        &a,
        &["-o", "status", "-a", "x", "-p", "hunter2", "-D", path_str],
        "",
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.is_empty(),
        "debug file does not make stderr verbose: {}",
        r.stderr
    );
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(log.starts_with("previous run\n"));
    assert!(log.contains("power status: OFF"), "{log}");
    assert!(!log.contains("hunter2"));

    let r = run(
        &a,
        &["-o", "status", "-a", "x", "-D", "/nonexistent-dir/x.log"],
        "",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Unable to create file"), "{}", r.stderr);
}

#[test]
fn port_as_ip_makes_the_plug_the_address() {
    let a = off_agent();
    let r = run(
        &a,
        &["-o", "status", "--port-as-ip", "-n", "10.9.9.9"],
        "",
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(a.state().ip_seen.as_deref(), Some("10.9.9.9"));
    let r = run(&a, &[], "action=status\nport_as_ip=1\nport=10.8.8.8\n", &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(a.state().ip_seen.as_deref(), Some("10.8.8.8"));
    // Neither ip nor a plug used as ip: still an error, although metadata cannot require ip.
    let r = run(&a, &["-o", "status", "--port-as-ip"], "", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("You have to enter fence address"),
        "{}",
        r.stderr
    );
    let xml = run(&a, &["-o", "metadata"], "", &[]).stdout;
    assert!(
        xml.contains(r#"<parameter name="ip" unique="0" required="0" obsoletes="ipaddr">"#),
        "{xml}"
    );
}

#[test]
fn the_agent_validates_with_the_resolved_password() {
    // An agent may require a password in validate(): password_script and the environment count.
    let a = off_agent();
    let r = run(
        &a,
        &["-o", "validate-all", "-a", "x", "-S", "echo from-script"],
        "",
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(a.state().password_validated.as_deref(), Some("from-script"));
    let r = run(
        &a,
        &["-o", "validate-all", "-a", "x"],
        "",
        &[("PADDOCK_FENCE_PASSWORD", "env")],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(a.state().password_validated.as_deref(), Some("env"));
}
