//! Classifies a reply before parsing: refusal, truncation, empty, `<think>` blocks.

use super::AttemptFailure;
use crate::wire::ChatResponse;

/// What a reply holds, before parsing.
#[derive(Debug)]
pub(crate) struct Classified {
    /// The raw text of the first choice (empty when there is none).
    pub(crate) raw: String,
    /// The content with `<think>` blocks stripped, or why there is nothing to parse.
    pub(crate) content: Result<String, AttemptFailure>,
    /// The completion was cut at `max_tokens`: a parse failure, or a value that only
    /// parses by closing what was left open, then means truncation.
    pub(crate) at_token_limit: bool,
    /// The server's `finish_reason`.
    pub(crate) finish_reason: Option<String>,
}

pub(crate) fn classify(response: &ChatResponse, max_tokens: u32) -> Classified {
    // Cut off by the token limit, as the server says (`finish_reason: "length"`) or as the
    // usage shows (Dria sets no finish reason). The parse decides whether the cut matters:
    // a value completed before the cut is kept, a value closed by repair is not.
    let at_token_limit = response
        .usage
        .is_some_and(|u| u.completion_tokens >= u64::from(max_tokens))
        || response
            .choices
            .first()
            .is_some_and(|c| c.finish_reason.as_deref() == Some("length"));
    let Some(choice) = response.choices.first() else {
        return Classified {
            raw: String::new(),
            content: Err(AttemptFailure::Empty),
            at_token_limit,
            finish_reason: None,
        };
    };
    let message = choice.message.clone().unwrap_or_default();
    let raw = message.content.unwrap_or_default();
    let finish_reason = choice.finish_reason.clone();
    let content = if let Some(refusal) = message.refusal.filter(|r| !r.trim().is_empty()) {
        Err(AttemptFailure::Refusal(refusal))
    } else if finish_reason.as_deref() == Some("content_filter") {
        Err(AttemptFailure::Refusal(
            "the reply was blocked by a content filter".to_owned(),
        ))
    } else {
        let stripped = strip_think(&raw);
        if stripped.trim().is_empty() {
            Err(if at_token_limit {
                AttemptFailure::Truncated
            } else {
                AttemptFailure::Empty
            })
        } else {
            Ok(stripped)
        }
    };
    Classified {
        raw,
        content,
        at_token_limit,
        finish_reason,
    }
}

/// Removes `<think>…</think>` blocks. An unclosed `<think>` hides the rest of the text; a
/// `</think>` with no opening tag (the chat template opened it) hides what comes before.
pub(crate) fn strip_think(text: &str) -> String {
    const OPEN: &str = "<think>";
    const CLOSE: &str = "</think>";
    let mut text = text;
    if let Some(close) = text.find(CLOSE)
        && !text[..close].contains(OPEN)
    {
        text = &text[close + CLOSE.len()..];
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(OPEN) {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(CLOSE) else {
            rest = "";
            break;
        };
        rest = &rest[open + close + CLOSE.len()..];
    }
    out.push_str(rest);
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Choice, ResponseMessage, Usage};

    fn response(
        content: Option<&str>,
        finish: Option<&str>,
        completion_tokens: u64,
    ) -> ChatResponse {
        ChatResponse {
            choices: vec![Choice {
                message: Some(ResponseMessage {
                    content: content.map(str::to_owned),
                    ..Default::default()
                }),
                finish_reason: finish.map(str::to_owned),
                ..Default::default()
            }],
            usage: Some(Usage {
                completion_tokens,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn think_blocks() {
        assert_eq!(strip_think("<think>hm {</think>{\"a\":1}"), "{\"a\":1}");
        assert_eq!(strip_think("a<think>x</think>b<think>y</think>c"), "abc");
        assert_eq!(strip_think("reasoning</think>\n{}"), "{}");
        assert_eq!(strip_think("{}<think>never closed"), "{}");
    }

    #[test]
    fn outcomes() {
        // A "length" cut is flagged, and the parse decides whether it matters.
        let cut = classify(&response(Some("{}"), Some("length"), 3), 10);
        assert!(cut.at_token_limit);
        assert_eq!(cut.content.as_deref(), Ok("{}"));
        assert!(matches!(
            classify(&response(Some("  \n"), Some("stop"), 1), 10).content,
            Err(AttemptFailure::Empty)
        ));
        assert!(matches!(
            classify(&response(None, None, 0), 10).content,
            Err(AttemptFailure::Empty)
        ));
        assert!(matches!(
            classify(&response(Some("<think>"), None, 10), 10).content,
            Err(AttemptFailure::Truncated)
        ));
        let ok = classify(&response(Some("<think>x</think>{}"), Some("stop"), 10), 10);
        assert_eq!(ok.content.unwrap(), "{}");
        assert!(ok.at_token_limit);
        assert!(matches!(
            classify(&ChatResponse::default(), 10).content,
            Err(AttemptFailure::Empty)
        ));
    }
}
