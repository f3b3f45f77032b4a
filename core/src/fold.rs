//! Case and accents set aside, one way for the whole crate: enum and key matching
//! (`parse/coerce`) and grounding (`ground/text.rs`) fold a char alike, so "the accents
//! are set aside" means the same thing in both.
//!
//! A char is lowercased, decomposed (NFD) with its combining marks dropped, and the few
//! Latin letters that NFD leaves whole (`ø`, `ł`, `đ`, `ß`, `æ`, `œ`, …) are spelled with
//! their base letters.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Feeds the folded spelling of `c` to `push`: one char for most, none for a lone
/// combining mark, two for `ß`, `æ`, `œ`.
pub(crate) fn fold(c: char, mut push: impl FnMut(char)) {
    for lower in c.to_lowercase() {
        for base in std::iter::once(lower).nfd() {
            if is_combining_mark(base) {
                continue;
            }
            match undecomposed(base) {
                Some(spelled) => spelled.chars().for_each(&mut push),
                None => push(base),
            }
        }
    }
}

/// A key for loose comparison: every letter and digit folded, everything else dropped.
/// `"In-Progress"` and `"in_progress"` both become `"inprogress"`.
pub(crate) fn key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| c.is_alphanumeric()) {
        fold(c, |f| out.push(f));
    }
    out
}

/// The base letters of a lowercase Latin letter that has no canonical decomposition.
fn undecomposed(c: char) -> Option<&'static str> {
    Some(match c {
        'ø' => "o",
        'ł' => "l",
        'đ' => "d",
        'ħ' => "h",
        'ı' => "i",
        'ŧ' => "t",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        let mut out = String::new();
        s.chars().for_each(|c| fold(c, |f| out.push(f)));
        out
    }

    #[test]
    fn accents_are_set_aside_whether_or_not_nfd_decomposes_them() {
        assert_eq!(folded("São Paulo"), "sao paulo");
        assert_eq!(folded("Ǎ"), "a", "NFD decomposes it");
        assert_eq!(
            folded("Øre Łódź Đakovo"),
            "ore lodz dakovo",
            "NFD leaves these whole"
        );
        assert_eq!(folded("Straße Æther Œuvre"), "strasse aether oeuvre");
        assert_eq!(folded("İstanbul"), "istanbul");
    }

    #[test]
    fn scripts_without_case_or_accents_are_kept() {
        assert_eq!(folded("日本語"), "日本語");
        assert_eq!(folded("Ελλάδα"), "ελλαδα");
    }

    #[test]
    fn a_key_keeps_only_folded_letters_and_digits() {
        assert_eq!(key("In-Progress"), "inprogress");
        assert_eq!(key("São Paulo"), "saopaulo");
        assert_eq!(key("Straße"), "strasse");
        assert_eq!(key("Ǎ-Łódź 2"), "alodz2");
        assert_eq!(key("日本"), "日本");
        assert_eq!(key("--"), "");
    }
}
