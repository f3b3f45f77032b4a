//! Running the UDFs on a Ballista cluster (the `ballista` feature).
//!
//! A query's plan travels from the client to the scheduler and on to the executors by the
//! function's name, so each process holds the same UDFs:
//!
//! - the scheduler plans with them: [`session_builder`];
//! - each executor runs them: [`registry`] and [`config_producer`], built with its own
//!   [`Client`](factum::Client) (its own key and limits) and, for a job that must survive a
//!   lost executor, a [`MemoStore::file`](crate::MemoStore::file) on storage every executor
//!   shares;
//! - the client connects with [`connect`], which registers them again: Ballista's
//!   `remote_with_state` and `standalone_with_state` build a new session without the
//!   caller's functions.
//!
//! `datafusion/examples/scheduler.rs` and `datafusion/examples/executor.rs` are a whole
//! cluster in two small programs.
//!
//! **Give each executor `vcores = 1` for LLM work.** A task's rows wait on the model, not
//! the CPU, and Ballista fills an executor's slots before the next one's: with
//! `vcores = 2`, all 60 calls of a measured job ran on one executor of two. Parallelism
//! within a task is the UDF's [`concurrency`](crate::ExtractUdf::concurrency).
//!
//! **Rate limits are per process.** [`requests_per_minute`](crate::ExtractUdf::requests_per_minute)
//! and [`tokens_per_minute`](crate::ExtractUdf::tokens_per_minute) hold one executor; for a
//! cluster quota of `Q` over `N` executors give each `Q / N` (and the client nothing, since
//! it sends no model calls).

use std::sync::Arc;

use ballista::prelude::SessionContextExt as _;
use ballista_core::ConfigProducer;
use ballista_core::extension::SessionConfigExt as _;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_scheduler::scheduler_server::SessionBuilder;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::execution::context::SessionContext;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionConfig;

use crate::FactumOptions;

/// The scheduler's session builder: Ballista's default session, with [`FactumOptions`]
/// and `udfs` registered, so that the scheduler can plan queries that call them.
pub fn session_builder(udfs: impl IntoIterator<Item = ScalarUDF>) -> SessionBuilder {
    let udfs: Vec<Arc<ScalarUDF>> = udfs.into_iter().map(Arc::new).collect();
    Arc::new(move |config: SessionConfig| {
        let state = default_session_builder(with_options(config))?;
        Ok(with_udfs(state, &udfs))
    })
}

/// The executors' function registry: Ballista's default functions and `udfs`, which the
/// executor runs when a task's plan names them.
pub fn registry(udfs: impl IntoIterator<Item = ScalarUDF>) -> Arc<BallistaFunctionRegistry> {
    let mut registry = BallistaFunctionRegistry::default();
    for udf in udfs {
        registry
            .scalar_functions
            .insert(udf.name().to_owned(), Arc::new(udf));
    }
    Arc::new(registry)
}

/// The session configuration of the scheduler and the executors: Ballista's, with
/// [`FactumOptions`] registered, so that a client's `SET factum.model = …` reaches the
/// executors that run the calls.
pub fn config_producer() -> ConfigProducer {
    Arc::new(|| with_options(SessionConfig::new_with_ballista()))
}

/// A client session on the cluster at `url` (`df://host:port`), from `state`, with
/// `udfs` registered again after connecting.
///
/// # Errors
///
/// The scheduler's URL does not parse, or the session cannot be set up for Ballista.
pub async fn connect(
    url: &str,
    state: SessionState,
    udfs: impl IntoIterator<Item = ScalarUDF>,
) -> Result<SessionContext> {
    let mut state = SessionContext::remote_with_state(url, state).await?.state();
    let options = state.config_mut().options_mut();
    if options.extensions.get::<FactumOptions>().is_none() {
        options.extensions.insert(FactumOptions::default());
    }
    Ok(register(SessionContext::new_with_state(state), udfs))
}

fn register(ctx: SessionContext, udfs: impl IntoIterator<Item = ScalarUDF>) -> SessionContext {
    for udf in udfs {
        ctx.register_udf(udf);
    }
    ctx
}

fn with_options(config: SessionConfig) -> SessionConfig {
    if config.options().extensions.get::<FactumOptions>().is_some() {
        config
    } else {
        config.with_option_extension(FactumOptions::default())
    }
}

fn with_udfs(state: SessionState, udfs: &[Arc<ScalarUDF>]) -> SessionState {
    let mut builder = SessionStateBuilder::new_from_existing(state);
    if let Some(functions) = builder.scalar_functions() {
        functions.extend(udfs.iter().cloned());
    }
    builder.build()
}
