//! Finding the Nova lab (tests/lib/novalab.sh) from the crates' tests, one way for all: its
//! settings are the OS_* variables of the environment when OS_AUTH_URL is set, else what
//! `tests/lib/novalab.sh env` prints. A test that finds no lab answering is skipped, saying
//! why on stderr; PADDOCK_NOVALAB=skip skips without looking (tests/run-all.sh's cargo stage,
//! while the lab is still coming up), and PADDOCK_REQUIRE_NOVALAB=1 (CI with the lab up) makes
//! a missing lab a failure. Behind the `testlab` feature: for dev-dependencies only.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Credentials, Secret};

/// The lab's settings, by variable name (OS_AUTH_URL, OS_PASSWORD, NOVA_URL...).
#[derive(Clone)]
pub struct LabEnv {
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for LabEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // OS_PASSWORD stays out of a failed assertion's output
        let names: Vec<&str> = self.pairs.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "LabEnv({})", names.join(" "))
    }
}

impl LabEnv {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> LabEnv {
        LabEnv { pairs }
    }

    /// `novalab.sh env`'s output: `NAME=value` lines, `export ` and quotes allowed.
    pub fn parse(text: &str) -> LabEnv {
        let pairs = text
            .lines()
            .filter_map(|line| {
                let line = line.trim().trim_start_matches("export ");
                let (k, v) = line.split_once('=')?;
                Some((
                    k.trim().to_string(),
                    v.trim().trim_matches(['"', '\'']).to_string(),
                ))
            })
            .collect();
        LabEnv { pairs }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// A variable the lab always sets; a panic naming it if it is missing.
    pub fn require(&self, name: &str) -> String {
        self.get(name)
            .unwrap_or_else(|| panic!("the Nova lab's settings have no {name}"))
    }

    /// Password credentials of OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (and
    /// OS_REGION_NAME when set); None when one of the four is missing.
    pub fn credentials(&self) -> Option<Credentials> {
        let mut credentials = Credentials::password(
            &self.get("OS_AUTH_URL")?,
            &self.get("OS_USERNAME")?,
            Secret::new(self.get("OS_PASSWORD")?),
            &self.get("OS_PROJECT_NAME")?,
        );
        credentials.region_name = self.get("OS_REGION_NAME");
        Some(credentials)
    }
}

/// tests/lib/novalab.sh of this checkout.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lib/novalab.sh")
}

/// The lab's settings: the environment's when OS_AUTH_URL is set, else `novalab.sh env`'s.
pub fn lab_env() -> Option<LabEnv> {
    if std::env::var_os("OS_AUTH_URL").is_some() {
        return Some(LabEnv::from_pairs(std::env::vars().collect()));
    }
    let output = Command::new(script())
        .arg("env")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(LabEnv::parse(&String::from_utf8_lossy(&output.stdout)))
}

/// What `connect` makes of the lab's settings (it checks the lab answers), or None after
/// saying on stderr why the test is skipped. Panics when PADDOCK_REQUIRE_NOVALAB=1 and the
/// lab cannot be used.
pub fn find_lab<T>(connect: impl FnOnce(&LabEnv) -> Result<T, String>) -> Option<T> {
    if std::env::var("PADDOCK_NOVALAB").is_ok_and(|v| v == "skip") {
        eprintln!("SKIPPED: PADDOCK_NOVALAB=skip (run with the Nova lab up)");
        return None;
    }
    let why = match lab_env() {
        None => "no lab environment".to_string(),
        Some(env) => match connect(&env) {
            Ok(found) => return Some(found),
            Err(why) => why,
        },
    };
    let why = format!("the Nova lab is not running ({why}; start it: tests/lib/novalab.sh up)");
    if std::env::var("PADDOCK_REQUIRE_NOVALAB").is_ok_and(|v| v == "1") {
        panic!("{why}, and PADDOCK_REQUIRE_NOVALAB=1");
    }
    eprintln!("SKIPPED: {why}");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_s_lines_are_read_with_or_without_export_and_quotes() {
        let env = LabEnv::parse(
            "export OS_AUTH_URL=\"http://127.0.0.1:15000/v3\"\nOS_USERNAME=admin\n\
             OS_PASSWORD='s3cret'\nOS_PROJECT_NAME=admin\nnot a setting\n",
        );
        assert_eq!(
            env.get("OS_AUTH_URL").as_deref(),
            Some("http://127.0.0.1:15000/v3")
        );
        assert_eq!(env.require("OS_PASSWORD"), "s3cret");
        assert!(!format!("{env:?}").contains("s3cret"));
        let credentials = env.credentials().expect("all four are set");
        assert_eq!(credentials.password.expose(), "s3cret");
        assert_eq!(credentials.region_name, None);
        assert!(LabEnv::parse("OS_AUTH_URL=x\n").credentials().is_none());
    }

    #[test]
    fn the_script_is_the_checkout_s() {
        assert!(script().ends_with("tests/lib/novalab.sh"));
        assert!(script().is_file(), "{}", script().display());
    }
}
