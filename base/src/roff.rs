//! roff for the generated man pages (fence agents' section 8, OCF agents' section 7).

/// Escape text for roff: backslashes, hyphens, and a leading `.` or `'` (control characters).
pub fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|line| {
            if line.starts_with('.') || line.starts_with('\'') {
                format!("\\&{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text as roff paragraphs: a blank line in the source starts a new `.PP`; single line breaks
/// are kept as breaks (`.br`), since descriptions use them for lists.
pub fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for paragraph in text.trim().split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str(".PP\n");
        let lines: Vec<String> = paragraph.lines().map(|l| escape(l.trim())).collect();
        out.push_str(&lines.join("\n.br\n"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape(".TH x\n'b\\c-d"), "\\&.TH x\n\\&'b\\ec\\-d");
    }

    #[test]
    fn paragraphs_split_on_blank_lines_and_keep_breaks() {
        assert_eq!(
            paragraphs("one\ntwo\n\n.three\n"),
            ".PP\none\n.br\ntwo\n.PP\n\\&.three\n"
        );
    }
}
