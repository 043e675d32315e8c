//! Reading `OCF_RESKEY_*` against the parameter table: defaults, required, types, select lists.

use crate::{Env, OcfError, ParamType, ParameterSpec};

pub const RESKEY_PREFIX: &str = "OCF_RESKEY_";
pub const META_PREFIX: &str = "OCF_RESKEY_CRM_meta_";

/// Pacemaker's boolean spellings.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// The parameters as given, after defaults, without checking them (for stop/probe of a broken config).
pub fn collect(specs: &[ParameterSpec], env: &Env) -> Vec<(String, String)> {
    specs
        .iter()
        .filter_map(|spec| {
            let given = env.non_empty(&format!("{RESKEY_PREFIX}{}", spec.name));
            given
                .or(spec.default)
                .map(|v| (spec.name.to_string(), v.to_string()))
        })
        .collect()
}

/// Check every given parameter against its declaration; the first problem is an ERR_CONFIGURED.
pub fn check(specs: &[ParameterSpec], params: &[(String, String)]) -> Result<(), OcfError> {
    for spec in specs {
        let value = params
            .iter()
            .find(|(n, _)| n == spec.name)
            .map(|(_, v)| v.as_str());
        let Some(value) = value else {
            if spec.required {
                return Err(OcfError::configured(format!(
                    "required parameter '{}' is not set",
                    spec.name
                )));
            }
            continue;
        };
        check_value(spec, value)?;
    }
    Ok(())
}

fn check_value(spec: &ParameterSpec, value: &str) -> Result<(), OcfError> {
    let bad = |what: String| OcfError::configured(format!("parameter '{}': {what}", spec.name));
    match &spec.kind {
        ParamType::String => Ok(()),
        ParamType::Integer => value
            .trim()
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| bad(format!("'{value}' is not an integer"))),
        ParamType::Boolean => parse_bool(value)
            .map(|_| ())
            .ok_or_else(|| bad(format!("'{value}' is not a boolean"))),
        ParamType::Select(options) => {
            if options.contains(&value) {
                Ok(())
            } else {
                Err(bad(format!(
                    "'{value}' is not one of {}",
                    options.join(", ")
                )))
            }
        }
    }
}

/// `OCF_RESKEY_CRM_meta_*` by name without the prefix.
pub fn meta(env: &Env) -> Vec<(String, String)> {
    env.iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(META_PREFIX)
                .map(|name| (name.to_string(), v.to_string()))
        })
        .collect()
}

/// `OCF_RESKEY_*` names the table does not know (typos show up in the log).
pub fn unknown(specs: &[ParameterSpec], env: &Env) -> Vec<String> {
    env.iter()
        .filter_map(|(k, _)| k.strip_prefix(RESKEY_PREFIX))
        .filter(|name| !name.starts_with("CRM_meta_") && !specs.iter().any(|s| s.name == *name))
        .map(str::to_string)
        .collect()
}

/// The value of `spec` in `params` (name, value), else its default; trimmed, None when blank.
/// For an agent's own configuration parsing, outside a [`crate::Context`] (its daemon).
pub fn value<'p>(params: &'p [(String, String)], spec: &ParameterSpec) -> Option<&'p str> {
    params
        .iter()
        .find(|(name, _)| name == spec.name)
        .map(|(_, value)| value.trim())
        .or(spec.default)
        .filter(|value| !value.is_empty())
}

/// A boolean parameter's value in Pacemaker's spellings; ERR_CONFIGURED naming it otherwise.
pub fn boolean(spec: &ParameterSpec, text: &str) -> Result<bool, OcfError> {
    parse_bool(text)
        .ok_or_else(|| invalid(spec, format!("'{}' is not a boolean", text.escape_debug())))
}

/// ERR_CONFIGURED for a bad value of `spec`: `parameter 'NAME': WHY`.
pub fn invalid(spec: &ParameterSpec, why: impl std::fmt::Display) -> OcfError {
    OcfError::configured(format!("parameter '{}': {why}", spec.name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_is_given_or_defaulted_and_trimmed_and_blank_is_none() {
        let spec = ParameterSpec::new("interval", ParamType::Integer, "s", "l").default("10");
        let params = |v: &str| vec![("interval".to_string(), v.to_string())];
        assert_eq!(value(&params(" 5 "), &spec), Some("5"));
        assert_eq!(value(&[], &spec), Some("10"));
        assert_eq!(value(&params("  "), &spec), None);
        let e = invalid(&spec, "'x' is not a number");
        assert_eq!(e.status, crate::OcfStatus::ErrConfigured);
        assert_eq!(e.reason, "parameter 'interval': 'x' is not a number");
    }

    use super::*;

    fn specs() -> Vec<ParameterSpec> {
        vec![
            ParameterSpec::new("name", ParamType::String, "n", "n").required(),
            ParameterSpec::new("count", ParamType::Integer, "c", "c").default("5"),
            ParameterSpec::new("flag", ParamType::Boolean, "f", "f"),
            ParameterSpec::new("mode", ParamType::Select(&["a", "b"]), "m", "m").default("a"),
        ]
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (format!("{RESKEY_PREFIX}{k}"), v.to_string())),
        )
    }

    #[test]
    fn defaults_fill_in_and_empty_counts_as_unset() {
        let p = collect(&specs(), &env(&[("name", "x"), ("count", "")]));
        assert_eq!(
            p,
            vec![
                ("name".into(), "x".into()),
                ("count".into(), "5".into()),
                ("mode".into(), "a".into())
            ]
        );
        assert!(check(&specs(), &p).is_ok());
    }

    #[test]
    fn missing_required_is_err_configured() {
        let e = check(&specs(), &collect(&specs(), &env(&[]))).unwrap_err();
        assert_eq!(e.status, crate::OcfStatus::ErrConfigured);
        assert!(e.reason.contains("'name'"), "{}", e.reason);
    }

    #[test]
    fn bad_values_are_named() {
        for (k, v, needle) in [
            ("count", "12x", "not an integer"),
            ("flag", "maybe", "not a boolean"),
            ("mode", "c", "not one of a, b"),
        ] {
            let e =
                check(&specs(), &collect(&specs(), &env(&[("name", "x"), (k, v)]))).unwrap_err();
            assert_eq!(e.status, crate::OcfStatus::ErrConfigured);
            assert!(
                e.reason.contains(needle) && e.reason.contains(k),
                "{}",
                e.reason
            );
        }
    }

    #[test]
    fn booleans_accept_pacemaker_spellings() {
        for t in ["1", "true", "YES", "on", "y"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "false", "No", "off", "n"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("2"), None);
    }

    #[test]
    fn unknown_parameters_are_listed_but_meta_is_not() {
        let e = env(&[("name", "x"), ("nmae", "y"), ("CRM_meta_interval", "0")]);
        assert_eq!(unknown(&specs(), &e), vec!["nmae".to_string()]);
        assert_eq!(meta(&e), vec![("interval".to_string(), "0".to_string())]);
    }
}
