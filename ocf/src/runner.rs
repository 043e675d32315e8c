//! Life cycle of one invocation: argv[1] → action, environment → Context, result → exit code.

use crate::logging::{AgentLogger, Sink};
use crate::metadata::{self, Dialect};
use crate::{
    params, safety_margin, ActionSpec, AgentInfo, Context, Deadline, Env, OcfError, OcfStatus,
    ResourceAgent,
};
use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Actions the framework dispatches (besides meta-data and usage/help).
pub const ACTIONS: &[&str] = &[
    "start",
    "stop",
    "monitor",
    "status",
    "migrate_to",
    "migrate_from",
    "validate-all",
    "reload-agent",
    "reload",
    "notify",
];
pub const DEFAULT_STATE_DIR: &str = "/run/resource-agents";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Run the agent for this process: argv[1] is the action; exits with the OCF code.
pub fn run(agent: &dyn ResourceAgent) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = Env::from_process();
    let stderr: Sink = Arc::new(Mutex::new(std::io::stderr()));
    let code = run_inner(
        agent,
        &args,
        &env,
        &mut std::io::stdout(),
        stderr,
        Scope::Process,
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Where the logger is installed: for the whole process (threads an agent starts log too),
/// or only for the calling thread during the call (in-process runs, tests).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Process,
    Call,
}

/// Output of an in-process run (tests).
#[derive(Debug, Clone)]
pub struct Captured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Captured {
    /// The exit reason line's text, if any was printed.
    pub fn exit_reason(&self) -> Option<&str> {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("ocf-exit-reason:"))
    }
}

/// Run an action in-process and capture what it prints.
pub fn run_captured(agent: &dyn ResourceAgent, args: &[&str], env: &Env) -> Captured {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let err_buf = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut out = Vec::new();
    let code = run_with(agent, &args, env, &mut out, err_buf.clone());
    let stderr = err_buf
        .lock()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Captured {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr,
    }
}

/// Run `args[0]` as the action (further arguments are ignored, as the spec asks) in `env`.
/// Logs go to `stderr` through a `tracing` subscriber installed for the duration of the call.
pub fn run_with(
    agent: &dyn ResourceAgent,
    args: &[String],
    env: &Env,
    stdout: &mut dyn Write,
    stderr: Sink,
) -> i32 {
    run_inner(agent, args, env, stdout, stderr, Scope::Call)
}

fn run_inner(
    agent: &dyn ResourceAgent,
    args: &[String],
    env: &Env,
    stdout: &mut dyn Write,
    stderr: Sink,
    scope: Scope,
) -> i32 {
    let info = agent.info();
    let action = args.first().map(String::as_str);
    let instance = env
        .non_empty("OCF_RESOURCE_INSTANCE")
        .unwrap_or(info.name)
        .to_string();
    let logger = Arc::new(AgentLogger::new(
        info.name,
        &instance,
        action.unwrap_or("-"),
        env,
        stderr,
    ));
    let dispatcher = tracing::Dispatch::new(logger.subscriber());
    let global = scope == Scope::Process
        && tracing::dispatcher::set_global_default(dispatcher.clone()).is_ok();
    let mut run = || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dispatch(agent, action, &instance, env, stdout, &logger)
        }));
        let result = outcome
            .unwrap_or_else(|_| Err(OcfError::generic("internal error: the agent panicked")));
        match result {
            Ok(status) => i32::from(status.code()),
            Err(e) => {
                let prefix = env
                    .get("OCF_EXIT_REASON_PREFIX")
                    .unwrap_or("ocf-exit-reason:");
                let reason = e.one_line_reason();
                if e.status == OcfStatus::NotRunning {
                    tracing::info!("{reason}");
                } else {
                    if e.status == OcfStatus::Degraded {
                        tracing::warn!("{reason} [{}]", e.status);
                    } else {
                        tracing::error!("{reason} [{}]", e.status);
                    }
                }
                logger.raw(&format!("{prefix}{reason}"));
                i32::from(e.status.code())
            }
        }
    };
    if global {
        run()
    } else {
        tracing::dispatcher::with_default(&dispatcher, run)
    }
}

fn usage(name: &str) -> String {
    format!("usage: {name} {{start|stop|monitor|status|migrate_to|migrate_from|validate-all|meta-data|reload-agent|reload|notify|usage|manpage|--version}}")
}

fn dispatch(
    agent: &dyn ResourceAgent,
    action: Option<&str>,
    instance: &str,
    env: &Env,
    stdout: &mut dyn Write,
    logger: &AgentLogger,
) -> Result<OcfStatus, OcfError> {
    let info = agent.info();
    let Some(action) = action else {
        logger.raw(&usage(info.name));
        return Err(OcfError::args("no action given"));
    };
    if let Some(text) = informational_answer(agent, &info, action, env) {
        stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(|e| OcfError::generic(format!("cannot write the {action} output: {e}")))?;
        return Ok(OcfStatus::Success);
    }
    if !ACTIONS.contains(&action) {
        return Err(OcfError::unimplemented(format!(
            "action '{}' is not implemented by {}",
            action.escape_debug(),
            info.name
        )));
    }
    let ctx = build_context(agent, action, instance, env);
    tracing::debug!(
        "timeout {:?}, probe {}, check level {}",
        ctx.timeout,
        ctx.is_probe,
        ctx.check_level
    );
    match run_action(agent, &ctx) {
        Err(e) if e.status.is_setup_error() && (ctx.action == "stop" || ctx.is_probe) => {
            setup_error(agent, &ctx, e)
        }
        other => other,
    }
}

/// meta-data, usage, --version and manpage: answered from the tables, with no context.
fn informational_answer(
    agent: &dyn ResourceAgent,
    info: &AgentInfo,
    action: &str,
    env: &Env,
) -> Option<String> {
    match action {
        "meta-data" => Some(metadata::render(
            info,
            &agent.parameters(),
            &agent.actions(),
            Dialect::for_caller(env),
        )),
        "usage" | "help" | "--help" | "-h" => Some(format!("{}\n", usage(info.name))),
        "--version" | "-V" => Some(format!(
            "{} ({}) {}\n",
            info.name, info.provider, info.version
        )),
        "manpage" => Some(crate::manpage::render(
            info,
            &agent.parameters(),
            &agent.actions(),
        )),
        _ => None,
    }
}

/// The parameters checked against the table, then the agent's callback for the action
/// (start validates first, as resource-agents' ocf-rarun does).
fn run_action(agent: &dyn ResourceAgent, ctx: &Context) -> Result<OcfStatus, OcfError> {
    params::check(&agent.parameters(), &ctx.params)?;
    let done = |r: Result<(), OcfError>| r.map(|_| OcfStatus::Success);
    match ctx.action.as_str() {
        "start" => done(agent.validate(ctx).and_then(|_| agent.start(ctx))),
        "stop" => done(agent.stop(ctx)),
        "monitor" => agent.monitor(ctx),
        "validate-all" => done(agent.validate(ctx)),
        "migrate_to" => done(agent.migrate_to(ctx)),
        "migrate_from" => done(agent.migrate_from(ctx)),
        "reload-agent" => done(agent.reload_agent(ctx)),
        "reload" => done(agent.reload(ctx)),
        "notify" => done(agent.notify(ctx)),
        action => Err(OcfError::unimplemented(format!(
            "action '{action}' is not implemented"
        ))),
    }
}

/// The spec's nuance for a resource this node cannot run as configured: a probe reports
/// NotRunning (it cannot be running here) unless recorded state says it does; a stop succeeds
/// only when the agent can tell nothing runs, since a wrong "stopped" would let it run twice.
fn setup_error(
    agent: &dyn ResourceAgent,
    ctx: &Context,
    error: OcfError,
) -> Result<OcfStatus, OcfError> {
    let running = agent.running_without_config(ctx);
    match (ctx.action.as_str(), running) {
        ("stop", Some(false)) => {
            tracing::warn!(
                "{} — nothing of this instance runs, so stop succeeds",
                error.one_line_reason()
            );
            Ok(OcfStatus::Success)
        }
        ("stop", _) => Err(error),
        (_, Some(true)) => Err(error),
        (_, _) => {
            tracing::warn!("{} — probe reports not running", error.one_line_reason());
            Ok(OcfStatus::NotRunning)
        }
    }
}

fn build_context(agent: &dyn ResourceAgent, invoked: &str, instance: &str, env: &Env) -> Context {
    let action = if invoked == "status" {
        "monitor"
    } else {
        invoked
    };
    let meta = params::meta(env);
    let meta_get = |k: &str| meta.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim());
    let is_probe = action == "monitor"
        && meta_get("interval")
            .map(|i| i.parse::<u64>().map(|n| n == 0).unwrap_or(false))
            .unwrap_or(true);
    let timeout = match meta_get("timeout").map(|t| t.parse::<u64>()) {
        Some(Ok(ms)) if ms > 0 => Duration::from_millis(ms),
        Some(_) => {
            tracing::warn!(
                "ignoring invalid OCF_RESKEY_CRM_meta_timeout; using the metadata default"
            );
            default_timeout(&agent.actions(), action)
        }
        None => default_timeout(&agent.actions(), action),
    };
    let check_level = match env
        .non_empty("OCF_CHECK_LEVEL")
        .map(|l| l.trim().parse::<u32>())
    {
        Some(Ok(l)) => l,
        Some(Err(_)) => {
            tracing::warn!("ignoring invalid OCF_CHECK_LEVEL");
            0
        }
        None => 0,
    };
    let specs = agent.parameters();
    for name in params::unknown(&specs, env) {
        if name != "crm_feature_set" {
            tracing::warn!("ignoring unknown parameter '{name}'");
        }
    }
    let params = params::collect(&specs, env);
    for spec in specs.iter().filter(|s| s.deprecated.is_some()) {
        if env
            .non_empty(&format!("{}{}", params::RESKEY_PREFIX, spec.name))
            .is_some()
        {
            match spec.deprecated.flatten() {
                Some(new) => tracing::warn!("parameter '{}' is deprecated, use '{new}'", spec.name),
                None => tracing::warn!("parameter '{}' is deprecated", spec.name),
            }
        }
    }
    Context {
        instance: instance.to_string(),
        deadline: Deadline::after(timeout.saturating_sub(safety_margin(timeout))),
        check_level,
        is_probe,
        params,
        state_dir: env
            .non_empty("HA_RSCTMP")
            .unwrap_or(DEFAULT_STATE_DIR)
            .into(),
        action: action.to_string(),
        meta,
        timeout,
    }
}

/// The metadata timeout of an action (`reload` falls back to reload-agent's), else 20 s.
pub fn default_timeout(actions: &[ActionSpec], action: &str) -> Duration {
    let find = |name: &str| {
        actions
            .iter()
            .find(|a| a.name == name && a.depth.unwrap_or(0) == 0)
            .or_else(|| actions.iter().find(|a| a.name == name))
    };
    let spec = find(action).or_else(|| {
        if action == "reload" {
            find("reload-agent")
        } else {
            None
        }
    });
    spec.map(|a| Duration::from_secs(u64::from(a.timeout_secs)))
        .unwrap_or(DEFAULT_TIMEOUT)
}
