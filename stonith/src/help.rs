//! `-h`: the usage text, from the option table.

use crate::metadata::getopt_mixed;
use crate::OptionSpec;

pub fn usage(name: &str, table: &[OptionSpec]) -> String {
    let mut text = format!("Usage:\n\t{name} [options]\nOptions:\n");
    for spec in table {
        let mut line = format!("   {:<40} {}", getopt_mixed(spec), spec.shortdesc);
        if let Some(default) = spec.default.filter(|_| !spec.secret) {
            line.push_str(&format!(" (default: {default})"));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
