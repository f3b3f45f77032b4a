//! `factum extract`: one value from one text, printed as one JSON line.

use std::fs::File;
use std::io::Write as _;
use std::path::Path;

use factum::{Chunking, Extracted, Extraction, StreamEvent};
use futures_util::StreamExt as _;
use serde_json::{Map, Value};

use crate::args::{Connection, ExtractArgs};
use crate::fail::{self, Failure};
use crate::setup;

/// Runs `factum extract`.
pub(crate) async fn run(
    args: &ExtractArgs,
    connection: &Connection,
    verbose: bool,
) -> Result<(), Failure> {
    let target = setup::target(&args.target, args.chunk.is_some())?;
    let text = setup::text(args.text.as_deref())?;
    // The page's file is made before anything is sent, so that a path that cannot be
    // written costs no tokens.
    let review = args.review.as_deref().map(create_review).transpose()?;
    let client = setup::client(connection, &args.tuning)?;
    let mut extraction = client.extraction_dynamic(&target, text.as_str());
    if let Some(chars) = args.chunk {
        let chars = usize::try_from(chars).unwrap_or(usize::MAX);
        extraction = extraction.chunked(Chunking::chars(chars));
    }
    let out = if args.stream {
        streamed(extraction, verbose).await?
    } else {
        extraction.send().await?
    };
    if let Some((mut file, shown)) = review {
        file.write_all(factum::review::html(&text, &out).as_bytes())
            .map_err(|e| Failure::io(format_args!("cannot write `{shown}`"), &e))?;
    }
    let line = if args.full { full(&out) } else { out.value };
    emit(&line)
}

/// Creates the review page's file, empty for now.
fn create_review(path: &Path) -> Result<(File, String), Failure> {
    let shown = path.display().to_string();
    File::create(path)
        .map(|file| (file, shown.clone()))
        .map_err(|e| Failure::io(format_args!("cannot create the review page `{shown}`"), &e))
}

/// Streams the extraction, printing each partial value as it grows; the result.
async fn streamed(
    extraction: Extraction<Value>,
    verbose: bool,
) -> Result<Extracted<Value>, Failure> {
    let mut events = extraction.stream();
    while let Some(event) = events.next().await {
        match event? {
            StreamEvent::Partial(value) => emit(&value)?,
            StreamEvent::Reask(attempt) if verbose => {
                let why = attempt
                    .failure
                    .map_or_else(String::new, |failure| failure.to_string());
                eprintln!("factum: asking again: {}", fail::one_line(&why));
            }
            StreamEvent::Done(out) => return Ok(out),
            _ => {}
        }
    }
    Err(Failure::Failed(
        "the stream ended without a result".to_owned(),
    ))
}

/// The value with its record, for `--full`.
fn full(out: &Extracted<Value>) -> Value {
    let field = |value: Result<Value, serde_json::Error>| value.unwrap_or(Value::Null);
    let mut record = Map::new();
    record.insert("value".to_owned(), out.value.clone());
    record.insert(
        "attempts".to_owned(),
        field(serde_json::to_value(&out.attempts)),
    );
    record.insert("usage".to_owned(), field(serde_json::to_value(out.usage)));
    record.insert(
        "node_id".to_owned(),
        field(serde_json::to_value(&out.node_id)),
    );
    record.insert("spans".to_owned(), field(serde_json::to_value(&out.spans)));
    record.insert("model".to_owned(), Value::from(out.model.as_str()));
    Value::Object(record)
}

/// Writes `value` as one JSON line on stdout, flushed.
pub(crate) fn emit(value: &Value) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{value}")
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::io("cannot write to stdout", &e))
}
