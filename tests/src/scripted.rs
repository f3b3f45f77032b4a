//! Support for the judgement tests (`tests/tests/judgement/`), which run the pipeline on
//! a [`Script`] instead of a server: client presets mirroring [`crate::http`]'s, scripts
//! made of replies, the usage a script reports when a step sets none, and the roster that
//! the chunked tests read (also served over HTTP by the `http` binary's chunk journal
//! tests).

#![allow(
    clippy::missing_panics_doc,
    reason = "test support: every panic here is the failure of the test that called it"
)]

use std::fmt::Write as _;
use std::time::Duration;

use factum::testing::Script;
use factum::{Client, ClientBuilder, Extract, Provider, Usage};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::message_texts;

/// A client builder on `script`, set as [`crate::http::builder`] sets one for a server:
/// the same model, grounding off, fast backoff, and the same timeout (Dria's
/// `timeout_secs` in the request body is derived from it). No base URL, key or HTTP
/// client: nothing is sent over the network.
pub fn builder(script: &Script, provider: Provider) -> ClientBuilder {
    Client::builder()
        .scripted(script.clone())
        // The scripted replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .provider(provider)
        .model("qwen3.5:9b")
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .timeout(Duration::from_secs(10))
}

/// [`builder`], built.
pub fn client(script: &Script, provider: Provider) -> Client {
    builder(script, provider).build().expect("client builds")
}

/// A script answering one request per `(content, prompt_tokens, completion_tokens)`, in
/// order, each with finish reason `stop` and that usage. A request past the last one fails
/// the call (the script has run out): give as many replies as the test expects requests.
pub fn replies<'a>(replies: impl IntoIterator<Item = (&'a str, u64, u64)>) -> Script {
    replies
        .into_iter()
        .fold(Script::new(), |script, (content, prompt, completion)| {
            script.reply_with_usage(content, Usage::new(prompt, completion))
        })
}

/// The usage a [`Script`] reports for `reply` to `request` when its step sets none: about
/// 4 characters a token, the prompt counted on the request's `messages` as JSON text.
pub fn estimated_usage(request: &Value, reply: &str) -> Usage {
    let prompt = request.get("messages").map_or(0, |m| m.to_string().len());
    Usage::new(prompt.div_ceil(4) as u64, reply.len().div_ceil(4) as u64)
}

/// One person of the roster.
#[derive(Debug, Deserialize, Extract, PartialEq, Clone)]
pub struct Member {
    /// Full name.
    pub name: String,
    /// Age in years.
    pub age: u32,
}

/// Everyone in the roster, in order: (name, age).
pub const ROSTER: [(&str, u32); 8] = [
    ("Ada King", 36),
    ("Bob Stone", 41),
    ("Cy Young", 29),
    ("Di Prince", 50),
    ("Ed Norton", 36),
    ("Flo Rida", 33),
    ("Gus Grant", 61),
    ("Hal Jordan", 44),
];

/// A roster of eight sentences, a paragraph break in the middle.
pub fn roster() -> String {
    let mut text = String::new();
    for (i, (name, age)) in ROSTER.iter().enumerate() {
        let _ = write!(text, "{name} is {age} years old. ");
        if i == 3 {
            text.push_str("\n\n");
        }
    }
    text
}

/// What a model reading the roster answers to the chat request `body`: every roster person
/// whose whole sentence is in the chunk it is sent, in the envelope the schema asks for;
/// prose, no JSON, when the chunk names `fail_on`.
pub fn roster_reply(body: &Value, fail_on: Option<&str>) -> String {
    let user = message_texts(body)
        .into_iter()
        .find(|(role, _)| role == "user")
        .map(|(_, text)| text)
        .unwrap_or_default();
    if fail_on.is_some_and(|name| user.contains(name)) {
        return "I could not read this part.".to_owned();
    }
    let people: Vec<Value> = ROSTER
        .iter()
        .filter(|(name, age)| user.contains(&format!("{name} is {age} years old.")))
        .map(|(name, age)| json!({"name": name, "age": age}))
        .collect();
    // The list goes in the envelope the schema asks for.
    let envelope = body["response_format"]["json_schema"]["schema"]["properties"]
        .as_object()
        .and_then(|p| p.keys().next().cloned())
        .expect("a list is asked for in an envelope");
    json!({ envelope: people }).to_string()
}

/// A script that answers `requests` requests as [`roster_reply`] does, with `fail_on`.
pub fn roster_script(requests: usize, fail_on: Option<&'static str>) -> Script {
    (0..requests).fold(Script::new(), |script, _| {
        script.respond(move |body| roster_reply(body, fail_on))
    })
}
