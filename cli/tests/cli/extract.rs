//! `factum extract`: from an argument, from stdin, streamed, and how it fails.

use std::net::TcpListener;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Reply, Server, factum, messages, run, scratch};

const SPEC: &str = "name, age int, email?";

/// A server that answers every request with `content`.
fn answering(content: &'static str) -> Server {
    Server::start(move |_| Reply::Chat(content.to_owned()))
}

fn one_json_line(stdout: &str) -> Value {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stdout: {stdout:?}");
    serde_json::from_str(lines[0]).expect("the line is JSON")
}

#[test]
fn extracts_from_the_argument() {
    let server = answering(r#"{"name": "Ann Lee", "age": 41}"#);
    let mut command = factum(&server.url);
    command.args(["extract", "--schema", SPEC, "Ann Lee is 41 years old."]);
    let out = run(command, "");
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert_eq!(
        one_json_line(&out.stdout),
        json!({"name": "Ann Lee", "age": 41})
    );
    assert_eq!(out.stderr, "");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(messages(&requests[0]).contains("Ann Lee is 41 years old."));
}

#[test]
fn extracts_from_stdin_when_the_text_is_absent_or_a_dash() {
    let server = answering(r#"{"name": "Bo Chen", "age": 29}"#);
    for dash in [false, true] {
        let mut command = factum(&server.url);
        command.args(["extract", "--schema", SPEC]);
        if dash {
            command.arg("-");
        }
        let out = run(command, "Bo Chen turned 29 (from stdin).\n");
        assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
        assert_eq!(
            one_json_line(&out.stdout),
            json!({"name": "Bo Chen", "age": 29})
        );
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert!(messages(request).contains("Bo Chen turned 29 (from stdin)."));
    }
}

#[test]
fn full_prints_the_value_with_its_record() {
    let server = answering(r#"{"name": "Ann Lee", "age": 41}"#);
    let mut command = factum(&server.url);
    command.args(["extract", "--full", "--schema", SPEC, "Ann Lee is 41."]);
    let out = run(command, "");
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let full = one_json_line(&out.stdout);
    assert_eq!(full["value"], json!({"name": "Ann Lee", "age": 41}));
    assert_eq!(full["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(full["usage"]["total_tokens"], 15);
    assert_eq!(full["model"], "m");
    // The spans point into the text: "Ann Lee" at 0..7.
    let name = full["spans"]
        .as_array()
        .and_then(|spans| spans.iter().find(|s| s["path"] == "/name"))
        .expect("a span for /name");
    assert_eq!(name["range"], json!({"start": 0, "end": 7}));
}

/// Whether `later` extends `earlier`: the same keys and more, strings that continue.
fn grows(earlier: &Value, later: &Value) -> bool {
    match (earlier, later) {
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .all(|(key, value)| b.get(key).is_some_and(|v| grows(value, v))),
        (Value::String(a), Value::String(b)) => b.starts_with(a.as_str()),
        (Value::Number(a), Value::Number(b)) => b.to_string().starts_with(&a.to_string()),
        (a, b) => a == b,
    }
}

#[test]
fn stream_prints_partials_that_grow_then_the_value() {
    let pieces = [r#"{"name": "An"#, r#"n Lee", "#, r#""age": 4"#, "1", "}"];
    let server = Server::start(move |_| {
        Reply::Sse(
            pieces.iter().map(|p| (*p).to_owned()).collect(),
            Duration::from_millis(40),
        )
    });
    let mut command = factum(&server.url);
    command.args(["extract", "--stream", "--schema", SPEC, "Ann Lee is 41."]);
    let out = run(command, "");
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<Value> = out
        .stdout_lines()
        .iter()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert!(lines.len() >= 3, "several lines: {:?}", out.stdout);
    let last = lines.last().expect("a last line");
    assert_eq!(*last, json!({"name": "Ann Lee", "age": 41}));
    assert_ne!(lines[0], *last, "the first line is a partial");
    for pair in lines.windows(2) {
        assert!(grows(&pair[0], &pair[1]), "{} then {}", pair[0], pair[1]);
    }
    assert_eq!(server.requests()[0]["stream"], true);
}

#[test]
fn a_reply_that_never_fits_exits_1_with_one_line() {
    // `age` is missing from every reply: re-asked, then exhausted.
    let server = answering(r#"{"name": "Ann Lee"}"#);
    let mut command = factum(&server.url);
    command.args([
        "extract",
        "--max-retries",
        "1",
        "--schema",
        SPEC,
        "Ann Lee.",
    ]);
    let out = run(command, "");
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    let stderr = out.stderr_lines();
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].starts_with("factum: "), "{stderr:?}");
    assert!(
        stderr[0].contains("\"age\" is a required"),
        "says what was wrong: {stderr:?}"
    );
    assert_eq!(server.requests().len(), 2, "one re-ask");
}

#[test]
fn verbose_adds_every_attempt_the_model_made() {
    let server = answering(r#"{"name": "Ann Lee"}"#);
    let mut command = factum(&server.url);
    command.args([
        "extract",
        "--verbose",
        "--max-retries",
        "1",
        "--schema",
        SPEC,
        "Ann Lee.",
    ]);
    let out = run(command, "");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr_lines()[0].starts_with("factum: "),
        "{}",
        out.stderr
    );
    let attempts: Vec<&str> = out
        .stderr_lines()
        .into_iter()
        .filter(|line| line.trim_start().starts_with("attempt "))
        .collect();
    assert_eq!(attempts.len(), 2, "{}", out.stderr);
    assert!(
        attempts[0].contains(r#"{\"name\": \"Ann Lee\"}"#),
        "{}",
        out.stderr
    );
}

#[test]
fn an_error_status_exits_3() {
    // A 401 is fatal: not retried.
    let server = Server::start(|_| Reply::Status(401));
    let mut command = factum(&server.url);
    command.args(["extract", "--schema", SPEC, "Ann Lee is 41."]);
    let out = run(command, "");
    assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "");
    let stderr = out.stderr_lines();
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].contains("401"), "{stderr:?}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_bad_schema_file_exits_2_with_one_line_and_sends_nothing() {
    let server = answering("{}");
    let dir = scratch("bad-schema");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"type": "object", "properties": {"age": {"type": "objekt"}}}"#,
    )
    .expect("write the schema");
    let not_json = dir.join("broken.json");
    std::fs::write(&not_json, "{\"type\": ").expect("write the schema");
    let missing = dir.join("missing.json");
    for (path, says) in [
        (&bad, "/properties/age/type"),
        (&not_json, "not JSON"),
        (&missing, "not found"),
    ] {
        let mut command = factum(&server.url);
        command
            .args(["extract", "--schema"])
            .arg(path)
            .arg("some text");
        let out = run(command, "");
        assert_eq!(out.code, Some(2), "{}: {}", path.display(), out.stderr);
        assert_eq!(out.stdout, "");
        let stderr = out.stderr_lines();
        assert_eq!(stderr.len(), 1, "{stderr:?}");
        assert!(
            stderr[0].starts_with("factum: ") && stderr[0].contains(says),
            "{stderr:?}"
        );
    }
    assert!(server.requests().is_empty());
}

#[test]
fn a_usage_mistake_exits_2_with_one_line() {
    let server = answering("{}");
    let mut command = factum(&server.url);
    command.args(["extract", "--shema", SPEC, "text"]);
    let out = run(command, "");
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    let stderr = out.stderr_lines();
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(
        stderr[0].contains("--shema") && stderr[0].contains("--schema"),
        "{stderr:?}"
    );
}

#[test]
fn a_refused_connection_exits_3() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let mut command = factum(&url);
    command.args(["extract", "--schema", SPEC, "Ann Lee is 41."]);
    let out = run(command, "");
    assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "");
    let stderr = out.stderr_lines();
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].starts_with("factum: "), "{stderr:?}");
}

#[test]
fn review_writes_the_page_and_chunk_merges_the_lists() {
    let server = Server::start(|body| {
        let text = messages(body);
        let names: Vec<Value> = ["Ann Lee", "Bo Chen"]
            .into_iter()
            .filter(|n| text.contains(&format!("{n} is")))
            .map(|n| json!({"name": n}))
            .collect();
        Reply::Chat(json!({"extraction_list": names}).to_string())
    });
    let dir = scratch("review");
    let page = dir.join("review.html");
    let text = format!(
        "Ann Lee is here. {} Bo Chen is there.",
        "Filler words. ".repeat(20)
    );
    let mut command = factum(&server.url);
    command
        .args(["extract", "--schema", "name", "--chunk", "200", "--review"])
        .arg(&page)
        .arg(&text);
    let out = run(command, "");
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert_eq!(
        one_json_line(&out.stdout),
        json!([{"name": "Ann Lee"}, {"name": "Bo Chen"}])
    );
    assert!(server.requests().len() >= 2, "one request per chunk");
    let html = std::fs::read_to_string(&page).expect("the review page");
    assert!(
        html.contains("<mark") && html.contains("Bo Chen"),
        "a page with highlights"
    );
}

#[test]
fn stream_with_chunk_prints_the_merged_list_as_it_grows() {
    let server = Server::start(|body| {
        let text = messages(body);
        let names: Vec<Value> = ["Ann Lee", "Bo Chen"]
            .into_iter()
            .filter(|n| text.contains(&format!("{n} is")))
            .map(|n| json!({"name": n}))
            .collect();
        Reply::Chat(json!({"extraction_list": names}).to_string())
    });
    let text = format!(
        "Ann Lee is here. {} Bo Chen is there.",
        "Filler words. ".repeat(20)
    );
    let mut command = factum(&server.url);
    command
        .args(["extract", "--schema", "name", "--chunk", "200", "--stream"])
        .arg(&text);
    let out = run(command, "");
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(lines.len() >= 2, "{}", out.stdout);
    let sizes: Vec<usize> = lines
        .iter()
        .map(|l| l.as_array().map_or(0, Vec::len))
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
    assert_eq!(
        lines.last(),
        Some(&json!([{"name": "Ann Lee"}, {"name": "Bo Chen"}]))
    );
}
