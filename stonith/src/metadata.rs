//! `-o metadata`: the fence-agents metadata XML, generated from the option table with
//! quick-xml (every attribute and text escaped). Deprecated names get their own
//! `deprecated="1"` entry and the canonical entry says what it `obsoletes`, like fence-agents.

use std::io;

use paddock_base::xml::{self, Writer};
use quick_xml::events::BytesText;

use crate::common::PASSWORD_ENV;
use crate::{AgentInfo, OptionSpec, OptionType};

/// The value placeholder shown in `--name=[placeholder]`, as fence-agents writes it.
fn placeholder(spec: &OptionSpec) -> &'static str {
    match (spec.name, &spec.kind) {
        ("ipport", _) => "port",
        ("username", _) => "name",
        ("password_script", _) => "script",
        ("plug", _) => "id",
        ("debug_file", _) => "debugfile",
        ("retry_on", _) => "attempts",
        ("hexadecimal_kg", _) => "key",
        ("privlvl", _) => "level",
        ("target", _) => "targetaddress",
        (name, _) if name.ends_with("_path") => "path",
        (_, OptionType::Second) => "seconds",
        (name, _) => name,
    }
}

/// fence-agents' `getopt mixed` text: `-a, --ip=[ip]`, `--delay=[seconds]`, `-v, --verbose`.
pub fn getopt_mixed(spec: &OptionSpec) -> String {
    let long = spec.long_flag();
    let value = match spec.kind {
        OptionType::Boolean => String::new(),
        _ => format!("=[{}]", placeholder(spec)),
    };
    match spec.short {
        Some(short) => format!("-{short}, {long}{value}"),
        None => format!("{long}{value}"),
    }
}

/// The actions this agent answers, in metadata order.
pub fn actions(info: &AgentInfo, has_diag: bool) -> Vec<&'static str> {
    let mut actions = vec!["on", "off", "reboot", "status"];
    if info.multiple_plugs {
        actions.extend(["list", "list-status"]);
    }
    actions.extend(["monitor", "metadata", "manpage", "validate-all"]);
    if has_diag {
        actions.push("diag");
    }
    actions
}

/// The agent's longdesc plus what the framework adds (the password environment variable).
pub fn full_longdesc(info: &AgentInfo) -> String {
    format!(
        "{}\n\nThe password can also be given in the environment variable {PASSWORD_ENV} (used when neither password_script nor password is set), so that it appears neither on the command line nor in the cluster configuration.",
        info.longdesc.trim_end()
    )
}

/// The metadata document of an agent with this option table.
pub fn metadata_xml(info: &AgentInfo, table: &[OptionSpec], has_diag: bool) -> String {
    xml::document(None, |w| write_document(w, info, table, has_diag))
}

fn write_document(
    writer: &mut Writer<Vec<u8>>,
    info: &AgentInfo,
    table: &[OptionSpec],
    has_diag: bool,
) -> io::Result<()> {
    writer
        .create_element("resource-agent")
        .with_attributes([("name", info.name), ("shortdesc", info.shortdesc)])
        .write_inner_content(|w| {
            w.create_element("longdesc")
                .write_text_content(BytesText::new(&full_longdesc(info)))?;
            w.create_element("vendor-url")
                .write_text_content(BytesText::new(info.vendor_url))?;
            w.create_element("parameters").write_inner_content(|w| {
                for spec in table {
                    let obsoletes = spec.deprecated_names.first().copied();
                    write_parameter(w, spec, spec.name, obsoletes, false)?;
                    for old in spec.deprecated_names {
                        write_parameter(w, spec, old, None, true)?;
                    }
                }
                Ok(())
            })?;
            w.create_element("actions").write_inner_content(|w| {
                for action in actions(info, has_diag) {
                    let element = w.create_element("action").with_attribute(("name", action));
                    // fence-agents marks `on` as not automatic (it is not an unfencing device).
                    let element = if action == "on" {
                        element.with_attribute(("automatic", "0"))
                    } else {
                        element
                    };
                    element.write_empty()?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(())
}

fn write_parameter(
    w: &mut Writer<Vec<u8>>,
    spec: &OptionSpec,
    name: &str,
    obsoletes: Option<&str>,
    deprecated: bool,
) -> io::Result<()> {
    let mut element = w
        .create_element("parameter")
        .with_attribute(("name", name))
        .with_attribute(("unique", "0"))
        .with_attribute((
            "required",
            if spec.required && !deprecated {
                "1"
            } else {
                "0"
            },
        ));
    if deprecated {
        element = element.with_attribute(("deprecated", "1"));
    }
    if let Some(old) = obsoletes {
        element = element.with_attribute(("obsoletes", old));
    }
    element.write_inner_content(|w| {
        w.create_element("getopt")
            .with_attribute(("mixed", getopt_mixed(spec).as_str()))
            .write_empty()?;
        let mut content = w
            .create_element("content")
            .with_attribute(("type", spec.kind.metadata_name()));
        if let Some(default) = spec.default.filter(|_| !spec.secret) {
            content = content.with_attribute(("default", default));
        }
        match spec.kind {
            OptionType::Select(choices) => {
                content.write_inner_content(|w| {
                    for choice in choices {
                        w.create_element("option")
                            .with_attribute(("value", *choice))
                            .write_empty()?;
                    }
                    Ok(())
                })?;
            }
            _ => {
                content.write_empty()?;
            }
        }
        w.create_element("shortdesc")
            .with_attribute(("lang", "en"))
            .write_text_content(BytesText::new(spec.shortdesc))?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::common_options;

    fn info() -> AgentInfo {
        AgentInfo {
            name: "fence_test",
            shortdesc: "Test <agent> & \"quotes\"",
            longdesc: "Long & <odd> text",
            vendor_url: "https://example.invalid/?a=1&b=2",
            multiple_plugs: false,
        }
    }

    #[test]
    fn getopt_forms() {
        let table = common_options();
        let find = |n: &str| *table.iter().find(|s| s.name == n).unwrap();
        assert_eq!(getopt_mixed(&find("ip")), "-a, --ip=[ip]");
        assert_eq!(getopt_mixed(&find("verbose")), "-v, --verbose");
        assert_eq!(getopt_mixed(&find("delay")), "--delay=[seconds]");
        assert_eq!(
            getopt_mixed(&find("password_script")),
            "-S, --password-script=[script]"
        );
        assert_eq!(
            getopt_mixed(&find("debug_file")),
            "-D, --debug-file=[debugfile]"
        );
    }

    #[test]
    fn special_characters_are_escaped() {
        let xml = metadata_xml(&info(), &common_options(), false);
        assert!(
            xml.contains("Test &lt;agent&gt; &amp; &quot;quotes&quot;"),
            "{xml}"
        );
        assert!(xml.contains("Long &amp; &lt;odd&gt; text"));
        assert!(xml.contains("a=1&amp;b=2"));
    }

    #[test]
    fn deprecated_names_and_obsoletes() {
        let xml = metadata_xml(&info(), &common_options(), false);
        assert!(
            xml.contains(r#"<parameter name="ip" unique="0" required="1" obsoletes="ipaddr">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<parameter name="ipaddr" unique="0" required="0" deprecated="1">"#));
        assert!(xml.contains(r#"<parameter name="port" unique="0" required="0" deprecated="1">"#));
        assert!(xml.contains(r#"<content type="select" default="onoff">"#));
    }

    #[test]
    fn list_actions_only_for_multiple_plugs() {
        let single = metadata_xml(&info(), &common_options(), false);
        assert!(!single.contains(r#"name="list""#));
        let multi = metadata_xml(
            &AgentInfo {
                multiple_plugs: true,
                ..info()
            },
            &common_options(),
            true,
        );
        assert!(multi.contains(r#"<action name="list"/>"#));
        assert!(multi.contains(r#"<action name="list-status"/>"#));
        assert!(multi.contains(r#"<action name="diag"/>"#));
        assert!(multi.contains(r#"<action name="on" automatic="0"/>"#));
    }
}
