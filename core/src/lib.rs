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
//! # Features
//!
//! - `local`: runs a GGUF model in this process through llama.cpp (the `llama-cpp-2`
//!   crate), as a Dria compute node does: `Client::local`, `ClientBuilder::local`, and
//!   the grammar converter in `factum::local`. The first build compiles llama.cpp (about 9
//!   minutes on 2 cores) and needs `cmake`, `clang` and `libclang-dev`.
//!
//! schemars' own features (`chrono04`, `uuid1`, `url2`, …) make those crates' types usable
//! as fields.

pub use factum_derive::Extract;
pub use schemars::JsonSchema;

mod extract;
mod json;
mod lower;
mod prompt;
mod schema;
mod validate;

pub mod parse;

mod attempt;
mod client;
mod error;
mod provider;
pub mod wire;

/// The in-process backend's grammar tools (feature `local`): llama.cpp's
/// JSON-Schema-to-GBNF converter, as Dria nodes run it, and a vocabulary to build grammar
/// samplers over.
#[cfg(feature = "local")]
pub mod local {
    pub use crate::client::local::{Vocabulary, grammar};
}

pub use attempt::{Attempt, AttemptFailure, Extracted};
pub use client::{Client, ClientBuilder, Extraction, Image, extract};
pub use error::{Error, ErrorKind, Result};
pub use extract::Extract;
pub use lower::{Dialect, SchemaError};
pub use parse::Leniency;
pub use provider::{Mode, Provider};
pub use schema::{Schema, schema};
pub use validate::Violation;
pub use wire::Usage;

/// Support code for the derive's expansion. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private;
