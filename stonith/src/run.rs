//! One invocation from start to exit code: parse options, set up logging, answer help /
//! version / metadata / manpage, check required options, get the password, let the agent
//! validate, wait `delay`, connect, run the action within one overall deadline, close the
//! device exactly once, print fence-agents' messages.

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::args::{self, Invocation, MAX_STDIN};
use crate::common::{self, check_table, option_table, FENCING_ACTIONS, PORT_AS_IP};
use crate::log::Logger;
use crate::metadata::{actions, metadata_xml};
use crate::password::resolve_password;
use crate::power::{Outcome, PowerLoop, Timing};
use crate::{help, manpage};
use crate::{
    safety_margin, Deadline, FenceAgent, FenceDevice, FenceError, OptionSpec, Options, PowerState,
};

/// Exit codes of FenceAgentAPI.
pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
/// `status`: the device answered and the power is off.
pub const EXIT_OFF: i32 = 2;

/// Pacemaker's default fencing timeout, assumed when it runs us without saying its timeout.
const PACEMAKER_DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Run the agent as a process: argv from `std::env::args`, options from stdin when there are
/// no arguments, output on stdout/stderr, the environment from the process.
pub fn run(agent: &dyn FenceAgent) -> std::process::ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let env = |name: &str| std::env::var(name).ok();
    let code = run_with(
        agent,
        &args,
        &mut stdin.lock(),
        &mut stdout.lock(),
        &mut stderr.lock(),
        &env,
    );
    std::process::ExitCode::from(code as u8)
}

/// The testable core of [`run`]: `args` excludes the program name; `env` looks up environment
/// variables. Returns the exit code.
pub fn run_with(
    agent: &dyn FenceAgent,
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: &dyn Fn(&str) -> Option<String>,
) -> i32 {
    let started = Instant::now();
    let mut log = Logger::new(stderr);
    // What the agent logs with `tracing` during this invocation goes to this logger.
    let dispatch = tracing::Dispatch::new(log.subscriber());
    let outcome = tracing::dispatcher::with_default(&dispatch, || {
        invoke(agent, args, stdin, stdout, &mut log, env, started)
    });
    let code = match outcome {
        Ok(code) => code,
        Err(message) => {
            log.error(&message);
            EXIT_ERROR
        }
    };
    log.drain_agent_lines();
    let _ = stdout.flush();
    code
}

fn read_input(
    args: &[String],
    stdin: &mut dyn Read,
    table: &[OptionSpec],
) -> Result<Invocation, String> {
    if !args.is_empty() {
        return args::parse_argv(table, args).map_err(|e| e.0);
    }
    let mut input = Vec::new();
    stdin
        .take(MAX_STDIN as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| format!("Parse error: cannot read standard input: {e}"))?;
    args::parse_stdin(table, &input).map_err(|e| e.0)
}

fn print(stdout: &mut dyn Write, text: &str) {
    let _ = stdout.write_all(text.as_bytes());
}

fn invoke(
    agent: &dyn FenceAgent,
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    log: &mut Logger,
    env: &dyn Fn(&str) -> Option<String>,
    started: Instant,
) -> Result<i32, String> {
    let mut request = read_request(agent, args, stdin, log)?;
    if let Some(text) = informational_answer(agent, &request) {
        print(stdout, &text);
        return Ok(EXIT_OK);
    }
    let plan = plan(agent, &request, env, log, started)?;
    // As in fence-agents, the password (script) is resolved before the delay; and before the
    // agent's own checks, so that they see the password whatever its source.
    let source = resolve_password(
        &mut request.options,
        env,
        plan.work
            .capped(plan.timing.login_timeout.max(Duration::from_secs(1))),
    )?;
    log.debug(&format!("password source: {source:?}"));
    agent.validate(&request.options).map_err(|e| failed(&e))?;
    if plan.action == "validate-all" {
        return Ok(EXIT_OK);
    }
    if FENCING_ACTIONS.contains(&plan.action.as_str()) && !plan.timing.delay.is_zero() {
        log.debug(&format!(
            "Delay {:.1} second(s) before logging in to the fence device",
            plan.timing.delay.as_secs_f64()
        ));
        std::thread::sleep(plan.timing.delay.min(plan.work.remaining()));
    }
    act_on_device(agent, &request, plan, log, stdout)
}

/// What was asked: the options (from argv or stdin) against the agent's table, with logging
/// set up as they say.
struct Request {
    info: crate::AgentInfo,
    table: Vec<OptionSpec>,
    invocation: Invocation,
    options: Options,
}

fn read_request(
    agent: &dyn FenceAgent,
    args: &[String],
    stdin: &mut dyn Read,
    log: &mut Logger,
) -> Result<Request, String> {
    let info = agent.info();
    let table = option_table(agent);
    check_table(&table).map_err(|e| format!("internal error in {}: {e}", info.name))?;
    let invocation = read_input(args, stdin, &table)?;
    let mut options = invocation.options.clone();
    // fence-agents' port_as_ip (for agents that have the option): the plug is the address.
    if table.iter().any(|s| s.name == PORT_AS_IP.name) && options.flag(&PORT_AS_IP) {
        if let Some(plug) = options.plug().map(str::to_string) {
            options.set(&common::IP, plug);
        }
    }
    let verbose = verbosity(&invocation, &options, log);
    log.set_verbose(verbose);
    log.set_quiet(options.flag(&common::QUIET));
    if let Some(path) = options.text(&common::DEBUG_FILE) {
        log.open_debug_file(path)?;
    }
    for warning in &invocation.warnings {
        log.warning(warning);
    }
    Ok(Request {
        info,
        table,
        invocation,
        options,
    })
}

/// Help, version, metadata and manpage need no device (and no password).
fn informational_answer(agent: &dyn FenceAgent, request: &Request) -> Option<String> {
    let (info, table, options) = (&request.info, &request.table, &request.options);
    if options.flag(&common::HELP) {
        return Some(help::usage(info.name, table));
    }
    if options.flag(&common::VERSION) {
        return Some(format!("{} {}\n", info.name, env!("CARGO_PKG_VERSION")));
    }
    match options.text(&common::ACTION) {
        Some("metadata") => Some(metadata_xml(info, table, agent.has_diag())),
        Some("manpage") => Some(manpage::manpage(info, table, agent.has_diag())),
        _ => None,
    }
}

/// The action to run and its time: checked options, timeouts, the overall deadline.
struct Plan {
    action: String,
    timing: Timing,
    /// When everything, closing the device included, must be done.
    end: Deadline,
    /// When the work on the device must be done, leaving time to close it.
    work: Deadline,
}

fn plan(
    agent: &dyn FenceAgent,
    request: &Request,
    env: &dyn Fn(&str) -> Option<String>,
    log: &mut Logger,
    started: Instant,
) -> Result<Plan, String> {
    let (table, options, invocation) = (&request.table, &request.options, &request.invocation);
    let action = options
        .text(&common::ACTION)
        .unwrap_or_default()
        .to_string();
    if !actions(&request.info, agent.has_diag()).contains(&action.as_str()) {
        return Err(format!("Failed: Unrecognised action '{action}'"));
    }
    check_required(table, options, &action)?;
    if invocation.secret_on_argv {
        log.debug("a secret was given on the command line, where other local users can read it; prefer --password-script or PADDOCK_FENCE_PASSWORD");
    }
    log.debug(&format!("options: {}", masked_options(table, options)));

    let mut timing = Timing::from_options(options);
    timing.under_pacemaker = env("PCMK_service").is_some() || invocation.pacemaker.any();
    // fence-agents' disable_timeout: whole-action timeout only (Pacemaker's default), or not.
    if let Some(value) = options.text(&common::DISABLE_TIMEOUT) {
        match args::parse_bool(value) {
            Some(disable) => timing.under_pacemaker = disable,
            None => log.warning("disable_timeout is neither true nor false; ignored"),
        }
    }
    check_single_plug(options)?;
    let budget = time_budget(&timing, invocation, &action, options);
    let end = Deadline::at(started + budget);
    let work = Deadline::at(
        end.instant()
            .checked_sub(timing.close_reserve())
            .unwrap_or(end.instant()),
    );
    log.debug(&format!(
        "time budget {:.1}s (pacemaker: {})",
        budget.as_secs_f64(),
        timing.under_pacemaker
    ));
    Ok(Plan {
        action,
        timing,
        end,
        work,
    })
}

/// Connect, run the action, and give the session back exactly once, whatever happened.
fn act_on_device(
    agent: &dyn FenceAgent,
    request: &Request,
    plan: Plan,
    log: &mut Logger,
    stdout: &mut dyn Write,
) -> Result<i32, String> {
    let Plan {
        action,
        timing,
        end,
        work,
    } = plan;
    let connected = catch_unwind(AssertUnwindSafe(|| {
        agent.connect(&request.options, work.capped(timing.login_timeout))
    }));
    log.drain_agent_lines();
    let mut device = match connected {
        Ok(Ok(device)) => device,
        Ok(Err(e)) => {
            return Err(format!(
                "Failed: Unable to connect/login to fencing device: {e}"
            ))
        }
        Err(_) => return Err("internal error: the agent panicked while connecting".into()),
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        perform(
            &mut *device,
            &action,
            &request.options,
            &request.info,
            timing.clone(),
            work,
            log,
            stdout,
            agent.reboot_is_off(),
        )
    }));
    // Close within what is left (at least a moment, so a BMC slot is not leaked just because
    // the work used all the time).
    let close_deadline = Deadline::at(
        end.instant()
            .max(Instant::now() + Duration::from_millis(200)),
    );
    let _ = catch_unwind(AssertUnwindSafe(|| device.close(close_deadline)));
    log.drain_agent_lines();
    match result {
        Ok(Ok(code)) => Ok(code),
        Ok(Err(e)) => Err(failed(&e)),
        Err(_) => Err("internal error: the agent panicked".into()),
    }
}

/// fence-agents' verbose_level (an integer >= 0), else the count of -v / verbose=1.
fn verbosity(invocation: &Invocation, options: &Options, log: &mut Logger) -> u32 {
    match options.integer(&common::VERBOSE_LEVEL) {
        None => invocation.verbose,
        Some(level) => match u32::try_from(level) {
            Ok(level) => level,
            Err(_) => {
                log.warning("verbose_level must be an integer >= 0; using 0");
                0
            }
        },
    }
}

/// A plug naming several plugs (`a,b` with the default plug_separator) would fence only some of
/// them here: refused, where fence-agents would act on each in turn.
fn check_single_plug(options: &Options) -> Result<(), String> {
    let separator = options.text(&common::PLUG_SEPARATOR).unwrap_or_default();
    match options.plug() {
        Some(plug) if !separator.is_empty() && plug.contains(separator) => Err(format!(
            "Failed: plug '{plug}' names several plugs (plug_separator '{separator}'); configure one fence device per plug"
        )),
        _ => Ok(()),
    }
}

/// The whole invocation's time. Ours is the sum of the timeouts the action may use. Under
/// Pacemaker, its timeout is the real bound: use all of it (fence-agents disables its own
/// timeouts there), but finish, close and say why a little before Pacemaker kills us; when it
/// did not tell us its timeout, assume its default, or ours when longer.
fn time_budget(
    timing: &Timing,
    invocation: &Invocation,
    action: &str,
    options: &Options,
) -> Duration {
    let ours = timing.budget(action, options.text(&common::PASSWORD_SCRIPT).is_some());
    if !timing.under_pacemaker {
        return ours;
    }
    let margin = |t: Duration| t.saturating_sub(safety_margin(t));
    match invocation.pacemaker.for_action(action) {
        Some(theirs) => margin(theirs),
        None => ours.max(margin(PACEMAKER_DEFAULT_TIMEOUT)),
    }
}

/// An error as fence-agents words it: `Failed: ...`.
fn failed(error: &FenceError) -> String {
    let message = error.to_string();
    if message.starts_with("Failed") {
        message
    } else {
        format!("Failed: {message}")
    }
}

/// fence-agents' checks of required options, with its messages.
fn check_required(table: &[OptionSpec], options: &Options, action: &str) -> Result<(), String> {
    let port_as_ip = table.iter().any(|s| s.name == PORT_AS_IP.name);
    let needed = |s: &&OptionSpec| {
        s.name != common::ACTION.name && (s.required || (s.name == common::IP.name && port_as_ip))
    };
    for spec in table.iter().filter(needed) {
        if options.is_given(spec.name) {
            continue;
        }
        let message = match spec.name {
            "plug" if matches!(action, "list" | "list-status" | "monitor") => continue,
            "plug" => "Failed: You have to enter plug number or machine identification".to_string(),
            "ip" => "Failed: You have to enter fence address".to_string(),
            "username" => "Failed: You have to set login name".to_string(),
            name => format!("Failed: You have to set {name}"),
        };
        return Err(message);
    }
    Ok(())
}

/// `name=value ...` with secret rows shown as `***`.
fn masked_options(table: &[OptionSpec], options: &Options) -> String {
    let mut parts: Vec<String> = options
        .plain_values()
        .filter(|(name, _)| !table.iter().any(|s| s.secret && s.name == *name))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    for spec in table.iter().filter(|s| s.secret) {
        if options.secret(spec).is_some() {
            parts.push(format!("{}=***", spec.name));
        }
    }
    parts.join(" ")
}

#[allow(clippy::too_many_arguments)]
fn perform(
    device: &mut dyn FenceDevice,
    action: &str,
    options: &Options,
    info: &crate::AgentInfo,
    timing: Timing,
    work: Deadline,
    log: &mut Logger,
    stdout: &mut dyn Write,
    reboot_is_off: bool,
) -> Result<i32, FenceError> {
    let plug = options.plug();
    let multiple = info.multiple_plugs;
    let began = Instant::now();
    let mut power = PowerLoop {
        device,
        plug,
        timing,
        deadline: work,
        log,
        off_seen: None,
    };
    let outcome = match action {
        "status" => {
            let state = power.status()?;
            print(stdout, &format!("Status: {}\n", state.name()));
            return Ok(match state {
                PowerState::Off => EXIT_OFF,
                _ => EXIT_OK,
            });
        }
        "monitor" => {
            if multiple {
                match list(&mut power, work) {
                    Ok(_) => return Ok(EXIT_OK),
                    Err(FenceError::Unsupported(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            power.status()?;
            return Ok(EXIT_OK);
        }
        "list" | "list-status" => {
            for outlet in list(&mut power, work)? {
                print(stdout, &outlet_line(&outlet, action == "list-status"));
            }
            return Ok(EXIT_OK);
        }
        "diag" => {
            power.diag()?;
            print(stdout, "Success: Diag code sent\n");
            return Ok(EXIT_OK);
        }
        "on" => power.on()?,
        "off" => power.off()?,
        "reboot" if reboot_is_off => power.off()?,
        "reboot" => power.reboot()?,
        other => {
            return Err(FenceError::Unsupported(format!(
                "Failed: Unrecognised action '{other}'"
            )))
        }
    };
    if let Outcome::Rebooted {
        on_confirmed: false,
    } = outcome
    {
        power
            .log
            .warning("the machine was powered off but was not seen powered on again");
    }
    if matches!(action, "off" | "reboot") {
        let off_after = power.off_seen.map(|seen| seen - began);
        let target = options.nodename().or(plug);
        paddock_base::journal::record_decision(
            info.name,
            target,
            plug.unwrap_or_default(),
            action,
            &fencing_summary(&outcome, off_after),
        );
    }
    print(stdout, &format!("{}\n", outcome.message()));
    Ok(EXIT_OK)
}

/// What a fencing did, for the event journal: when the power was seen off, and whether on.
fn fencing_summary(outcome: &Outcome, off_after: Option<Duration>) -> String {
    let off = match off_after {
        Some(after) => format!("power off confirmed after {:.1} s", after.as_secs_f64()),
        None => "power already off".to_string(),
    };
    match outcome {
        Outcome::Rebooted { on_confirmed: true } => format!("{off}, seen on again"),
        Outcome::Rebooted {
            on_confirmed: false,
        } => format!("{off}, not seen on again"),
        _ => off,
    }
}

/// fence-agents' list lines: `id,alias`, and with the state for list-status.
fn outlet_line(outlet: &crate::Outlet, with_state: bool) -> String {
    if !with_state {
        return format!("{},{}\n", outlet.id, outlet.alias);
    }
    let state = outlet.state.map_or("UNKNOWN", PowerState::name);
    format!("{},{},{}\n", outlet.id, outlet.alias, state)
}

fn list(power: &mut PowerLoop, work: Deadline) -> Result<Vec<crate::Outlet>, FenceError> {
    if work.expired() {
        return Err(FenceError::Timeout(
            "Failed: out of time before listing plugs".into(),
        ));
    }
    let result = power.device.list(work.capped(power.timing.shell_timeout));
    power.log.drain_agent_lines();
    result
}
