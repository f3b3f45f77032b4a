//! A Ballista cluster on 127.0.0.1: the example scheduler and two example executors
//! (`datafusion/examples/`), each a separate process with `vcores = 1`, running the UDF
//! against the loopback stand-in for a model server. One executor is killed mid-query; the
//! result is still complete, both executors did work, and no row that was finished (in
//! the shared memo file) is sent to the model again.
//!
//! Needs the `ballista` feature, whose `cargo test` also builds the example binaries.

#![cfg(feature = "ballista")]
#![allow(
    clippy::too_many_lines,
    reason = "one cluster, one query, one kill: read top to bottom"
)]

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ballista_core::extension::SessionConfigExt as _;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::*;
use factum_datafusion::{ExtractUdf, ballista};
use support::{Person, Server, folder, note, rows, write_notes};

/// A child process killed when dropped, so a failed test leaves no cluster running.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example binary `name`, built by `cargo test --features ballista` beside the tests.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p factum-datafusion --features ballista`, which builds the examples",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(name: &str, envs: &[(&str, String)], log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    let mut command = Command::new(example(name));
    command
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("FACTUM_PROVIDER")
        .stdout(Stdio::null())
        .stderr(log);
    Process(command.spawn().unwrap())
}

/// The ids of the rows the memo file holds a value for (the stand-in names row `n`
/// "Person n").
fn finished(memo: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(memo).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| {
            line["outcome"]["value"]["name"]
                .as_str()?
                .strip_prefix("Person ")?
                .parse()
                .ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_executor_leaves_the_result_complete_and_sends_no_finished_row_twice() {
    let server = Server::start(Duration::from_millis(150)).await;
    let dir = folder("ballista");
    // Six files of ten notes: six tasks to share out.
    let notes = dir.join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    for part in 0..6 {
        let part_dir = folder(&format!("ballista-part-{part}"));
        let rows_in: Vec<(i32, Option<String>)> = (part * 10..part * 10 + 10)
            .map(|id| (id, Some(note(id as u32))))
            .collect();
        let file = write_notes(&part_dir, &rows_in).await;
        std::fs::rename(&file, notes.join(format!("part-{part}.parquet"))).unwrap();
    }
    let memo = dir.join("people.memo.jsonl");

    let scheduler_port = free_port();
    let _scheduler = spawn(
        "scheduler",
        &[
            ("FACTUM_SCHEDULER_PORT", scheduler_port.to_string()),
            ("FACTUM_EXECUTOR_TIMEOUT", "3".into()),
        ],
        &dir.join("scheduler.log"),
    );
    wait_for(scheduler_port, "the scheduler");
    let executor = |n: usize| {
        let (port, grpc) = (free_port(), free_port());
        let process = spawn(
            "executor",
            &[
                ("FACTUM_SCHEDULER_PORT", scheduler_port.to_string()),
                ("FACTUM_EXECUTOR_PORT", port.to_string()),
                ("FACTUM_EXECUTOR_GRPC_PORT", grpc.to_string()),
                ("FACTUM_BASE_URL", server.url.clone()),
                ("FACTUM_API_KEY", format!("sk-executor-{n}")),
                ("FACTUM_MODEL", "test-model".into()),
                ("FACTUM_MEMO", memo.to_string_lossy().into_owned()),
                ("FACTUM_CONCURRENCY", "2".into()),
            ],
            &dir.join(format!("executor-{n}.log")),
        );
        wait_for(port, "an executor");
        process
    };
    let mut first = executor(1);
    let _second = executor(2);

    // The client plans with the same UDF; it never calls the model itself.
    let udf = ExtractUdf::<Person>::new("extract_person", server.client()).into_scalar_udf();
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(SessionConfig::new_with_ballista().with_target_partitions(6))
        .build();
    let ctx = ballista::connect(&format!("df://127.0.0.1:{scheduler_port}"), state, [udf])
        .await
        .unwrap();
    ctx.register_parquet(
        "notes",
        notes.to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();

    let query =
        tokio::spawn(
            async move { rows(&ctx, "SELECT id, extract_person(body) AS p FROM notes").await },
        );
    // Kill the first executor once it has finished a task of ten rows and started the
    // next, while the query runs: the finished task's output dies with it and runs again.
    let start = Instant::now();
    while server.counts.for_key("sk-executor-1") < 14 {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "executor 1 never got work"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let done_at_kill = finished(&memo);
    let by_first = server.counts.for_key("sk-executor-1");

    let out = tokio::time::timeout(Duration::from_mins(3), query)
        .await
        .expect("the query finishes")
        .unwrap();
    let mut ids: Vec<u64> = out.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..60).collect::<Vec<_>>(), "every row, once");
    for row in &out {
        let id = row["id"].as_u64().unwrap();
        assert_eq!(row["p"]["value"]["name"], format!("Person {id}"), "{row:?}");
    }
    let by_second = server.counts.for_key("sk-executor-2");
    println!(
        "executor 1 sent {by_first} before it was killed, executor 2 sent {by_second}; \
         {} rows were finished at the kill; {} requests in all",
        done_at_kill.len(),
        server.counts.requests()
    );
    assert!(by_first > 0 && by_second > 0, "both executors did work");
    assert!(!done_at_kill.is_empty());
    for id in done_at_kill {
        assert_eq!(
            server.counts.for_row(id),
            1,
            "row {id} was finished, then sent again"
        );
    }
}
