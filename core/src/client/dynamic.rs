//! The calls of a [`Dynamic`] target: `Client::{extract_dynamic, extraction_dynamic,
//! batch_dynamic}`, and the chunked and multi-pass runs of a dynamic list, which run as the
//! list of values they are.

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use serde_json::Value;

use super::Client;
use super::extraction::Extraction;
use crate::{Batch, Chunking, Dynamic, Error, Extracted, Result, StreamEvent};

impl Client {
    /// Extracts a value of the run-time `target` from `text`: the same pipeline as
    /// [`extract`](Client::extract) with a derived type, the value a [`serde_json::Value`]
    /// that fits the target's schema.
    ///
    /// # Errors
    ///
    /// Those of [`Extraction::send`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: factum::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let person = factum::Dynamic::from_fields("name, age int, email?")?;
    /// let value = client.extract_dynamic(&person, "John Doe, john@example.com, 30").await?;
    /// assert_eq!(value["age"], 30);
    /// # Ok(()) }
    /// ```
    pub async fn extract_dynamic(
        &self,
        target: &Dynamic,
        text: impl Into<String>,
    ) -> Result<Value> {
        self.extraction_dynamic(target, text)
            .send()
            .await
            .map(|out| out.value)
    }

    /// A per-call extraction of the run-time `target`, with every option of
    /// [`Extraction`]; its `send` gives an `Extracted<serde_json::Value>`, its `stream`
    /// partial values as `serde_json::Value`. A [`multi`](Dynamic::multi) target can be
    /// [`chunked`](Extraction::chunked) and run over several
    /// [`passes`](Extraction::passes), as a derived list is.
    pub fn extraction_dynamic(
        &self,
        target: &Dynamic,
        text: impl Into<String>,
    ) -> Extraction<Value> {
        let mut extraction = self.extraction::<Value>(text);
        extraction.dynamic = Some(target.schema());
        extraction
    }

    /// A batch extracting the run-time `target` from each text, as
    /// [`extract_batch`](Client::extract_batch) does with a derived type; its journal's
    /// hashes are of the target's schema.
    pub fn batch_dynamic(
        &self,
        target: &Dynamic,
        texts: impl IntoIterator<Item: Into<String>, IntoIter: Send + 'static>,
    ) -> Batch<Value> {
        let client = self.clone();
        let schema = target.schema();
        let items = texts.into_iter().map(move |text| {
            let mut extraction = client.extraction::<Value>(text);
            extraction.dynamic = Some(schema);
            extraction
        });
        let mut batch = self.batch(items);
        batch.schema = Some(schema);
        batch
    }
}

impl Extraction<Value> {
    /// Splits the text into chunks, extracts the list from each and merges them, as
    /// [`Extraction::<Vec<T>>::chunked`](Extraction::chunked) does for a derived list; the
    /// target must be a [`multi`](Dynamic::multi) one (its value is the merged array).
    /// `stream()` yields the merged array as it grows, then the result merged as `send()`
    /// merges it.
    pub fn chunked(mut self, chunking: Chunking) -> Extraction<Value> {
        self.plan.chunking = Some(chunking);
        self.list_plan()
    }

    /// Runs the extraction `passes` times and merges the lists, as for a derived list.
    pub fn passes(mut self, passes: u32) -> Extraction<Value> {
        self.plan.passes = passes.max(1);
        self.list_plan()
    }

    /// Lets a chunked or multi-pass run succeed without the chunks that failed.
    pub fn partial_ok(mut self) -> Extraction<Value> {
        self.plan.partial_ok = true;
        self.list_plan()
    }
}

impl Extraction<Value> {
    /// `send()` and `stream()` run the list's chunk plan.
    fn list_plan(mut self) -> Extraction<Value> {
        self.runner = Some(run_list);
        self.streamer = Some(|extraction| Box::new(stream_list(extraction)));
        self
    }
}

/// Whether the extraction's target is a list of values (a [`Dynamic::multi`]).
fn is_list(extraction: &Extraction<Value>) -> bool {
    extraction
        .dynamic
        .is_some_and(|schema| schema.json().get("type") == Some(&Value::from("array")))
}

fn not_a_list() -> Error {
    Error::config("a chunked or multi-pass run merges lists: give it a Dynamic made with .multi()")
}

/// A dynamic list's chunked or multi-pass run as a stream: the chunk runner's events of a
/// `Vec<Value>`, each list handed on as one JSON array.
fn stream_list(extraction: Extraction<Value>) -> BoxStream<'static, Result<StreamEvent<Value>>> {
    if !is_list(&extraction) {
        return stream::iter([Err(not_a_list())]).boxed();
    }
    let list = extraction.retype::<Vec<Value>>();
    crate::batch::chunk::stream_events::<Value>(list)
        .map(|event| {
            event.map(|event| match event {
                StreamEvent::Partial(items) => StreamEvent::Partial(Value::Array(items)),
                StreamEvent::Reask(attempt) => StreamEvent::Reask(attempt),
                StreamEvent::Done(out) => StreamEvent::Done(out.map_value(Value::Array)),
            })
        })
        .boxed()
}

/// A dynamic list's chunked or multi-pass run: the chunk runner of a `Vec<Value>`, its
/// merged list handed back as one JSON array.
fn run_list(
    extraction: Extraction<Value>,
) -> BoxFuture<'static, Result<(Extracted<Value>, Option<Value>)>> {
    Box::pin(async move {
        if !is_list(&extraction) {
            return Err(not_a_list());
        }
        let mut list = extraction.retype::<Vec<Value>>();
        list.runner = Some(crate::batch::chunk::run::<Value>);
        let (out, json) = list.send_with_json().await?;
        Ok((out.map_value(Value::Array), json))
    })
}
