//! What `command` means: a command line run directly (no shell unless it uses shell syntax),
//! an init script (`init:NAME` or `init:/path/script`) or a systemd unit (`systemd:UNIT`).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceCommand {
    /// argv, run directly; argv[0] is resolved in PATH.
    Exec(Vec<String>),
    /// Uses shell syntax (pipes, redirections, variables, globs): run by `/bin/sh -c`.
    Shell(String),
    /// An init script called with `start` / `stop`; the daemon is found by pidfile or match.
    Init(PathBuf),
    /// A systemd unit started and stopped with systemctl; found by pidfile or match.
    Systemd(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    Empty,
    UnclosedQuote,
}

impl ServiceCommand {
    pub fn parse(text: &str) -> Result<ServiceCommand, String> {
        let text = text.trim();
        if let Some(script) = text.strip_prefix("init:") {
            let script = script.trim();
            if script.is_empty() || script.contains(char::is_whitespace) {
                return Err(format!(
                    "command '{text}': init: needs one script name or path"
                ));
            }
            let path = if script.starts_with('/') {
                PathBuf::from(script)
            } else {
                Path::new("/etc/init.d").join(script)
            };
            return Ok(ServiceCommand::Init(path));
        }
        if let Some(unit) = text.strip_prefix("systemd:") {
            let unit = unit.trim();
            if unit.is_empty() || unit.contains(char::is_whitespace) {
                return Err(format!("command '{text}': systemd: needs one unit name"));
            }
            return Ok(ServiceCommand::Systemd(unit.to_string()));
        }
        if needs_shell(text) {
            return Ok(ServiceCommand::Shell(text.to_string()));
        }
        match split(text) {
            Ok(argv) => Ok(ServiceCommand::Exec(argv)),
            Err(SplitError::Empty) => Err("command is empty".to_string()),
            Err(SplitError::UnclosedQuote) => {
                Err(format!("command '{text}' has an unclosed quote"))
            }
        }
    }

    /// The program that must be installed for this command.
    pub fn program(&self) -> String {
        match self {
            ServiceCommand::Exec(argv) => argv[0].clone(),
            ServiceCommand::Shell(_) => "/bin/sh".into(),
            ServiceCommand::Init(p) => p.display().to_string(),
            ServiceCommand::Systemd(_) => "systemctl".into(),
        }
    }

    /// argv to run (the shell form through /bin/sh).
    pub fn argv(&self) -> Vec<String> {
        match self {
            ServiceCommand::Exec(argv) => argv.clone(),
            ServiceCommand::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
            ServiceCommand::Init(p) => vec![p.display().to_string(), "start".into()],
            ServiceCommand::Systemd(u) => vec!["systemctl".into(), "start".into(), u.clone()],
        }
    }

    /// Managed by someone else who daemonizes (init script, systemd) rather than spawned by us.
    pub fn is_external(&self) -> bool {
        matches!(self, ServiceCommand::Init(_) | ServiceCommand::Systemd(_))
    }

    pub fn stop_argv(&self) -> Option<Vec<String>> {
        match self {
            ServiceCommand::Init(p) => Some(vec![p.display().to_string(), "stop".into()]),
            ServiceCommand::Systemd(u) => Some(vec!["systemctl".into(), "stop".into(), u.clone()]),
            _ => None,
        }
    }
}

/// Unquoted characters that only a shell gives meaning to.
fn needs_shell(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut word_start = true;
    for c in text.chars() {
        if escaped {
            escaped = false;
            word_start = false;
            continue;
        }
        match (quote, c) {
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => {}
            (Some('"'), '"') => quote = None,
            (Some('"'), '$' | '`') => return true,
            (Some('"'), '\\') => escaped = true,
            (Some(_), _) => {}
            (None, '\\') => escaped = true,
            (None, '\'' | '"') => quote = Some(c),
            (
                None,
                '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' | '{' | '}'
                | '\n',
            ) => return true,
            (None, '#' | '~') if word_start => return true,
            (None, _) => {}
        }
        word_start = c.is_whitespace();
    }
    false
}

/// Split a command line into words the way a shell would, for the quoting subset we accept.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') | (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    if quote == Some('"') && !matches!(n, '"' | '\\' | '$' | '`') {
                        word.push('\\');
                    }
                    word.push(n);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(SplitError::UnclosedQuote);
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

/// Find a program the way execvp would: a path with a slash as is, else in PATH.
pub fn resolve_program(program: &str, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path_var =
        path_var.unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_command_lines_are_split_without_a_shell() {
        assert_eq!(
            ServiceCommand::parse(r#"/usr/bin/foo --name 'a b' "c d" e\ f"#).unwrap(),
            ServiceCommand::Exec(vec![
                "/usr/bin/foo".into(),
                "--name".into(),
                "a b".into(),
                "c d".into(),
                "e f".into()
            ])
        );
    }

    #[test]
    fn shell_syntax_goes_to_the_shell() {
        for s in [
            "foo | bar",
            "foo > /tmp/x",
            "foo $HOME",
            "foo && bar",
            "foo *.conf",
            "foo \"$X\"",
            "~/bin/x",
        ] {
            assert!(
                matches!(ServiceCommand::parse(s).unwrap(), ServiceCommand::Shell(_)),
                "{s}"
            );
        }
        for s in ["foo 'a|b'", "foo a#b", "foo --x=1"] {
            assert!(
                matches!(ServiceCommand::parse(s).unwrap(), ServiceCommand::Exec(_)),
                "{s}"
            );
        }
    }

    #[test]
    fn init_and_systemd_forms() {
        assert_eq!(
            ServiceCommand::parse("init:libvirtd").unwrap(),
            ServiceCommand::Init("/etc/init.d/libvirtd".into())
        );
        assert_eq!(
            ServiceCommand::parse("init:/opt/x/rc").unwrap(),
            ServiceCommand::Init("/opt/x/rc".into())
        );
        assert_eq!(
            ServiceCommand::parse("systemd:libvirtd.service").unwrap(),
            ServiceCommand::Systemd("libvirtd.service".into())
        );
        assert!(ServiceCommand::parse("init:").is_err());
    }

    #[test]
    fn bad_command_lines_are_rejected() {
        assert!(ServiceCommand::parse("   ").is_err());
        assert!(ServiceCommand::parse("foo 'bar")
            .unwrap_err()
            .contains("unclosed quote"));
    }

    #[test]
    fn programs_resolve_in_path() {
        assert_eq!(
            resolve_program("sh", Some("/nonexistent:/bin")),
            Some(PathBuf::from("/bin/sh"))
        );
        assert_eq!(resolve_program("no-such-program-xyz", None), None);
        assert_eq!(resolve_program("/etc/passwd", None), None, "not executable");
    }
}
