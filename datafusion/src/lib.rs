//! factum's typed, validated extraction as a DataFusion async scalar UDF: a query over
//! Parquet, CSV or JSON files (or an object store) extracts a typed struct from a text
//! column, on one machine or, with the `ballista` feature, on a Ballista cluster.
//!
//! ```no_run
//! use datafusion::prelude::*;
//! use factum::Extract;
//! use factum_datafusion::{ExtractUdf, FactumOptions, MemoStore};
//!
//! /// A person mentioned in the text.
//! #[derive(serde::Deserialize, Extract)]
//! struct Person {
//!     /// Full name, as written.
//!     name: String,
//!     /// Age in whole years.
//!     age: Option<u8>,
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = factum::Client::builder().base_url("http://127.0.0.1:8089/v1").build()?;
//! let config = SessionConfig::new().with_option_extension(FactumOptions::default());
//! let ctx = SessionContext::new_with_config(config);
//! ExtractUdf::<Person>::new("extract_person", client)
//!     .concurrency(4)
//!     .memo(MemoStore::file("people.memo.jsonl"))
//!     .register(&ctx)?;
//! ctx.register_parquet("notes", "notes/", ParquetReadOptions::default()).await?;
//! let people = ctx
//!     .sql("SELECT id, unnest(extract_person(body)) FROM notes")
//!     .await?;
//! people.write_parquet("people/", Default::default(), None).await?;
//! # Ok(()) }
//! ```
//!
//! Each row of the UDF's result is a struct: `value` (the extracted `T`, null when the row
//! failed), `error` (`kind` and `message`, null when it did not), `attempts`, `usage`
//! (`prompt_tokens`, `completion_tokens`) and `cached`. A failed row is data, never a
//! failed query, and a null input is a null row with no request. `unnest(p)` reads the
//! fields as columns; `unnest(p.value)` reads the value's.

mod arrow;
#[cfg(feature = "ballista")]
pub mod ballista;
mod memo;
mod options;
mod row;
mod udf;

pub use arrow::{ArrowTypeError, arrow_type, arrow_type_dynamic, schema_arrow_type};
pub use memo::MemoStore;
pub use options::FactumOptions;
pub use udf::ExtractUdf;
