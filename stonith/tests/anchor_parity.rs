//! The common option table keeps fence-agents' names, command-line forms, types and defaults:
//! compared with the metadata that the installed anchor, Debian's fence_ipmilan, prints.

use std::collections::HashMap;
use std::process::Command;

use quick_xml::events::Event;
use quick_xml::Reader;
use stonith::common_options;
use stonith::metadata::getopt_mixed;

#[derive(Debug, Default)]
struct AnchorParameter {
    getopt: String,
    content_type: Option<String>,
    default: Option<String>,
}

fn anchor() -> HashMap<String, AnchorParameter> {
    let output = Command::new("fence_ipmilan")
        .args(["-o", "metadata"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run fence_ipmilan ({e}): install Debian's fence-agents (make setup does)"
            )
        });
    assert!(
        output.status.success(),
        "fence_ipmilan -o metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut reader = Reader::from_str(&text);
    let mut parameters = HashMap::new();
    let mut current: Option<(String, AnchorParameter)> = None;
    loop {
        match reader.read_event().expect("anchor metadata is XML") {
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .ok()
                        .flatten()
                        .map(|a| a.unescape_value().unwrap_or_default().into_owned())
                };
                match e.name().as_ref() {
                    b"parameter" => {
                        current =
                            Some((attr("name").unwrap_or_default(), AnchorParameter::default()))
                    }
                    b"getopt" => {
                        if let Some((_, p)) = current.as_mut() {
                            p.getopt = attr("mixed").unwrap_or_default();
                        }
                    }
                    b"content" => {
                        if let Some((_, p)) = current.as_mut() {
                            p.content_type = attr("type");
                            p.default = attr("default");
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) if e.name().as_ref() == b"parameter" => {
                if let Some((name, p)) = current.take() {
                    parameters.insert(name, p);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    parameters
}

/// `-a, --ip=[ip]` -> `-a, --ip`: the placeholder is only decoration.
fn option_forms(mixed: &str) -> &str {
    mixed.split('=').next().unwrap_or(mixed)
}

#[test]
fn common_rows_match_fence_ipmilan() {
    let anchor = anchor();
    // Rows whose default fence_ipmilan changes for itself (agents replace these rows).
    let agent_specific_default = ["ipport", "power_wait"];
    let mut compared = 0;
    for spec in common_options() {
        let Some(theirs) = anchor.get(spec.name) else {
            continue;
        };
        compared += 1;
        assert_eq!(
            option_forms(&getopt_mixed(&spec)),
            option_forms(&theirs.getopt),
            "{}",
            spec.name
        );
        let ours_type = spec.kind.metadata_name();
        if let Some(their_type) = &theirs.content_type {
            assert_eq!(ours_type, their_type, "{}", spec.name);
        }
        if !agent_specific_default.contains(&spec.name) {
            assert_eq!(
                spec.default.map(str::to_string),
                theirs.default,
                "default of {}",
                spec.name
            );
        }
        for old in spec.deprecated_names {
            if let Some(theirs_old) = anchor.get(*old) {
                assert_eq!(
                    option_forms(&theirs_old.getopt),
                    option_forms(&theirs.getopt),
                    "{old}"
                );
            }
        }
    }
    assert!(
        compared >= 18,
        "only {compared} common rows found in the anchor"
    );
}
