//! Re-asking: what the next attempt changes after a failed one. The policy ("after this
//! failure, change that") and the texts the model is shown: its failed output, echoed, and
//! compact, path-level feedback.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use crate::AttemptFailure;
use crate::stream::looping;
use crate::wire::Message;

/// Longest failed output echoed back in a re-ask; longer output is cut, keeping the start.
const MAX_ECHO: usize = 8 * 1024;
/// Most violations listed in one re-ask.
const MAX_VIOLATIONS: usize = 20;
/// Largest `max_tokens` a truncated reply is retried with.
pub(crate) const MAX_TOKENS_CEILING: u32 = 16_384;

/// What the attempt after a failure is sent with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reask {
    /// The turns after the caller's text: the failed output and the feedback on it. Only
    /// the last failure's turns are kept, so the history stays bounded; the caller's own
    /// messages are never touched.
    pub(crate) turns: Vec<Message>,
    /// The next attempt's `max_tokens`.
    pub(crate) max_tokens: u32,
    /// A hash of the last failed reply, to tell when the model wrote the same reply again.
    last_raw: Option<u64>,
}

impl Reask {
    /// The first attempt: no re-ask turns.
    pub(crate) fn first(max_tokens: u32) -> Reask {
        Reask {
            turns: Vec::new(),
            max_tokens,
            last_raw: None,
        }
    }

    /// The policy. After attempt number `attempt` failed with `failure` and wrote `raw`:
    ///
    /// - truncated while repeating one unit of text: the errors without the echo and with
    ///   the same budget, since at a fixed seed more room only makes the loop longer;
    /// - truncated otherwise: the same conversation with twice the room (up to
    ///   [`MAX_TOKENS_CEILING`]), since the cut reply was going somewhere;
    /// - empty: a reminder to answer, with nothing to echo;
    /// - the same reply as the attempt before: the errors without the echo, since showing
    ///   the model its reply again already led it to copy that reply;
    /// - anything else: the failed output echoed as the assistant's turn, then the errors.
    ///
    /// Every re-ask changes the prompt or the budget: Dria samples with a fixed seed, so an
    /// identical request would repeat the same output. A refusal is never re-asked; the
    /// pipeline ends on it before asking here.
    pub(crate) fn after(&mut self, failure: &AttemptFailure, raw: &str, attempt: usize) {
        let digest = digest(raw);
        let repeated = self.last_raw == Some(digest);
        self.last_raw = Some(digest);
        match failure {
            AttemptFailure::Truncated => match looping(raw) {
                Some(unit) => self.turns = vec![Message::user(looped(unit, attempt))],
                None => {
                    self.max_tokens = self
                        .max_tokens
                        .saturating_mul(2)
                        .min(MAX_TOKENS_CEILING)
                        .max(self.max_tokens);
                }
            },
            AttemptFailure::Empty => {
                self.turns = vec![Message::user(feedback(failure, attempt))];
            }
            // The model did nothing wrong: the same conversation goes again (sampled anew
            // from the second attempt on, when the re-ask temperature is set).
            AttemptFailure::Interrupted(_) => {}
            _ if repeated => {
                let opening = format!(
                    "Attempt {attempt} was rejected: it repeated attempt {} word for word. ",
                    attempt.saturating_sub(1)
                );
                self.turns = vec![Message::user(feedback_after(opening, failure))];
            }
            _ => {
                self.turns = vec![
                    Message::assistant(echo(raw)),
                    Message::user(feedback(failure, attempt)),
                ];
            }
        }
    }
}

/// A hash of a reply, to compare it with the next one without keeping it.
fn digest(raw: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    raw.hash(&mut hasher);
    hasher.finish()
}

/// The user message after a reply cut off while looping on `unit`.
fn looped(unit: &str, attempt: usize) -> String {
    let shown = crate::json::compact(&serde_json::Value::String(unit.to_owned()));
    format!(
        "Attempt {attempt} was rejected. Your reply was cut off: it kept repeating {shown}. \
         Reply again with the JSON value only; use null for optional fields the text does \
         not give."
    )
}

/// The assistant text echoed back in a re-ask: the failed output, cut if very long.
pub(crate) fn echo(raw: &str) -> String {
    crate::json::excerpt(raw, MAX_ECHO).into_owned()
}

/// The user message of a re-ask: compact, path-level errors, then what to do. It never
/// repeats the input and never asks for more than the text supports.
pub(crate) fn feedback(failure: &AttemptFailure, attempt: usize) -> String {
    feedback_after(format!("Attempt {attempt} was rejected. "), failure)
}

/// [`feedback`] after its first sentence, `opening`.
fn feedback_after(mut out: String, failure: &AttemptFailure) -> String {
    match failure {
        AttemptFailure::Violations(violations) => {
            out.push_str("Your reply does not match the type:\n");
            for v in violations.iter().take(MAX_VIOLATIONS) {
                let _ = writeln!(out, "- {v}");
            }
            if violations.len() > MAX_VIOLATIONS {
                let _ = writeln!(out, "- and {} more", violations.len() - MAX_VIOLATIONS);
            }
            out.push_str(
                "Reply again with the corrected JSON value only. Fix these errors using what the \
                 text says; use null for optional fields the text does not give.",
            );
        }
        AttemptFailure::NotJson(message) => {
            let _ = write!(
                out,
                "Your reply is not valid JSON ({message}). Reply again with the JSON value only, \
                 with no prose and no code fences."
            );
        }
        AttemptFailure::Empty | AttemptFailure::Truncated | AttemptFailure::Refusal(_) => {
            out.push_str("Your reply was empty. Reply with the JSON value only.");
        }
        AttemptFailure::Interrupted(_) => {
            out.push_str("Your reply was cut off. Reply with the JSON value only.");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Violation;

    #[test]
    fn feedback_is_compact() {
        let failure = AttemptFailure::Violations(vec![Violation::new(
            "/age",
            "200 is greater than the maximum of 150",
        )]);
        let text = feedback(&failure, 1);
        assert!(text.contains("at /age: 200 is greater than the maximum of 150"));
        assert!(!text.contains("http"));
    }

    #[test]
    fn each_failure_changes_the_next_request() {
        let mut reask = Reask::first(100);
        reask.after(&AttemptFailure::Truncated, "{\"a\": ", 1);
        assert_eq!(reask.max_tokens, 200);
        assert!(reask.turns.is_empty());
        reask.after(&AttemptFailure::Empty, "", 2);
        assert_eq!(reask.turns.len(), 1);
        let failure = AttemptFailure::NotJson("expected a value".into());
        reask.after(&failure, "nope", 3);
        assert_eq!(reask.turns[0], Message::assistant("nope"));
        assert!(
            matches!(&reask.turns[1].content, crate::wire::Content::Text(t) if t.starts_with("Attempt 3 was rejected"))
        );
        let mut big = Reask::first(MAX_TOKENS_CEILING - 1);
        big.after(&AttemptFailure::Truncated, "", 1);
        assert_eq!(big.max_tokens, MAX_TOKENS_CEILING);
    }

    #[test]
    fn a_repeated_reply_is_not_echoed_again() {
        let failure = AttemptFailure::Violations(vec![Violation::new(
            "/email",
            "not a valid email; if the text gives no email, use null",
        )]);
        let raw = r#"{"name": "Lucy Gray", "email": "Lucy Gray@example.com"}"#;
        let mut reask = Reask::first(256);
        reask.after(&failure, raw, 1);
        assert_eq!(reask.turns[0], Message::assistant(raw));
        reask.after(&failure, raw, 2);
        assert_eq!(reask.turns.len(), 1, "{:?}", reask.turns);
        let crate::wire::Content::Text(text) = &reask.turns[0].content else {
            panic!("a text message");
        };
        assert!(text.starts_with("Attempt 2 was rejected: it repeated attempt 1 word for word. "));
        assert!(
            text.contains("- at /email: not a valid email; if the text gives no email, use null")
        );
        assert!(!text.contains("Lucy Gray@"), "{text}");
        // A different reply is echoed again.
        reask.after(&failure, r#"{"name": "Lucy Gray", "email": "lucy"}"#, 3);
        assert_eq!(reask.turns.len(), 2);
        assert_eq!(reask.max_tokens, 256);
    }

    #[test]
    fn a_looping_cut_reply_gets_feedback_not_room() {
        let raw = format!(
            r#"{{"name": "Yuki Tanaka", "email": "{}jo"#,
            "johan_".repeat(200)
        );
        let mut reask = Reask::first(256);
        reask.after(&AttemptFailure::Truncated, &raw, 1);
        assert_eq!(reask.max_tokens, 256);
        assert_eq!(
            reask.turns,
            vec![Message::user(
                "Attempt 1 was rejected. Your reply was cut off: it kept repeating \"johan_\". \
                 Reply again with the JSON value only; use null for optional fields the text \
                 does not give."
            )]
        );
        // A reply cut while still going somewhere gets the room instead.
        let mut going = Reask::first(256);
        let items: Vec<String> = (0..200).map(|i| format!("{{\"n\": {i}}}")).collect();
        going.after(
            &AttemptFailure::Truncated,
            &format!("[{}", items.join(", ")),
            1,
        );
        assert_eq!((going.max_tokens, going.turns.len()), (512, 0));
    }

    #[test]
    fn loops_are_found_by_their_unit() {
        assert_eq!(looping(&format!("x: {}ab", "abc".repeat(100))), Some("abc"));
        assert_eq!(looping(&"\n".repeat(300)), Some("\n"));
        assert_eq!(
            looping(&format!("{{\"a\": \"{}", "é-".repeat(100))),
            Some("é-")
        );
        // Too short a run, a unit longer than the limit, and no repetition at all.
        assert_eq!(looping(&"ab".repeat(20)), None);
        let long: String = (0..200u8)
            .map(|b| char::from(b'a' + b % 26))
            .chain(['!'])
            .collect();
        assert_eq!(looping(&long.repeat(10)), None);
        assert_eq!(looping("{\"name\": \"Ada\"}"), None);
    }

    #[test]
    fn long_output_is_echoed_cut() {
        let raw = "é".repeat(MAX_ECHO);
        let echoed = echo(&raw);
        assert!(echoed.len() <= MAX_ECHO + '…'.len_utf8());
        assert!(echoed.ends_with('…'));
    }
}
