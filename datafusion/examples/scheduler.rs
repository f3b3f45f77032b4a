//! A Ballista scheduler that can plan queries calling factum's UDFs (the `ballista`
//! feature), on 127.0.0.1.
//!
//!     FACTUM_SCHEDULER_PORT=50050 cargo run -p factum-datafusion --features ballista --example scheduler
//!
//! It never calls a model: it needs the UDFs only to plan. An executor that stops
//! heartbeating is taken as lost after `FACTUM_EXECUTOR_TIMEOUT` seconds (default 10), and
//! its tasks run again on the others.

mod cluster;

use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use factum_datafusion::{MemoStore, ballista};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = cluster::port("FACTUM_SCHEDULER_PORT", 50050);
    let timeout = u64::from(cluster::port("FACTUM_EXECUTOR_TIMEOUT", 10));
    // Planning needs the functions' types, not a model: this client is never called.
    let client = factum::Client::builder()
        .base_url("http://127.0.0.1:9/v1")
        .model("planning-only")
        .build()?;
    let config = SchedulerConfig {
        bind_host: "127.0.0.1".into(),
        external_host: "127.0.0.1".into(),
        bind_port: port,
        executor_timeout_seconds: timeout,
        expire_dead_executor_interval_seconds: 1,
        no_executors_grace_period_seconds: timeout,
        ..SchedulerConfig::default()
    }
    .with_override_session_builder(ballista::session_builder(cluster::udfs(
        client,
        MemoStore::memory(),
    )))
    .with_override_config_producer(ballista::config_producer());
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(
        cluster,
        format!("127.0.0.1:{port}").parse()?,
        Arc::new(config),
    )
    .await?;
    Ok(())
}
