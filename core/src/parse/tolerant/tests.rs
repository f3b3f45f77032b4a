use super::*;
use serde_json::json;

fn one(src: &str) -> (Value, Vec<RepairKind>) {
    let mut values = parse_document(src, Reading::Schemaless, 16).unwrap();
    assert_eq!(values.len(), 1, "{src}: {values:?}");
    let (value, repairs) = values.remove(0);
    (value, repairs.into_iter().map(|r| r.kind).collect())
}

fn check(src: &str, expected: &Value, kind: RepairKind) {
    let (value, kinds) = one(src);
    assert_eq!(&value, expected, "{src}");
    assert!(
        kinds.contains(&kind),
        "{src}: expected {kind:?} in {kinds:?}"
    );
}

#[test]
fn clean_json_has_no_repairs() {
    let (value, kinds) = one(r#"{"a": [1, 2.5, "x\"y", true, null], "b": {}}"#);
    assert_eq!(value, json!({"a": [1, 2.5, "x\"y", true, null], "b": {}}));
    assert!(kinds.is_empty(), "{kinds:?}");
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one table of assertions, one per syntax repair kind"
)]
fn each_syntax_repair() {
    check("{'a': 'b'}", &json!({"a": "b"}), RepairKind::SingleQuotes);
    check("{“a”: “b”}", &json!({"a": "b"}), RepairKind::SmartQuotes);
    check(
        "{‘a’: ‘it’s’}",
        &json!({"a": "it’s"}),
        RepairKind::SmartQuotes,
    );
    check("{a: 1}", &json!({"a": 1}), RepairKind::UnquotedKey);
    check(
        "{\"a\": hello world}",
        &json!({"a": "hello world"}),
        RepairKind::UnquotedString,
    );
    check("{\"a\" 1}", &json!({"a": 1}), RepairKind::MissingColon);
    check("{\"a\": 1,}", &json!({"a": 1}), RepairKind::TrailingComma);
    check("[1, 2,]", &json!([1, 2]), RepairKind::TrailingComma);
    check(
        "{\"a\": 1 \"b\": 2}",
        &json!({"a": 1, "b": 2}),
        RepairKind::MissingComma,
    );
    check(
        "[\"a\" \"b\"]",
        &json!(["a", "b"]),
        RepairKind::MissingComma,
    );
    check(
        "{\"a\": 1 // note\n}",
        &json!({"a": 1}),
        RepairKind::Comment,
    );
    check("{\"a\": /* x */ 1}", &json!({"a": 1}), RepairKind::Comment);
    check("{\"a\": 1 # note\n}", &json!({"a": 1}), RepairKind::Comment);
    check(
        "{\"a\": True, \"b\": None}",
        &json!({"a": true, "b": null}),
        RepairKind::PythonLiteral,
    );
    check(
        "{\"a\": NaN, \"b\": undefined}",
        &json!({"a": null, "b": null}),
        RepairKind::NonJsonLiteral,
    );
    check(
        "{\"a\": \"say \"hi\" now\"}",
        &json!({"a": "say \"hi\" now"}),
        RepairKind::UnescapedQuote,
    );
    check(
        "{\"a\": \"line\nbreak\"}",
        &json!({"a": "line\nbreak"}),
        RepairKind::UnescapedNewline,
    );
    check(
        "{\"a\": \"\\q\"}",
        &json!({"a": "\\q"}),
        RepairKind::InvalidEscape,
    );
    check(
        "{\"a\": \"it\\'s\"}",
        &json!({"a": "it's"}),
        RepairKind::InvalidEscape,
    );
    check(
        "{\"a\": \"x, \"b\": 1}",
        &json!({"a": "x", "b": 1}),
        RepairKind::MissingClosingQuote,
    );
    check(
        "{\"a\": \"trunc",
        &json!({"a": "trunc"}),
        RepairKind::ClosedTruncated,
    );
    check(
        "{\"a\": [1, {\"b\": 2",
        &json!({"a": [1, {"b": 2}]}),
        RepairKind::ClosedTruncated,
    );
    check(
        "{\"a\": 1, \"b\"",
        &json!({"a": 1}),
        RepairKind::DroppedDanglingKey,
    );
    check(
        "{\"a\": 1, \"b\":",
        &json!({"a": 1}),
        RepairKind::DroppedDanglingKey,
    );
    check("[1, ..., 2]", &json!([1, 2]), RepairKind::DroppedJunk);
    check(
        "{\"a\": [1}",
        &json!({"a": [1]}),
        RepairKind::MismatchedBracket,
    );
    check(
        "{\"a\": 1, \"a\": 2}",
        &json!({"a": 2}),
        RepairKind::DuplicateKey,
    );
    check("(1, 2)", &json!([1, 2]), RepairKind::TupleAsArray);
    check("{'a', 'b'}", &json!(["a", "b"]), RepairKind::SetAsArray);
    check("[\"a\": 1]", &json!([{"a": 1}]), RepairKind::ImpliedObject);
    check(
        "{\"a\": [1], [2]}",
        &json!({"a": [1, 2]}),
        RepairKind::MergedArray,
    );
    check(
        "{\"a\": .5, \"b\": 1_000, \"c\": 1.}",
        &json!({"a": 0.5, "b": 1000, "c": 1.0}),
        RepairKind::NumberSyntax,
    );
    check(
        "{\"\"a\"\": 1}",
        &json!({"a": 1}),
        RepairKind::DoubledQuotes,
    );
    check(
        "Here: {\"a\": 1}",
        &json!({"a": 1}),
        RepairKind::ExtractedFromProse,
    );
    check(
        "{\"a\": 1}, \"b\": 2}",
        &json!({"a": 1, "b": 2}),
        RepairKind::ReopenedObject,
    );
}

#[test]
fn what_models_write_that_json_does_not() {
    check(
        "{\"a\": -2,000.00, \"b\": 1,234,567}",
        &json!({"a": -2000.0, "b": 1_234_567}),
        RepairKind::ThousandsSeparators,
    );
    // In an array the comma separates items, as in JSON, unless a group is no
    // number on its own.
    assert_eq!(one("[1,234, 5").0, json!([1, 234, 5]));
    assert_eq!(one("[-2,000.50, 5").0, json!([-2000.5, 5]));
    check(
        "{\"a\": \"\"\"say \"hi\"\nnow\"\"\", \"b\": '''x'''}",
        &json!({"a": "say \"hi\"\nnow", "b": "x"}),
        RepairKind::TripleQuotes,
    );
    check(
        "{'a': 'it's here', 'b': ['x'   y' /* c */]}",
        &json!({"a": "it's here", "b": ["x'   y"]}),
        RepairKind::SingleQuotes,
    );
    check(
        "{\"l\": [1, \"a\"b\"], \"k\": 1}",
        &json!({"l": [1, "a\"b"], "k": 1}),
        RepairKind::UnescapedQuote,
    );
    check(
        "{a: one\n  two, b: **x, y**\n\nz \"q\" w\n}",
        &json!({"a": "one\n  two", "b": "**x, y**\n\nz \"q\" w"}),
        RepairKind::UnquotedString,
    );
    // A key later on the same line ends the value at the comma before it.
    check(
        "{\"k\": sic, quick fox. \"b\": 1}",
        &json!({"k": "sic", "b": 1}),
        RepairKind::DroppedJunk,
    );
}

#[test]
fn without_a_schema_empty_values_and_fenced_strings_are_read() {
    check(
        "{\"a\": , \"b\": 1, [\"c\"] }",
        &json!({"a": "", "b": 1, "c": ""}),
        RepairKind::EmptyValue,
    );
    let fenced = "{\"k\": \"```json {\"a\": [1]}```\"}";
    check(fenced, &json!({"k": {"a": [1]}}), RepairKind::JsonInString);
    let for_schema = |src: &str| parse_document(src, Reading::ForSchema, 16).unwrap();
    assert_eq!(for_schema("{\"a\": , \"b\": 1}")[0].0, json!({"b": 1}));
    assert_eq!(
        for_schema(fenced)[0].0,
        json!({"k": "```json {\"a\": [1]}```"})
    );
}

#[test]
fn escapes_decode_and_a_lone_surrogate_becomes_a_replacement_with_a_repair() {
    let (v, _) = one(r#"{"a": "\u00e9\ud83d\ude00\n\t\/"#);
    assert_eq!(v, json!({"a": "é😀\n\t/"}));
    let (v, kinds) = one(r#"["\ud800x"]"#);
    assert_eq!(v, json!(["\u{FFFD}x"]));
    assert!(kinds.contains(&RepairKind::InvalidEscape));
}

#[test]
fn truncated_bare_words_are_dropped() {
    let (v, _) = one("[true, fals");
    assert_eq!(v, json!([true]));
    let (v, _) = one("[1, 2");
    assert_eq!(v, json!([1, 2]));
}

#[test]
fn nesting_past_the_limit_is_too_deep_not_a_stack_overflow() {
    let deep = "[".repeat(MAX_NESTING + 1);
    assert_eq!(
        parse_document(&deep, Reading::Schemaless, 16),
        Err(ParseError::TooDeep { limit: MAX_NESTING })
    );
    let ok = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
    assert!(parse_document(&ok, Reading::Schemaless, 16).is_ok());
    let objects = "{\"a\":".repeat(MAX_NESTING + 1);
    assert_eq!(
        parse_document(&objects, Reading::Schemaless, 16),
        Err(ParseError::TooDeep { limit: MAX_NESTING })
    );
}

#[test]
fn never_panics_on_odd_bytes() {
    for src in [
        "\"",
        "'",
        "“",
        "‘",
        "\\",
        "{\"\\",
        "{\"\\u12",
        "[\"\\ud800\\u",
        "{#",
        "[/*",
        "(",
        "{(}",
        "é{é:é}",
        "{\"a\":\"\u{0}\"}",
    ] {
        let _ = parse_document(src, Reading::Schemaless, 16);
    }
}

#[test]
fn nested_sets_are_not_exponential() {
    // Found by fuzzing: each `{` that turned out to be a set re-read the
    // `{`s inside it, doubling the work per level.
    let start = std::time::Instant::now();
    let src = format!("{}}}2{}", "{".repeat(60), "{{}2{{{{}{`}{}]".repeat(20));
    let _ = parse_document(&src, Reading::Schemaless, 16);
    let fuzz = b"+{{}2{{{{}{`}{}]){\x01\x00\x00[\xf52E\x00\x00\x00\x00\x002]{}2{{{{{}{\x00{\x00\x00\x00\x00\xd7\x00\x00%4{}{{={\x000\r\r\r\r\x00\x00\x00%2{{\"\"0\re[\"{~\": ' }\r\r\x00\x00\x00%2{{{{{\"\"\"\"\"\"\"\"\x02\"\"\"\"\"\"\"\"\"\"\"\"\"\x80\x00\x00\x00\x00\"\"\"\"\"\"\"\x00*\"\"\"}{}]){2]{}2{{{{}{`}{}]){\x01\x00\x00[\xf52E\x00\x00\x00\x00\x002\"\"}{}]).-\x00\x00\x00\x00\x00k}k>}]\x00%{]";
    let _ = parse_document(&String::from_utf8_lossy(fuzz), Reading::Schemaless, 16);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn number_tokens_are_read_only_when_they_are_numbers() {
    assert_eq!(number_from_token("1e"), Some((Number::from(1), true)));
    assert_eq!(
        number_from_token("-.5").map(|n| n.0.as_f64()),
        Some(Some(-0.5))
    );
    assert_eq!(number_from_token("1/3"), None);
    assert_eq!(number_from_token("1.1.1"), None);
    assert_eq!(number_from_token("1__0"), None);
    assert_eq!(number_from_token("_1"), None);
    assert_eq!(number_from_token("e"), None);
}
