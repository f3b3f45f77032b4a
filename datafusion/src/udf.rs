//! [`ExtractUdf`]: the builder, and the async scalar UDF it makes.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, plan_err};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::async_udf::{AsyncScalarUDF, AsyncScalarUDFImpl};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use factum::{Client, Dynamic, Extract, Extraction, RateLimits, Schema};
use futures_util::future::join_all;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::FactumOptions;
use crate::arrow::{ArrowTypeError, Node};
use crate::memo::{Key, MemoStore};
use crate::row::{self, Outcome};

/// The rows in flight per process when [`ExtractUdf::concurrency`] is not set.
const DEFAULT_CONCURRENCY: usize = 4;

/// factum's extraction of a `T` as a DataFusion async scalar UDF over a text column.
///
/// ```no_run
/// # use factum::Extract;
/// # #[derive(serde::Deserialize, Extract)] struct Person { name: String }
/// # fn run(client: factum::Client, ctx: &datafusion::prelude::SessionContext) -> Result<(), Box<dyn std::error::Error>> {
/// use factum_datafusion::{ExtractUdf, MemoStore};
///
/// let udf = ExtractUdf::<Person>::new("extract_person", client)
///     .concurrency(8)
///     .requests_per_minute(600)
///     .max_retries(2)
///     .memo(MemoStore::memory());
/// udf.register(ctx)?; // or ctx.register_udf(udf.into_scalar_udf())
/// # Ok(()) }
/// ```
///
/// Each call runs the one pipeline [`Extraction::send`] runs: the request, the parse and
/// repair, validation, re-asks with feedback, grounding. Its result is a struct, see the
/// [crate docs](crate); a failed row is data and never fails the query.
///
/// Distinct inputs within a batch are sent once, and the [`MemoStore`] (in memory by
/// default) remembers each distinct input across batches, partitions and evaluations, so
/// an engine that evaluates the function twice sends nothing the second time.
#[must_use = "an ExtractUdf does nothing until it is registered"]
pub struct ExtractUdf<T> {
    name: String,
    client: Client,
    dynamic: Option<Dynamic>,
    concurrency: usize,
    requests_per_minute: Option<u32>,
    tokens_per_minute: Option<u32>,
    max_retries: Option<u32>,
    memo: MemoStore,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ExtractUdf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractUdf")
            .field("name", &self.name)
            .field("target", &self.schema_name())
            .field("concurrency", &self.concurrency)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .field("max_retries", &self.max_retries)
            .field("memo", &self.memo)
            .finish_non_exhaustive()
    }
}

impl<T: Extract + Send> ExtractUdf<T> {
    /// A UDF named `name` extracting a `T` from its one text argument with `client`.
    pub fn new(name: impl Into<String>, client: Client) -> ExtractUdf<T> {
        ExtractUdf {
            name: name.into(),
            client,
            dynamic: None,
            concurrency: DEFAULT_CONCURRENCY,
            requests_per_minute: None,
            tokens_per_minute: None,
            max_retries: None,
            memo: MemoStore::memory(),
            _type: PhantomData,
        }
    }
}

impl ExtractUdf<Value> {
    /// A UDF named `name` extracting the run-time `target` (see [`Dynamic`]); its values
    /// are typed by [`arrow_type_dynamic`](crate::arrow_type_dynamic).
    pub fn dynamic(name: impl Into<String>, client: Client, target: Dynamic) -> ExtractUdf<Value> {
        let mut udf = ExtractUdf::<Value>::new(name, client);
        udf.dynamic = Some(target);
        udf
    }
}

impl<T: Extract + Send> ExtractUdf<T> {
    /// At most `n` rows in flight at once in this process, shared by every partition and
    /// every query using the UDF (default 4; at least 1). Match it to the slots the model
    /// server runs (`llama-server --parallel`, vLLM's batch).
    pub fn concurrency(mut self, n: usize) -> ExtractUdf<T> {
        self.concurrency = n.max(1);
        self
    }

    /// At most `n` model calls a minute from this process, re-asks included (see
    /// [`RateLimits`]). A cluster's quota is split between its executors: give each
    /// `quota / executors`.
    pub fn requests_per_minute(mut self, n: impl Into<Option<u32>>) -> ExtractUdf<T> {
        self.requests_per_minute = n.into();
        self
    }

    /// At most `n` tokens a minute from this process (see [`RateLimits`]).
    pub fn tokens_per_minute(mut self, n: impl Into<Option<u32>>) -> ExtractUdf<T> {
        self.tokens_per_minute = n.into();
        self
    }

    /// Re-asks after a reply that does not fit (default: the client's); `SET
    /// factum.max_retries` overrides it for a query.
    pub fn max_retries(mut self, n: u32) -> ExtractUdf<T> {
        self.max_retries = Some(n);
        self
    }

    /// Where each distinct input's outcome is kept (default: [`MemoStore::memory`]).
    pub fn memo(mut self, memo: MemoStore) -> ExtractUdf<T> {
        self.memo = memo;
        self
    }

    /// The UDF's return type: the struct of `value` (`T` as [`arrow_type`](crate::arrow_type)
    /// maps it), `error`, `attempts`, `usage` and `cached`.
    ///
    /// # Errors
    ///
    /// The [`ArrowTypeError`] of a `T` with no Arrow type.
    pub fn return_type(&self) -> Result<DataType, ArrowTypeError> {
        Ok(row::return_type(Node::of(self.schema())?.data_type()))
    }

    /// The DataFusion function. A `T` with no Arrow type fails every query that calls it
    /// at planning, before any row is read; [`register`](ExtractUdf::register) finds it
    /// out at once.
    pub fn into_scalar_udf(self) -> ScalarUDF {
        let schema = self.schema();
        let node = Node::of(schema);
        let udf = Udf::<T> {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Utf8]),
                    TypeSignature::Exact(vec![DataType::LargeUtf8]),
                    TypeSignature::Exact(vec![DataType::Utf8View]),
                ],
                // The memo makes the same text give the same row, so the engine may
                // share one evaluation between uses.
                Volatility::Immutable,
            ),
            name: self.name,
            client: self.client,
            dynamic: self.dynamic,
            schema,
            schema_bytes: serde_json::to_vec(schema.json()).unwrap_or_default(),
            node,
            gate: Arc::new(Semaphore::new(self.concurrency)),
            limits: RateLimits::new(self.requests_per_minute, self.tokens_per_minute),
            max_retries: self.max_retries,
            memo: self.memo,
            _type: PhantomData,
        };
        AsyncScalarUDF::new(Arc::new(udf)).into_scalar_udf()
    }

    /// Registers the function with `ctx`, after checking that `T` has an Arrow type.
    ///
    /// # Errors
    ///
    /// The [`ArrowTypeError`] of a `T` with no Arrow type; nothing is registered.
    pub fn register(self, ctx: &SessionContext) -> Result<(), ArrowTypeError> {
        Node::of(self.schema())?;
        ctx.register_udf(self.into_scalar_udf());
        Ok(())
    }

    fn schema(&self) -> &'static Schema {
        self.dynamic
            .as_ref()
            .map_or_else(T::schema, Dynamic::schema)
    }
}

impl<T> ExtractUdf<T> {
    fn schema_name(&self) -> String {
        self.dynamic.as_ref().map_or_else(
            || std::any::type_name::<T>().to_owned(),
            |d| d.schema().name().to_owned(),
        )
    }
}

/// The UDF itself: one per [`ExtractUdf::into_scalar_udf`], shared by every partition.
struct Udf<T> {
    name: String,
    signature: Signature,
    client: Client,
    dynamic: Option<Dynamic>,
    schema: &'static Schema,
    /// The schema's JSON, as the memo keys hash it.
    schema_bytes: Vec<u8>,
    node: Result<Node, ArrowTypeError>,
    /// The rows in flight, over every partition and query.
    gate: Arc<Semaphore>,
    limits: RateLimits,
    max_retries: Option<u32>,
    memo: MemoStore,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Udf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractUdf")
            .field("name", &self.name)
            .field("schema", &self.schema.name())
            .finish_non_exhaustive()
    }
}

// One UDF is equal only to itself (its gate, limits and memo are its own).
impl<T> PartialEq for Udf<T> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.gate, &other.gate)
    }
}

impl<T> Eq for Udf<T> {}

impl<T> Hash for Udf<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl<T: Extract + Send> ScalarUDFImpl for Udf<T> {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        match &self.node {
            Ok(node) => Ok(row::return_type(node.data_type())),
            Err(error) => plan_err!("{}: {error}", self.name),
        }
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        datafusion::common::internal_err!(
            "{} is async: DataFusion calls invoke_async_with_args",
            self.name
        )
    }
}

/// What a query asks of each call: the UDF's settings under the session's
/// [`FactumOptions`].
struct Settings {
    model: String,
    max_retries: Option<u32>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
}

#[async_trait]
impl<T: Extract + Send> AsyncScalarUDFImpl for Udf<T> {
    async fn invoke_async_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let node = match &self.node {
            Ok(node) => node,
            Err(error) => return plan_err!("{}: {error}", self.name),
        };
        let options = args
            .config_options
            .extensions
            .get::<FactumOptions>()
            .cloned()
            .unwrap_or_default();
        let settings = Settings {
            model: options
                .model
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| self.client.model().to_owned()),
            max_retries: options.max_retries.or(self.max_retries),
            temperature: options.temperature.map(|t| t as f32),
            max_tokens: options.max_tokens,
        };
        let [input] = args.args.as_slice() else {
            return plan_err!("{} takes one text argument", self.name);
        };
        let column = cast(&input.to_array(args.number_rows)?, &DataType::Utf8)?;
        let Some(texts) = column.as_any().downcast_ref::<StringArray>() else {
            return plan_err!("{} takes one text argument", self.name);
        };
        let (order, slots) = distinct(texts.iter());
        let outcomes = join_all(order.iter().map(|text| self.outcome(text, &settings))).await;
        let rows: Vec<Option<&Outcome>> = slots.iter().map(|s| s.map(|i| &outcomes[i])).collect();
        Ok(ColumnarValue::Array(row::to_array(node, &rows)?))
    }
}

/// Each distinct text once, in first-seen order, and each row's index into them (`None`
/// for a null row).
fn distinct<'a>(
    texts: impl Iterator<Item = Option<&'a str>>,
) -> (Vec<&'a str>, Vec<Option<usize>>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut order = Vec::new();
    let slots = texts
        .map(|text| {
            text.map(|text| {
                *seen.entry(text).or_insert_with(|| {
                    order.push(text);
                    order.len() - 1
                })
            })
        })
        .collect();
    (order, slots)
}

impl<T: Extract + Send> Udf<T> {
    /// One distinct text's outcome: the memo's, or one extraction's under the gate.
    async fn outcome(&self, text: &str, settings: &Settings) -> Outcome {
        let key = self.key(text, settings);
        self.memo
            .get_or_compute(key, async || {
                let Ok(_permit) = self.gate.acquire().await else {
                    return Outcome::local("closed", "the UDF's gate closed");
                };
                match &self.dynamic {
                    Some(target) => {
                        let extraction = self.client.extraction_dynamic(target, text);
                        self.run(extraction, settings).await
                    }
                    None => self.run(self.client.extraction::<T>(text), settings).await,
                }
            })
            .await
    }

    async fn run<V: Extract>(&self, extraction: Extraction<V>, settings: &Settings) -> Outcome {
        let mut extraction = extraction
            .rate_limits(&self.limits)
            .model(settings.model.clone());
        if let Some(n) = settings.max_retries {
            extraction = extraction.max_retries(n);
        }
        if let Some(t) = settings.temperature {
            extraction = extraction.temperature(t);
        }
        if let Some(n) = settings.max_tokens {
            extraction = extraction.max_tokens(n);
        }
        match extraction.send_with_json().await {
            Ok((out, Some(json))) => Outcome::success(&out, json),
            Ok((_, None)) => Outcome::local("json", "the extraction kept no JSON value"),
            Err(error) => Outcome::failure(&error),
        }
    }

    /// The memo key: the schema, the model, the sampling and the text, as a batch
    /// journal keys its items.
    fn key(&self, text: &str, settings: &Settings) -> Key {
        let sampling = format!(
            "{:?}/{:?}/{:?}",
            settings.temperature, settings.max_tokens, settings.max_retries
        );
        Key::of(&[
            self.schema.name().as_bytes(),
            &self.schema_bytes,
            settings.model.as_bytes(),
            sampling.as_bytes(),
            text.as_bytes(),
        ])
    }
}
