//! The OCF 1.1 metadata rules, checked in code: Debian installs no copy of the official
//! RelaxNG schema (ClusterLabs/OCF-spec `ra/1.1/ra-api.rng`), only resource-agents' OCF 1.0
//! schema and pcs's deliberately relaxed 1.1 one. Tests run this beside xmllint with those.
//!
//! What the official schema requires and the relaxed ones do not: the element order
//! (version, longdesc, shortdesc, parameters, actions, special); `lang` on every description;
//! at least one parameter and one action; per parameter, optional `deprecated` first, then at
//! least one longdesc and shortdesc, then exactly one `content` of type boolean, string,
//! integer or select (select with at least one option); 0/1 for boolean attributes; every
//! action with a name and a timeout and no attribute the schema does not list.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// An element of the document: name, attributes, children (text is not needed by the rules).
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Node {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn node(start: &BytesStart) -> Result<Node, String> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("bad attribute: {e}"))?;
        let value = attribute
            .unescape_value()
            .map_err(|e| format!("bad attribute value: {e}"))?;
        attributes.push((
            String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Node {
        name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
        attributes,
        children: Vec::new(),
    })
}

fn parse(xml: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("not well-formed XML: {e}")),
            Ok(Event::Start(e)) => stack.push(node(&e)?),
            Ok(Event::Empty(e)) => {
                let leaf = node(&e)?;
                stack
                    .last_mut()
                    .ok_or("unbalanced end tag")?
                    .children
                    .push(leaf);
            }
            Ok(Event::End(_)) => {
                let done = stack.pop().ok_or("unbalanced end tag")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced end tag")?
                    .children
                    .push(done);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
        }
    }
    let mut document = stack
        .pop()
        .filter(|_| stack.is_empty())
        .ok_or("unclosed element")?;
    match document.children.len() {
        1 => Ok(document.children.remove(0)),
        n => Err(format!("{n} root elements")),
    }
}

/// Checks `children` against a sequence of (element name, minimum, maximum) in that order.
fn sequence(
    context: &str,
    children: &[Node],
    rules: &[(&str, usize, usize)],
    problems: &mut Vec<String>,
) {
    let mut index = 0;
    for (name, min, max) in rules {
        let mut count = 0;
        while index < children.len() && children[index].name == *name {
            count += 1;
            index += 1;
        }
        if count < *min || count > *max {
            problems.push(format!(
                "{context}: expected {} <{name}> here, found {count}",
                if *max == usize::MAX {
                    format!("at least {min}")
                } else if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                }
            ));
        }
    }
    if let Some(extra) = children.get(index) {
        problems.push(format!(
            "{context}: unexpected <{}> (wrong place or unknown)",
            extra.name
        ));
    }
}

fn only_attributes(context: &str, node: &Node, allowed: &[&str], problems: &mut Vec<String>) {
    for (name, _) in &node.attributes {
        if !allowed.contains(&name.as_str()) {
            problems.push(format!("{context}: attribute {name} is not allowed"));
        }
    }
}

fn boolean_attributes(context: &str, node: &Node, names: &[&str], problems: &mut Vec<String>) {
    for name in names {
        if let Some(value) = node.attribute(name).filter(|v| *v != "0" && *v != "1") {
            problems.push(format!("{context}: {name}=\"{value}\" is not 0 or 1"));
        }
    }
}

fn descriptions(context: &str, node: &Node, problems: &mut Vec<String>) {
    for child in node
        .children
        .iter()
        .filter(|c| c.name == "longdesc" || c.name == "shortdesc")
    {
        if child.attribute("lang").is_none() {
            problems.push(format!("{context}: <{}> without lang", child.name));
        }
    }
}

fn check_parameter(p: &Node, problems: &mut Vec<String>) {
    let context = format!("parameter {}", p.attribute("name").unwrap_or("(no name)"));
    if p.attribute("name").is_none() {
        problems.push(format!("{context}: no name"));
    }
    only_attributes(
        &context,
        p,
        &["name", "unique-group", "unique", "required", "reloadable"],
        problems,
    );
    boolean_attributes(&context, p, &["unique", "required", "reloadable"], problems);
    sequence(
        &context,
        &p.children,
        &[
            ("deprecated", 0, 1),
            ("longdesc", 1, usize::MAX),
            ("shortdesc", 1, usize::MAX),
            ("content", 1, 1),
        ],
        problems,
    );
    descriptions(&context, p, problems);
    for deprecated in p.children.iter().filter(|c| c.name == "deprecated") {
        for child in &deprecated.children {
            match child.name.as_str() {
                "replaced-with" if child.attribute("name").is_some() => {}
                "desc" if child.attribute("lang").is_some() => {}
                other => problems.push(format!(
                    "{context}: <deprecated> holds an invalid <{other}>"
                )),
            }
        }
    }
    for content in p.children.iter().filter(|c| c.name == "content") {
        only_attributes(&context, content, &["type", "default"], problems);
        match content.attribute("type") {
            Some("boolean" | "string" | "integer") if content.children.is_empty() => {}
            Some("select")
                if !content.children.is_empty()
                    && content
                        .children
                        .iter()
                        .all(|o| o.name == "option" && o.attribute("value").is_some()) => {}
            Some(kind) => problems.push(format!(
                "{context}: content type {kind} with invalid children"
            )),
            None => problems.push(format!("{context}: content without type")),
        }
    }
}

fn check_action(a: &Node, problems: &mut Vec<String>) {
    let context = format!("action {}", a.attribute("name").unwrap_or("(no name)"));
    for required in ["name", "timeout"] {
        if a.attribute(required).is_none() {
            problems.push(format!("{context}: no {required}"));
        }
    }
    only_attributes(
        &context,
        a,
        &[
            "name",
            "timeout",
            "interval",
            "start-delay",
            "depth",
            "role",
        ],
        problems,
    );
    if !a.children.is_empty() {
        problems.push(format!("{context}: must be empty"));
    }
}

/// Every way `xml` breaks the OCF 1.1 schema; empty when it conforms.
pub fn ocf_1_1_problems(xml: &str) -> Vec<String> {
    let root = match parse(xml) {
        Ok(root) => root,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    if root.name != "resource-agent" {
        return vec![format!(
            "root element is <{}>, not <resource-agent>",
            root.name
        )];
    }
    if root.attribute("name").is_none() {
        problems.push("resource-agent: no name".to_string());
    }
    only_attributes("resource-agent", &root, &["name", "version"], &mut problems);
    sequence(
        "resource-agent",
        &root.children,
        &[
            ("version", 1, 1),
            ("longdesc", 0, usize::MAX),
            ("shortdesc", 0, usize::MAX),
            ("parameters", 1, 1),
            ("actions", 1, 1),
            ("special", 0, 1),
        ],
        &mut problems,
    );
    descriptions("resource-agent", &root, &mut problems);
    for section in &root.children {
        match section.name.as_str() {
            "parameters" => {
                sequence(
                    "parameters",
                    &section.children,
                    &[("parameter", 1, usize::MAX)],
                    &mut problems,
                );
                section
                    .children
                    .iter()
                    .for_each(|p| check_parameter(p, &mut problems));
            }
            "actions" => {
                sequence(
                    "actions",
                    &section.children,
                    &[("action", 1, usize::MAX)],
                    &mut problems,
                );
                section
                    .children
                    .iter()
                    .for_each(|a| check_action(a, &mut problems));
            }
            "special" if section.attribute("tag").is_none() => {
                problems.push("special: no tag".to_string())
            }
            _ => {}
        }
    }
    problems
}

/// `xmllint --noout --relaxng SCHEMA -` fed `xml` on stdin: (valid, what it said). For the
/// agents' tests, beside `ocf_1_1_problems` (xmllint: Debian's libxml2-utils).
pub fn xmllint(schema: &std::path::Path, xml: &str) -> (bool, String) {
    let mut command = std::process::Command::new("xmllint");
    command.args(["--noout", "--relaxng"]).arg(schema).arg("-");
    xmllint_stdin(command, xml)
}

/// Feeds `xml` to an xmllint `command` on stdin: (valid, what it said).
pub fn xmllint_stdin(mut command: std::process::Command, xml: &str) -> (bool, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xmllint must be installed (libxml2-utils)");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(xml.as_bytes()).expect("write to xmllint");
    }
    let out = child.wait_with_output().expect("xmllint's answer");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"<?xml version="1.0"?>
<resource-agent name="t" version="1">
<version>1.1</version>
<longdesc lang="en">l</longdesc>
<shortdesc lang="en">s</shortdesc>
<parameters>
<parameter name="p" unique-group="g" reloadable="1">
<deprecated><replaced-with name="q"/><desc lang="en">old</desc></deprecated>
<longdesc lang="en">l</longdesc>
<shortdesc lang="en">s</shortdesc>
<content type="select" default="a"><option value="a"/></content>
</parameter>
</parameters>
<actions><action name="start" timeout="20s"/></actions>
</resource-agent>"#;

    #[test]
    fn a_conforming_document_passes() {
        assert_eq!(ocf_1_1_problems(GOOD), Vec::<String>::new());
    }

    #[test]
    fn each_rule_of_the_official_schema_is_enforced() {
        let broken = [
            (r#"<version>1.1</version>"#, "", "expected 1 <version>"),
            (
                r#"<longdesc lang="en">l</longdesc>
<shortdesc lang="en">s</shortdesc>
<parameters>"#,
                r#"<longdesc>l</longdesc>
<shortdesc lang="en">s</shortdesc>
<parameters>"#,
                "without lang",
            ),
            (
                r#"<content type="select" default="a"><option value="a"/></content>"#,
                "",
                "expected 1 <content>",
            ),
            (r#"<option value="a"/>"#, "", "content type select"),
            (r#"type="select""#, r#"type="time""#, "content type time"),
            (r#"reloadable="1""#, r#"reloadable="yes""#, "is not 0 or 1"),
            (
                r#"timeout="20s""#,
                r#"timeout="20s" interval-ms="1""#,
                "interval-ms is not allowed",
            ),
            (
                r#"name="start" timeout="20s""#,
                r#"name="start""#,
                "no timeout",
            ),
            (
                r#"<actions><action name="start" timeout="20s"/></actions>"#,
                "",
                "expected 1 <actions>",
            ),
            (
                r#"<deprecated><replaced-with name="q"/><desc lang="en">old</desc></deprecated>
<longdesc lang="en">l</longdesc>
<shortdesc lang="en">s</shortdesc>"#,
                r#"<shortdesc lang="en">s</shortdesc>
<longdesc lang="en">l</longdesc>"#,
                "expected at least 1 <longdesc>",
            ),
        ];
        for (from, to, expected) in broken {
            assert!(GOOD.contains(from), "{from}");
            let problems = ocf_1_1_problems(&GOOD.replacen(from, to, 1));
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{from} -> {to}: expected '{expected}' in {problems:?}"
            );
        }
        assert!(!ocf_1_1_problems("<resource-agent").is_empty());
    }
}
