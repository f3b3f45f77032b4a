//! The OpenAI-compatible `/v1/chat/completions` wire format, as factum sends and reads it.
//!
//! These are plain structs with `pub` fields and serde derives, one per JSON object on the
//! wire. The message types and [`Usage`] are public (they appear in [`Extraction::messages`]
//! and on every result); the request and response envelopes are crate-internal, so that a
//! new server field is never a breaking change. Requests serialize only the fields that are
//! set, so a server never sees a field it did not document; responses deserialize
//! leniently (missing fields default, unknown fields are ignored) because servers differ in
//! what they include.
//!
//! [`Extraction::messages`]: crate::Extraction::messages

use std::borrow::Cow;
use std::ops::{Add, AddAssign};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A `POST /v1/chat/completions` request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChatRequest {
    /// The model name.
    pub(crate) model: String,
    /// The conversation, system message first.
    pub(crate) messages: Conversation,
    /// Upper bound on completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    /// The sampler's seed, for servers that take one: a re-ask draws a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    /// Whether to stream the reply as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stream: Option<bool>,
    /// With `stream`: ask for usage in the last chunk, for servers that accept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
    /// Dria only: how long the router may wait for a node, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_secs: Option<u64>,
    /// How the server should constrain the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) response_format: Option<ResponseFormat>,
    /// The [`fingerprint`](crate::Schema::fingerprint) of the schema the reply is asked
    /// for: never sent, but part of what a cassette or the response cache keys the request
    /// by (in prompt-only mode the body carries no schema).
    #[serde(skip)]
    pub(crate) schema_hash: u64,
}

impl ChatRequest {
    /// The body as JSON, exactly as it is sent: written to text and read back, so an `f32`
    /// temperature reads `0.4` as on the wire, not the `f64` widening of it.
    pub(crate) fn body(&self) -> serde_json::Result<Value> {
        serde_json::from_slice(&self.to_bytes()?)
    }

    /// The body as it is sent, written into a buffer sized for it up front. Grown from
    /// empty, as `serde_json::to_vec` grows it, a body of a kilobyte or two (the system
    /// prompt, the text, the schema) was moved to a larger buffer about eight times.
    pub(crate) fn to_bytes(&self) -> serde_json::Result<Vec<u8>> {
        let mut body = Vec::with_capacity(self.size_hint());
        serde_json::to_writer(&mut body, self)?;
        Ok(body)
    }

    /// About the size of the body in bytes: its texts and schema, with room for the keys,
    /// the numbers and escapes up to an eighth of the texts (a prompt's newlines and
    /// quotes are far fewer). An image's URL, a `data:` one included, counts whole.
    fn size_hint(&self) -> usize {
        let texts: usize = self.messages.iter().map(|m| m.content.byte_len(true)).sum();
        let schema = self
            .response_format
            .as_ref()
            .and_then(ResponseFormat::schema)
            .map_or(0, SentSchema::text_len);
        texts + texts / 8 + schema + 256
    }
}

/// A request's conversation: the prefix every attempt of an extraction shares (the system
/// message, the caller's messages, the text), then this attempt's re-ask turns. It is sent
/// as one array; the prefix, document included, is shared, never copied per attempt.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Conversation {
    pub(crate) prefix: Prefix,
    pub(crate) turns: Vec<Message>,
}

impl Conversation {
    /// Every message, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Message> {
        self.prefix.iter().chain(&self.turns)
    }
}

impl From<Vec<Message>> for Conversation {
    fn from(messages: Vec<Message>) -> Conversation {
        Conversation {
            prefix: Prefix::from(messages),
            turns: Vec::new(),
        }
    }
}

impl Serialize for Conversation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut seq = serializer.serialize_seq(Some(self.prefix.len() + self.turns.len()))?;
        let mut prefix = self.prefix.iter();
        if let Some(first) = &self.prefix.first_json {
            prefix.next();
            seq.serialize_element(&**first)?;
        }
        for message in prefix.chain(&self.turns) {
            seq.serialize_element(message)?;
        }
        seq.end()
    }
}

/// The messages every attempt of an extraction shares, and the first one's JSON when it
/// was written out ahead: a client's system message is the same for every item of a
/// batch, so it is written once, not escaped again into every request (a batch bench item
/// spent 4,000 of its 128,000 instructions on that).
#[derive(Debug, Clone, Default)]
pub(crate) struct Prefix {
    messages: Arc<[Message]>,
    /// The first message as JSON, exactly as serde_json writes it.
    first_json: Option<Arc<RawValue>>,
}

impl Prefix {
    /// `messages`, whose first is `first` written as JSON
    /// ([`serde_json::value::to_raw_value`] of it).
    pub(crate) fn with_first_written(messages: Vec<Message>, first: Arc<RawValue>) -> Prefix {
        debug_assert_eq!(
            messages
                .first()
                .and_then(|m| serde_json::to_string(m).ok())
                .as_deref(),
            Some(first.get()),
            "the written first message is the first message"
        );
        Prefix {
            messages: messages.into(),
            first_json: Some(first),
        }
    }
}

impl From<Vec<Message>> for Prefix {
    fn from(messages: Vec<Message>) -> Prefix {
        Prefix {
            messages: messages.into(),
            first_json: None,
        }
    }
}

impl std::ops::Deref for Prefix {
    type Target = [Message];

    fn deref(&self) -> &[Message] {
        &self.messages
    }
}

/// The messages decide: the JSON is only how the first is written.
impl PartialEq for Prefix {
    fn eq(&self, other: &Prefix) -> bool {
        self.messages == other.messages
    }
}

impl<'de> Deserialize<'de> for Conversation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Conversation, D::Error> {
        Vec::<Message>::deserialize(deserializer).map(Conversation::from)
    }
}

/// `stream_options` of a streaming request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StreamOptions {
    /// Send the usage in a last chunk with no choices.
    pub(crate) include_usage: bool,
}

/// One `data:` event of a streamed chat completion.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct ChatChunk {
    /// The chunk's choices; factum reads the first. The usage chunk has none.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) choices: Vec<ChunkChoice>,
    /// Token counts, in the last chunk.
    #[serde(default)]
    pub(crate) usage: Option<Usage>,
    /// Dria's non-standard metadata.
    #[serde(default)]
    pub(crate) metadata: Option<Metadata>,
    /// An error reported after the 200 (OpenAI, vLLM and OpenRouter send `{"error": …}`).
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// One choice of a streamed chunk.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct ChunkChoice {
    /// What this chunk adds.
    #[serde(default)]
    pub(crate) delta: Option<ResponseMessage>,
    /// Why generation stopped, in the choice's last chunk.
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The caller.
    User,
    /// The model.
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: Content,
}

impl Message {
    /// A system message with plain text.
    pub fn system(text: impl Into<String>) -> Message {
        Message {
            role: Role::System,
            content: Content::Text(text.into()),
        }
    }

    /// A user message with plain text.
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: Content::Text(text.into()),
        }
    }

    /// An assistant message with plain text.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: Content::Text(text.into()),
        }
    }
}

/// A message's content: a string, or an array of parts (text and images).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text, sent as a JSON string.
    Text(String),
    /// Text and image parts, sent as a JSON array.
    Parts(Vec<ContentPart>),
}

impl Content {
    /// The bytes of its text, and with `urls` of its image URLs too (a `data:` URL holds
    /// the whole image).
    pub(crate) fn byte_len(&self, urls: bool) -> usize {
        match self {
            Content::Text(text) => text.len(),
            Content::Parts(parts) => parts
                .iter()
                .map(|part| match part {
                    ContentPart::Text { text } => text.len(),
                    ContentPart::ImageUrl { image_url } if urls => image_url.url.len(),
                    ContentPart::ImageUrl { .. } => 0,
                })
                .sum(),
        }
    }
}

/// One part of a multi-part message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// `{"type": "text", "text": …}`.
    Text {
        /// The text.
        text: String,
    },
    /// `{"type": "image_url", "image_url": {"url": …}}`.
    ImageUrl {
        /// Where the image is: an `https:` URL or a `data:` URL.
        image_url: ImageUrl,
    },
}

/// The `image_url` object of an image part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// An `https:` URL, or a `data:<mime>;base64,<data>` URL.
    pub url: String,
    /// `OpenAI`'s `detail` hint (`low`, `high`, `auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The `response_format` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ResponseFormat {
    /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"?}}`.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
    /// `{"type": "json_object"}`, with llama-cpp-python's `schema` beside it when set.
    JsonObject {
        /// The schema, for servers that read it here (llama-cpp-python, llama-server).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<SentSchema>,
    },
    /// `{"type": "text"}`.
    Text,
}

impl ResponseFormat {
    /// The schema it carries: the `json_schema`'s, or the one beside a `json_object`.
    pub(crate) fn schema(&self) -> Option<&SentSchema> {
        match self {
            ResponseFormat::JsonSchema { json_schema } => Some(&json_schema.schema),
            ResponseFormat::JsonObject { schema } => schema.as_ref(),
            ResponseFormat::Text => None,
        }
    }
}

/// The `json_schema` object of a `json_schema` response format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JsonSchemaFormat {
    /// The schema's name (`[a-zA-Z0-9_-]{1,64}`), borrowed like the schema.
    pub(crate) name: Cow<'static, str>,
    /// The JSON Schema, borrowed from the type's cached [`Schema`](crate::Schema) rather
    /// than copied into every request.
    pub(crate) schema: SentSchema,
    /// `OpenAI`'s strict flag; omitted for servers that do not honour it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

/// A schema as a request carries it: borrowed from a type's cached
/// [`Schema`](crate::Schema), with its JSON text written once for every request that sends
/// it, or read from a body (owned, and written again when sent).
///
/// Writing a schema's JSON costs as much as the rest of a body; a batch sends the same
/// schema with every item, so each request copies the text instead (6,000 of a
/// three-field type's 150,000 instructions per item on the batch bench).
#[derive(Debug, Clone)]
pub(crate) struct SentSchema {
    value: Cow<'static, Value>,
    text: Option<&'static RawValue>,
}

impl SentSchema {
    /// A cached schema and, when it could be written, its JSON text.
    pub(crate) fn cached(value: &'static Value, text: Option<&'static RawValue>) -> SentSchema {
        SentSchema {
            value: Cow::Borrowed(value),
            text,
        }
    }

    /// The length of the schema's JSON text when it was written once; 0 when it was not.
    fn text_len(&self) -> usize {
        self.text.map_or(0, |text| text.get().len())
    }

    /// The schema's JSON text: as written once, or written now.
    #[cfg(feature = "local")]
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self.text {
            Some(text) => Cow::Borrowed(text.get()),
            None => Cow::Owned(self.value.to_string()),
        }
    }
}

impl std::ops::Deref for SentSchema {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

impl PartialEq for SentSchema {
    fn eq(&self, other: &SentSchema) -> bool {
        self.value == other.value
    }
}

impl Serialize for SentSchema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.text {
            Some(text) => text.serialize(serializer),
            None => self.value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SentSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SentSchema, D::Error> {
        Ok(SentSchema {
            value: Cow::Owned(Value::deserialize(deserializer)?),
            text: None,
        })
    }
}

/// A non-streaming `/v1/chat/completions` response body: what factum reads of it. The
/// rest (`id`, `object`, `model`, `created`, a message's `role`, …) is passed over
/// unread: every server sends those, and read into strings they were three allocations
/// per reply that nothing looked at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChatResponse {
    /// The choices; factum reads the first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) choices: Vec<Choice>,
    /// Token counts.
    #[serde(default)]
    pub(crate) usage: Option<Usage>,
    /// Dria's non-standard metadata.
    #[serde(default)]
    pub(crate) metadata: Option<Metadata>,
}

/// One choice of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Choice {
    /// The choice's index.
    #[serde(default)]
    pub(crate) index: Option<u32>,
    /// The reply.
    #[serde(default)]
    pub(crate) message: Option<ResponseMessage>,
    /// Why generation stopped: `stop`, `length`, `content_filter`, …
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

/// The message of a response choice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResponseMessage {
    /// The reply text.
    #[serde(default)]
    pub(crate) content: Option<String>,
    /// `OpenAI`'s refusal text; set when the model declined.
    #[serde(default)]
    pub(crate) refusal: Option<String>,
    /// Reasoning text some servers return beside the content (`DeepSeek`, vLLM).
    #[serde(default)]
    pub(crate) reasoning_content: Option<String>,
    /// Reasoning text under the name other servers use (`OpenRouter`, Ollama).
    #[serde(default)]
    pub(crate) reasoning: Option<String>,
}

/// Token counts, as the server reports them.
///
/// Adding two `Usage` values adds each count, which is how factum sums the usage of every
/// attempt of an extraction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default, deserialize_with = "null_as_default")]
    pub prompt_tokens: u64,
    /// Tokens in the completion.
    #[serde(default, deserialize_with = "null_as_default")]
    pub completion_tokens: u64,
    /// Both together.
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_tokens: u64,
}

impl Usage {
    /// The usage of `prompt_tokens` in and `completion_tokens` out; the total is their sum.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Usage {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }
    }
}

impl Add for Usage {
    type Output = Usage;

    fn add(self, other: Usage) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens.saturating_add(other.prompt_tokens),
            completion_tokens: self
                .completion_tokens
                .saturating_add(other.completion_tokens),
            total_tokens: self.total_tokens.saturating_add(other.total_tokens),
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        *self = *self + other;
    }
}

/// Dria's `metadata` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Metadata {
    /// The community node that ran the request.
    #[serde(default)]
    pub(crate) node_id: Option<String>,
}

/// Reads `null` as the type's default; servers send `null` for counts they do not track.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_written_as_serde_writes_it_into_a_buffer_sized_for_it() {
        let schema =
            serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}});
        let text = RawValue::from_string(schema.to_string()).unwrap();
        let sent = SentSchema::cached(Box::leak(Box::new(schema)), Some(Box::leak(text)));
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![
                // A prompt's share of escaped characters: a newline a line, a few quotes.
                Message::system(
                    "Extract the Person in <input> as json; \"name\" is the full name.\n"
                        .repeat(20),
                ),
                Message::user("<input>\nAda Lovelace, 36\n</input>"),
            ]
            .into(),
            max_tokens: Some(64),
            temperature: Some(0.0),
            seed: None,
            stream: Some(true),
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            timeout_secs: None,
            response_format: Some(ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: Cow::Borrowed("Person"),
                    schema: sent,
                    strict: None,
                },
            }),
            schema_hash: 0,
        };
        let body = request.to_bytes().unwrap();
        assert_eq!(body, serde_json::to_vec(&request).unwrap());
        // The hint covers the whole body, escapes included: the buffer is never grown.
        assert!(
            request.size_hint() >= body.len(),
            "{} < {}",
            request.size_hint(),
            body.len()
        );
    }

    #[test]
    fn usage_adds_each_count() {
        let a = Usage {
            prompt_tokens: 1,
            completion_tokens: 2,
            total_tokens: 3,
        };
        let mut b = Usage {
            prompt_tokens: 10,
            completion_tokens: 20,
            total_tokens: 30,
        };
        b += a;
        assert_eq!(
            b,
            Usage {
                prompt_tokens: 11,
                completion_tokens: 22,
                total_tokens: 33
            }
        );
    }

    #[test]
    fn response_reads_nulls_and_unknown_fields() {
        let body = r#"{"id":"gen-1","choices":[{"message":{"content":"{}"},"finish_reason":null,"x":1}],
            "usage":{"prompt_tokens":null,"completion_tokens":5,"total_tokens":5},"metadata":{"node_id":"0xab"}}"#;
        let parsed: ChatResponse = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.usage.unwrap().completion_tokens, 5);
        assert_eq!(parsed.metadata.unwrap().node_id.as_deref(), Some("0xab"));
    }

    #[test]
    fn response_formats_and_image_parts_serialize_as_servers_expect() {
        let object = ResponseFormat::JsonObject { schema: None };
        assert_eq!(
            serde_json::to_string(&object).unwrap(),
            r#"{"type":"json_object"}"#
        );
        let part = ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: "data:x".into(),
                detail: None,
            },
        };
        assert_eq!(
            serde_json::to_string(&part).unwrap(),
            r#"{"type":"image_url","image_url":{"url":"data:x"}}"#
        );
    }
}
