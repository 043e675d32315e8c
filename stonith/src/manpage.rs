//! `-o manpage`: a roff manual page generated from the same option table as the metadata.

use crate::common::PASSWORD_ENV;
use crate::metadata::{actions, full_longdesc, getopt_mixed};
use crate::{AgentInfo, OptionSpec, OptionType};
use paddock_base::roff::escape as roff_escape;

fn describe(spec: &OptionSpec) -> String {
    let mut text = spec.shortdesc.trim_end().to_string();
    if !text.ends_with('.') {
        text.push('.');
    }
    if let OptionType::Select(choices) = spec.kind {
        text.push_str(&format!(" One of: {}.", choices.join(", ")));
    }
    if let Some(default) = spec.default.filter(|_| !spec.secret) {
        text.push_str(&format!(" Default value: {default}."));
    }
    if spec.required {
        text.push_str(" This parameter is always required.");
    }
    if !spec.deprecated_names.is_empty() {
        text.push_str(&format!(
            " Obsoletes: {}.",
            spec.deprecated_names.join(", ")
        ));
    }
    text
}

fn action_description(action: &str) -> &'static str {
    match action {
        "on" => "Power on machine.",
        "off" => "Power off machine.",
        "reboot" => "Reboot machine.",
        "status" => "This returns the status of the plug/virtual machine.",
        "list" => "List available plugs with aliases/virtual machines if there is support for more then one device. Returns N/A otherwise.",
        "list-status" => "List available plugs with aliases/virtual machines and their power state if it can be obtained without additional commands.",
        "monitor" => "Check the health of fence device",
        "metadata" => "Display the XML metadata describing this resource.",
        "manpage" => "The operational behavior of this is not known.",
        "validate-all" => "Validate if all required parameters are entered.",
        "diag" => "Pulse a diagnostic interrupt to the processor on the machine.",
        _ => "",
    }
}

/// The whole page.
pub fn manpage(info: &AgentInfo, table: &[OptionSpec], has_diag: bool) -> String {
    let mut page = String::new();
    let name = roff_escape(info.name);
    page.push_str(&format!(
        ".TH {} 8 \"\" \"paddock {}\" \"Fence agents\"\n",
        name.to_uppercase(),
        env!("CARGO_PKG_VERSION")
    ));
    page.push_str(&format!(
        ".SH NAME\n{name} \\- {}\n",
        roff_escape(info.shortdesc)
    ));
    page.push_str(&format!(".SH SYNOPSIS\n.B {name}\n[\\fIOPTION\\fR]...\n"));
    page.push_str(".SH DESCRIPTION\n");
    for paragraph in full_longdesc(info).split("\n\n") {
        page.push_str(&format!(".P\n{}\n", roff_escape(paragraph.trim())));
    }
    if !info.vendor_url.is_empty() {
        page.push_str(&format!(
            ".P\nVendor URL: {}\n",
            roff_escape(info.vendor_url)
        ));
    }
    page.push_str(".SH PARAMETERS\n");
    for spec in table {
        page.push_str(&format!(
            ".TP\n.B {}\n{}\n",
            roff_escape(&getopt_mixed(spec)),
            roff_escape(&describe(spec))
        ));
    }
    page.push_str(".SH ACTIONS\n");
    for action in actions(info, has_diag) {
        page.push_str(&format!(
            ".TP\n\\fB{}\\fP\n{}\n",
            roff_escape(action),
            roff_escape(action_description(action))
        ));
    }
    page.push_str(".SH STDIN PARAMETERS\n");
    page.push_str(".P\nWithout command line arguments, options are read from standard input as name=value lines; lines starting with # are ignored.\n");
    for spec in table {
        let mut names = vec![spec.name];
        names.extend(spec.deprecated_names);
        page.push_str(&format!(
            ".TP\n.B {}\n{}\n",
            roff_escape(&names.join(", ")),
            roff_escape(&describe(spec))
        ));
    }
    page.push_str(&format!(
        ".SH ENVIRONMENT\n.TP\n.B {}\nLogin password, used when neither password_script nor password is given.\n",
        roff_escape(PASSWORD_ENV)
    ));
    page.push_str(".SH EXIT STATUS\n.P\n0 on success; for status, 0 when on and 2 when off; 1 on any error (bad options, device unreachable, state not reached in time).\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::common_options;

    #[test]
    fn lists_every_option_and_action() {
        let info = AgentInfo {
            name: "fence_test",
            shortdesc: "Test",
            longdesc: ".dangerous line",
            vendor_url: "",
            multiple_plugs: false,
        };
        let table = common_options();
        let page = manpage(&info, &table, false);
        assert!(page.starts_with(".TH FENCE_TEST 8"));
        for spec in &table {
            assert!(
                page.contains(&roff_escape(&getopt_mixed(spec))),
                "{}",
                spec.name
            );
        }
        assert!(page.contains("\\fBvalidate\\-all\\fP"));
        assert!(page.contains("\\&.dangerous line"));
        assert!(page.contains("PADDOCK_FENCE_PASSWORD"));
    }
}
