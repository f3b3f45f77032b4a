//! [`FactumOptions`]: factum's settings as DataFusion configuration, read per query.

use datafusion::common::extensions_options;
use datafusion::config::ConfigExtension;

extensions_options! {
    /// factum's settings for a query, under the `factum.` prefix: `SET factum.model =
    /// 'qwen2.5:0.5b'`, `SET factum.max_retries = 2`. Register them once on the session
    /// (`SessionConfig::new().with_option_extension(FactumOptions::default())`); each
    /// query's [`ExtractUdf`](crate::ExtractUdf) calls read the values in force when the
    /// query runs. An unset option leaves the UDF's own setting, then the client's.
    ///
    /// The API key is never an option: it stays in the [`factum::Client`] the UDF was made
    /// with, so it travels in no plan, no log and no `SHOW ALL`.
    pub struct FactumOptions {
        /// The model to ask (default: the client's).
        pub model: Option<String>, default = None
        /// Re-asks after a reply that does not fit the schema (default: the UDF's, then
        /// the client's).
        pub max_retries: Option<u32>, default = None
        /// The sampling temperature (default: the client's).
        pub temperature: Option<f64>, default = None
        /// The largest reply, in tokens (default: the client's).
        pub max_tokens: Option<u32>, default = None
    }
}

impl ConfigExtension for FactumOptions {
    const PREFIX: &'static str = "factum";
}
