//! Test doubles for your extraction code: no model, no server.
//!
//! - [`Script`]: a scripted "model". [`Client::scripted`](crate::Client::scripted) runs the
//!   whole pipeline on it (the request built exactly as for HTTP, then parsing, validation,
//!   re-asks, grounding, batches, chunking and streaming), and the script keeps every
//!   request it was sent, for assertions on the prompt, a re-ask's feedback or the
//!   sampling.
//! - [`Cassette`]: record a real server's replies once, replay them in CI. In
//!   [`Record::None`] (the default) nothing is ever sent, and a request without a
//!   recording fails naming the first field that differs from the nearest recording.
//!
//! Nothing here is behind a feature: a test double that needs a flag is one more thing to
//! forget. The response cache, which belongs to production code as much as to tests, is
//! [`Cache`](crate::Cache).
//!
//! # Examples
//!
//! A re-ask, with the feedback the model was given:
//!
//! ```
//! use factum::{Client, Extract};
//! use factum::testing::Script;
//! use serde::Deserialize;
//!
//! #[derive(Debug, Deserialize, Extract)]
//! struct Person {
//!     name: String,
//!     #[extract(range(min = 0, max = 150))]
//!     age: u8,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> factum::Result<()> {
//! let script = Script::new()
//!     .reply(r#"{"name": "Ann", "age": 300}"#)
//!     .reply(r#"{"name": "Ann", "age": 30}"#);
//! let client = Client::scripted(script.clone());
//! let person: Person = client.extract("Ann, 30").await?;
//! assert_eq!(person.age, 30);
//! let requests = script.requests();
//! let feedback = requests[1]["messages"].to_string();
//! assert!(feedback.contains("/age"));
//! script.assert_done();
//! # Ok(()) }
//! ```

pub(crate) mod cassette;
pub(crate) mod script;

pub use cassette::{Cassette, Record};
pub use script::Script;
