//! A Ballista executor that runs factum's UDFs (the `ballista` feature), with one task
//! slot (`vcores = 1`: see the `ballista` module's docs), on 127.0.0.1.
//!
//!     FACTUM_BASE_URL=http://127.0.0.1:8089/v1 FACTUM_MEMO=/shared/people.memo.jsonl \
//!     FACTUM_EXECUTOR_PORT=50051 FACTUM_EXECUTOR_GRPC_PORT=50052 \
//!     cargo run -p factum-datafusion --features ballista --example executor
//!
//! The model client comes from the environment (`FACTUM_BASE_URL`, `FACTUM_API_KEY`,
//! `FACTUM_MODEL`, `FACTUM_PROVIDER`). With `FACTUM_MEMO`, every executor shares one memo
//! file: a task that runs again after its executor died sends nothing for the rows that
//! executor finished.

mod cluster;

use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use factum_datafusion::{MemoStore, ballista};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = factum::Client::from_env()?;
    let memo = match std::env::var("FACTUM_MEMO") {
        Ok(path) => MemoStore::try_file(path)?,
        Err(_) => MemoStore::memory(),
    };
    let udfs = cluster::udfs(client, memo);
    let port = cluster::port("FACTUM_EXECUTOR_PORT", 50051);
    let work_dir = std::env::temp_dir().join(format!("factum-executor-{port}"));
    std::fs::create_dir_all(&work_dir)?;
    let config = ExecutorProcessConfig {
        bind_host: "127.0.0.1".into(),
        external_host: Some("127.0.0.1".into()),
        port,
        grpc_port: cluster::port("FACTUM_EXECUTOR_GRPC_PORT", 50052),
        scheduler_host: "127.0.0.1".into(),
        scheduler_port: cluster::port("FACTUM_SCHEDULER_PORT", 50050),
        vcores: 1,
        executor_heartbeat_interval_seconds: 1,
        work_dir: Some(work_dir.to_string_lossy().into_owned()),
        override_function_registry: Some(ballista::registry(udfs)),
        override_config_producer: Some(ballista::config_producer()),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
