//! Re-asking: what the next attempt changes after a failed one. The policy ("after this
//! failure, change that") and the texts the model is shown: its failed output, echoed, and
//! compact, path-level feedback.

use std::fmt::Write as _;

use crate::AttemptFailure;
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
}

impl Reask {
    /// The first attempt: no re-ask turns.
    pub(crate) fn first(max_tokens: u32) -> Reask {
        Reask {
            turns: Vec::new(),
            max_tokens,
        }
    }

    /// The policy. After attempt number `attempt` failed with `failure` and wrote `raw`:
    ///
    /// - truncated: the same conversation with twice the room (up to
    ///   [`MAX_TOKENS_CEILING`]), since the cut reply was going somewhere;
    /// - empty: a reminder to answer, with nothing to echo;
    /// - anything else: the failed output echoed as the assistant's turn, then the errors.
    ///
    /// Every re-ask changes the prompt or the budget: Dria samples with a fixed seed, so an
    /// identical request would repeat the same output. A refusal is never re-asked; the
    /// pipeline ends on it before asking here.
    pub(crate) fn after(&mut self, failure: &AttemptFailure, raw: &str, attempt: usize) {
        match failure {
            AttemptFailure::Truncated => {
                self.max_tokens = self
                    .max_tokens
                    .saturating_mul(2)
                    .min(MAX_TOKENS_CEILING)
                    .max(self.max_tokens);
            }
            AttemptFailure::Empty => {
                self.turns = vec![Message::user(feedback(failure, attempt))];
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

/// The assistant text echoed back in a re-ask: the failed output, cut if very long.
pub(crate) fn echo(raw: &str) -> String {
    crate::json::excerpt(raw, MAX_ECHO).into_owned()
}

/// The user message of a re-ask: compact, path-level errors, then what to do. It never
/// repeats the input and never asks for more than the text supports.
pub(crate) fn feedback(failure: &AttemptFailure, attempt: usize) -> String {
    let mut out = format!("Attempt {attempt} was rejected. ");
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
    fn long_output_is_echoed_cut() {
        let raw = "é".repeat(MAX_ECHO);
        let echoed = echo(&raw);
        assert!(echoed.len() <= MAX_ECHO + '…'.len_utf8());
        assert!(echoed.ends_with('…'));
    }
}
