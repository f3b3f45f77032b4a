//! JSON Schema `pattern`s rewritten into the regex subset that llama.cpp's grammar converter
//! (`common/json-schema-to-grammar.cpp`, `_pattern_to_rule`) turns into a grammar:
//! [`translate`], and the reason a pattern cannot be ([`Untranslatable`]).
//!
//! The pattern is parsed with `regex-syntax` (the parser the local validator builds on) and
//! printed back with only what the converter reads: one `^…$` pair around the whole
//! pattern, literals, `[…]`/`[^…]` classes of single characters and ranges, `(…)`, `|`,
//! and the quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{m,n}`. In classes the converter only
//! takes the escapes `\xHH`, `\uHHHH`, `\UHHHHHHHH`, `\t`, `\r`, `\n`, `\\`, `\"`, `\[`,
//! `\]` and `\-`; anything else (`\d`, `\s`, …) makes it warn and accept any string.
//!
//! Escapes are read as ECMA-262 reads them, which is what factum's local validation does
//! (the `jsonschema` crate translates `\d`, `\w`, `\s` and `.` to their ECMA-262 sets):
//! - `\d` is `[0-9]` and `\w` is `[0-9A-Za-z_]`, ASCII only (what users mean, and what
//!   the validator checks; Rust's own `\d` would take every Unicode digit);
//! - `\s` is ECMA-262's WhiteSpace and LineTerminator: `\t`–`\r`, space, U+00A0, U+1680,
//!   U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 and U+FEFF;
//! - `.` is every character but `\n`, `\r`, U+2028 and U+2029 (the converter's own `.`
//!   lets U+2028 and U+2029 through, so it is written as a class too).
//!
//! Every class, including `\D`, `\W`, `\S` and negations inside brackets such as `[^@\s]`
//! or `[\S-]`, is computed as a set of code points and printed as the shorter of its ranges
//! (`[…]`) or its complement's (`[^…]`), so each translation is exact. Unanchored patterns
//! (JSON Schema patterns match anywhere) get `[\x00-\U0010FFFF]*` on the open side: any
//! characters, newlines included. Lazy quantifiers are printed greedy: whether a string
//! matches does not depend on laziness.
//!
//! What the converter cannot express at all is [`Untranslatable`]: look-around and
//! backreferences (which `regex-syntax` rejects too), `^`/`$` other than at the ends of the
//! pattern or of a top-level alternative, word
//! boundaries, inline flags such as `(?i)`, Unicode classes (`\p{L}`) and POSIX classes
//! (`[[:alpha:]]`), classes that match nothing, and empty groups. The caller moves such a
//! pattern into the description; the reply is still checked against it locally.
//!
//! Like the converter itself, the translation reads the pattern against the characters
//! between the quotes of the JSON string as the model writes them: a class that admits `"`
//! or `\` (as `.` and every negated class do) lets the model write one unescaped.

use std::fmt::{self, Write as _};

use regex_syntax::ast::parse::Parser;
use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassPerlKind, ClassSet, ClassSetBinaryOpKind, ClassSetItem,
    RepetitionKind, RepetitionRange,
};
use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};

/// Why a pattern has no equivalent in the converter's subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Untranslatable(String);

impl Untranslatable {
    fn new(reason: impl Into<String>) -> Self {
        Untranslatable(reason.into())
    }
}

impl fmt::Display for Untranslatable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[\x00-\U0010FFFF]*`: any characters, put on the open side of an unanchored pattern.
const ANY_STAR: &str = r"[\x00-\U0010FFFF]*";

/// ECMA-262 `\s`: WhiteSpace (TAB, VT, FF, SP, NBSP, ZWNBSP and every `Zs`) and
/// LineTerminator (LF, CR, LS, PS).
const ECMA_SPACE: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{feff}', '\u{feff}'),
];

/// `\d` read as ECMA-262 reads it: ASCII digits.
const DIGIT: &[(char, char)] = &[('0', '9')];

/// `\w` read as ECMA-262 reads it: ASCII letters, digits and `_`.
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];

/// ECMA-262 `.`: everything but the line terminators.
const DOT_EXCLUDES: &[(char, char)] = &[('\n', '\n'), ('\r', '\r'), ('\u{2028}', '\u{2029}')];

/// Characters the converter treats as syntax outside a class: escaped there.
const SYNTAX: &[char] = &[
    '|', '.', '(', ')', '[', ']', '{', '}', '*', '+', '?', '^', '$',
];

/// `pattern` rewritten into the converter's subset, anchored with `^…$`, matching exactly
/// the strings the pattern matches under ECMA-262 escapes (see the module comment).
pub(super) fn translate(pattern: &str) -> Result<String, Untranslatable> {
    let ast = Parser::new()
        .parse(pattern)
        .map_err(|error| Untranslatable::new(error.kind().to_string()))?;
    match &ast {
        Ast::Alternation(alternation) => {
            let branches = alternation
                .asts
                .iter()
                .map(anchored_branch)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(format!("^({})$", alternatives(&branches)))
        }
        other => Ok(format!("^{}$", anchored_branch(other)?)),
    }
}

/// One top-level alternative: its own `^`/`$` are taken off, and the side without one is
/// opened with [`ANY_STAR`].
fn anchored_branch(ast: &Ast) -> Result<String, Untranslatable> {
    let items: &[Ast] = match ast {
        Ast::Concat(concat) => &concat.asts,
        other => std::slice::from_ref(other),
    };
    let (start, items) = match items.split_first() {
        Some((first, rest))
            if is_assertion(first, &[AssertionKind::StartLine, AssertionKind::StartText]) =>
        {
            (true, rest)
        }
        _ => (false, items),
    };
    let (end, items) = match items.split_last() {
        Some((last, rest))
            if is_assertion(last, &[AssertionKind::EndLine, AssertionKind::EndText]) =>
        {
            (true, rest)
        }
        _ => (false, items),
    };
    let mut out = String::new();
    if !start {
        out.push_str(ANY_STAR);
    }
    for item in items {
        emit(item, &mut out)?;
    }
    if !end {
        out.push_str(ANY_STAR);
    }
    Ok(out)
}

/// Whether `ast` is an assertion of one of `kinds`.
fn is_assertion(ast: &Ast, kinds: &[AssertionKind]) -> bool {
    matches!(ast, Ast::Assertion(assertion) if kinds.contains(&assertion.kind))
}

/// Alternatives joined with `|`. Empty ones (`a|`) make the rest optional instead, since
/// the converter cannot take an empty alternative.
fn alternatives(texts: &[String]) -> String {
    let filled: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|text| !text.is_empty())
        .collect();
    let joined = filled.join("|");
    if filled.len() == texts.len() || joined.is_empty() {
        joined
    } else {
        format!("({joined})?")
    }
}

/// Prints one node below the top level.
fn emit(ast: &Ast, out: &mut String) -> Result<(), Untranslatable> {
    match ast {
        Ast::Empty(_) => {}
        Ast::Flags(_) => return Err(Untranslatable::new("inline flags")),
        Ast::Literal(literal) => push_literal(literal.c, out),
        Ast::Assertion(_) => {
            return Err(Untranslatable::new(
                "an anchor or word boundary inside the pattern",
            ));
        }
        Ast::ClassUnicode(_) => return Err(Untranslatable::new("a Unicode class")),
        Ast::Dot(_) | Ast::ClassPerl(_) | Ast::ClassBracketed(_) => {
            out.push_str(&class_text(&class_of(ast)?)?);
        }
        Ast::Repetition(repetition) => emit_repetition(repetition, out)?,
        Ast::Group(group) => out.push_str(&group_text(group)?),
        Ast::Alternation(alternation) => {
            let branches = alternation
                .asts
                .iter()
                .map(|branch| {
                    let mut text = String::new();
                    emit(branch, &mut text).map(|()| text)
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push_str(&alternatives(&branches));
        }
        Ast::Concat(concat) => {
            for item in &concat.asts {
                emit(item, out)?;
            }
        }
    }
    Ok(())
}

/// `(…)` around a group's contents; the group's kind (capturing, named) does not change
/// what matches, but flags do.
fn group_text(group: &ast::Group) -> Result<String, Untranslatable> {
    if group.flags().is_some_and(|flags| !flags.items.is_empty()) {
        return Err(Untranslatable::new("inline flags"));
    }
    let mut inner = String::new();
    emit(&group.ast, &mut inner)?;
    if inner.is_empty() {
        return Err(Untranslatable::new("an empty group"));
    }
    Ok(format!("({inner})"))
}

/// A quantified node. The converter applies a quantifier to the whole run of literal
/// characters before it when that run ends in an escape (`a\.+` would repeat `a.`), so a
/// quantified literal is always put in a group. Laziness is dropped: it changes which match
/// is found, never whether one is.
fn emit_repetition(repetition: &ast::Repetition, out: &mut String) -> Result<(), Untranslatable> {
    match &*repetition.ast {
        Ast::Dot(_) | Ast::ClassPerl(_) | Ast::ClassBracketed(_) | Ast::Group(_) => {
            emit(&repetition.ast, out)?;
        }
        other => {
            let mut inner = String::new();
            emit(other, &mut inner)?;
            if inner.is_empty() {
                return Err(Untranslatable::new("an empty group"));
            }
            let _ = write!(out, "({inner})");
        }
    }
    match &repetition.op.kind {
        RepetitionKind::ZeroOrOne => out.push('?'),
        RepetitionKind::ZeroOrMore => out.push('*'),
        RepetitionKind::OneOrMore => out.push('+'),
        RepetitionKind::Range(RepetitionRange::Exactly(n)) => {
            let _ = write!(out, "{{{n}}}");
        }
        RepetitionKind::Range(RepetitionRange::AtLeast(n)) => {
            let _ = write!(out, "{{{n},}}");
        }
        RepetitionKind::Range(RepetitionRange::Bounded(m, n)) => {
            let _ = write!(out, "{{{m},{n}}}");
        }
    }
    Ok(())
}

/// A literal character outside a class, escaped where the converter would read syntax.
fn push_literal(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str(r"\\"),
        '"' => out.push_str("\\\""),
        c if SYNTAX.contains(&c) => {
            out.push('\\');
            out.push(c);
        }
        c => push_char(c, out),
    }
}

/// A character as the converter's escapes write it: printable ASCII as itself, `\t`,
/// `\n`, `\r`, and every other character as a hex escape.
fn push_char(c: char, out: &mut String) {
    let _ = match c {
        '\t' => out.write_str(r"\t"),
        '\n' => out.write_str(r"\n"),
        '\r' => out.write_str(r"\r"),
        ' '..='~' => out.write_char(c),
        c if u32::from(c) <= 0xFF => write!(out, "\\x{:02X}", u32::from(c)),
        c if u32::from(c) <= 0xFFFF => write!(out, "\\u{:04X}", u32::from(c)),
        c => write!(out, "\\U{:08X}", u32::from(c)),
    };
}

/// The code points a class-like node (`.`, `\d`…, `[…]`) matches.
fn class_of(ast: &Ast) -> Result<ClassUnicode, Untranslatable> {
    match ast {
        Ast::Dot(_) => {
            let mut class = set(DOT_EXCLUDES);
            class.negate();
            Ok(class)
        }
        Ast::ClassPerl(perl) => Ok(perl_class(perl)),
        Ast::ClassBracketed(bracketed) => bracketed_class(bracketed),
        _ => Err(Untranslatable::new("not a class")),
    }
}

/// A set of code points from inclusive ranges.
fn set(ranges: &[(char, char)]) -> ClassUnicode {
    ClassUnicode::new(
        ranges
            .iter()
            .map(|&(start, end)| ClassUnicodeRange::new(start, end)),
    )
}

/// `\d`, `\w`, `\s` and their negations, read as ECMA-262 reads them.
fn perl_class(perl: &ast::ClassPerl) -> ClassUnicode {
    let mut class = set(match perl.kind {
        ClassPerlKind::Digit => DIGIT,
        ClassPerlKind::Word => WORD,
        ClassPerlKind::Space => ECMA_SPACE,
    });
    if perl.negated {
        class.negate();
    }
    class
}

/// A bracketed class, negation and nested set operations included.
fn bracketed_class(bracketed: &ast::ClassBracketed) -> Result<ClassUnicode, Untranslatable> {
    let mut class = class_set(&bracketed.kind)?;
    if bracketed.negated {
        class.negate();
    }
    Ok(class)
}

/// The code points of a class set: a union of items, or a set operation.
fn class_set(kind: &ClassSet) -> Result<ClassUnicode, Untranslatable> {
    match kind {
        ClassSet::Item(item) => class_item(item),
        ClassSet::BinaryOp(op) => {
            let mut lhs = class_set(&op.lhs)?;
            let rhs = class_set(&op.rhs)?;
            match op.kind {
                ClassSetBinaryOpKind::Intersection => lhs.intersect(&rhs),
                ClassSetBinaryOpKind::Difference => lhs.difference(&rhs),
                ClassSetBinaryOpKind::SymmetricDifference => lhs.symmetric_difference(&rhs),
            }
            Ok(lhs)
        }
    }
}

/// The code points of one item inside `[…]`.
fn class_item(item: &ClassSetItem) -> Result<ClassUnicode, Untranslatable> {
    match item {
        ClassSetItem::Empty(_) => Ok(ClassUnicode::empty()),
        ClassSetItem::Literal(literal) => Ok(set(&[(literal.c, literal.c)])),
        ClassSetItem::Range(range) => Ok(set(&[(range.start.c, range.end.c)])),
        ClassSetItem::Ascii(_) => Err(Untranslatable::new("a POSIX class")),
        ClassSetItem::Unicode(_) => Err(Untranslatable::new("a Unicode class")),
        ClassSetItem::Perl(perl) => Ok(perl_class(perl)),
        ClassSetItem::Bracketed(bracketed) => bracketed_class(bracketed),
        ClassSetItem::Union(union) => {
            let mut class = ClassUnicode::empty();
            for item in &union.items {
                class.union(&class_item(item)?);
            }
            Ok(class)
        }
    }
}

/// A class in the converter's syntax: `[…]` of its ranges, or `[^…]` of its complement's
/// when that is shorter; every character is escaped as [`push_class_char`] says.
fn class_text(class: &ClassUnicode) -> Result<String, Untranslatable> {
    if class.ranges().is_empty() {
        return Err(Untranslatable::new("a class that matches nothing"));
    }
    let mut complement = class.clone();
    complement.negate();
    if complement.ranges().is_empty() {
        return Ok(r"[\x00-\U0010FFFF]".to_owned());
    }
    let (negated, shown) = if complement.ranges().len() < class.ranges().len() {
        (true, &complement)
    } else {
        (false, class)
    };
    let mut out = String::from(if negated { "[^" } else { "[" });
    for range in shown.ranges() {
        push_class_char(range.start(), &mut out);
        if range.end() != range.start() {
            out.push('-');
            push_class_char(range.end(), &mut out);
        }
    }
    out.push(']');
    Ok(out)
}

/// A character inside a class: `\`, `"`, `[`, `]` and `-` escaped, `^` written `\x5E` so
/// that it never reads as a negation, the rest as [`push_char`] writes them.
fn push_class_char(c: char, out: &mut String) {
    match c {
        '\\' | '"' | '[' | ']' | '-' => {
            out.push('\\');
            out.push(c);
        }
        '^' => out.push_str(r"\x5E"),
        c => push_char(c, out),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Schema;

    /// `\s` as the converter's class syntax writes it.
    const SPACE: &str = r"\t-\r \xA0\u1680\u2000-\u200A\u2028-\u2029\u202F\u205F\u3000\uFEFF";

    fn ok(pattern: &str) -> String {
        let translated = translate(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert!(
            converter_takes(&translated),
            "{pattern} gave {translated}, which the converter would not take"
        );
        translated
    }

    fn fallback(pattern: &str) -> String {
        translate(pattern).expect_err(pattern).to_string()
    }

    /// What `_pattern_to_rule` in llama.cpp's converter accepts without a warning: `^…$`
    /// around the whole, no other anchors, no `(?` groups, and only its escapes.
    fn converter_takes(pattern: &str) -> bool {
        let Some(inner) = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$')) else {
            return false;
        };
        let bytes = inner.as_bytes();
        let (mut i, mut in_class) = (0, false);
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'\\' {
                let next = bytes.get(i + 1).copied().unwrap_or(0);
                let syntax = !in_class && b"^$.[]()|{}*+?".contains(&next);
                let hex = match next {
                    b'x' => 2,
                    b'u' => 4,
                    b'U' => 8,
                    b't' | b'r' | b'n' | b'\\' | b'"' | b'[' | b']' | b'-' => 0,
                    _ if syntax => 0,
                    _ => return false,
                };
                i += 2 + hex;
            } else {
                if in_class {
                    in_class = b != b']';
                } else if b == b'[' {
                    in_class = true;
                    if bytes.get(i + 1) == Some(&b'^') {
                        i += 1;
                    }
                } else if b == b'^' || b == b'$' || (b == b'(' && bytes.get(i + 1) == Some(&b'?')) {
                    return false;
                }
                i += 1;
            }
        }
        !in_class
    }

    #[test]
    fn perl_escapes_outside_classes() {
        assert_eq!(ok(r"^\d$"), "^[0-9]$");
        assert_eq!(ok(r"^\D$"), "^[^0-9]$");
        assert_eq!(ok(r"^\w$"), "^[0-9A-Z_a-z]$");
        assert_eq!(ok(r"^\W$"), "^[^0-9A-Z_a-z]$");
        assert_eq!(ok(r"^\s$"), format!("^[{SPACE}]$"));
        assert_eq!(ok(r"^\S$"), format!("^[^{SPACE}]$"));
        assert_eq!(ok(r"^[A-Z]{2}-\d{4,}$"), "^[A-Z]{2}-[0-9]{4,}$");
        assert_eq!(ok(r"^INC-\d{4}-\d{5}$"), "^INC-[0-9]{4}-[0-9]{5}$");
    }

    #[test]
    fn perl_escapes_inside_classes() {
        assert_eq!(ok(r"^[\d]$"), "^[0-9]$");
        assert_eq!(ok(r"^[\d-]$"), r"^[\-0-9]$");
        assert_eq!(ok(r"^[\w.+-]+$"), r"^[+\--.0-9A-Z_a-z]+$");
        assert_eq!(
            ok(r"^[\s\d]$"),
            format!(
                "^[{}]$",
                r"\t-\r 0-9\xA0\u1680\u2000-\u200A\u2028-\u2029\u202F\u205F\u3000\uFEFF"
            )
        );
        // A negated escape inside a class: the class is the complement's complement.
        assert_eq!(ok(r"^[\S]$"), format!("^[^{SPACE}]$"));
        assert_eq!(ok(r"^[\D]$"), "^[^0-9]$");
        assert_eq!(ok(r"^[\Wa]$"), "^[^0-9A-Z_b-z]$");
        assert_eq!(ok(r"^[\Sa]$"), format!("^[^{SPACE}]$"));
    }

    #[test]
    fn negated_classes_are_spelled_out_for_llama_cpp() {
        let not_space_or_at =
            r"[^\t-\r @\xA0\u1680\u2000-\u200A\u2028-\u2029\u202F\u205F\u3000\uFEFF]";
        assert_eq!(
            ok(r"^[^@\s]+@[^@\s]+$"),
            format!("^{not_space_or_at}+@{not_space_or_at}+$")
        );
        assert_eq!(ok(r"^[^\s@]+$"), format!("^{not_space_or_at}+$"));
        assert_eq!(ok(r"^[^\S]$"), format!("^[{SPACE}]$"));
        assert_eq!(ok(r"^[^\d]$"), "^[^0-9]$");
        assert_eq!(ok(r"^[^\D]$"), "^[0-9]$");
        assert_eq!(ok(r"^[^a-z]$"), "^[^a-z]$");
        assert_eq!(ok(r"^[\s\S]$"), r"^[\x00-\U0010FFFF]$");
        assert_eq!(ok(r"^[a-z&&[^aeiou]]$"), "^[b-df-hj-np-tv-z]$");
    }

    #[test]
    fn literals_dot_and_quantifiers() {
        assert_eq!(ok(r"^a\.b\+c$"), r"^a\.b\+c$");
        assert_eq!(ok(r"^ab+$"), "^a(b)+$");
        assert_eq!(ok(r"^(ab)*c?$"), "^(ab)*(c)?$");
        assert_eq!(ok(r"^a{2,3}b{2}$"), "^(a){2,3}(b){2}$");
        assert_eq!(ok(r#"^say "hi"\\$"#), r#"^say \"hi\"\\$"#);
        assert_eq!(
            ok(r"^\(\d{3}\) \d{3}-\d{4}$"),
            r"^\([0-9]{3}\) [0-9]{3}-[0-9]{4}$"
        );
        assert_eq!(ok(r"^\x41\t\u00e9$"), r"^A\t\xE9$");
        assert_eq!(ok(r"^a.b$"), r"^a[^\n\r\u2028-\u2029]b$");
        assert_eq!(ok(r"^[\^\]\[\\-]$"), r"^[\-\[-\x5E]$");
        // Lazy quantifiers match the same strings as greedy ones.
        assert_eq!(ok(r"^a+?b*?$"), "^(a)+(b)*$");
        // Group kinds do not change what matches.
        assert_eq!(ok(r"^(?:a|b)(?P<n>c)$"), "^(a|b)(c)$");
        assert_eq!(ok(r"^(a|)$"), "^((a)?)$");
    }

    #[test]
    fn anchors_are_added_where_missing() {
        let any = ANY_STAR;
        assert_eq!(ok(r"^a$"), "^a$");
        assert_eq!(ok(r"^a"), format!("^a{any}$"));
        assert_eq!(ok(r"a$"), format!("^{any}a$"));
        assert_eq!(ok(r"[0-9]+"), format!("^{any}[0-9]+{any}$"));
        assert_eq!(ok(r"a|b"), format!("^({any}a{any}|{any}b{any})$"));
        assert_eq!(ok(r"^a$|^b$"), "^(a|b)$");
        assert_eq!(ok(r"^a|b$"), format!("^(a{any}|{any}b)$"));
        assert_eq!(ok(r"\A\d\z"), "^[0-9]$");
    }

    #[test]
    fn what_the_converter_cannot_express_falls_back() {
        for pattern in [
            r"^(?=.*\d)\w+$",
            r"^(?!x)a$",
            r"^(?<=a)b$",
            r"^(a)\1$",
            r"^\p{L}+$",
            r"^[\p{Lu}\d]$",
            r"^(?i)abc$",
            r"^(?i:a)b$",
            r"^\bword\b$",
            r"^a$b$",
            r"^a(^b)$",
            r"^[[:alpha:]]+$",
            r"^[^\s\S]$",
            r"^()a$",
            r"^[",
        ] {
            assert!(!fallback(pattern).is_empty(), "{pattern}");
        }
        assert_eq!(fallback(r"^\p{L}$"), "a Unicode class");
        assert_eq!(fallback(r"^(?i)a$"), "inline flags");
        assert!(
            fallback(r"^(?=a)a$").contains("look-around"),
            "{}",
            fallback(r"^(?=a)a$")
        );
        assert!(fallback(r"^(a)\1$").contains("backreference"));
    }

    /// Patterns whose translations are checked against local validation.
    const AGREEING: &[&str] = &[
        r"^[A-Z]{2}-\d{4,}$",
        r"^[^@\s]+@[^@\s]+$",
        r"^\w+$",
        r"^\W+$",
        r"^\S+$",
        r"^[\S\d]+$",
        r"^a.b$",
        r"\d",
        r"^\+?\d[\d\s-]{6,}\d$",
        r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$",
    ];

    /// Strings each of [`AGREEING`] is tried on: ASCII, Unicode digits and spaces, line
    /// terminators, everyday identifiers.
    const SAMPLES: &[&str] = &[
        "AB-1234",
        "ab-123",
        "a@b",
        "a b@c",
        "a\u{a0}b@c",
        "abc_1",
        "é",
        "é ",
        "\u{663}",
        "a\nb",
        "a\u{2028}b",
        "axb",
        "x1y",
        "\t",
        "+44 20 7946 0958",
        "555-0100x",
        "SW1A 1AA",
        "EC1A1BB",
        "",
        "\u{feff}",
        "\u{85}",
    ];

    /// Each translation accepts exactly what the source pattern accepts, as factum's own
    /// validator (ECMA-262 escapes) reads both.
    #[test]
    fn translations_agree_with_local_validation() {
        for &pattern in AGREEING {
            let source = Schema::new("P", json!({"type": "string", "pattern": pattern}), None);
            let translated = ok(pattern);
            let lowered = Schema::new("P", json!({"type": "string", "pattern": translated}), None);
            for &sample in SAMPLES {
                assert_eq!(
                    source.validate(&json!(sample)).is_ok(),
                    lowered.validate(&json!(sample)).is_ok(),
                    "{pattern} vs {translated} on {sample:?}"
                );
            }
        }
    }
}
