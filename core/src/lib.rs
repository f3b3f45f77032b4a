//! Typed, validated structured extraction with LLMs.
//!
//! Put `#[derive(Extract)]` (beside serde's `Deserialize`) on a domain type and call
//! [`Client::extract`]. The derive generates the type's JSON Schema and a compact prompt
//! rendering from its fields, doc comments and attributes; factum sends the schema as
//! `response_format` to an OpenAI-compatible `/v1/chat/completions` endpoint (the Dria
//! inference API by default), repairs and validates the reply, and re-asks the model with
//! path-level feedback when the output does not match.
//!
//! ```no_run
//! use factum::{Client, Extract};
//! use serde::Deserialize;
//!
//! /// A person mentioned in the text.
//! #[derive(Debug, Deserialize, Extract)]
//! struct Person {
//!     /// Full name, as written.
//!     name: String,
//!     /// Age in whole years.
//!     #[extract(range(min = 0, max = 150))]
//!     age: u8,
//!     /// Email address, if the text gives one.
//!     #[extract(format = "email")]
//!     email: Option<String>,
//! }
//!
//! # async fn run() -> factum::Result<()> {
//! let client = Client::from_env()?;
//! let person: Person = client.extract("John Doe, john@example.com, 30").await?;
//! # Ok(()) }
//! ```
//!
//! # Schemas without a server
//!
//! [`schema`] gives a type's cached [`Schema`]: the full source schema, the schema lowered
//! for a server's dialect ([`Dialect`]), and the prompt rendering.
//!
//! ```
//! use factum::{Dialect, Extract};
//! use serde::Deserialize;
//!
//! /// How the ticket should be routed.
//! #[derive(Deserialize, Extract)]
//! #[serde(rename_all = "snake_case")]
//! enum Route { Billing, Technical, Other }
//!
//! let schema = factum::schema::<Route>();
//! assert_eq!(schema.json()["enum"][0], "billing");
//! assert!(schema.prompt().contains("\"technical\""));
//! assert!(schema.for_dialect(Dialect::OpenAiStrict).is_ok());
//! ```
//!
//! # Batches
//!
//! [`Client::extract_batch`] and [`Client::batch`] run many extractions as one
//! [`Batch`]: at most `concurrency` at once, inputs read lazily, rate limits in requests
//! and tokens per minute, results as a stream of `(index, Result<Extracted<T>>)`, progress
//! reports ([`Progress`]), and a journal that lets a stopped batch resume without paying
//! twice. A 429 or 503 with `Retry-After` on any request of a client holds back every new
//! request of that client until then.
//!
//! The journal (`.journal(path)`) gets one JSON line per item as it is yielded: `index`,
//! `key` (the index as text), `input_hash` (of the text, the type's schema and the model),
//! `value` (the validated JSON; a chunked item's merged list) or `error` and `kind`,
//! `usage`, and `attempts`. A line is written whole with one write; a torn last line left
//! by a stopped program is ignored with a warning and cut off. Run again with the same
//! inputs and journal, an item with a value line and a matching hash is neither sent nor
//! yielded; failed items are tried again. [`Journal`] reads a journal back as typed
//! [`JournalEntry`]s.
//!
//! ```no_run
//! use futures_util::StreamExt as _;
//! # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
//! # async fn run(client: factum::Client, texts: Vec<String>) {
//! let mut results = client
//!     .extract_batch::<Person>(texts)
//!     .concurrency(16)
//!     .requests_per_minute(600)
//!     .journal("people.jsonl")
//!     .stream();
//! while let Some((index, result)) = results.next().await {
//!     match result {
//!         Ok(out) => println!("{index}: {:?}", out.value),
//!         Err(error) => eprintln!("{index}: {error}"),
//!     }
//! }
//! # }
//! ```
//!
//! # Grounding and long documents
//!
//! Every [`Extracted`] has [`spans`](Extracted::spans): where each string, number and bool
//! of the value is in the text, and how closely it matches ([`Match`]); see [`ground`].
//! `#[extract(grounded)]` on a field makes a value not in the text a violation, re-asked.
//! A list extraction can be [`chunked`](Extraction::chunked) with [`Chunking`], run over
//! several [`passes`](Extraction::passes), and merged into one result with spans into the
//! whole text. Its chunk jobs take a [`journal`](Extraction::journal) (a rerun sends only
//! the chunks not done, and reads the others back), [`on_progress`](Extraction::on_progress)
//! and, with the `progress` feature, `progress_bar`.
//!
//! ```no_run
//! use factum::{Chunking, Extract, Match};
//! use serde::Deserialize;
//!
//! /// A quotation.
//! #[derive(Debug, Deserialize, Extract)]
//! struct Quote {
//!     /// Who spoke, as the text names them.
//!     #[extract(grounded)]
//!     speaker: String,
//!     /// What they said.
//!     words: String,
//! }
//!
//! # async fn run(client: factum::Client, book: String) -> factum::Result<()> {
//! let quotes = client
//!     .extraction::<Vec<Quote>>(book.clone())
//!     .chunked(Chunking::chars(4000).overlap(400))
//!     .send()
//!     .await?;
//! for span in quotes.spans.iter().filter(|s| s.quality != Match::Exact) {
//!     println!("{} = {:?}: {:?} at {:?}", span.path, span.value, span.quality, span.range);
//! }
//! # Ok(()) }
//! ```
//!
//! # Review pages
//!
//! [`review::html`] renders an [`Extracted`] over its source text as one self-contained
//! HTML page: the text with each grounded value highlighted where it was found, and the
//! list of values with their match quality, those not found marked.
//!
//! # Features
//!
//! Each makes a crate's types usable as fields, by turning on schemars' support for them
//! (so a user does not depend on schemars by hand), and by giving their partial values
//! while a reply streams; all are off by default.
//!
//! | feature | field types | schemars feature |
//! |---|---|---|
//! | `chrono` | `chrono::NaiveDate`, `DateTime<Utc>`, … (`format: date`, `date-time`) | `chrono04` |
//! | `uuid` | `uuid::Uuid` (`format: uuid`) | `uuid1` |
//! | `url` | `url::Url` (`format: uri`) | `url2` |
//!
//! `progress` adds `Batch::progress_bar` and `Extraction::progress_bar` (of a chunked
//! run's chunk jobs), an indicatif progress bar with the done and failed counts, the rate
//! and the ETA.
//!
//! `local` runs a GGUF model in this process through llama.cpp (the `llama-cpp-2` crate), as
//! a Dria compute node does: `Client::local`, `ClientBuilder::local`, and the grammar
//! converter in `factum::local`. The first build compiles llama.cpp (about 9 minutes on 2
//! cores) and needs `cmake`, `clang` and `libclang-dev`.

pub use factum_derive::Extract;
pub use schemars::JsonSchema;

mod extract;
mod json;
mod lower;
mod prompt;
mod schema;
mod validate;

pub mod ground;
pub mod parse;
pub mod review;
pub mod stream;
pub mod testing;

mod chunking;
mod dynamic;
mod error;
mod fold;
mod grounding;

mod record;
pub mod wire;

// What a user holds, one extraction's pipeline, one model call's transport, and many
// extractions. The pipeline reads the client's shared state (`client::inner`) and the
// transport; batches drive the client's extractions; nothing imports back.
mod batch;
pub mod batch_file;
mod cache;
mod client;
mod pipeline;
mod transport;

/// The in-process backend's grammar tools (feature `local`): llama.cpp's
/// JSON-Schema-to-GBNF converter, as Dria nodes run it, and a vocabulary to build grammar
/// samplers over.
#[cfg(feature = "local")]
pub mod local {
    pub use crate::transport::local::{Vocabulary, grammar};
}

pub use batch::journal::reader::{Journal, JournalEntry};
pub use batch::limits::RateLimits;
pub use batch::progress::Progress;
pub use batch::{Batch, BatchItem};
pub use cache::Cache;
pub use chunking::Chunking;
pub use client::Client;
pub use client::builder::ClientBuilder;
pub use client::extraction::{Extraction, extract};
pub use client::image::Image;
pub use dynamic::Dynamic;
pub use error::{Error, ErrorKind, Result};
pub use extract::{Extract, MapKey, PartialValue, schema};
pub use ground::{Match, Span};
pub use grounding::Grounding;
pub use pipeline::events::{SpannedItem, StreamEvent};
pub use pipeline::stream::{ExtractionStream, ItemStream, SpannedItemStream};
pub use record::attempt::{Attempt, AttemptFailure};
pub use record::{ChunkFailure, Extracted};

/// A `T` as far as the model has written it, while its reply streams: `<T as
/// Extract>::Partial`. See [`Extraction::stream`].
pub type Partial<T> = <T as Extract>::Partial;
pub use lower::{Dialect, SchemaError};
pub use parse::Leniency;
pub use prompt::PromptStyle;
pub use schema::Schema;
pub use stream::Runaway;
pub use transport::provider::{Mode, ParseProviderError, Provider};
pub use validate::Violation;
pub use wire::Usage;

/// Strategies for the property tests: generated JSON values and model-like text.
#[cfg(test)]
mod arbitrary;

/// Support code for the derive's expansion. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private;
