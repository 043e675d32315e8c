//! Writing XML documents (metadata) with quick-xml: one way for both frameworks.

use quick_xml::events::{BytesDecl, BytesText, Event};
pub use quick_xml::Writer;
use std::io;

/// A whole document written to memory, tab-indented, with the XML declaration and an optional
/// DOCTYPE line. `body` writes the root element.
pub fn document(
    doctype: Option<&str>,
    body: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>,
) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b'\t', 1);
    let written = (|| {
        writer.write_event(Event::Decl(BytesDecl::new("1.0", None, None)))?;
        if let Some(doctype) = doctype {
            writer.write_event(Event::DocType(BytesText::from_escaped(doctype)))?;
        }
        body(&mut writer)
    })();
    // Writing to memory fails only on a bug in the writer: such output is still the best there is.
    debug_assert!(written.is_ok(), "{written:?}");
    let mut text = String::from_utf8_lossy(&writer.into_inner()).into_owned();
    text.push('\n');
    text
}

/// An element holding only text (escaped), with attributes.
pub fn text_element(
    w: &mut Writer<Vec<u8>>,
    name: &str,
    attributes: &[(&str, &str)],
    text: &str,
) -> io::Result<()> {
    w.create_element(name)
        .with_attributes(attributes.iter().copied())
        .write_text_content(BytesText::new(text))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_doctype_and_escaped_content() {
        let xml = document(Some("root SYSTEM \"x.dtd\""), |w| {
            w.create_element("root")
                .with_attribute(("a", "1 < 2 & \"q\""))
                .write_inner_content(|w| text_element(w, "t", &[("lang", "en")], "<b> & c"))?;
            Ok(())
        });
        assert_eq!(
            xml,
            "<?xml version=\"1.0\"?>\n<!DOCTYPE root SYSTEM \"x.dtd\">\n<root a=\"1 &lt; 2 &amp; &quot;q&quot;\">\n\t<t lang=\"en\">&lt;b&gt; &amp; c</t>\n</root>\n"
        );
    }
}
