//! What the scheduler, the executors and the client of the cluster examples share: the
//! extracted type and its UDF, which every process registers under the same name.

use factum::{Client, Extract};
use factum_datafusion::{ExtractUdf, MemoStore};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the values are read as Arrow, not as Person")]
pub(crate) struct Person {
    /// Full name, as written.
    pub(crate) name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    pub(crate) age: u8,
    /// Email address, if the text gives one.
    pub(crate) email: Option<String>,
}

/// The cluster's UDFs: `extract_person`, with `client` and `memo`.
pub(crate) fn udfs(client: Client, memo: MemoStore) -> Vec<datafusion::logical_expr::ScalarUDF> {
    let concurrency = std::env::var("FACTUM_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    vec![
        ExtractUdf::<Person>::new("extract_person", client)
            .concurrency(concurrency)
            .memo(memo)
            .into_scalar_udf(),
    ]
}

/// A port from the environment variable `name`, else `default`.
pub(crate) fn port(name: &str, default: u16) -> u16 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
