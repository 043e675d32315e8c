//! The agent's manual page, `ocf_PROVIDER_NAME(7)` in the layout of resource-agents' pages,
//! generated from the same parameter and action tables as the metadata.

use crate::metadata::effective_actions;
use crate::{ActionSpec, AgentInfo, ParamType, ParameterSpec};
use paddock_base::roff::{escape, paragraphs};

/// The whole page, in roff (man(7) macros).
pub fn render(info: &AgentInfo, params: &[ParameterSpec], actions: &[ActionSpec]) -> String {
    let title = format!("ocf_{}_{}", info.provider, info.name);
    let actions = effective_actions(actions);
    let mut page = format!(
        ".TH {} 7 \"\" \"{} {}\" \"OCF resource agents\"\n",
        escape(&title.to_uppercase()),
        escape(info.provider),
        escape(info.version)
    );
    page.push_str(&format!(
        ".SH NAME\n{} \\- {}\n",
        escape(&title),
        escape(info.shortdesc.trim())
    ));
    page.push_str(&synopsis(info, &actions));
    page.push_str(".SH DESCRIPTION\n");
    page.push_str(&paragraphs(info.longdesc));
    page.push_str(".SH SUPPORTED PARAMETERS\n");
    for p in params {
        page.push_str(&parameter(p));
    }
    page.push_str(".SH SUPPORTED ACTIONS\n.PP\nThis resource agent supports the following actions (operations):\n");
    for a in &actions {
        page.push_str(&action(a));
    }
    page.push_str(&examples(info, params, &actions));
    page.push_str(EXIT_STATUS);
    page.push_str(&format!(
        ".SH SEE ALSO\n.PP\n\\fBpcs\\fR(8), \\fBcrm\\fR(8), \\fBcrm_resource\\fR(8), \\fBpacemaker\\-schedulerd\\fR(7)\n.PP\nThe agent answers \\fBmeta\\-data\\fR with this information as XML; \\fBpcs resource describe ocf:{}:{}\\fR shows it too.\n",
        escape(info.provider),
        escape(info.name)
    ));
    page
}

fn synopsis(info: &AgentInfo, actions: &[ActionSpec]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for a in actions {
        if !names.contains(&a.name) {
            names.push(a.name);
        }
    }
    format!(
        ".SH SYNOPSIS\n.PP\n\\fB{}\\fR [{}]\n",
        escape(info.name),
        escape(&names.join(" | "))
    )
}

/// `(unique-group config, required, string, no default)`, as resource-agents' pages say it.
fn attributes(p: &ParameterSpec) -> String {
    let mut attrs = Vec::new();
    if let Some(group) = p.unique_group {
        attrs.push(format!("unique-group {group}"));
    }
    attrs.push(if p.required { "required" } else { "optional" }.to_string());
    if p.reloadable {
        attrs.push("reloadable".to_string());
    }
    attrs.push(p.kind.ocf_name().to_string());
    attrs.push(match p.default {
        Some(d) if !d.is_empty() => format!("default {d}"),
        _ => "no default".to_string(),
    });
    format!("({})", attrs.join(", "))
}

fn parameter(p: &ParameterSpec) -> String {
    let mut text = format!(".PP\n\\fB{}\\fR\n.RS 4\n", escape(p.name));
    let summary = p.shortdesc.trim().trim_end_matches('.');
    text.push_str(&format!("{}.\n", escape(summary)));
    let long = paragraphs(p.longdesc);
    if !long.is_empty() && p.longdesc.trim() != p.shortdesc.trim() {
        text.push_str(&long.replace(".PP\n", ".sp\n"));
    }
    if let ParamType::Select(options) = p.kind {
        text.push_str(&format!(".sp\nOne of: {}.\n", escape(&options.join(", "))));
    }
    if let Some(replacement) = p.deprecated {
        let note = match replacement {
            Some(new) => format!("Deprecated: use \\fB{}\\fR instead.", escape(new)),
            None => "Deprecated.".to_string(),
        };
        text.push_str(&format!(".sp\n{note}\n"));
    }
    text.push_str(&format!(".sp\n{}\n.RE\n", escape(&attributes(p))));
    text
}

fn action_purpose(name: &str) -> &'static str {
    match name {
        "start" => "Starts the resource.",
        "stop" => "Stops the resource.",
        "monitor" => "Checks whether the resource runs, and how well.",
        "status" => "The same check as monitor (for older callers).",
        "migrate_to" => "Live-migrates the resource from this node to the target node.",
        "migrate_from" => "Completes a live migration on the target node.",
        "meta-data" => "Prints the agent's metadata (XML).",
        "validate-all" => "Checks the configuration without changing anything.",
        "reload-agent" => "Takes new values of reloadable parameters without a restart.",
        "reload" => "Reloads the service's own configuration.",
        "notify" => "Receives clone and promotable notifications.",
        _ => "",
    }
}

fn action(a: &ActionSpec) -> String {
    let mut text = format!(
        ".PP\n\\fB{}\\fR\n.RS 4\n{} Suggested minimum timeout: {}s.",
        escape(a.name),
        escape(action_purpose(a.name)),
        a.timeout_secs
    );
    if let Some(interval) = a.interval_secs {
        text.push_str(&format!(" Suggested interval: {interval}s."));
    }
    if let Some(depth) = a.depth.filter(|d| *d > 0) {
        text.push_str(&format!(" Check level (OCF_CHECK_LEVEL): {depth}."));
    }
    text.push_str("\n.RE\n");
    text
}

/// Parameters shown in the examples, in roff: the required ones and those with an example value
/// (a required one without an example shows its type as a placeholder, as resource-agents' pages do).
fn example_params(params: &[ParameterSpec]) -> Vec<String> {
    params
        .iter()
        .filter(|p| p.required || p.example.is_some())
        .map(|p| {
            let value = match (p.example, &p.kind) {
                (Some(example), _) => escape(example),
                (None, ParamType::Integer) => "\\fIinteger\\fR".to_string(),
                (None, ParamType::Boolean) => "\\fIboolean\\fR".to_string(),
                (None, _) => "\\fIstring\\fR".to_string(),
            };
            format!("{}={value}", escape(p.name))
        })
        .collect()
}

/// Lines joined with shell continuations (a backslash, `\\e` in roff).
fn continued(lines: &[String]) -> String {
    lines.join(" \\e\n")
}

fn examples(info: &AgentInfo, params: &[ParameterSpec], actions: &[ActionSpec]) -> String {
    let resource = escape(&format!("p_{}", info.name));
    let agent = escape(&format!("ocf:{}:{}", info.provider, info.name));
    let params = example_params(params);
    let monitor = actions
        .iter()
        .find(|a| a.name == "monitor" && a.depth.unwrap_or(0) == 0)
        .map(|m| {
            format!(
                "op monitor interval={}s timeout={}s",
                m.interval_secs.unwrap_or(10),
                m.timeout_secs
            )
        });
    let mut pcs = vec![format!("pcs resource create {resource} {agent}")];
    pcs.extend(params.iter().map(|p| format!("  {p}")));
    pcs.extend(monitor.iter().map(|m| format!("  {m}")));
    let mut crm = vec![format!("primitive {resource} {agent}")];
    if !params.is_empty() {
        crm.push("  params".to_string());
        crm.extend(params.iter().map(|p| format!("    {p}")));
    }
    crm.extend(monitor.iter().map(|m| format!("  {m}")));
    format!(
        ".SH EXAMPLE PCS\n.PP\nAn example configuration with \\fBpcs\\fR(8):\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n\
         .SH EXAMPLE CRM SHELL\n.PP\nThe same with the \\fBcrm\\fR(8) shell:\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
        continued(&pcs),
        continued(&crm)
    )
}

const EXIT_STATUS: &str = ".SH EXIT STATUS\n.PP\nThe OCF exit codes: 0 success, 1 generic error, 2 invalid arguments, 3 unimplemented action, 4 insufficient privileges, 5 not installed (a node-local problem), 6 not configured (wrong parameters, on every node), 7 not running, 190 running but degraded (OCF 1.1). On failure the agent prints an \\fBocf\\-exit\\-reason:\\fR line that Pacemaker shows in \\fBcrm_mon\\fR(8).\n";
