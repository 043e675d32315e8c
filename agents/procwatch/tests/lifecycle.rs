//! procwatch against real daemons: start/monitor/stop, forking daemons, signals, probes, hooks,
//! PID reuse, bad input.

mod common;
use common::*;
use ocf::conformance::xmllint;
use std::path::Path;
use std::time::Duration;

#[test]
fn start_monitor_stop_and_idempotence() {
    let mut lab = Lab::new("cycle");
    lab.set("command", &lab.svc("sleep"));
    assert_eq!(lab.run("monitor").code, 7);
    let r = lab.run("start");
    assert_eq!(r.code, 0, "{r:?}");
    let pid = lab.recorded_pid();
    assert!(alive(pid));
    assert_eq!(lab.run("monitor").code, 0);
    assert_eq!(
        lab.run_with("monitor", &[("OCF_RESKEY_CRM_meta_interval", "0")])
            .code,
        0,
        "probe of a running service"
    );
    let again = lab.run("start");
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        lab.recorded_pid(),
        pid,
        "a second start keeps the running service"
    );
    assert_eq!(
        lab.own_processes(),
        vec![pid],
        "exactly one service process"
    );
    let r = lab.run("stop");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!alive(pid));
    assert!(!lab.state_file().exists());
    assert_eq!(lab.run("stop").code, 0, "stop is idempotent");
    let r = lab.run("monitor");
    assert_eq!(r.code, 7, "{r:?}");
}

#[test]
fn daemon_is_properly_detached_with_clean_env_user_and_log() {
    let mut lab = Lab::new("detach");
    lab.set("command", &lab.svc("sleep"))
        .set("user", "nobody")
        .set("group", "nogroup")
        .set("env", "FOO=bar GREETING='hello world'")
        .set("workdir", "/tmp");
    // nobody must be able to read the script.
    std::fs::set_permissions(
        lab.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let r = lab.run_with("start", &[("SECRET_FROM_PACEMAKER", "x")]);
    assert_eq!(r.code, 0, "{r:?}");
    let pid = lab.recorded_pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.contains("65534")),
        "{status}"
    );
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let environ: Vec<String> = environ
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    assert!(
        environ.contains(&"FOO=bar".to_string())
            && environ.contains(&"GREETING=hello world".to_string()),
        "{environ:?}"
    );
    assert!(
        !environ
            .iter()
            .any(|e| e.starts_with("OCF_") || e.starts_with("SECRET_") || e.starts_with("HA_")),
        "{environ:?}"
    );
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(fds.len(), 3, "only stdin/stdout/stderr: {fds:?}");
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/fd/0")).unwrap(),
        Path::new("/dev/null")
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/fd/1")).unwrap(),
        lab.path("service.log")
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        Path::new("/tmp")
    );
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // stat fields after the command: state ppid pgrp session tty_nr ...
    let field = |i: usize| -> i32 { fields[i].parse().unwrap() };
    let (ppid, sid, tty) = (field(1), field(3), field(4));
    // getsid is 0 when our own session leader lives outside this PID namespace (CI sandboxes).
    let my_sid = nix::unistd::getsid(None).unwrap().as_raw();
    assert_ne!(sid, 0, "its session leader is in our namespace: {stat}");
    assert_ne!(sid, my_sid, "own session: {stat}");
    assert_ne!(
        sid, pid,
        "not a session leader, cannot acquire a terminal: {stat}"
    );
    assert_eq!(tty, 0, "no controlling terminal: {stat}");
    if std::process::id() != 1 {
        assert_ne!(
            ppid,
            std::process::id() as i32,
            "re-parented away from the agent's caller"
        );
    }
    assert_eq!(lab.run("stop").code, 0);
}

#[test]
fn process_that_exits_right_away_fails_start_with_its_last_words() {
    let mut lab = Lab::new("exits");
    // A shell script: dies within milliseconds even on a loaded machine.
    let script = lab.path("fail.sh");
    std::fs::write(
        &script,
        "echo 'fatal: cannot bind 127.0.0.1:1' >&2\nexit 3\n",
    )
    .unwrap();
    lab.set("command", &format!("/bin/sh {}", script.display()));
    let r = lab.run("start");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.reason().contains("exited right after start"), "{r:?}");
    assert!(
        r.reason().contains("fatal: cannot bind 127.0.0.1:1"),
        "{r:?}"
    );
    assert!(
        r.elapsed < Duration::from_secs(5),
        "fails fast, not at the timeout: {r:?}"
    );
    assert_eq!(lab.run("monitor").code, 7);
}

#[test]
fn stop_escalates_to_sigkill_after_stop_timeout() {
    let mut lab = Lab::new("ignoreterm");
    lab.set("command", &lab.svc("ignore-term"))
        .set("stop_timeout", "1");
    assert_eq!(lab.run("start").code, 0);
    let pid = lab.recorded_pid();
    wait_until(
        "the service to ignore SIGTERM",
        Duration::from_secs(5),
        || {
            std::fs::read_to_string(lab.path("service.log"))
                .unwrap_or_default()
                .contains("ignoring SIGTERM")
        },
    );
    let r = lab.run("stop");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("SIGKILL"), "{r:?}");
    assert!(
        r.elapsed >= Duration::from_secs(1) && r.elapsed < Duration::from_secs(4),
        "{r:?}"
    );
    assert!(!alive(pid));
}

#[test]
fn stop_grace_defaults_from_the_stop_timeout() {
    let mut lab = Lab::new("graceful");
    lab.set("command", &lab.svc("ignore-term"));
    assert_eq!(lab.run("start").code, 0);
    let pid = lab.recorded_pid();
    wait_until(
        "the service to ignore SIGTERM",
        Duration::from_secs(5),
        || {
            std::fs::read_to_string(lab.path("service.log"))
                .unwrap_or_default()
                .contains("ignoring SIGTERM")
        },
    );
    // 4 s timeout: margin 0.4 s, kill reserve 0.9 s → SIGKILL after about 2.7 s, well within 4 s.
    let r = lab.run_with("stop", &[("OCF_RESKEY_CRM_meta_timeout", "4000")]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.elapsed >= Duration::from_secs(2) && r.elapsed < Duration::from_secs(4),
        "{r:?}"
    );
    assert!(!alive(pid));
}

#[test]
fn forking_daemon_is_found_by_the_pidfile_it_writes() {
    let mut lab = Lab::new("forkpid");
    let pidfile = lab.path("daemon.pid");
    lab.set("command", &lab.svc(&format!("fork {}", pidfile.display())))
        .set("pidfile", pidfile.to_str().unwrap());
    let r = lab.run("start");
    assert_eq!(r.code, 0, "{r:?}");
    let pid = lab.recorded_pid();
    let written: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        pid, written,
        "tracks the child the daemon wrote, not the parent that exited"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(lab.own_processes(), vec![pid]);
    assert_eq!(lab.run("monitor").code, 0);
    assert_eq!(lab.run("stop").code, 0);
    assert!(!alive(pid));
    assert_eq!(lab.run("monitor").code, 7);
}

#[test]
fn forking_daemon_is_found_by_match() {
    let mut lab = Lab::new("forkmatch");
    let marker = lab.path("svc.py");
    lab.set("command", &lab.svc("fork -"))
        .set("match", &format!("'cmdline={} fork'", marker.display()));
    let r = lab.run("start");
    assert_eq!(r.code, 0, "{r:?}");
    wait_until("the parent to exit", Duration::from_secs(3), || {
        lab.own_processes().len() == 1
    });
    let child = lab.own_processes()[0];
    assert_eq!(lab.run("monitor").code, 0);
    assert_eq!(lab.recorded_pid(), child, "monitor adopts the forked child");
    // A probe finds it without any recorded state (e.g. started before the cluster took over).
    std::fs::remove_file(lab.state_file()).unwrap();
    assert_eq!(
        lab.run_with("monitor", &[("OCF_RESKEY_CRM_meta_interval", "0")])
            .code,
        0
    );
    assert_eq!(lab.run("stop").code, 0);
    assert!(!alive(child));
}

#[test]
fn stopped_process_is_a_monitor_failure_and_stop_still_works() {
    let mut lab = Lab::new("sigstop");
    lab.set("command", &lab.svc("sleep"));
    assert_eq!(lab.run("start").code, 0);
    let pid = lab.recorded_pid();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .unwrap();
    wait_until("state T", Duration::from_secs(3), || {
        proc_state(pid) == Some('T')
    });
    let r = lab.run("monitor");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.reason().contains(&format!("process {pid} is stopped")),
        "{r:?}"
    );
    let r = lab.run("stop");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.elapsed < Duration::from_secs(3),
        "SIGCONT lets SIGTERM act at once: {r:?}"
    );
    assert!(!alive(pid));
}

#[test]
fn pid_reuse_is_not_mistaken_for_the_service() {
    let mut lab = Lab::new("reuse");
    lab.set("command", &lab.svc("sleep"));
    assert_eq!(lab.run("start").code, 0);
    let pid = lab.recorded_pid();
    // The service dies and its pid goes to an unrelated process: simulate by pointing the
    // recorded identity's pid at a live stranger while keeping the service's start time.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("service gone", Duration::from_secs(3), || !alive(pid));
    let mut stranger = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let state = std::fs::read_to_string(lab.state_file())
        .unwrap()
        .replace(&format!("pid={pid}\n"), &format!("pid={}\n", stranger.id()));
    std::fs::write(lab.state_file(), state).unwrap();
    let r = lab.run("monitor");
    assert_eq!(r.code, 7, "{r:?}");
    assert!(r.reason().contains("belongs to another process"), "{r:?}");
    assert_eq!(lab.run("stop").code, 0);
    assert!(
        stranger.try_wait().unwrap().is_none(),
        "stop must not kill the stranger"
    );
    // The same through a stale pidfile: a process newer than the file is not the service.
    let pidfile = lab.path("stale.pid");
    std::fs::write(&pidfile, format!("{}\n", stranger.id())).unwrap();
    let old = std::process::Command::new("touch")
        .args(["-d", "1 hour ago"])
        .arg(&pidfile)
        .status()
        .unwrap();
    assert!(old.success());
    lab.set("pidfile", pidfile.to_str().unwrap());
    let r = lab.run_with("monitor", &[("OCF_RESKEY_CRM_meta_interval", "0")]);
    assert_eq!(r.code, 7, "{r:?}");
    assert_eq!(lab.run("stop").code, 0);
    assert!(
        stranger.try_wait().unwrap().is_none(),
        "stop must not kill the stranger"
    );
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn http_probe_gates_start_and_monitor_with_degraded_option() {
    let mut lab = Lab::new("http");
    let port = free_port();
    lab.set("command", &lab.svc(&format!("http {port}")))
        .set("probe", &format!("http://127.0.0.1:{port}/index.html"));
    let r = lab.run("start");
    assert_eq!(r.code, 0, "start waits for the probe: {r:?}");
    let body = std::process::Command::new("python3")
        .args(["-c", &format!("import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:{port}/index.html').status)")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&body.stdout).trim(),
        "200",
        "the server really answers"
    );
    assert_eq!(lab.run("monitor").code, 0);
    // The process runs but answers 404: failure, or degraded (190) when asked.
    lab.set("probe", &format!("http://127.0.0.1:{port}/missing"));
    let r = lab.run("monitor");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.reason().contains("HTTP status 404"), "{r:?}");
    lab.set("degraded", "true");
    let r = lab.run("monitor");
    assert_eq!(r.code, 190, "{r:?}");
    assert!(r.reason().contains("404"), "{r:?}");
    lab.set("probe_status", "404");
    assert_eq!(
        lab.run("monitor").code,
        0,
        "expected status is configurable"
    );
    lab.unset("probe_status").unset("degraded");
    // TCP probe on the same server, then on a closed port.
    lab.set("probe", &format!("tcp:127.0.0.1:{port}"));
    assert_eq!(lab.run("monitor").code, 0);
    lab.set("probe", &format!("tcp:127.0.0.1:{}", free_port()));
    assert_eq!(lab.run("monitor").code, 1);
    // Exec probe.
    lab.set("probe", "exec:test -e /proc/self");
    assert_eq!(lab.run("monitor").code, 0);
    lab.set("probe", "exec:echo unhealthy; exit 4");
    let r = lab.run("monitor");
    assert_eq!(r.code, 1);
    assert!(
        r.reason().contains("exit status 4") && r.reason().contains("unhealthy"),
        "{r:?}"
    );
    assert_eq!(lab.run("stop").code, 0);
}

#[test]
fn start_gives_up_at_its_deadline_when_the_probe_never_passes() {
    let mut lab = Lab::new("deadline");
    lab.set("command", &lab.svc("sleep"))
        .set("probe", &format!("tcp:127.0.0.1:{}", free_port()));
    let r = lab.run_with("start", &[("OCF_RESKEY_CRM_meta_timeout", "2000")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.reason().contains("not ready within the start timeout"),
        "{r:?}"
    );
    // The agent's deadline is 1.8 s (10% margin); allow for exec and scheduling on a busy machine.
    assert!(
        r.elapsed < Duration::from_millis(2300),
        "finishes at its deadline, before Pacemaker's timer: {r:?}"
    );
    assert_eq!(lab.run("stop").code, 0);
    assert!(lab.own_processes().is_empty());
}

#[test]
fn hooks_run_with_instance_and_pid_and_a_failing_pre_start_fails_start() {
    let mut lab = Lab::new("hooks");
    let pre = lab.path("pre.out");
    let post = lab.path("post.out");
    lab.set("command", &lab.svc("sleep"))
        .set(
            "pre_start",
            &format!("echo \"$PROCWATCH_INSTANCE\" > {}", pre.display()),
        )
        .set(
            "post_start",
            &format!("echo \"$PROCWATCH_PID\" > {}", post.display()),
        );
    let r = lab.run("start");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read_to_string(&pre).unwrap().trim(), lab.instance);
    assert_eq!(
        std::fs::read_to_string(&post).unwrap().trim(),
        lab.recorded_pid().to_string()
    );
    assert_eq!(lab.run("stop").code, 0);
    lab.set(
        "pre_start",
        "echo 'cannot reach the message bus' >&2; exit 2",
    );
    let r = lab.run("start");
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.reason(),
        "pre_start hook failed (exit status 2): cannot reach the message bus"
    );
    assert!(
        lab.own_processes().is_empty(),
        "no service after a failed pre_start"
    );
}

#[test]
fn init_script_command_with_pidfile() {
    let mut lab = Lab::new("init");
    let pidfile = lab.path("init.pid");
    let script = lab.path("rc");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in\nstart) setsid {} </dev/null >/dev/null 2>&1 & echo $! > {pid} ;;\nstop) kill $(cat {pid}) ;;\nesac\n",
            lab.svc("sleep"),
            pid = pidfile.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    lab.set("command", &format!("init:{}", script.display()))
        .set("pidfile", pidfile.to_str().unwrap());
    let r = lab.run("start");
    assert_eq!(r.code, 0, "{r:?}");
    let pid = lab.recorded_pid();
    assert_eq!(lab.own_processes(), vec![pid]);
    assert_eq!(lab.run("monitor").code, 0);
    assert_eq!(lab.run("stop").code, 0);
    assert!(!alive(pid));
}

#[test]
fn bad_input_gets_one_clear_line_and_the_right_code() {
    let lab = |params: &[(&str, &str)]| {
        let mut l = Lab::new("bad");
        l.set("command", "sleep 100");
        for (k, v) in params {
            l.set(k, v);
        }
        l
    };
    type Case<'a> = (&'a [(&'a str, &'a str)], i32, &'a str);
    let cases: &[Case] = &[
        (
            &[("command", "/usr/bin/no-such-daemon --flag")],
            5,
            "/usr/bin/no-such-daemon is not installed",
        ),
        (
            &[
                ("command", "init:no-such-script"),
                ("pidfile", "/run/x.pid"),
            ],
            5,
            "/etc/init.d/no-such-script is not installed",
        ),
        (
            &[("pidfile", "/nonexistent-dir/x.pid")],
            6,
            "pidfile directory /nonexistent-dir does not exist",
        ),
        (
            &[("pidfile", "/proc/1/x.pid")],
            6,
            "pidfile directory /proc/1 is not writable",
        ),
        (
            &[("user", "no-such-user-pw")],
            6,
            "user 'no-such-user-pw' does not exist",
        ),
        (
            &[("group", "no-such-group-pw")],
            6,
            "group 'no-such-group-pw' does not exist",
        ),
        (
            &[("probe", "http//127.0.0.1/")],
            6,
            "is not exec:CMD, tcp:HOST:PORT or an http(s):// URL",
        ),
        (
            &[("probe", "http://:8080/")],
            6,
            "is not a valid URL: no host",
        ),
        (
            &[("probe_timeout", "ten")],
            6,
            "parameter 'probe_timeout': 'ten' is not an integer",
        ),
        (
            &[("profile", "nginx")],
            6,
            "parameter 'profile': 'nginx' is not one of none, nova-compute, vdsm, libvirtd",
        ),
        (
            &[("match", "libvirtd")],
            6,
            "match term 'libvirtd' is not KEY=VALUE",
        ),
        (
            &[("stop_signal", "TERMINATE")],
            6,
            "stop_signal 'TERMINATE' is not a signal name",
        ),
        (&[("env", "1X=2")], 6, "'1X' is not a variable name"),
        (&[("command", "")], 6, "parameter 'command' is not set"),
    ];
    for (params, code, needle) in cases {
        let l = lab(params);
        for action in ["validate-all", "start"] {
            let r = l.run(action);
            assert_eq!(r.code, *code, "{action} {params:?}: {r:?}");
            let reason = r.reason();
            assert!(
                reason.contains(needle),
                "{action} {params:?}: reason '{reason}'"
            );
            assert!(!reason.contains('\n'));
        }
        assert!(l.own_processes().is_empty());
        // Probe and stop of such a resource that never ran: not running / success.
        assert_eq!(
            l.run_with("monitor", &[("OCF_RESKEY_CRM_meta_interval", "0")])
                .code,
            7,
            "{params:?}"
        );
        assert_eq!(l.run("stop").code, 0, "{params:?}");
    }
}

#[test]
fn stop_of_a_misconfigured_running_instance_refuses_to_lie() {
    let mut lab = Lab::new("misconf");
    lab.set("command", &lab.svc("sleep"));
    assert_eq!(lab.run("start").code, 0);
    let pid = lab.recorded_pid();
    lab.set("probe_timeout", "soon");
    let r = lab.run("stop");
    assert_eq!(
        r.code, 6,
        "cannot stop with a broken configuration, and it still runs: {r:?}"
    );
    assert_eq!(
        lab.run_with("monitor", &[("OCF_RESKEY_CRM_meta_interval", "0")])
            .code,
        6,
        "the probe must not say 'not running'"
    );
    assert!(alive(pid));
    lab.unset("probe_timeout");
    assert_eq!(lab.run("stop").code, 0);
}

#[test]
fn meta_data_is_valid_for_both_schemas() {
    let lab = Lab::new("meta");
    let portable = lab.run_with("meta-data", &[("OCF_RA_VERSION_MINOR", "0")]);
    assert_eq!(portable.code, 0);
    let resource_agents = Path::new("/usr/share/resource-agents/metadata.rng");
    let pcs = Path::new("/usr/share/pcs/data/ocf-1.1.rng");
    for (schema, package) in [(resource_agents, "resource-agents"), (pcs, "pcs")] {
        assert!(
            schema.is_file(),
            "{} is missing: install Debian's {package} (make setup does)",
            schema.display()
        );
        let (ok, err) = xmllint(schema, &portable.stdout);
        assert!(ok, "{}: {err}", schema.display());
    }
    let full = lab.run("meta-data");
    let (ok, err) = xmllint(pcs, &full.stdout);
    assert!(ok, "{err}");
    for xml in [&portable.stdout, &full.stdout] {
        let problems = ocf::conformance::ocf_1_1_problems(xml);
        assert!(problems.is_empty(), "not OCF 1.1: {problems:?}");
    }
    for needle in [
        "<version>1.1</version>",
        "reloadable=\"1\"",
        "<option value=\"nova-compute\"/>",
        "unique-group=\"pidfile\"",
    ] {
        assert!(full.stdout.contains(needle), "{needle}");
    }
}

#[test]
fn stop_leaves_nothing_of_the_services_session() {
    let mut lab = Lab::new("session");
    // Shell syntax: run by /bin/sh; a background worker plus the main process.
    let cmd = format!("{} & exec {}", lab.svc("sleep"), lab.svc("sleep"));
    lab.set("command", &cmd);
    let r = lab.run("start");
    assert_eq!(r.code, 0, "{r:?}");
    wait_until("main process and worker", Duration::from_secs(5), || {
        lab.own_processes().len() == 2
    });
    let r = lab.run("stop");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        lab.own_processes().is_empty(),
        "the worker in the service's session survived: {:?}",
        lab.own_processes()
    );
}
