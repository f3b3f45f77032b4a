//! One model call's record: its raw text, usage and mode, and, when it failed, why
//! ([`AttemptFailure`]).

use std::fmt;

use crate::Violation;
use crate::parse::Repair;
use crate::transport::provider::Mode;
use crate::wire::Usage;

/// One model call of an extraction.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// The raw text the model returned, before any cleanup.
    pub raw: String,
    /// Why the attempt failed, or `None` for the one that succeeded.
    pub failure: Option<AttemptFailure>,
    /// The attempt's own usage.
    pub usage: Usage,
    /// The Dria node that served it.
    pub node_id: Option<String>,
    /// The mode the request was sent in.
    pub mode: Mode,
    /// Every repair and coercion the lenient parser applied to the raw text to get a
    /// value of the type (empty when the reply was used as written).
    pub repairs: Vec<Repair>,
    /// The server's `finish_reason`.
    pub finish_reason: Option<String>,
    /// The `max_tokens` the request was sent with.
    pub max_tokens: u32,
    /// The temperature the request was sent with.
    #[serde(deserialize_with = "nan_from_null")]
    pub temperature: f32,
    /// The sampler's seed the request was sent with, if the server takes one and it was
    /// set (on a re-ask whose sampling changed).
    pub seed: Option<u64>,
    /// Whether the reply was read from the response cache ([`Cache`](crate::Cache))
    /// instead of asked for: nothing was sent, and the usage is the stored reply's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// A float read back as JSON writes it: a NaN or an infinity is written as `null` (JSON
/// has no such numbers), which reads back as NaN rather than failing the record.
fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    let value: Option<f32> = serde::Deserialize::deserialize(d)?;
    Ok(value.unwrap_or(f32::NAN))
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum AttemptFailure {
    /// The reply parsed but does not fit the type: schema, deserialization or validator
    /// errors, each with its JSON path.
    Violations(Vec<Violation>),
    /// The model refused, with its message.
    Refusal(String),
    /// The reply was cut off at `max_tokens`.
    Truncated,
    /// The reply had no content (or only a `<think>` block).
    Empty,
    /// No JSON value could be found in the reply.
    NotJson(String),
    /// The reply broke off after it began: the connection dropped, the per-attempt timeout
    /// passed between two pieces, or the server sent an error (a shared-slot overflow,
    /// sent again once the calls in flight drained). The text received is the attempt's
    /// `raw`; the message says what broke it.
    Interrupted(String),
}

impl fmt::Display for AttemptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptFailure::Violations(violations) => {
                for (i, v) in violations.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            AttemptFailure::Refusal(message) => write!(f, "the model refused: {message}"),
            AttemptFailure::Truncated => f.write_str("the reply was cut off at max_tokens"),
            AttemptFailure::Empty => f.write_str("the reply was empty"),
            AttemptFailure::NotJson(message) => write!(f, "the reply is not JSON: {message}"),
            AttemptFailure::Interrupted(message) => write!(f, "the reply broke off: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::RepairKind;

    /// An attempt with every field set, failing with `failure`.
    fn attempt(failure: Option<AttemptFailure>) -> Attempt {
        Attempt {
            raw: "{\"name\": \"Ada\", \u{e9}}".to_owned(),
            failure,
            usage: Usage::new(12, 34),
            node_id: Some("node-7".to_owned()),
            mode: Mode::JsonSchema { strict: true },
            repairs: vec![
                Repair::new(RepairKind::TrailingComma, "/items/0", "removed a comma"),
                Repair::new(RepairKind::NumberFromString, "/age", "\"30\"").with_cost(9),
            ],
            finish_reason: Some("stop".to_owned()),
            max_tokens: 512,
            temperature: 0.7,
            seed: Some(u64::MAX),
            cached: true,
        }
    }

    #[test]
    fn an_attempt_reads_back_equal_to_what_was_written() {
        let failures = [
            None,
            Some(AttemptFailure::Violations(vec![Violation::new(
                "/age",
                "must be at most 150",
            )])),
            Some(AttemptFailure::Refusal("no".to_owned())),
            Some(AttemptFailure::Truncated),
            Some(AttemptFailure::Empty),
            Some(AttemptFailure::NotJson("expected a value".to_owned())),
        ];
        for failure in failures {
            let written = attempt(failure);
            let text = serde_json::to_string(&written).unwrap();
            let read: Attempt = serde_json::from_str(&text).unwrap();
            assert_eq!(read, written, "{text}");
        }
        for mode in [
            Mode::JsonObjectWithSchema,
            Mode::JsonObject,
            Mode::PromptOnly,
        ] {
            let written = Attempt {
                mode,
                ..attempt(None)
            };
            let text = serde_json::to_string(&written).unwrap();
            assert_eq!(serde_json::from_str::<Attempt>(&text).unwrap(), written);
        }
    }

    #[test]
    fn a_temperature_json_cannot_hold_reads_back_as_nan() {
        let written = Attempt {
            temperature: f32::INFINITY,
            ..attempt(None)
        };
        let text = serde_json::to_string(&written).unwrap();
        assert!(text.contains("\"temperature\":null"), "{text}");
        let read: Attempt = serde_json::from_str(&text).unwrap();
        assert!(read.temperature.is_nan());
    }
}
