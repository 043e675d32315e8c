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
use std::fmt::Write as _;

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

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
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
    let mut x = String::new();
    let _ = writeln!(x, "<?xml version=\"1.0\"?>");
    if dialect == Dialect::Portable {
        let _ = writeln!(x, "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">");
    }
    let _ = writeln!(
        x,
        "<resource-agent name=\"{}\" version=\"{}\">",
        escape(info.name),
        escape(info.version)
    );
    let ocf_version = if dialect == Dialect::Ocf11 {
        "1.1"
    } else {
        "1.0"
    };
    let _ = writeln!(x, "<version>{ocf_version}</version>");
    let _ = writeln!(
        x,
        "<longdesc lang=\"en\">{}</longdesc>",
        escape(info.longdesc.trim())
    );
    let _ = writeln!(
        x,
        "<shortdesc lang=\"en\">{}</shortdesc>",
        escape(info.shortdesc.trim())
    );
    let _ = writeln!(x, "<parameters>");
    for p in params {
        render_parameter(&mut x, p, dialect);
    }
    let _ = writeln!(x, "</parameters>");
    let _ = writeln!(x, "<actions>");
    let all = effective_actions(actions);
    for a in &all {
        let name = match (dialect, a.name) {
            (Dialect::Portable, "reload-agent") if all.iter().any(|b| b.name == "reload") => {
                continue
            }
            (Dialect::Portable, "reload-agent") => "reload",
            (_, n) => n,
        };
        let _ = write!(
            x,
            "<action name=\"{}\" timeout=\"{}s\"",
            escape(name),
            a.timeout_secs
        );
        if let Some(i) = a.interval_secs {
            let _ = write!(x, " interval=\"{i}s\"");
        }
        if let Some(d) = a.depth {
            let _ = write!(x, " depth=\"{d}\"");
        }
        let _ = writeln!(x, "/>");
    }
    let _ = writeln!(x, "</actions>");
    let _ = writeln!(x, "</resource-agent>");
    x
}

fn render_parameter(x: &mut String, p: &ParameterSpec, dialect: Dialect) {
    let _ = write!(x, "<parameter name=\"{}\"", escape(p.name));
    match (p.unique_group, dialect) {
        (Some(group), Dialect::Ocf11) => {
            let _ = write!(x, " unique-group=\"{}\"", escape(group));
        }
        (Some(_), Dialect::Portable) => x.push_str(" unique=\"1\""),
        (None, _) => {}
    }
    if p.required {
        x.push_str(" required=\"1\"");
    }
    if p.reloadable && dialect == Dialect::Ocf11 {
        x.push_str(" reloadable=\"1\"");
    }
    x.push_str(">\n");
    let mut shortdesc = p.shortdesc.trim().to_string();
    let mut longdesc = p.longdesc.trim().to_string();
    if let (ParamType::Select(options), Dialect::Portable) = (&p.kind, dialect) {
        longdesc = format!("{longdesc}\nAllowed values: {}.", options.join(", "));
    }
    if let Some(replaced_with) = p.deprecated {
        match dialect {
            Dialect::Ocf11 => {
                x.push_str("<deprecated>");
                if let Some(new) = replaced_with {
                    let _ = write!(x, "<replaced-with name=\"{}\"/>", escape(new));
                }
                x.push_str("</deprecated>\n");
            }
            Dialect::Portable => {
                let note = match replaced_with {
                    Some(new) => format!("deprecated, use {new}"),
                    None => "deprecated".to_string(),
                };
                shortdesc = format!("{shortdesc} ({note})");
                longdesc = format!("{longdesc}\n({note})");
            }
        }
    }
    let _ = writeln!(x, "<longdesc lang=\"en\">{}</longdesc>", escape(&longdesc));
    let _ = writeln!(
        x,
        "<shortdesc lang=\"en\">{}</shortdesc>",
        escape(&shortdesc)
    );
    let kind = match (&p.kind, dialect) {
        (ParamType::String, _) => "string",
        (ParamType::Integer, _) => "integer",
        (ParamType::Boolean, _) => "boolean",
        (ParamType::Select(_), Dialect::Ocf11) => "select",
        (ParamType::Select(_), Dialect::Portable) => "string",
    };
    let _ = write!(x, "<content type=\"{kind}\"");
    if let Some(d) = p.default {
        let _ = write!(x, " default=\"{}\"", escape(d));
    }
    match (&p.kind, dialect) {
        (ParamType::Select(options), Dialect::Ocf11) => {
            x.push_str(">\n");
            for o in options.iter() {
                let _ = writeln!(x, "<option value=\"{}\"/>", escape(o));
            }
            x.push_str("</content>\n");
        }
        _ => x.push_str("/>\n"),
    }
    let _ = writeln!(x, "</parameter>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

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
        let p = ParameterSpec {
            kind: ParamType::Select(&["x", "y"]),
            default: Some("x"),
            unique_group: Some("g"),
            reloadable: true,
            deprecated: Some(Some("new")),
            ..ParameterSpec::string("old", "Old", "Old one")
        };
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
