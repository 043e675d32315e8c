//! The `meta-data` XML, generated from the same tables that parse the parameters.
//!
//! Two dialects: the caller that declares OCF 1.1 (`OCF_RA_VERSION_MAJOR=1`,
//! `OCF_RA_VERSION_MINOR>=1`, as Pacemaker 2.1+ does) gets full OCF 1.1 metadata
//! (unique-group, reloadable, deprecated/replaced-with, select options). Anyone else (a shell,
//! ocf-tester, resource-agents tooling) gets the portable subset, valid at once against the
//! OCF 1.1 schema, resource-agents' OCF 1.0 metadata.rng and the ra-api-1.dtd that ocf-tester
//! validates with: unique-group becomes `unique="1"`, reloadable is dropped, a select becomes a
//! string whose values the long description lists, deprecation is said in the descriptions,
//! and reload-agent is advertised as reload (the OCF 1.0 action for it).

use crate::{ActionSpec, AgentInfo, Env, ParamType, ParameterSpec};
use paddock_base::xml::{self, text_element, Writer};
use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Full OCF 1.1.
    Ocf11,
    /// Valid against OCF 1.1 and resource-agents' OCF 1.0 metadata.rng.
    Portable,
}

impl Dialect {
    pub fn for_caller(env: &Env) -> Dialect {
        let num = |k: &str| env.get(k).and_then(|v| v.trim().parse::<u32>().ok());
        match (num("OCF_RA_VERSION_MAJOR"), num("OCF_RA_VERSION_MINOR")) {
            (Some(major), _) if major > 1 => Dialect::Ocf11,
            (Some(1), Some(minor)) if minor >= 1 => Dialect::Ocf11,
            _ => Dialect::Portable,
        }
    }
}

/// Actions always present: meta-data and validate-all are handled by the framework.
pub fn effective_actions(actions: &[ActionSpec]) -> Vec<ActionSpec> {
    let mut all = actions.to_vec();
    for (name, timeout) in [("meta-data", 5), ("validate-all", 20)] {
        if !all.iter().any(|a| a.name == name) {
            all.push(ActionSpec::new(name, timeout));
        }
    }
    all
}

pub fn render(
    info: &AgentInfo,
    params: &[ParameterSpec],
    actions: &[ActionSpec],
    dialect: Dialect,
) -> String {
    let doctype =
        (dialect == Dialect::Portable).then_some("resource-agent SYSTEM \"ra-api-1.dtd\"");
    let ocf_version = match dialect {
        Dialect::Ocf11 => "1.1",
        Dialect::Portable => "1.0",
    };
    xml::document(doctype, |w| {
        w.create_element("resource-agent")
            .with_attributes([("name", info.name), ("version", info.version)])
            .write_inner_content(|w| {
                text_element(w, "version", &[], ocf_version)?;
                text_element(w, "longdesc", EN, info.longdesc.trim())?;
                text_element(w, "shortdesc", EN, info.shortdesc.trim())?;
                w.create_element("parameters").write_inner_content(|w| {
                    params
                        .iter()
                        .try_for_each(|p| write_parameter(w, p, dialect))
                })?;
                w.create_element("actions")
                    .write_inner_content(|w| write_actions(w, actions, dialect))?;
                Ok(())
            })?;
        Ok(())
    })
}

const EN: &[(&str, &str)] = &[("lang", "en")];

fn write_actions(
    w: &mut Writer<Vec<u8>>,
    actions: &[ActionSpec],
    dialect: Dialect,
) -> io::Result<()> {
    let all = effective_actions(actions);
    for a in &all {
        let name = match (dialect, a.name) {
            (Dialect::Portable, "reload-agent") if all.iter().any(|b| b.name == "reload") => {
                continue
            }
            (Dialect::Portable, "reload-agent") => "reload",
            (_, n) => n,
        };
        let timeout = format!("{}s", a.timeout_secs);
        let interval = a.interval_secs.map(|i| format!("{i}s"));
        let depth = a.depth.map(|d| d.to_string());
        let mut element = w
            .create_element("action")
            .with_attributes([("name", name), ("timeout", timeout.as_str())]);
        if let Some(interval) = &interval {
            element = element.with_attribute(("interval", interval.as_str()));
        }
        if let Some(depth) = &depth {
            element = element.with_attribute(("depth", depth.as_str()));
        }
        element.write_empty()?;
    }
    Ok(())
}

/// The descriptions as the dialect has them: the portable subset says in words what OCF 1.1
/// says in markup (the allowed values of a select, a deprecation).
fn descriptions(p: &ParameterSpec, dialect: Dialect) -> (String, String) {
    let mut shortdesc = p.shortdesc.trim().to_string();
    let mut longdesc = p.longdesc.trim().to_string();
    if dialect == Dialect::Ocf11 {
        return (shortdesc, longdesc);
    }
    if let ParamType::Select(options) = &p.kind {
        longdesc = format!("{longdesc}\nAllowed values: {}.", options.join(", "));
    }
    if let Some(replaced_with) = p.deprecated {
        let note = match replaced_with {
            Some(new) => format!("deprecated, use {new}"),
            None => "deprecated".to_string(),
        };
        shortdesc = format!("{shortdesc} ({note})");
        longdesc = format!("{longdesc}\n({note})");
    }
    (shortdesc, longdesc)
}

fn write_parameter(w: &mut Writer<Vec<u8>>, p: &ParameterSpec, dialect: Dialect) -> io::Result<()> {
    let mut element = w
        .create_element("parameter")
        .with_attribute(("name", p.name));
    match (p.unique_group, dialect) {
        (Some(group), Dialect::Ocf11) => element = element.with_attribute(("unique-group", group)),
        (Some(_), Dialect::Portable) => element = element.with_attribute(("unique", "1")),
        (None, _) => {}
    }
    if p.required {
        element = element.with_attribute(("required", "1"));
    }
    if p.reloadable && dialect == Dialect::Ocf11 {
        element = element.with_attribute(("reloadable", "1"));
    }
    let (shortdesc, longdesc) = descriptions(p, dialect);
    element.write_inner_content(|w| {
        if let (Some(replaced_with), Dialect::Ocf11) = (p.deprecated, dialect) {
            w.create_element("deprecated").write_inner_content(|w| {
                if let Some(new) = replaced_with {
                    w.create_element("replaced-with")
                        .with_attribute(("name", new))
                        .write_empty()?;
                }
                Ok(())
            })?;
        }
        text_element(w, "longdesc", EN, &longdesc)?;
        text_element(w, "shortdesc", EN, &shortdesc)?;
        write_content(w, p, dialect)
    })?;
    Ok(())
}

fn write_content(w: &mut Writer<Vec<u8>>, p: &ParameterSpec, dialect: Dialect) -> io::Result<()> {
    let kind = match (&p.kind, dialect) {
        // The portable subset lists a select's values in the long description.
        (ParamType::Select(_), Dialect::Portable) => "string",
        (kind, _) => kind.ocf_name(),
    };
    let mut content = w.create_element("content").with_attribute(("type", kind));
    if let Some(default) = p.default {
        content = content.with_attribute(("default", default));
    }
    match (&p.kind, dialect) {
        (ParamType::Select(options), Dialect::Ocf11) => {
            content.write_inner_content(|w| {
                for option in options.iter() {
                    w.create_element("option")
                        .with_attribute(("value", *option))
                        .write_empty()?;
                }
                Ok(())
            })?;
        }
        _ => {
            content.write_empty()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_follows_the_callers_ocf_version() {
        assert_eq!(Dialect::for_caller(&Env::default()), Dialect::Portable);
        let e = Env::from_pairs([("OCF_RA_VERSION_MAJOR", "1"), ("OCF_RA_VERSION_MINOR", "1")]);
        assert_eq!(Dialect::for_caller(&e), Dialect::Ocf11);
        let e = Env::from_pairs([("OCF_RA_VERSION_MAJOR", "1"), ("OCF_RA_VERSION_MINOR", "0")]);
        assert_eq!(Dialect::for_caller(&e), Dialect::Portable);
    }

    #[test]
    fn ocf11_carries_group_reloadable_deprecation_and_options() {
        let p = ParameterSpec::new("old", ParamType::Select(&["x", "y"]), "Old", "Old one")
            .default("x")
            .unique_group("g")
            .reloadable()
            .deprecated(Some("new"));
        let info = AgentInfo {
            name: "t",
            provider: "test",
            version: "1",
            shortdesc: "s",
            longdesc: "l",
        };
        let full = render(
            &info,
            std::slice::from_ref(&p),
            &[ActionSpec::new("start", 20)],
            Dialect::Ocf11,
        );
        for needle in [
            "unique-group=\"g\"",
            "reloadable=\"1\"",
            "<replaced-with name=\"new\"/>",
            "<option value=\"y\"/>",
            "<version>1.1</version>",
        ] {
            assert!(full.contains(needle), "{needle} missing in {full}");
        }
        let portable = render(
            &info,
            &[p],
            &[ActionSpec::new("start", 20)],
            Dialect::Portable,
        );
        assert!(
            portable.contains("unique=\"1\"")
                && !portable.contains("reloadable")
                && !portable.contains("<deprecated")
        );
        assert!(portable.contains("(deprecated, use new)"));
        assert!(
            portable.contains("<content type=\"string\" default=\"x\"/>")
                && portable.contains("Allowed values: x, y.")
        );
        assert!(portable.contains("<action name=\"meta-data\" timeout=\"5s\"/>"));
    }
}
