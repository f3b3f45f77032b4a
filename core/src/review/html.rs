//! [`Html`]: the page as it is written. Markup goes in only as `&'static str`, written in
//! this crate (the page template and the tags of `mod.rs`); everything else, from the text
//! and the values to numbers, goes through [`Html::text`], which escapes it. No call site
//! can forget to escape: there is no other way in.

use std::fmt::{self, Write as _};

pub(super) struct Html(String);

impl Html {
    pub(super) fn with_capacity(capacity: usize) -> Html {
        Html(String::with_capacity(capacity))
    }

    /// Markup of this crate's own, written as it is.
    pub(super) fn markup(&mut self, markup: &'static str) -> &mut Html {
        self.0.push_str(markup);
        self
    }

    /// Anything else, escaped for HTML text and quoted attribute values alike.
    pub(super) fn text(&mut self, text: impl fmt::Display) -> &mut Html {
        // Writing into a String cannot fail.
        let _ = write!(Escaping(&mut self.0), "{text}");
        self
    }

    pub(super) fn into_string(self) -> String {
        self.0
    }
}

/// A `fmt::Write` that escapes what it is given into the string it holds.
struct Escaping<'a>(&'a mut String);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for c in text.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                // The parser turns a raw CR (and CRLF) into LF; a reference keeps it.
                '\r' => self.0.push_str("&#13;"),
                // The parser drops a raw NUL and reads `&#0;` as U+FFFD: say so openly.
                '\0' => self.0.push('\u{fffd}'),
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_markup_is_kept() {
        let mut html = Html::with_capacity(0);
        html.markup("<b>")
            .text("<i>&\"'\r\0</i>")
            .text(42)
            .markup("</b>");
        assert_eq!(
            html.into_string(),
            "<b>&lt;i&gt;&amp;&quot;&#39;&#13;\u{fffd}&lt;/i&gt;42</b>"
        );
    }

    proptest::proptest! {
        /// Any text comes back from its escaped form as itself (a NUL as U+FFFD), and the
        /// escaped form holds no character that could open or close markup or an attribute.
        #[test]
        fn escaped_text_reads_back_as_itself_and_holds_no_markup(text in crate::arbitrary::string()) {
            let mut html = Html::with_capacity(0);
            html.text(&text);
            let escaped = html.into_string();
            proptest::prop_assert!(!escaped.contains(['<', '>', '"', '\'', '\r', '\0']));
            proptest::prop_assert_eq!(crate::review::tests::unescape(&escaped), text.replace('\0', "\u{fffd}"));
        }
    }
}
