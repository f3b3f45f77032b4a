//! The parse seam: from the model's text (after classification) to a JSON value.
//!
//! [`parse_reply`] is the one function the extraction loop calls. It hands the text to the
//! lenient, schema-aligned parser ([`crate::parse`]), which finds JSON wherever the model
//! put it, repairs its syntax and coerces it to the source schema, recording every change.

use serde_json::Value;

use super::AttemptFailure;
use crate::parse::{self, Leniency, ParseError, Repair};
use crate::{Schema, Violation};

/// Parses the model's reply into a value of the schema, returning it with the repairs
/// made. `wrapped` says the request asked for the value wrapped in an object under
/// [`Schema::wrapper`]; the wrapper is removed here, before coercion to the source schema.
pub(crate) fn parse_reply(
    text: &str,
    schema: &Schema,
    leniency: Leniency,
    wrapped: bool,
) -> Result<(Value, Vec<Repair>), AttemptFailure> {
    let parsed = if wrapped {
        let unwrapped = parse::parse_json(text).and_then(|found| {
            // The wrapper key the request named; a bare value (the model skipped the
            // wrapper) is used as it is.
            let key = schema.envelope_key().unwrap_or("value");
            let inner = match found.value {
                Value::Object(mut map) if map.len() == 1 && map.contains_key(key) => {
                    map.remove(key).unwrap_or(Value::Null)
                }
                other => other,
            };
            let mut coerced = parse::coerce(inner, schema.json(), leniency)?;
            let mut repairs = found.repairs;
            repairs.append(&mut coerced.repairs);
            coerced.repairs = repairs;
            Ok(coerced)
        });
        match unwrapped {
            Ok(parsed) => Ok(parsed),
            // No JSON at all: a bare choice named in prose may still be there.
            Err(ParseError::NoJson) => parse::parse(text, schema.json(), leniency),
            Err(e) => Err(e),
        }
    } else {
        parse::parse(text, schema.json(), leniency)
    };
    match parsed {
        Ok(parsed) => Ok((parsed.value, parsed.repairs)),
        Err(ParseError::Mismatch {
            path,
            expected,
            found,
        }) => {
            // The text is JSON but not the type. The re-ask should list every problem,
            // not just the first one coercion stopped at: validate what the model wrote.
            let all = parse::parse_json(text)
                .ok()
                .and_then(|found| schema.validate(&found.value).err())
                .filter(|violations| !violations.is_empty());
            Err(AttemptFailure::Violations(all.unwrap_or_else(|| {
                vec![Violation::new(
                    path,
                    format!("expected {expected}, found {found}"),
                )]
            })))
        }
        Err(other) => Err(AttemptFailure::NotJson(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Schema {
        Schema::new(
            "T",
            json!({
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
                "required": ["a"]
            }),
            None,
        )
    }

    fn parse(text: &str) -> Result<Value, AttemptFailure> {
        parse_reply(text, &schema(), Leniency::Standard, false).map(|(v, _)| v)
    }

    #[test]
    fn strict_json_needs_no_repairs() {
        let (value, repairs) =
            parse_reply(" {\"a\": 1} ", &schema(), Leniency::Standard, false).unwrap();
        assert_eq!(value, json!({"a": 1}));
        assert!(repairs.is_empty());
    }

    #[test]
    fn fenced_prose_and_broken_json_are_recovered_with_repairs() {
        let text = "Here you go:\n```json\n{'a': '30', b: \"x\",}\n```\nAnything else?";
        let (value, repairs) = parse_reply(text, &schema(), Leniency::Standard, false).unwrap();
        assert_eq!(value, json!({"a": 30, "b": "x"}));
        assert!(repairs.len() >= 3, "{repairs:?}");
        let text = "Sure! The answer is {\"a\": 2, \"b\": \"x}y\"} hope it helps";
        assert_eq!(parse(text).unwrap(), json!({"a": 2, "b": "x}y"}));
    }

    #[test]
    fn a_wrapped_reply_is_unwrapped_before_coercion() {
        let schema = Schema::new(
            "E",
            json!({"type": "string", "enum": ["low", "high"]}),
            None,
        );
        assert_eq!(schema.envelope_key(), Some("e"));
        let (value, _) =
            parse_reply("{\"e\": \"High\"}", &schema, Leniency::Standard, true).unwrap();
        assert_eq!(value, json!("high"));
        // A model that skips the wrapper is still read.
        let (value, _) = parse_reply("\"low\"", &schema, Leniency::Standard, true).unwrap();
        assert_eq!(value, json!("low"));
    }

    #[test]
    fn mismatches_become_path_level_violations() {
        let Err(AttemptFailure::Violations(violations)) = parse("{\"a\": \"thirty\"}") else {
            panic!("expected violations");
        };
        assert_eq!(violations[0].path, "/a");
        assert!(matches!(
            parse("I cannot find a person."),
            Err(AttemptFailure::NotJson(_))
        ));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let text = "[".repeat(1_000_000);
        assert!(parse(&text).is_err());
    }
}
