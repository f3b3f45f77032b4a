//! Provider batch files: the OpenAI Batch API's JSON-lines format, which Groq's batch API
//! and `vllm run-batch` read and write too, for a provider that runs the batch itself
//! (often at half the price).
//!
//! - [`write_requests`] writes one request line per item (`custom_id`, `method`, `url`,
//!   `body`), the body exactly the first request `send()` would make for it (the prompt,
//!   the schema in the mode the client's provider takes, the sampling), without `stream`.
//! - [`read_results`] reads the provider's results file: each `custom_id` with its value,
//!   judged by the pipeline `send()` runs (classified, parsed and repaired, validated,
//!   deserialized, the type's validators), or its failure with the raw reply kept.
//! - [`reask_requests`] writes a second request file for the failures only: a reply that
//!   did not fit gets the re-ask `send()` would send (the reply, then the precise errors);
//!   a line the provider failed (a non-200, an error) gets its first request again.
//!
//! None of these copies the pipeline: each drives [`Extraction::send`](crate::Extraction::send) with a transport
//! that hands over the request it is given, or answers with the result line's reply.
//!
//! A results file holds the replies but not the texts, so [`read_results`] cannot ground
//! values in their text ([`Extracted::spans`](crate::Extracted::spans) is empty and grounded fields are not
//! checked); [`read_results_for`] takes the items too and grounds every value as `send()`
//! does.
//!
//! ```no_run
//! # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
//! # async fn run(client: factum::Client) -> factum::Result<()> {
//! use factum::batch_file;
//! use std::fs::File;
//! use std::io::BufReader;
//!
//! let items = vec![("doc-1", "John Doe, 30"), ("doc-2", "Mary Major, 41")];
//! batch_file::write_requests::<Person>(&client, items.clone(), File::create("requests.jsonl").unwrap()).await?;
//! // … upload requests.jsonl, run the batch, download results.jsonl …
//! let results = batch_file::read_results_for::<Person>(
//!     &client,
//!     items.clone(),
//!     BufReader::new(File::open("results.jsonl").unwrap()),
//! )
//! .await?;
//! for entry in &results {
//!     match &entry.result {
//!         Ok(out) => println!("{}: {:?}", entry.custom_id, out.value),
//!         Err(error) => println!("{}: {error}", entry.custom_id),
//!     }
//! }
//! let reasks = File::create("reasks.jsonl").unwrap();
//! let n = batch_file::reask_requests(&client, items, &results, reasks).await?;
//! println!("{n} re-asks to send");
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::transport::Completion;
use crate::transport::scripted::Scripted;
use crate::wire::ChatResponse;
use crate::{Client, Error, ErrorKind, Extract, Extracted, Result};

/// The endpoint every request line names.
pub const URL: &str = "/v1/chat/completions";

/// An item of a batch file: its `custom_id` and its text. A bare text (`String`, `&str`)
/// gets its position in the items as its id (`"0"`, `"1"`, …); a pair `(id, text)` names
/// its own.
pub trait RequestItem {
    /// The item's `custom_id` and text; `index` is its position among the items.
    fn into_parts(self, index: usize) -> (String, String);
}

impl RequestItem for String {
    fn into_parts(self, index: usize) -> (String, String) {
        (index.to_string(), self)
    }
}

impl RequestItem for &str {
    fn into_parts(self, index: usize) -> (String, String) {
        (index.to_string(), self.to_owned())
    }
}

impl RequestItem for &String {
    fn into_parts(self, index: usize) -> (String, String) {
        (index.to_string(), self.clone())
    }
}

impl<K: Into<String>, S: Into<String>> RequestItem for (K, S) {
    fn into_parts(self, _index: usize) -> (String, String) {
        (self.0.into(), self.1.into())
    }
}

/// One result of a batch: the item's `custom_id`, and its value with the record of how it
/// was judged, or its failure (with the raw reply among its attempts).
#[derive(Debug)]
#[non_exhaustive]
pub struct Entry<T> {
    /// The `custom_id` the request was written with; empty for a line with none.
    pub custom_id: String,
    /// The value, or why there is none: [`ErrorKind::Http`] for a request the provider
    /// failed, [`ErrorKind::Exhausted`] and its kin for a reply that does not fit (one
    /// attempt, its raw text kept), [`ErrorKind::BatchFile`] for a line that is not a
    /// result line.
    pub result: Result<Extracted<T>>,
}

/// Writes one OpenAI Batch API request line per item to `writer`, each body the first
/// request `send()` would make for the item, without `stream`. Returns the lines written.
///
/// # Errors
///
/// The errors `send()` has before any request (an empty text, a misconfigured client, a
/// schema the provider cannot take), and [`ErrorKind::BatchFile`] when `writer` fails.
pub async fn write_requests<T: Extract>(
    client: &Client,
    items: impl IntoIterator<Item: RequestItem>,
    mut writer: impl Write,
) -> Result<usize> {
    let mut written = 0;
    for (index, item) in items.into_iter().enumerate() {
        let (custom_id, text) = item.into_parts(index);
        let body = first_request::<T>(client, text).await?;
        write_line(&mut writer, &custom_id, &body)?;
        written += 1;
    }
    writer.flush().map_err(Error::batch_file_io)?;
    Ok(written)
}

/// Reads a provider's results file: one [`Entry`] per line, in the file's order, each
/// judged as `send()` judges a reply (with no re-ask: [`reask_requests`] writes those).
/// The file has no texts, so values are not grounded; [`read_results_for`] grounds them.
///
/// # Errors
///
/// [`ErrorKind::BatchFile`] when `reader` fails. A line that is not a result line is an
/// entry whose result is that error, with the line's number: the other lines still read.
pub async fn read_results<T: Extract>(
    client: &Client,
    reader: impl BufRead,
) -> Result<Vec<Entry<T>>> {
    read(client, &HashMap::new(), reader).await
}

/// [`read_results`], grounding each value in its item's text as `send()` does: the
/// items are those given to [`write_requests`]. A result whose `custom_id` is not among
/// them is read as [`read_results`] reads it.
///
/// # Errors
///
/// Those of [`read_results`].
pub async fn read_results_for<T: Extract>(
    client: &Client,
    items: impl IntoIterator<Item: RequestItem>,
    reader: impl BufRead,
) -> Result<Vec<Entry<T>>> {
    read(client, &texts(items), reader).await
}

/// Writes a request file holding only what failed in `results`: for a reply that did not
/// fit, the re-ask `send()` would send next (the conversation, the failed reply, and the
/// precise errors, with the re-ask's sampling and room); for a request the provider failed,
/// its first request again. The items are those given to [`write_requests`], and each line
/// keeps its item's `custom_id`, so the next results file reads with the same items.
/// Refusals and values are left out. Returns the lines written.
///
/// # Errors
///
/// Those of [`write_requests`].
pub async fn reask_requests<T: Extract>(
    client: &Client,
    items: impl IntoIterator<Item: RequestItem>,
    results: &[Entry<T>],
    mut writer: impl Write,
) -> Result<usize> {
    let failed: HashMap<&str, &Error> = results
        .iter()
        .filter_map(|entry| Some((entry.custom_id.as_str(), entry.result.as_ref().err()?)))
        .collect();
    let mut written = 0;
    for (index, item) in items.into_iter().enumerate() {
        let (custom_id, text) = item.into_parts(index);
        let Some(error) = failed.get(custom_id.as_str()) else {
            continue;
        };
        let body = match error.kind() {
            ErrorKind::Refusal => continue,
            ErrorKind::Exhausted | ErrorKind::Truncated | ErrorKind::Empty => {
                let Some(last) = error.attempts().last() else {
                    continue;
                };
                let reply = Completion {
                    content: Some(last.raw.clone()),
                    finish_reason: last.finish_reason.clone(),
                    usage: Some(last.usage),
                    ..Completion::default()
                };
                match reask::<T>(client, text, reply).await? {
                    Some(body) => body,
                    // Judged with its text, the reply fits after all: nothing to ask.
                    None => continue,
                }
            }
            _ => first_request::<T>(client, text).await?,
        };
        write_line(&mut writer, &custom_id, &body)?;
        written += 1;
    }
    writer.flush().map_err(Error::batch_file_io)?;
    Ok(written)
}

/// The error a capturing transport ends the run with once it holds the request it wants.
fn captured() -> Error {
    Error::config("the batch file holds this request; it is not sent")
}

/// The first request `send()` makes for `text`, as a batch body.
async fn first_request<T: Extract>(client: &Client, text: String) -> Result<Value> {
    let (ended, requests) = requests_made::<T>(client, text, None).await;
    match (ended, requests.first()) {
        (Err(_), Some(request)) => batch_body(request),
        (Err(error), None) => Err(error),
        (Ok(()), _) => Err(Error::config("the extraction ended without a request")),
    }
}

/// The re-ask `send()` sends after `reply` to the first request for `text`; `None` when
/// the reply fits.
async fn reask<T: Extract>(
    client: &Client,
    text: String,
    reply: Completion,
) -> Result<Option<Value>> {
    let (ended, requests) = requests_made::<T>(client, text, Some(reply)).await;
    match (ended, requests.as_slice()) {
        (Err(_), [_, reask, ..]) => batch_body(reask).map(Some),
        // The reply fits after all, or ends the extraction with no re-ask (a refusal).
        (Ok(()), _) | (Err(_), [_]) => Ok(None),
        // Nothing was sent: the extraction failed before its first request.
        (Err(error), []) => Err(error),
    }
}

/// Runs `send()` for `text` through a transport that answers the first request with
/// `reply` (when given, with one re-ask allowed) and holds the next one: how the run
/// ended, and the requests it made.
async fn requests_made<T: Extract>(
    client: &Client,
    text: String,
    reply: Option<Completion>,
) -> (Result<()>, Vec<crate::wire::ChatRequest>) {
    let retries = u32::from(reply.is_some());
    let answers = reply.map(Ok).into_iter().chain([Err(captured())]);
    let script = Arc::new(Scripted::new(answers));
    let mut extraction = client.extraction::<T>(text).no_cache().max_retries(retries);
    extraction.transport = Some(script.clone());
    let ended = extraction.send().await.map(|_| ());
    let requests = script
        .requests
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default();
    (ended, requests)
}

/// A request as a batch body: the wire JSON, without streaming, which batch APIs refuse.
fn batch_body(request: &crate::wire::ChatRequest) -> Result<Value> {
    let mut body = request.body().map_err(Error::encode)?;
    if let Value::Object(object) = &mut body {
        object.remove("stream");
        object.remove("stream_options");
    }
    Ok(body)
}

fn write_line(writer: &mut impl Write, custom_id: &str, body: &Value) -> Result<()> {
    let line = json!({"custom_id": custom_id, "method": "POST", "url": URL, "body": body});
    serde_json::to_writer(&mut *writer, &line).map_err(|e| Error::batch_file_io(e.into()))?;
    writer.write_all(b"\n").map_err(Error::batch_file_io)
}

fn texts(items: impl IntoIterator<Item: RequestItem>) -> HashMap<String, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| item.into_parts(index))
        .collect()
}

async fn read<T: Extract>(
    client: &Client,
    texts: &HashMap<String, String>,
    reader: impl BufRead,
) -> Result<Vec<Entry<T>>> {
    let mut entries = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(Error::batch_file_io)?;
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let entry = match serde_json::from_str::<Value>(&line) {
            Ok(result) => judge(client, texts, &result, number).await,
            Err(e) => Entry {
                custom_id: String::new(),
                result: Err(Error::batch_file_line(number, format!("not JSON: {e}"))),
            },
        };
        entries.push(entry);
    }
    Ok(entries)
}

/// One result line's entry: the provider's failure, or its reply judged by the pipeline.
async fn judge<T: Extract>(
    client: &Client,
    texts: &HashMap<String, String>,
    line: &Value,
    number: usize,
) -> Entry<T> {
    let custom_id = line["custom_id"].as_str().unwrap_or_default().to_owned();
    let result = match reply(line, number) {
        Ok(response) => {
            let model = response["model"].as_str().map(str::to_owned);
            match serde_json::from_value::<ChatResponse>(response) {
                Ok(response) => {
                    let text = texts.get(&custom_id).cloned();
                    replay::<T>(client, text, model, response.into()).await
                }
                Err(e) => Err(Error::invalid_response(
                    format!("the result's body is not a chat completion: {e}"),
                    line["response"]["body"].to_string(),
                )),
            }
        }
        Err(error) => Err(error),
    };
    Entry { custom_id, result }
}

/// The chat completion of a result line, or the provider's failure: OpenAI's and vLLM's
/// `response.status_code` and `response.body`, and `error`.
fn reply(line: &Value, number: usize) -> Result<Value> {
    if line.get("custom_id").and_then(Value::as_str).is_none() {
        return Err(Error::batch_file_line(
            number,
            "no `custom_id`: not a batch result line".to_owned(),
        ));
    }
    let error = line.get("error").filter(|e| !e.is_null());
    let response = line.get("response").filter(|r| !r.is_null());
    let status = response
        .and_then(|r| r["status_code"].as_u64())
        .map_or(200, |s| s as u16);
    match (response, error) {
        (Some(response), None) if (200..300).contains(&status) => {
            Ok(response.get("body").cloned().unwrap_or(Value::Null))
        }
        (response, error) => {
            let body = response.map(|r| r["body"].clone()).unwrap_or_default();
            let message = error
                .and_then(|e| e["message"].as_str())
                .or_else(|| body["error"]["message"].as_str())
                .unwrap_or("the provider failed the request")
                .to_owned();
            if response.is_none() {
                return Err(Error::invalid_response(
                    format!("the provider gave no response: {message}"),
                    line.to_string(),
                ));
            }
            Err(Error::http(status, message, body.to_string()))
        }
    }
}

/// The pipeline's judgement of `reply`, as the one attempt of an extraction of `text`
/// (unknown: not grounded).
async fn replay<T: Extract>(
    client: &Client,
    text: Option<String>,
    model: Option<String>,
    reply: Completion,
) -> Result<Extracted<T>> {
    let known = text.is_some();
    let mut extraction = client
        .extraction::<T>(text.unwrap_or_default())
        .no_cache()
        .max_retries(0);
    if let Some(model) = model {
        extraction = extraction.model(model);
    }
    extraction.text_unknown = !known;
    extraction.transport = Some(Arc::new(Scripted::new([Ok(reply)])));
    extraction.send().await
}
