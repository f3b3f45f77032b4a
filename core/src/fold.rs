//! Case and accents set aside, one way for the whole crate: enum and key matching
//! (`parse/coerce`) and grounding (`ground/text.rs`) fold a char alike, so "the accents
//! are set aside" means the same thing in both.
//!
//! A char is lowercased and decomposed for compatibility (NFKD: fullwidth `ＡＢＣ` is
//! `abc`, `ﬁ` is `fi`). Its combining marks are set aside only where they are accents:
//! on a Latin, Greek or Cyrillic letter. In every other script a mark is a letter of the
//! word (a Devanagari vowel sign, a Thai tone mark: `कल` is not `काला`, `ไข้` is not
//! `ไข่`), so it is kept. Vietnamese writes its tones as marks on Latin letters (`mả`
//! "tomb" is not `ma` "ghost"), so a text that is Vietnamese (see [`keeps_tones`]) keeps
//! the marks of its Latin letters too. The few Latin letters that decomposition leaves
//! whole (`ø`, `ł`, `đ`, `ß`, `æ`, `œ`, …) are spelled with their base letters.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Folds chars one after another: a combining mark that arrives as a char of its own (a
/// decomposed text) is kept or set aside by the letter it sits on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Folder {
    /// Whether Latin letters keep their marks: the text is Vietnamese.
    tones: bool,
    /// Whether the marks that follow sit on a letter whose accents are set aside.
    accents: bool,
}

impl Folder {
    /// A folder for a text; `tones` from [`keeps_tones`].
    pub(crate) fn new(tones: bool) -> Folder {
        Folder {
            tones,
            accents: false,
        }
    }

    /// Feeds the folded spelling of `c` to `push`: one char for most, none for an accent
    /// set aside, two for `ß`, `æ`, `œ`, several for a compatibility form (`ﬃ`).
    pub(crate) fn fold(&mut self, c: char, mut push: impl FnMut(char)) {
        if c.is_ascii() {
            self.accents = !self.tones && c.is_ascii_alphabetic();
            return push(c.to_ascii_lowercase());
        }
        if is_hangul_syllable(c) {
            // Decomposed into jamo, a syllable could be matched by halves.
            self.accents = false;
            return push(c);
        }
        for lower in c.to_lowercase() {
            for part in std::iter::once(lower).nfkd() {
                if is_combining_mark(part) {
                    if !self.accents {
                        push(part);
                    }
                    continue;
                }
                self.accents = has_accents(part) && !(self.tones && is_latin(part));
                match undecomposed(part) {
                    Some(spelled) => spelled.chars().for_each(&mut push),
                    None => push(part),
                }
            }
        }
    }
}

/// Whether a text is Vietnamese, so that its Latin letters keep their tone marks: it has
/// a letter only Vietnamese writes, one with a horn (`ơ`, `ư`), a hook above (`ả`), a
/// dot below (`ạ`), or a tone stacked on a circumflex or breve (`ầ`, `ắ`, `ộ`). Those
/// are not accents any other language sets aside; `đ` and `ă` alone are not counted
/// (Croatian, Romanian).
pub(crate) fn keeps_tones(s: &str) -> bool {
    s.chars().filter(|c| !c.is_ascii()).any(is_vietnamese)
}

/// Whether `c` is one of the Latin letters only Vietnamese writes.
fn is_vietnamese(c: char) -> bool {
    let (mut modifier, mut tone) = (false, false);
    for mark in std::iter::once(c).nfd().skip(1) {
        match mark {
            '\u{031B}' | '\u{0309}' | '\u{0323}' => return true,
            '\u{0302}' | '\u{0306}' => modifier = true,
            '\u{0300}' | '\u{0301}' | '\u{0303}' => tone = true,
            _ => {}
        }
    }
    modifier && tone
}

/// Whether marks on `base` are accents that may be set aside: it is a Latin, Greek or
/// Cyrillic letter. These blocks are written out because the marks of these three
/// scripts are the only ones that are accents on a letter rather than part of it; no
/// dependency gives a char's script.
fn has_accents(base: char) -> bool {
    is_latin(base) || matches!(base as u32, 0x0370..=0x03FF | 0x1F00..=0x1FFF | 0x0400..=0x052F)
}

/// Whether `c` is a Latin letter (Basic Latin to Latin Extended-B, the IPA block, and
/// Latin Extended Additional).
fn is_latin(c: char) -> bool {
    c.is_alphabetic() && matches!(c as u32, 0..=0x02AF | 0x1E00..=0x1EFF)
}

/// Whether `c` is a precomposed Hangul syllable.
fn is_hangul_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// A key for loose comparison: every letter and digit folded, everything else dropped.
/// `"In-Progress"` and `"in_progress"` both become `"inprogress"`. A Vietnamese string
/// keeps its tones.
pub(crate) fn key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut folder = Folder::new(keeps_tones(s));
    for c in s
        .chars()
        .filter(|c| c.is_alphanumeric() || is_combining_mark(*c))
    {
        folder.fold(c, |f| out.push(f));
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
        let mut folder = Folder::new(keeps_tones(s));
        s.chars().for_each(|c| folder.fold(c, |f| out.push(f)));
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
        assert_eq!(folded("cafe\u{301}"), "cafe", "a decomposed accent");
    }

    #[test]
    fn scripts_without_case_or_accents_are_kept() {
        assert_eq!(folded("日本語"), "日本語");
        assert_eq!(folded("Ελλάδα"), "ελλαδα");
        assert_eq!(folded("Артём"), "артем");
    }

    #[test]
    fn marks_of_other_scripts_are_letters() {
        assert_eq!(folded("काला"), "काला");
        assert_ne!(folded("काला"), folded("कल"));
        assert_ne!(folded("ไข้"), folded("ไข่"));
        assert_ne!(key("كَتَبَ"), key("كتب"), "Arabic vowel marks are kept");
    }

    #[test]
    fn vietnamese_keeps_its_tones() {
        assert!(keeps_tones("mả") && keeps_tones("Hà Nội") && keeps_tones("phở"));
        assert!(!keeps_tones("mà café") && !keeps_tones("Đakovo Brăila"));
        assert_ne!(folded("mả"), "ma");
        assert_eq!(folded("HÀ NỘI"), folded("hà nội"));
        assert_ne!(key("mả"), key("ma"));
    }

    #[test]
    fn compatibility_forms_are_their_letters() {
        assert_eq!(folded("ＡＢＣ１２３"), "abc123");
        assert_eq!(folded("ﬁne"), "fine");
        assert_eq!(folded("서울"), "서울", "Hangul syllables stay whole");
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
