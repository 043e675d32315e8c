//! The framework's life cycle against a simulated device: the power loop, retries, reboot
//! semantics, timeouts, exit codes, and `close` exactly once whatever happened.

mod sim;

use std::time::{Duration, Instant};

use sim::{run, Sim, SimAgent};
use stonith::{Outlet, PowerAction, PowerState};

/// Fast polling so that the tests take milliseconds, not seconds.
const FAST: &[&str] = &[
    "-a",
    "10.0.0.1",
    "-l",
    "admin",
    "-p",
    "pw",
    "--stonith-status-sleep",
    "0.05",
    "--shell-timeout",
    "1",
    "--login-timeout",
    "1",
];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut all: Vec<&str> = FAST.to_vec();
    all.extend_from_slice(extra);
    all
}

fn agent(power: PowerState, change_delay_ms: u64) -> SimAgent {
    SimAgent::new(Sim {
        power,
        change_delay: Duration::from_millis(change_delay_ms),
        ..Sim::default()
    })
}

fn assert_closed_once(agent: &SimAgent) {
    let sim = agent.state();
    assert_eq!(sim.closes, sim.connects, "close once per connection");
    assert_eq!(
        sim.expired_deadlines, 0,
        "a device call got an already expired deadline"
    );
}

#[test]
fn off_waits_until_the_delayed_change_is_seen() {
    let a = agent(PowerState::On, 300);
    let r = run(&a, &args(&["-o", "off"]), "", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "Success: Powered OFF\n");
    let sim = a.state();
    assert_eq!(sim.power, PowerState::Off);
    assert_eq!(sim.requests, vec![PowerAction::Off]);
    assert!(
        sim.status_reads >= 3,
        "polled until the change showed: {}",
        sim.status_reads
    );
    assert!(r.elapsed >= Duration::from_millis(300));
    drop(sim);
    assert_closed_once(&a);
}

/// With the default stonith_status_sleep (1 s), the reads in the first 2 s after the command
/// come every 0.1 s: a change that takes 0.7 s is seen on about the 8th read, where polling
/// once a second would see it only at 1 s. Later the pauses grow back to stonith_status_sleep.
/// Status reads of an `off` whose change the device applies after `delay_ms`.
fn reads_of_an_off_taking(delay_ms: u64) -> u32 {
    let a = agent(PowerState::On, delay_ms);
    let r = run(
        &a,
        &["-a", "10.0.0.1", "-l", "admin", "-p", "pw", "-o", "off"],
        "",
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(a.state().power, PowerState::Off);
    assert_closed_once(&a);
    let reads = a.state().status_reads;
    reads
}

#[test]
fn polling_starts_fast_and_backs_off_to_stonith_status_sleep() {
    let quick = reads_of_an_off_taking(700);
    assert!(
        (5..=10).contains(&quick),
        "a read every 0.1 s until the change showed: {quick} reads"
    );
    // a slow BMC: 20 quick reads, then pauses of 0.2, 0.4, 0.8, 1 s...
    let slow = reads_of_an_off_taking(5000);
    assert!((20..=28).contains(&slow), "backed off: {slow} reads");
}

#[test]
fn off_when_already_off_does_nothing() {
    let a = agent(PowerState::Off, 0);
    let r = run(&a, &args(&["-o", "off"]), "", &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Success: Already OFF\n"));
    assert!(a.state().requests.is_empty());
    assert_closed_once(&a);
}

#[test]
fn on_and_already_on() {
    let a = agent(PowerState::Off, 100);
    let r = run(&a, &args(&["-o", "on"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Powered ON\n"),
        "{r:?}"
    );
    let r = run(&a, &args(&["-o", "on"]), "", &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Success: Already ON\n"));
    assert_eq!(a.state().requests, vec![PowerAction::On]);
    assert_closed_once(&a);
}

#[test]
fn status_exit_codes() {
    let on = agent(PowerState::On, 0);
    let r = run(&on, &args(&["-o", "status"]), "", &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Status: ON\n"));
    let off = agent(PowerState::Off, 0);
    let r = run(&off, &args(&["-o", "status"]), "", &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, "Status: OFF\n"));
    let broken = SimAgent::new(Sim {
        status_error: Some("device"),
        ..Sim::default()
    });
    let r = run(&broken, &args(&["-o", "status"]), "", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("simulated: device error"), "{}", r.stderr);
    assert_closed_once(&broken);
}

#[test]
fn monitor_is_zero_when_reachable_on_or_off() {
    for power in [PowerState::On, PowerState::Off] {
        let a = agent(power, 0);
        assert_eq!(run(&a, &args(&["-o", "monitor"]), "", &[]).code, 0);
    }
    let unreachable = SimAgent::new(Sim {
        connect_error: Some("timeout"),
        ..Sim::default()
    });
    let r = run(&unreachable, &args(&["-o", "monitor"]), "", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("Unable to connect/login to fencing device"),
        "{}",
        r.stderr
    );
    assert_eq!(
        unreachable.state().closes,
        0,
        "nothing to close when connect failed"
    );
}

#[test]
fn a_device_that_never_changes_fails_within_power_timeout() {
    let a = SimAgent::new(Sim {
        power: PowerState::On,
        stuck: true,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "off", "--power-timeout", "1"]), "", &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.is_empty(), "no success line: {}", r.stdout);
    assert!(
        r.stderr.contains("Timed out waiting to power OFF"),
        "{}",
        r.stderr
    );
    assert!(r.elapsed >= Duration::from_secs(1), "{:?}", r.elapsed);
    assert!(
        r.elapsed < Duration::from_millis(1800),
        "took {:?}",
        r.elapsed
    );
    assert_closed_once(&a);
}

#[test]
fn power_wait_is_honoured_before_polling() {
    let a = agent(PowerState::On, 0);
    let r = run(&a, &args(&["-o", "off", "--power-wait", "0.4"]), "", &[]);
    assert_eq!(r.code, 0);
    assert!(r.elapsed >= Duration::from_millis(400));
}

#[test]
fn on_is_retried_retry_on_times() {
    let a = SimAgent::new(Sim {
        power: PowerState::Off,
        ignore_on_requests: 1,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "on", "--power-timeout", "0.3"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Powered ON\n"),
        "{r:?}"
    );
    assert_eq!(a.state().requests, vec![PowerAction::On, PowerAction::On]);

    let a = SimAgent::new(Sim {
        power: PowerState::Off,
        ignore_on_requests: 1,
        ..Sim::default()
    });
    let r = run(
        &a,
        &args(&["-o", "on", "--power-timeout", "0.3", "--retry-on", "0"]),
        "",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Timed out waiting to power ON"),
        "{}",
        r.stderr
    );
    assert_closed_once(&a);
}

#[test]
fn a_reboot_whose_power_on_is_refused_for_a_moment_asks_again_with_backoff() {
    // A BMC busy right after the power-off refuses the next two power-on requests.
    let a = SimAgent::new(Sim {
        refused_on_requests: 2,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "reboot", "--retry-on", "0"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Rebooted\n"),
        "{r:?}"
    );
    let sim = a.state();
    assert_eq!(
        sim.requests,
        vec![
            PowerAction::Off,
            PowerAction::On,
            PowerAction::On,
            PowerAction::On
        ]
    );
    assert_eq!(sim.power, PowerState::On, "the machine is on again");
    // 0.1 s, then 0.2 s between the refused requests.
    assert!(r.elapsed >= Duration::from_millis(300), "{:?}", r.elapsed);
    drop(sim);
    assert_closed_once(&a);
}

#[test]
fn an_on_refused_until_power_timeout_fails_and_never_claims_success() {
    let a = SimAgent::new(Sim {
        power: PowerState::Off,
        refused_on_requests: u32::MAX,
        ..Sim::default()
    });
    let r = run(
        &a,
        &args(&["-o", "on", "--power-timeout", "0.5", "--retry-on", "0"]),
        "",
        &[],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains("Success"), "{}", r.stdout);
    assert!(
        r.stderr.contains("refused the power ON request") && r.stderr.contains("present state"),
        "{}",
        r.stderr
    );
    let requests = a.state().requests.len();
    // Backoff 0.1, 0.2, 0.4 s within 0.5 s: a few requests, not a busy loop.
    assert!((2..=5).contains(&requests), "{requests} requests");
    assert_closed_once(&a);
}

#[test]
fn off_is_not_retried() {
    let a = SimAgent::new(Sim {
        stuck: true,
        ..Sim::default()
    });
    let r = run(
        &a,
        &args(&["-o", "off", "--power-timeout", "0.2", "--retry-on", "3"]),
        "",
        &[],
    );
    assert_eq!(r.code, 1);
    assert_eq!(a.state().requests, vec![PowerAction::Off]);
}

#[test]
fn transient_status_errors_while_polling_are_retried() {
    let a = SimAgent::new(Sim {
        power: PowerState::On,
        change_delay: Duration::from_millis(100),
        failing_reads_after_request: 3,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "off"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Powered OFF\n"),
        "{r:?}"
    );
    let sim = a.state();
    assert_eq!(sim.power, PowerState::Off);
    assert!(
        sim.status_reads >= 5,
        "1 before, 3 failed, 1 seen: {}",
        sim.status_reads
    );
}

#[test]
fn status_errors_until_the_end_fail_with_the_last_error() {
    let a = SimAgent::new(Sim {
        power: PowerState::On,
        failing_reads_after_request: 1000,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "off", "--power-timeout", "0.3"]), "", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("Timed out waiting to power OFF (last error: simulated: device error)"),
        "{}",
        r.stderr
    );
}

#[test]
fn auth_errors_are_not_retried() {
    let a = SimAgent::new(Sim {
        power: PowerState::Off,
        set_error: Some("auth"),
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "on", "--retry-on", "3"]), "", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(a.state().requests.len(), 1);
    assert!(r.stderr.contains("authentication refused"), "{}", r.stderr);
    assert_closed_once(&a);
}

#[test]
fn reboot_is_off_then_on() {
    let a = agent(PowerState::On, 100);
    let r = run(&a, &args(&["-o", "reboot"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Rebooted\n"),
        "{r:?}"
    );
    let sim = a.state();
    assert_eq!(sim.requests, vec![PowerAction::Off, PowerAction::On]);
    assert_eq!(sim.power, PowerState::On);
}

#[test]
fn reboot_is_the_default_action() {
    let a = agent(PowerState::On, 0);
    let r = run(&a, FAST, "", &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Success: Rebooted\n"));
}

#[test]
fn reboot_of_an_off_machine_only_powers_on() {
    let a = agent(PowerState::Off, 0);
    let r = run(&a, &args(&["-o", "reboot"]), "", &[]);
    assert_eq!(r.code, 0);
    assert_eq!(a.state().requests, vec![PowerAction::On]);
}

#[test]
fn reboot_succeeds_when_off_was_seen_even_if_on_fails() {
    let a = SimAgent::new(Sim {
        power: PowerState::On,
        ignore_on_requests: 10,
        ..Sim::default()
    });
    let r = run(
        &a,
        &args(&["-o", "reboot", "--power-timeout", "0.3"]),
        "",
        &[],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Rebooted\n"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("Timed out waiting to power ON"),
        "{}",
        r.stderr
    );
    assert_eq!(a.state().power, PowerState::Off);
    assert_closed_once(&a);
}

#[test]
fn reboot_fails_when_off_is_not_seen() {
    let a = SimAgent::new(Sim {
        stuck: true,
        ..Sim::default()
    });
    let r = run(
        &a,
        &args(&["-o", "reboot", "--power-timeout", "0.3"]),
        "",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert_eq!(
        a.state().requests,
        vec![PowerAction::Off],
        "no power on after a failed off"
    );
    assert_closed_once(&a);
}

#[test]
fn reboot_with_method_cycle_sends_one_cycle() {
    let a = agent(PowerState::On, 100);
    let r = run(&a, &args(&["-o", "reboot", "-m", "cycle"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Rebooted\n"),
        "{r:?}"
    );
    assert_eq!(a.state().requests, vec![PowerAction::Cycle]);
    assert_eq!(a.state().power, PowerState::On);
}

#[test]
fn reboot_with_method_cycle_falls_back_to_off_on_when_unsupported() {
    let a = SimAgent::new(Sim {
        no_cycle: true,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "reboot", "-m", "cycle"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Success: Rebooted\n"),
        "{r:?}"
    );
    assert_eq!(
        a.state().requests,
        vec![PowerAction::Cycle, PowerAction::Off, PowerAction::On]
    );
}

#[test]
fn errors_are_worded_failed() {
    let a = SimAgent::new(Sim {
        status_error: Some("device"),
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "off"]), "", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("ERROR: Failed: simulated: device error"),
        "{}",
        r.stderr
    );
}

#[test]
fn delay_applies_to_off_and_reboot_only() {
    let a = agent(PowerState::On, 0);
    let r = run(&a, &args(&["-o", "off", "--delay", "0.5"]), "", &[]);
    assert_eq!(r.code, 0);
    assert!(r.elapsed >= Duration::from_millis(500), "{:?}", r.elapsed);
    let r = run(&a, &args(&["-o", "status", "--delay", "5"]), "", &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.elapsed < Duration::from_secs(2),
        "status must not wait for delay: {:?}",
        r.elapsed
    );
}

#[test]
fn a_hung_device_is_bounded_by_shell_timeout() {
    let a = SimAgent::new(Sim {
        hang: true,
        ..Sim::default()
    });
    let r = run(
        &a,
        &[
            "-a",
            "x",
            "-o",
            "off",
            "--shell-timeout",
            "0.3",
            "--login-timeout",
            "0.3",
            "--power-timeout",
            "5",
        ],
        "",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.elapsed >= Duration::from_millis(300), "{:?}", r.elapsed);
    assert!(r.elapsed < Duration::from_millis(1500), "{:?}", r.elapsed);
    assert_closed_once(&a);
}

#[test]
fn polling_never_outlives_the_overall_deadline() {
    // Every status read after the request fails: the loop keeps trying
    // until power_timeout, and the whole run stays within the sum of the timeouts.
    let a = SimAgent::new(Sim {
        failing_reads_after_request: 1000,
        ..Sim::default()
    });
    let r = run(
        &a,
        &[
            "-a",
            "x",
            "-o",
            "off",
            "--shell-timeout",
            "0.2",
            "--power-timeout",
            "0.8",
            "--stonith-status-sleep",
            "0.1",
        ],
        "",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.elapsed >= Duration::from_millis(800), "{:?}", r.elapsed);
    assert!(r.elapsed < Duration::from_millis(1600), "{:?}", r.elapsed);
    assert_closed_once(&a);
}

#[test]
fn under_pacemaker_polling_goes_on_until_pacemakers_timeout() {
    let a = SimAgent::new(Sim {
        stuck: true,
        ..Sim::default()
    });
    let stdin = "action=off\nip=10.0.0.1\npower_timeout=0.5\nstonith_status_sleep=0.1\nCRM_meta_timeout=3000\n";
    let r = run(&a, &[], stdin, &[]);
    assert_eq!(r.code, 1);
    // fence-agents disables its own timeouts under Pacemaker: we poll past power_timeout, and
    // stop (close reserve and margin included) before Pacemaker's 3 s would kill us.
    assert!(r.elapsed >= Duration::from_millis(1500), "{:?}", r.elapsed);
    assert!(r.elapsed < Duration::from_millis(3000), "{:?}", r.elapsed);
    assert!(a.state().status_reads >= 12, "{}", a.state().status_reads);
    assert_closed_once(&a);
}

#[test]
fn pcmk_service_without_a_timeout_assumes_pacemakers_default() {
    let a = agent(PowerState::On, 0);
    let r = run(
        &a,
        &args(&["-v", "-o", "off"]),
        "",
        &[("PCMK_service", "pacemaker-fenced")],
    );
    assert_eq!(r.code, 0);
    // 60 s default less a 2 s margin: longer than our own sum of timeouts here.
    assert!(
        r.stderr.contains("time budget 58.0s (pacemaker: true)"),
        "{}",
        r.stderr
    );
    let r = run(&a, &args(&["-v", "-o", "off"]), "", &[]);
    assert!(r.stderr.contains("(pacemaker: false)"), "{}", r.stderr);
}

#[test]
fn close_is_called_once_even_when_the_device_panics() {
    let a = SimAgent::new(Sim {
        panic_on_status: true,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "off"]), "", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("internal error"), "{}", r.stderr);
    assert_eq!(a.state().closes, 1);
}

#[test]
fn multiple_plug_device_list_and_list_status() {
    let mut a = SimAgent::new(Sim {
        outlets: vec![
            Outlet {
                id: "1".into(),
                alias: "node1".into(),
                state: Some(PowerState::On),
            },
            Outlet {
                id: "2".into(),
                alias: "node2".into(),
                state: None,
            },
        ],
        ..Sim::default()
    });
    a.multiple_plugs = true;
    let r = run(&a, &args(&["-o", "list"]), "", &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "1,node1\n2,node2\n"));
    let r = run(&a, &args(&["-o", "list-status"]), "", &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "1,node1,ON\n2,node2,UNKNOWN\n")
    );
    assert_eq!(run(&a, &args(&["-o", "monitor"]), "", &[]).code, 0);
    // Power actions need a plug on a multi-plug device; the plug reaches the device.
    let r = run(&a, &args(&["-o", "status"]), "", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("plug"), "{}", r.stderr);
    let r = run(&a, &args(&["-o", "status", "-n", "2"]), "", &[]);
    assert_eq!(r.code, 0);
    assert_eq!(a.state().plug_seen.as_deref(), Some("2"));
    // Several plugs in one action are refused before the device is touched.
    let connects = a.state().connects;
    let r = run(&a, &args(&["-o", "off", "-n", "1,2"]), "", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("names several plugs"), "{}", r.stderr);
    let r = run(
        &a,
        &[],
        "action=off\nip=x\nplug=1:2\nplug_separator=:\n",
        &[],
    );
    assert!(r.stderr.contains("names several plugs"), "{}", r.stderr);
    assert_eq!(a.state().connects, connects);
    assert_eq!(a.state().requests, Vec::<PowerAction>::new());
}

#[test]
fn list_is_not_an_action_of_a_single_plug_agent() {
    let a = agent(PowerState::On, 0);
    let r = run(&a, &args(&["-o", "list"]), "", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Unrecognised action 'list'"),
        "{}",
        r.stderr
    );
    assert_eq!(a.state().connects, 0);
}

#[test]
fn diag_only_when_the_agent_has_it() {
    let mut a = agent(PowerState::On, 0);
    assert_eq!(run(&a, &args(&["-o", "diag"]), "", &[]).code, 1);
    a.diag = true;
    let r = run(&a, &args(&["-o", "diag"]), "", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(a.state().requests, vec![PowerAction::Diag]);
}

/// fence-agents' disable_timeout=false keeps power_timeout even under Pacemaker.
#[test]
fn disable_timeout_false_keeps_power_timeout_under_pacemaker() {
    let a = SimAgent::new(Sim {
        stuck: true,
        ..Sim::default()
    });
    let stdin = "action=off\nip=10.0.0.1\npower_timeout=0.5\nstonith_status_sleep=0.1\n\
                 CRM_meta_timeout=3000\ndisable_timeout=false\n";
    let r = run(&a, &[], stdin, &[]);
    assert_eq!(r.code, 1);
    assert!(
        a.state().status_reads < 12,
        "stopped at power_timeout: {} reads",
        a.state().status_reads
    );
    assert!(
        r.stderr.contains("Timed out waiting to power OFF"),
        "{}",
        r.stderr
    );
    assert_closed_once(&a);
}

#[test]
fn quiet_silences_stderr_and_verbose_level_sets_the_detail() {
    let a = agent(PowerState::On, 0);
    let r = run(
        &a,
        &args(&["-o", "status", "--verbose-level", "2"]),
        "",
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("options:"), "debug lines: {}", r.stderr);
    let r = run(
        &a,
        &args(&["-o", "status", "-v", "--verbose-level", "0"]),
        "",
        &[],
    );
    assert!(
        !r.stderr.contains("options:"),
        "level 0 wins over -v: {}",
        r.stderr
    );
    let r = run(&a, &args(&["-o", "status", "-v", "-q"]), "", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stderr, "", "quiet");
    let r = run(&a, &[], "action=status\nip=x\nverbose_level=many\n", &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("'verbose_level' is not a valid integer"),
        "{}",
        r.stderr
    );
    let r = run(&a, &[], "action=status\nip=x\nverbose_level=-1\n", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("verbose_level must be an integer >= 0"),
        "{}",
        r.stderr
    );
}

/// A device in a transition (a graceful shutdown in progress) settling after 300 ms.
fn in_transition(now: PowerState, settles_in: PowerState) -> SimAgent {
    SimAgent::new(Sim {
        power: now,
        pending: Some((settles_in, Instant::now() + Duration::from_millis(300))),
        ..Sim::default()
    })
}

#[test]
fn on_during_powering_off_waits_for_off_then_powers_on() {
    let a = in_transition(PowerState::PoweringOff, PowerState::Off);
    let started = Instant::now();
    let r = run(&a, &args(&["-o", "on"]), "", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "Success: Powered ON\n", "never 'Already ON'");
    assert_eq!(a.state().requests, vec![PowerAction::On]);
    assert_eq!(a.state().power, PowerState::On);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn off_during_powering_on_acts_on_the_settled_state() {
    let a = in_transition(PowerState::PoweringOn, PowerState::On);
    let r = run(&a, &args(&["-o", "off"]), "", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "Success: Powered OFF\n");
    assert_eq!(a.state().requests, vec![PowerAction::Off]);
    // and a shutdown that ends in off needs no request at all
    let a = in_transition(PowerState::PoweringOff, PowerState::Off);
    let r = run(&a, &args(&["-o", "off"]), "", &[]);
    assert_eq!(r.stdout, "Success: Already OFF\n", "{r:?}");
    assert!(a.state().requests.is_empty());
}

#[test]
fn a_transition_that_never_settles_is_acted_on_and_verified() {
    let a = SimAgent::new(Sim {
        power: PowerState::PoweringOff,
        ..Sim::default()
    });
    let r = run(&a, &args(&["-o", "on", "--power-timeout", "0.5"]), "", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "Success: Powered ON\n");
    assert_eq!(a.state().requests, vec![PowerAction::On]);
}

#[test]
fn status_in_transition_reports_power_applied() {
    for state in [PowerState::PoweringOff, PowerState::PoweringOn] {
        let a = SimAgent::new(Sim {
            power: state,
            ..Sim::default()
        });
        let r = run(&a, &args(&["-o", "status"]), "", &[]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "Status: ON\n"),
            "{state:?}"
        );
    }
}
