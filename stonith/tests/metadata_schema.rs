//! The generated metadata validates against fence-agents' RelaxNG schema (xmllint --relaxng),
//! for single- and multi-plug agents, and lists every row of the option table.

mod sim;

use std::path::PathBuf;
use std::process::Command;

use sim::{run, Sim, SimAgent};

/// fence-agents' lib/metadata.rng, as Debian's fence-agents package installs it.
fn schema() -> PathBuf {
    let path = PathBuf::from(FENCE_AGENTS_RNG);
    assert!(
        path.is_file(),
        "{FENCE_AGENTS_RNG} is missing: install Debian's fence-agents (make setup does)"
    );
    path
}

const FENCE_AGENTS_RNG: &str = "/usr/share/cluster/relaxng/metadata.rng";

fn validate(xml: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("metadata.xml");
    std::fs::write(&file, xml).expect("write metadata");
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(schema())
        .arg(&file)
        .output()
        .expect("xmllint must be installed (package libxml2-utils)");
    assert!(
        output.status.success(),
        "metadata does not validate:\n{}\n{xml}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn metadata(agent: &SimAgent) -> String {
    let r = run(agent, &["-o", "metadata"], "", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

#[test]
fn single_plug_metadata_validates() {
    let agent = SimAgent::new(Sim::default());
    let xml = metadata(&agent);
    validate(&xml);
    for name in stonith::option_table(&agent)
        .iter()
        .flat_map(|s| std::iter::once(s.name).chain(s.deprecated_names.iter().copied()))
    {
        assert!(
            xml.contains(&format!("<parameter name=\"{name}\"")),
            "{name} missing"
        );
    }
    assert!(xml.contains("PADDOCK_FENCE_PASSWORD"));
    assert!(!xml.contains("name=\"list\""));
}

#[test]
fn multi_plug_metadata_with_diag_validates() {
    let mut agent = SimAgent::new(Sim::default());
    agent.multiple_plugs = true;
    agent.diag = true;
    let xml = metadata(&agent);
    validate(&xml);
    assert!(
        xml.contains(r#"<parameter name="plug" unique="0" required="1" obsoletes="port">"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<action name="list-status"/>"#));
    assert!(xml.contains(r#"<action name="diag"/>"#));
}

#[test]
fn invalid_metadata_is_rejected_by_the_check() {
    // The check itself can fail: a document without parameters is not valid.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.xml");
    std::fs::write(
        &file,
        "<resource-agent name=\"x\" shortdesc=\"y\"><longdesc/></resource-agent>",
    )
    .unwrap();
    let status = Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(schema())
        .arg(&file)
        .output()
        .expect("xmllint must be installed (package libxml2-utils)")
        .status;
    assert!(!status.success());
}
