//! The UDF in SQL over Parquet, against the loopback stand-in for a model server
//! (tests/support): rows, failures as data, the concurrency cap, one request per distinct
//! row however the engine evaluates, the file memo, and per-query options.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as the query it runs and every column it checks"
)]

mod support;

use std::time::Duration;

use datafusion::prelude::*;
use factum_datafusion::{ExtractUdf, FactumOptions, MemoStore};
use serde_json::{Map, Value};
use support::{Person, Server, bad_note, folder, note, rows, write_notes};

/// A session with `target_partitions` and factum's options, the notes registered.
async fn session(notes: &str, partitions: usize) -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_option_extension(FactumOptions::default());
    let ctx = SessionContext::new_with_config(config);
    ctx.register_parquet("notes", notes, ParquetReadOptions::default())
        .await
        .unwrap();
    ctx
}

fn notes(n: i32) -> Vec<(i32, Option<String>)> {
    (0..n).map(|id| (id, Some(note(id as u32)))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_rows_through_unnest_each_sent_once() {
    let server = Server::start(Duration::from_millis(2)).await;
    let dir = folder("unnest");
    let path = write_notes(&dir, &notes(240)).await;
    let ctx = session(&path, 4).await;
    ExtractUdf::<Person>::new("extract_person", server.client())
        .concurrency(8)
        .register(&ctx)
        .unwrap();
    let mut out = rows(&ctx, "SELECT id, unnest(extract_person(body)) FROM notes").await;
    out.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(out.len(), 240);
    for row in &out {
        let id = row["id"].as_u64().unwrap() as u32;
        let value = &row["value"];
        assert_eq!(value["name"], format!("Person {id}"), "{row:?}");
        assert_eq!(value["age"], support::age(id), "{row:?}");
        assert!(row.get("error").is_none_or(Value::is_null), "{row:?}");
        assert_eq!(row["attempts"], 1);
        assert_eq!(row["usage"]["prompt_tokens"], 50);
        assert_eq!(row["cached"], false);
    }
    assert_eq!(server.counts.requests(), 240);
    assert_eq!(server.counts.repeated(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_rows_are_data_and_null_rows_send_nothing() {
    let server = Server::start(Duration::ZERO).await;
    let dir = folder("failures");
    let mut rows_in = notes(20);
    rows_in[3].1 = Some(bad_note(3));
    rows_in[7].1 = Some(bad_note(7));
    rows_in[11].1 = None;
    rows_in[12].1 = Some("   ".into());
    let path = write_notes(&dir, &rows_in).await;
    let ctx = session(&path, 2).await;
    ExtractUdf::<Person>::new("extract_person", server.client())
        .max_retries(1)
        .register(&ctx)
        .unwrap();
    let out = rows(
        &ctx,
        "SELECT id, extract_person(body) AS p FROM notes ORDER BY id",
    )
    .await;
    assert_eq!(out.len(), 20, "a failed row never fails the query");
    for row in &out {
        let id = row["id"].as_u64().unwrap();
        let p = &row.get("p").cloned().unwrap_or(Value::Null);
        match id {
            3 | 7 => {
                assert!(p["value"].is_null(), "{row:?}");
                assert_eq!(p["error"]["kind"], "exhausted", "{row:?}");
                let message = p["error"]["message"].as_str().unwrap();
                assert!(!message.is_empty());
                assert_eq!(p["attempts"], 2, "the first attempt and one re-ask");
                assert_eq!(p["usage"]["prompt_tokens"], 100);
            }
            11 => assert!(p.is_null(), "a null input is a null row: {row:?}"),
            12 => {
                assert_eq!(p["error"]["kind"], "empty_input", "{row:?}");
                assert_eq!(p["attempts"], 0);
            }
            _ => assert_eq!(p["value"]["name"], format!("Person {id}"), "{row:?}"),
        }
    }
    // 16 good rows once each, two bad rows twice each (one re-ask), nothing for the null
    // and the blank row.
    assert_eq!(server.counts.requests(), 16 + 2 * 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_in_flight_never_exceed_the_concurrency_over_four_partitions() {
    let server = Server::start(Duration::from_millis(30)).await;
    let dir = folder("concurrency");
    let path = write_notes(&dir, &notes(48)).await;
    // Four files' worth of partitions: repartition the one file four ways.
    let ctx = session(&path, 4).await;
    ctx.sql("SET datafusion.optimizer.repartition_file_min_size = 1")
        .await
        .unwrap();
    ExtractUdf::<Person>::new("extract_person", server.client())
        .concurrency(3)
        .register(&ctx)
        .unwrap();
    let out = rows(
        &ctx,
        "SELECT id, extract_person(body) AS p FROM (SELECT * FROM notes) t",
    )
    .await;
    assert_eq!(out.len(), 48);
    assert_eq!(server.counts.requests(), 48);
    let most = server.counts.max_in_flight();
    assert!(most <= 3, "{most} requests in flight with concurrency 3");
    assert!(
        most >= 2,
        "the calls never overlapped ({most}): the test shows nothing"
    );
}

/// Each query in a fresh session and UDF, on a fresh stand-in: one request per row.
async fn requests_for(sql: &str) -> (usize, Vec<(u32, usize)>, Vec<Map<String, Value>>) {
    let server = Server::start(Duration::from_millis(1)).await;
    let dir = folder(&format!("once-{}", sql.len()));
    let path = write_notes(&dir, &notes(30)).await;
    let ctx = session(&path, 4).await;
    ExtractUdf::<Person>::new("extract_person", server.client())
        .register(&ctx)
        .unwrap();
    let out = rows(&ctx, sql).await;
    (server.counts.requests(), server.counts.repeated(), out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_per_distinct_row_for_p_unnest_and_repeated_field_access() {
    let (n, repeated, out) = requests_for("SELECT id, extract_person(body) AS p FROM notes").await;
    assert_eq!((n, repeated), (30, vec![]), "SELECT p");
    assert_eq!(out.len(), 30);

    let (n, repeated, out) =
        requests_for("SELECT id, unnest(extract_person(body)) FROM notes").await;
    assert_eq!((n, repeated), (30, vec![]), "unnest(p)");
    assert_eq!(out.len(), 30);

    let (n, repeated, out) = requests_for(
        "SELECT id, extract_person(body)['value']['name'] AS name, \
         extract_person(body)['value']['age'] AS age, \
         extract_person(body)['attempts'] AS attempts FROM notes ORDER BY id",
    )
    .await;
    assert_eq!((n, repeated), (30, vec![]), "repeated field access");
    assert_eq!(out[5]["name"], "Person 5");
    assert_eq!(out[5]["age"], support::age(5));

    let (n, repeated, out) = requests_for(
        "WITH t AS (SELECT id, extract_person(body) AS p FROM notes) \
         SELECT id, p['value']['name'] AS name, p['value']['age'] AS age FROM t ORDER BY id",
    )
    .await;
    assert_eq!((n, repeated), (30, vec![]), "field access through a CTE");
    assert_eq!(out[29]["name"], "Person 29");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_query_on_a_file_memo_sends_nothing() {
    let server = Server::start(Duration::ZERO).await;
    let dir = folder("memo");
    let path = write_notes(&dir, &notes(25)).await;
    let memo = dir.join("people.memo.jsonl");

    let first = session(&path, 2).await;
    ExtractUdf::<Person>::new("extract_person", server.client())
        .memo(MemoStore::file(&memo))
        .register(&first)
        .unwrap();
    let before = rows(
        &first,
        "SELECT id, extract_person(body) AS p FROM notes ORDER BY id",
    )
    .await;
    assert_eq!(server.counts.requests(), 25);

    // Another session and another store on the same file, as a new process would open.
    let second = session(&path, 3).await;
    ExtractUdf::<Person>::new("extract_person", server.client())
        .memo(MemoStore::file(&memo))
        .register(&second)
        .unwrap();
    let after = rows(
        &second,
        "SELECT id, extract_person(body) AS p FROM notes ORDER BY id",
    )
    .await;
    assert_eq!(
        server.counts.requests(),
        25,
        "the second query sent a request"
    );
    assert_eq!(before, after);

    // A different model is a different key: asked again.
    second
        .sql("SET factum.model = 'other-model'")
        .await
        .unwrap();
    let third = rows(
        &second,
        "SELECT id, extract_person(body) AS p FROM notes WHERE id < 5",
    )
    .await;
    assert_eq!(third.len(), 5);
    assert_eq!(server.counts.requests(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_factum_options_per_query() {
    let server = Server::start(Duration::ZERO).await;
    let dir = folder("options");
    let mut rows_in = notes(4);
    rows_in[0].1 = Some(bad_note(0));
    let path = write_notes(&dir, &rows_in).await;
    let ctx = session(&path, 1).await;
    ExtractUdf::<Person>::new("extract_person", server.client())
        .max_retries(0)
        .register(&ctx)
        .unwrap();
    ctx.sql("SET factum.model = 'qwen3.5:9b'").await.unwrap();
    ctx.sql("SET factum.max_retries = 2").await.unwrap();
    let out = rows(
        &ctx,
        "SELECT id, extract_person(body) AS p FROM notes ORDER BY id",
    )
    .await;
    assert_eq!(
        out[0]["p"]["attempts"], 3,
        "max_retries 2 from SET: {:?}",
        out[0]
    );
    let models = server.counts.models.lock().unwrap().clone();
    assert!(!models.is_empty());
    assert!(models.iter().all(|m| m == "qwen3.5:9b"), "{models:?}");
}

#[tokio::test]
async fn a_type_with_no_arrow_type_fails_at_registration_and_at_planning() {
    /// An expression tree: recursive.
    #[derive(Debug, serde::Deserialize, factum::Extract)]
    #[allow(dead_code, reason = "only its schema is used")]
    enum Expr {
        Num { value: f64 },
        Neg { inner: Box<Expr> },
    }
    let server = Server::start(Duration::ZERO).await;
    let ctx = SessionContext::new();
    let error = ExtractUdf::<Expr>::new("extract_expr", server.client())
        .register(&ctx)
        .unwrap_err();
    assert!(error.to_string().contains("recursive"), "{error}");
    assert!(
        !ctx.state().scalar_functions().contains_key("extract_expr"),
        "nothing was registered"
    );

    ctx.register_udf(ExtractUdf::<Expr>::new("extract_expr", server.client()).into_scalar_udf());
    let planned = ctx.sql("SELECT extract_expr('1 + 2')").await;
    let error = planned.expect_err("planning fails").to_string();
    assert!(error.contains("recursive"), "{error}");
    assert_eq!(server.counts.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_target_runs_as_a_udf_with_its_arrow_type() {
    let server = Server::start(Duration::ZERO).await;
    let dir = folder("dynamic");
    let path = write_notes(&dir, &notes(6)).await;
    let ctx = session(&path, 2).await;
    let person = factum::Dynamic::from_fields("name, age int, email?")
        .unwrap()
        .name("Person");
    ExtractUdf::dynamic("extract_dynamic", server.client(), person)
        .register(&ctx)
        .unwrap();
    let out = rows(
        &ctx,
        "SELECT id, extract_dynamic(body)['value']['name'] AS name, \
         extract_dynamic(body)['value']['age'] AS age FROM notes ORDER BY id",
    )
    .await;
    assert_eq!(out.len(), 6);
    assert_eq!(out[4]["name"], "Person 4");
    assert_eq!(out[4]["age"], support::age(4));
    assert_eq!(server.counts.requests(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_holds_the_udf_over_every_partition() {
    let server = Server::start(Duration::ZERO).await;
    let dir = folder("rate");
    let path = write_notes(&dir, &notes(40)).await;
    let ctx = session(&path, 4).await;
    ctx.sql("SET datafusion.optimizer.repartition_file_min_size = 1")
        .await
        .unwrap();
    // 1200 a minute: a burst of 20, then one every 50 ms.
    ExtractUdf::<Person>::new("extract_person", server.client())
        .concurrency(40)
        .requests_per_minute(1200)
        .register(&ctx)
        .unwrap();
    let started = std::time::Instant::now();
    let out = rows(&ctx, "SELECT id, extract_person(body) AS p FROM notes").await;
    let took = started.elapsed();
    assert_eq!(out.len(), 40);
    // The 20 calls after the burst wait at least 19 intervals of 50 ms.
    assert!(took >= Duration::from_millis(900), "40 calls in {took:?}");
}
