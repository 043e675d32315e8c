//! A tiny agent run through the framework in-process: exit codes, exit reasons, deadlines,
//! logging, and its meta-data checked against OCF 1.1 (pcs's schema plus `ocf::conformance`),
//! resource-agents' metadata.rng and ra-api-1.dtd.

use ocf::conformance::xmllint;
use ocf::{
    run_captured, ActionSpec, AgentInfo, Context, Env, OcfError, OcfStatus, ParamType,
    ParameterSpec, ResourceAgent,
};
use std::path::{Path, PathBuf};
use std::process::Command;

// Each parameter declared once; the agent reads it back by the same constant.
const NAME: ParameterSpec = ParameterSpec::new("name", ParamType::String, "Name", "The name")
    .required()
    .unique_group("identity");
const COUNT: ParameterSpec = ParameterSpec::new("count", ParamType::Integer, "Count", "A count")
    .default("3")
    .reloadable();
const MODE: ParameterSpec = ParameterSpec::new(
    "mode",
    ParamType::Select(&["fast", "safe"]),
    "Mode",
    "A mode",
)
.default("safe");
const PANIC: ParameterSpec =
    ParameterSpec::new("panic", ParamType::Boolean, "Panic", "Panic in start").default("false");
const OLD_NAME: ParameterSpec =
    ParameterSpec::new("old_name", ParamType::String, "Old name", "Use name")
        .deprecated(Some("name"));

/// Keeps its "running" state as a file in the state dir.
struct Dummy;

fn state_file(ctx: &Context) -> PathBuf {
    ctx.state_dir.join(format!("dummy-{}.state", ctx.instance))
}

impl ResourceAgent for Dummy {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "dummy",
            provider: "test",
            version: "0.1",
            shortdesc: "Test agent",
            longdesc: "Keeps a state file <and> escapes markup.",
        }
    }
    fn parameters(&self) -> Vec<ParameterSpec> {
        vec![NAME, COUNT, MODE, PANIC, OLD_NAME]
    }
    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new("start", 42),
            ActionSpec::new("stop", 20),
            ActionSpec {
                interval_secs: Some(10),
                depth: Some(0),
                ..ActionSpec::new("monitor", 20)
            },
            ActionSpec {
                interval_secs: Some(60),
                depth: Some(10),
                ..ActionSpec::new("monitor", 30)
            },
            ActionSpec::new("reload-agent", 5),
            ActionSpec::new("validate-all", 5),
        ]
    }
    fn validate(&self, ctx: &Context) -> Result<(), OcfError> {
        if ctx.required(&NAME)? == "uninstalled" {
            return Err(OcfError::installed("dummy software is not installed"));
        }
        Ok(())
    }
    fn start(&self, ctx: &Context) -> Result<(), OcfError> {
        ocf::tracing::info!(
            "timeout={:?} remaining_ms={} check_level={} state_dir={}",
            ctx.timeout,
            ctx.deadline.remaining().as_millis(),
            ctx.check_level,
            ctx.state_dir.display()
        );
        ocf::tracing::debug!("debug line");
        if ctx.flag(&PANIC)? {
            panic!("asked to");
        }
        std::fs::write(
            state_file(ctx),
            ctx.unsigned(&COUNT)?.unwrap_or(0).to_string(),
        )
        .map_err(|e| OcfError::generic(e.to_string()))
    }
    fn stop(&self, ctx: &Context) -> Result<(), OcfError> {
        match std::fs::remove_file(state_file(ctx)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(OcfError::generic(e.to_string()))
            }
            _ => Ok(()),
        }
    }
    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        ocf::tracing::info!("probe={} check_level={}", ctx.is_probe, ctx.check_level);
        if state_file(ctx).exists() {
            Ok(OcfStatus::Success)
        } else {
            Err(OcfError::not_running("no state file"))
        }
    }
    fn running_without_config(&self, ctx: &Context) -> Option<bool> {
        Some(state_file(ctx).exists())
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    fn env(&self, params: &[(&str, &str)]) -> Env {
        let mut env = Env::from_pairs([
            ("OCF_RESOURCE_INSTANCE", "d1"),
            ("HA_RSCTMP", self.dir.path().to_str().unwrap()),
        ]);
        for (k, v) in params {
            env.set(
                if k.starts_with("OCF_") || k.starts_with("HA_") {
                    k.to_string()
                } else {
                    format!("OCF_RESKEY_{k}")
                },
                *v,
            );
        }
        env
    }
    fn run(&self, action: &[&str], params: &[(&str, &str)]) -> ocf::Captured {
        run_captured(&Dummy, action, &self.env(params))
    }
    fn state(&self) -> PathBuf {
        self.dir.path().join("dummy-d1.state")
    }
}

fn exit_reasons(c: &ocf::Captured) -> Vec<&str> {
    c.stderr
        .lines()
        .filter(|l| l.starts_with("ocf-exit-reason:"))
        .collect()
}

#[test]
fn no_action_prints_usage_and_returns_err_args() {
    let c = Fixture::new().run(&[], &[]);
    assert_eq!(c.code, 2, "{c:?}");
    assert!(
        c.stderr.contains("usage: dummy {start|stop|monitor"),
        "{c:?}"
    );
}

#[test]
fn unknown_action_is_unimplemented_with_one_line_reason() {
    let c = Fixture::new().run(&["frobnicate"], &[("name", "x")]);
    assert_eq!(c.code, 3);
    assert_eq!(
        exit_reasons(&c),
        vec!["ocf-exit-reason:action 'frobnicate' is not implemented by dummy"]
    );
    assert_eq!(Fixture::new().run(&["promote"], &[]).code, 3);
}

#[test]
fn usage_and_help_succeed_on_stdout() {
    for a in ["usage", "help"] {
        let c = Fixture::new().run(&[a], &[]);
        assert_eq!(c.code, 0);
        assert!(c.stdout.starts_with("usage: dummy"));
    }
}

#[test]
fn start_monitor_stop_cycle_with_status_alias_and_extra_args_ignored() {
    let f = Fixture::new();
    let p = [("name", "x"), ("OCF_RESKEY_CRM_meta_interval", "10000")];
    assert_eq!(f.run(&["monitor"], &p).code, 7);
    assert_eq!(f.run(&["start", "ignored-extra-arg"], &p).code, 0);
    assert_eq!(
        std::fs::read_to_string(f.state()).unwrap(),
        "3",
        "integer default reaches the agent"
    );
    assert_eq!(f.run(&["monitor"], &p).code, 0);
    assert_eq!(f.run(&["status"], &p).code, 0);
    assert_eq!(f.run(&["stop"], &p).code, 0);
    assert_eq!(f.run(&["stop"], &p).code, 0, "stop is idempotent");
    let c = f.run(&["monitor"], &p);
    assert_eq!(
        (c.code, exit_reasons(&c)),
        (7, vec!["ocf-exit-reason:no state file"])
    );
}

#[test]
fn missing_required_parameter_is_err_configured() {
    let c = Fixture::new().run(&["start"], &[]);
    assert_eq!(c.code, 6);
    assert_eq!(
        exit_reasons(&c),
        vec!["ocf-exit-reason:required parameter 'name' is not set"]
    );
}

#[test]
fn invalid_integer_and_select_values_are_err_configured() {
    let f = Fixture::new();
    let c = f.run(&["validate-all"], &[("name", "x"), ("count", "three")]);
    assert_eq!(
        (c.code, exit_reasons(&c)),
        (
            6,
            vec!["ocf-exit-reason:parameter 'count': 'three' is not an integer"]
        )
    );
    let c = f.run(&["start"], &[("name", "x"), ("mode", "reckless")]);
    assert_eq!(
        (c.code, exit_reasons(&c)),
        (
            6,
            vec!["ocf-exit-reason:parameter 'mode': 'reckless' is not one of fast, safe"]
        )
    );
    assert!(
        !f.state().exists(),
        "start must not run with invalid parameters"
    );
}

#[test]
fn agent_errors_carry_their_code_and_prefix_can_be_overridden() {
    let c = Fixture::new().run(
        &["start"],
        &[("name", "uninstalled"), ("OCF_EXIT_REASON_PREFIX", "WHY:")],
    );
    assert_eq!(c.code, 5);
    assert!(
        c.stderr
            .lines()
            .any(|l| l == "WHY:dummy software is not installed"),
        "{c:?}"
    );
}

#[test]
fn probe_of_misconfigured_resource_is_not_running_unless_state_says_otherwise() {
    let f = Fixture::new();
    // Probe: interval unset, or 0.
    assert_eq!(f.run(&["monitor"], &[("count", "x")]).code, 7);
    assert_eq!(
        f.run(
            &["monitor"],
            &[("count", "x"), ("OCF_RESKEY_CRM_meta_interval", "0")]
        )
        .code,
        7
    );
    // A recurring monitor with a bad configuration is a configuration error.
    assert_eq!(
        f.run(
            &["monitor"],
            &[("count", "x"), ("OCF_RESKEY_CRM_meta_interval", "10000")]
        )
        .code,
        6
    );
    // Recorded state says it runs: the probe must not claim "not running".
    std::fs::write(f.state(), "1").unwrap();
    assert_eq!(f.run(&["monitor"], &[("count", "x")]).code, 6);
    // Software missing during a probe: not running.
    std::fs::remove_file(f.state()).unwrap();
    assert_eq!(f.run(&["monitor"], &[("name", "uninstalled")]).code, 7);
}

#[test]
fn stop_of_misconfigured_resource_succeeds_only_when_nothing_runs() {
    let f = Fixture::new();
    let c = f.run(&["stop"], &[("mode", "bogus")]);
    assert_eq!(c.code, 0, "{c:?}");
    std::fs::write(f.state(), "1").unwrap();
    let c = f.run(&["stop"], &[("mode", "bogus")]);
    assert_eq!(c.code, 6, "{c:?}");
    assert!(f.state().exists());
}

#[test]
fn deadline_comes_from_meta_timeout_else_metadata_default() {
    let f = Fixture::new();
    let c = f.run(
        &["start"],
        &[("name", "x"), ("OCF_RESKEY_CRM_meta_timeout", "3000")],
    );
    assert!(c.stderr.contains("timeout=3s"), "{c:?}");
    let remaining: u64 = c
        .stderr
        .split("remaining_ms=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (2000..=2700).contains(&remaining),
        "3 s minus a 0.3 s safety margin, got {remaining} ms"
    );
    let c = f.run(&["start"], &[("name", "x")]);
    assert!(
        c.stderr.contains("timeout=42s"),
        "start default from metadata: {c:?}"
    );
}

#[test]
fn check_level_and_state_dir_reach_the_agent() {
    let f = Fixture::new();
    let c = f.run(&["start"], &[("name", "x"), ("OCF_CHECK_LEVEL", "10")]);
    assert!(c.stderr.contains("check_level=10"), "{c:?}");
    assert!(
        c.stderr
            .contains(&format!("state_dir={}", f.dir.path().display())),
        "{c:?}"
    );
}

#[test]
fn every_log_line_names_instance_and_action_and_goes_to_log_files() {
    let f = Fixture::new();
    let log = f.dir.path().join("ha.log");
    let debuglog = f.dir.path().join("ha-debug.log");
    let files = [
        ("HA_LOGFILE", log.to_str().unwrap()),
        ("HA_DEBUGLOG", debuglog.to_str().unwrap()),
    ];
    let c = f.run(
        &["start"],
        &[&files[..], &[("name", "x"), ("count", "bad")]].concat(),
    );
    assert_eq!(c.code, 6);
    for line in c
        .stderr
        .lines()
        .filter(|l| !l.starts_with("ocf-exit-reason:"))
    {
        assert!(
            line.starts_with("dummy(d1)[") && line.contains("] start: "),
            "{line}"
        );
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("dummy(d1)") && logged.contains("start: ERROR: parameter 'count'"),
        "{logged}"
    );
    // Debug lines only with HA_debug=1, and only to the debug log: with a log file, stderr
    // carries warnings and errors alone (Pacemaker logs stderr too).
    let c = f.run(&["start"], &[&files[..], &[("name", "x")]].concat());
    assert!(!c.stderr.contains("debug line"));
    let c = f.run(
        &["start"],
        &[&files[..], &[("name", "x"), ("HA_debug", "1")]].concat(),
    );
    assert!(!c.stderr.contains("DEBUG"), "{c:?}");
    assert!(std::fs::read_to_string(&debuglog)
        .unwrap()
        .contains("DEBUG: debug line"));
    assert!(!std::fs::read_to_string(&log).unwrap().contains("DEBUG"));
}

#[test]
fn deprecated_parameter_use_is_logged() {
    let c = Fixture::new().run(&["validate-all"], &[("name", "x"), ("old_name", "y")]);
    assert_eq!(c.code, 0);
    assert!(
        c.stderr
            .contains("parameter 'old_name' is deprecated, use 'name'"),
        "{c:?}"
    );
}

#[test]
fn optional_actions_default_sensibly() {
    let f = Fixture::new();
    assert_eq!(f.run(&["migrate_to"], &[("name", "x")]).code, 3);
    assert_eq!(f.run(&["notify"], &[("name", "x")]).code, 0);
    assert_eq!(f.run(&["reload-agent"], &[("name", "x")]).code, 0);
    assert_eq!(f.run(&["reload"], &[("name", "x")]).code, 0);
}

#[test]
fn a_panicking_agent_fails_generically_with_a_reason() {
    let c = Fixture::new().run(&["start"], &[("name", "x"), ("panic", "yes")]);
    assert_eq!(c.code, 1);
    assert_eq!(
        exit_reasons(&c),
        vec!["ocf-exit-reason:internal error: the agent panicked"]
    );
}

/// An installed schema file, or a failure that says which package brings it.
fn installed_schema(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "{path} is missing: install Debian's {package} (make setup does)"
    );
    p
}

/// OCF 1.1 as the official schema has it: pcs's relaxed 1.1 schema (what pcs itself accepts)
/// plus the rules only the official one has, checked by `ocf::conformance`.
fn assert_ocf_1_1(xml: &str) {
    let (ok, err) = xmllint(&installed_schema(PCS_OCF_1_1_RNG, "pcs"), xml);
    assert!(ok, "invalid against {PCS_OCF_1_1_RNG}: {err}\n{xml}");
    let problems = ocf::conformance::ocf_1_1_problems(xml);
    assert!(problems.is_empty(), "not OCF 1.1: {problems:?}\n{xml}");
}

const PCS_OCF_1_1_RNG: &str = "/usr/share/pcs/data/ocf-1.1.rng";
const RESOURCE_AGENTS_RNG: &str = "/usr/share/resource-agents/metadata.rng";

/// ocf-tester's own check: `xmllint --noout --valid -` in /usr/share/resource-agents.
fn dtd_valid(xml: &str) -> (bool, String) {
    let mut command = Command::new("xmllint");
    command
        .args(["--noout", "--valid", "-"])
        .current_dir("/usr/share/resource-agents");
    ocf::conformance::xmllint_stdin(command, xml)
}

#[test]
fn portable_meta_data_validates_against_both_schemas_and_the_dtd() {
    let c = Fixture::new().run(&["meta-data"], &[]);
    assert_eq!(c.code, 0);
    assert!(
        c.stdout
            .contains("<content type=\"string\" default=\"safe\"/>")
            && c.stdout.contains("Allowed values: fast, safe."),
        "{}",
        c.stdout
    );
    assert!(
        c.stdout
            .contains("<action name=\"reload\" timeout=\"5s\"/>")
            && !c.stdout.contains("reload-agent")
    );
    assert!(c.stdout.contains("&lt;and&gt;"));
    assert_ocf_1_1(&c.stdout);
    let schema = installed_schema(RESOURCE_AGENTS_RNG, "resource-agents");
    let (ok, err) = xmllint(&schema, &c.stdout);
    assert!(
        ok,
        "invalid against {RESOURCE_AGENTS_RNG}: {err}\n{}",
        c.stdout
    );
    // ocf-tester's check: DTD validation, run from the DTD's directory.
    let (ok, err) = dtd_valid(&c.stdout);
    assert!(ok, "invalid against ra-api-1.dtd: {err}\n{}", c.stdout);
    // And a schema really rejects something: guard against a validator that always says yes.
    let (ok, _) = xmllint(
        Path::new(RESOURCE_AGENTS_RNG),
        &c.stdout
            .replace("unique=\"1\"", "unique-group=\"identity\""),
    );
    assert!(!ok);
}

#[test]
fn ocf_1_1_meta_data_for_pacemaker_validates_and_carries_1_1_features() {
    let c = Fixture::new().run(
        &["meta-data"],
        &[
            ("OCF_RA_VERSION_MAJOR", "1"),
            ("OCF_RA_VERSION_MINOR", "1"),
            ("OCF_OUTPUT_FORMAT", "text"),
        ],
    );
    assert_eq!(c.code, 0);
    assert_ocf_1_1(&c.stdout);
    for needle in [
        "<version>1.1</version>",
        "unique-group=\"identity\"",
        "reloadable=\"1\"",
        "<replaced-with name=\"name\"/>",
        "depth=\"10\"",
    ] {
        assert!(c.stdout.contains(needle), "{needle}: {}", c.stdout);
    }
}

#[test]
fn version_names_the_agent_provider_and_version() {
    for flag in ["--version", "-V"] {
        let c = Fixture::new().run(&[flag], &[]);
        assert_eq!((c.code, c.stdout.as_str()), (0, "dummy (test) 0.1\n"));
    }
}

/// The page as `man` renders it at 80 columns, and what groff warned about (`man --warnings`).
fn render_man_page(page: &str) -> (String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ocf_test_dummy.7");
    std::fs::write(&file, page).expect("write page");
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&file)
        .env("MANWIDTH", "80")
        .env("PAGER", "cat")
        .output()
        .expect("man must be installed (man-db; make setup installs it)");
    assert!(out.status.success(), "man failed");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn man_page_documents_every_parameter_and_action_from_the_tables() {
    let c = Fixture::new().run(&["manpage"], &[]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    let page = &c.stdout;
    assert!(
        page.starts_with(".TH OCF_TEST_DUMMY 7 \"\" \"test 0.1\""),
        "{page}"
    );
    let (text, warnings) = render_man_page(page);
    assert_eq!(warnings, "", "groff warnings");
    let plain: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "ocf_test_dummy - Test agent",
        "Keeps a state file <and> escapes markup.",
        "(unique-group identity, required, string, no default)",
        "(optional, reloadable, integer, default 3)",
        "One of: fast, safe. (optional, select, default safe)",
        "Deprecated: use name instead.",
        "start Starts the resource. Suggested minimum timeout: 42s.",
        "Suggested minimum timeout: 30s. Suggested interval: 60s. Check level (OCF_CHECK_LEVEL): 10.",
        "pcs resource create p_dummy ocf:test:dummy \\ name=string \\ op monitor interval=10s timeout=20s",
        "primitive p_dummy ocf:test:dummy \\ params \\ name=string",
    ] {
        assert!(plain.contains(needle), "'{needle}' not in:\n{text}");
    }
}
