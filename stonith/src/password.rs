//! Where the login password comes from: `password_script` (run with `sh -c`; its stdout with
//! trailing whitespace removed, like fence-agents), the `password` option, or the
//! `PADDOCK_FENCE_PASSWORD` environment variable. The script gets no password on
//! its argv and is killed (with its process group) when it overruns its time, as is anything
//! it leaves running.

use std::process::Command;

use crate::command::{run_bounded, Limits, RunError};
use crate::common::{PASSWORD, PASSWORD_ENV, PASSWORD_SCRIPT};
use crate::{Deadline, Options, Secret};

/// Largest password script output we read.
const MAX_OUTPUT: usize = 64 * 1024;

/// Where the password came from, for the verbose log (never the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    Script,
    Option,
    Environment,
    None,
}

/// Put the password into `options` (as the secret `password`), from the first source that has
/// one: `password_script` overrides `password` as in fence-agents; the environment comes last.
pub fn resolve_password(
    options: &mut Options,
    env: &dyn Fn(&str) -> Option<String>,
    deadline: Deadline,
) -> Result<PasswordSource, String> {
    if let Some(script) = options.text(&PASSWORD_SCRIPT) {
        let secret = run_password_script(script, deadline)?;
        options.set_secret(&PASSWORD, secret);
        return Ok(PasswordSource::Script);
    }
    if options.password().is_some() {
        return Ok(PasswordSource::Option);
    }
    if let Some(value) = env(PASSWORD_ENV) {
        options.set_secret(&PASSWORD, Secret::new(value));
        return Ok(PasswordSource::Environment);
    }
    Ok(PasswordSource::None)
}

/// Run `script` with `sh -c`, return its stdout without trailing whitespace.
pub fn run_password_script(script: &str, deadline: Deadline) -> Result<Secret, String> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        // The script has no business with a password the environment may also hold.
        .env_remove(PASSWORD_ENV);
    let limits = Limits {
        keep_bytes: MAX_OUTPUT,
        ..Limits::default()
    };
    let output = run_bounded(&mut command, deadline, limits).map_err(|e| match e {
        RunError::TimedOut { .. } => {
            "Failed: password_script did not finish in time and was killed".to_string()
        }
        RunError::Spawn { source, .. } => format!("Failed: cannot run password_script: {source}"),
        RunError::Wait { source, .. } => format!("Failed: waiting for password_script: {source}"),
    })?;
    if !output.success() {
        return Err(match output.status.code() {
            Some(code) => format!("Failed: password_script exited with status {code}"),
            None => "Failed: password_script was killed by a signal".to_string(),
        });
    }
    if !output.stdout_complete {
        return Err("Failed: password_script output did not end in time".to_string());
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| "Failed: password_script output is not valid UTF-8".to_string())?;
    Ok(Secret::new(text.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn script_does_not_inherit_the_password_variable() {
        std::env::set_var(PASSWORD_ENV, "env-s3cret");
        let secret = run_password_script(
            &format!("printf %s \"${{{PASSWORD_ENV}:-unset}}\""),
            Deadline::after(Duration::from_secs(5)),
        );
        std::env::remove_var(PASSWORD_ENV);
        assert_eq!(secret.unwrap().expose(), "unset");
    }

    #[test]
    fn script_output_is_trimmed() {
        let secret = run_password_script(
            "printf 'pa ss\\n\\n'",
            Deadline::after(Duration::from_secs(5)),
        )
        .unwrap();
        assert_eq!(secret.expose(), "pa ss");
    }

    #[test]
    fn script_failure_is_reported_without_output() {
        let err = run_password_script(
            "echo hunter2; exit 3",
            Deadline::after(Duration::from_secs(5)),
        )
        .unwrap_err();
        assert!(err.contains("status 3"), "{err}");
        assert!(!err.contains("hunter2"));
    }

    #[test]
    fn script_overrunning_is_killed() {
        let started = Instant::now();
        let err = run_password_script("sleep 30", Deadline::after(Duration::from_millis(300)))
            .unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn script_background_child_does_not_hold_us() {
        let started = Instant::now();
        let secret = run_password_script(
            "echo pw; sleep 30 &",
            Deadline::after(Duration::from_millis(500)),
        );
        assert!(started.elapsed() < Duration::from_secs(3));
        // Either the output arrived before the deadline or it is reported as late; never a hang.
        if let Ok(secret) = secret {
            assert_eq!(secret.expose(), "pw");
        }
    }

    #[test]
    fn sources_in_order() {
        let deadline = Deadline::after(Duration::from_secs(5));
        let env = |name: &str| (name == PASSWORD_ENV).then(|| "from-env".to_string());

        let mut options = Options::new();
        assert_eq!(
            resolve_password(&mut options, &env, deadline),
            Ok(PasswordSource::Environment)
        );
        assert_eq!(options.password().unwrap().expose(), "from-env");

        let mut options = Options::new();
        options.set_secret(&PASSWORD, Secret::new("opt"));
        assert_eq!(
            resolve_password(&mut options, &env, deadline),
            Ok(PasswordSource::Option)
        );
        assert_eq!(options.password().unwrap().expose(), "opt");

        options.set(&PASSWORD_SCRIPT, "echo script");
        assert_eq!(
            resolve_password(&mut options, &env, deadline),
            Ok(PasswordSource::Script)
        );
        assert_eq!(options.password().unwrap().expose(), "script");

        let mut options = Options::new();
        assert_eq!(
            resolve_password(&mut options, &no_env, deadline),
            Ok(PasswordSource::None)
        );
        assert!(options.password().is_none());
    }
}
