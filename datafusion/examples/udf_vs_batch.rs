//! The README's query, and its speed against a `Batch` of the same rows.
//!
//! Writes a Parquet folder of `ROWS` short notes (default 48), extracts a `Person` from
//! each with `SELECT id, unnest(extract_person(body)) FROM notes` into another Parquet
//! folder, then extracts the same rows with `client.extract_batch` at the same
//! concurrency, and prints rows per second for both and their ratio. Each run uses a
//! fresh memo, so both send every row. Needs the README's llama-server
//! (`scripts/llama-server.sh start`).
//!
//!     cargo run --release -p factum-datafusion --example udf_vs_batch [ROWS] [CONCURRENCY]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::*;
use factum::{Client, Extract, Provider};
use factum_datafusion::{ExtractUdf, FactumOptions};
use futures_util::StreamExt as _;
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the batch's values are counted, not printed")]
struct Person {
    /// Full name, as written.
    name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    age: u8,
    /// Email address, if the text gives one.
    email: Option<String>,
}

const FIRST: [&str; 8] = [
    "John", "Mary", "Ada", "Alan", "Grace", "Linus", "Rosa", "Carl",
];
const LAST: [&str; 6] = ["Doe", "Major", "Lovelace", "Turing", "Hopper", "Sagan"];

fn note(i: usize) -> String {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    format!(
        "{first} {last}, {}.{}{i}@example.com, {}",
        first.to_lowercase(),
        last.to_lowercase(),
        20 + i % 60
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map_or(Ok(48), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(4), |a| a.parse())?;
    let url =
        std::env::var("FACTUM_LLAMA_URL").unwrap_or_else(|_| "http://127.0.0.1:8089/v1".to_owned());
    let client = Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(&url)
        .build()?;
    let dir = std::env::temp_dir().join(format!("factum-udf-vs-batch-{}", std::process::id()));
    let bodies: Vec<String> = (0..rows).map(note).collect();
    write_notes(&dir.join("notes"), &bodies).await?;

    let started = Instant::now();
    let written = query(&client, &dir, concurrency).await?;
    let udf = started.elapsed().as_secs_f64();

    // The same rows as one Batch at the same concurrency.
    let started = Instant::now();
    let results: Vec<_> = client
        .extract_batch::<Person>(bodies)
        .concurrency(concurrency)
        .stream()
        .collect()
        .await;
    let batch_secs = started.elapsed().as_secs_f64();
    let ok = results.iter().filter(|(_, r)| r.is_ok()).count();

    println!("{rows} rows, concurrency {concurrency}, {url}");
    println!(
        "  UDF (SQL, Parquet to Parquet): {udf:.1} s, {:.2} rows/s, {written} rows written",
        rows as f64 / udf
    );
    println!(
        "  Batch:                         {batch_secs:.1} s, {:.2} rows/s, {ok} values",
        rows as f64 / batch_secs
    );
    println!("  UDF / Batch: {:.2}x", batch_secs / udf);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The notes as one Parquet file in the folder `notes`.
async fn write_notes(notes: &Path, bodies: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(notes)?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("body", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from_iter_values(0..bodies.len() as i32)),
            Arc::new(StringArray::from_iter_values(bodies)),
        ],
    )?;
    SessionContext::new()
        .read_batch(batch)?
        .write_parquet(
            notes.join("part-0.parquet").to_str().ok_or("path")?,
            DataFrameWriteOptions::new().with_single_file_output(true),
            None,
        )
        .await?;
    Ok(())
}

/// The README's query: the Parquet folder `notes` in, the folder `people` out; the rows
/// written.
async fn query(
    client: &Client,
    dir: &Path,
    concurrency: usize,
) -> Result<usize, Box<dyn std::error::Error>> {
    let (notes, people) = (dir.join("notes"), dir.join("people"));
    let config = SessionConfig::new().with_option_extension(FactumOptions::default());
    let ctx = SessionContext::new_with_config(config);
    ExtractUdf::<Person>::new("extract_person", client.clone())
        .concurrency(concurrency)
        .register(&ctx)?;
    ctx.register_parquet(
        "notes",
        notes.to_str().ok_or("path")?,
        ParquetReadOptions::default(),
    )
    .await?;
    ctx.sql("SELECT id, unnest(extract_person(body)) FROM notes")
        .await?
        .write_parquet(
            people.to_str().ok_or("path")?,
            DataFrameWriteOptions::new(),
            None,
        )
        .await?;
    let back = ctx
        .read_parquet(
            people.to_str().ok_or("path")?,
            ParquetReadOptions::default(),
        )
        .await?;
    Ok(back.count().await?)
}
