//! `factum batch`: complete output in input order with failures in place, and a run
//! interrupted by Ctrl-C then resumed from its journal with nothing sent twice.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};

use crate::support::{
    Gate, Reply, Running, Server, factum, json_lines, messages, run, scratch, spawn, wait_for,
};

const ITEMS: usize = 50;

/// Item `i`'s text: its marker, a name and an age.
fn text(i: usize) -> String {
    format!("item-{i:03}: Name{i} is {} years old.", 20 + i)
}

/// The value item `i` gets.
fn value(i: usize) -> Value {
    json!({"name": format!("Name{i}"), "age": 20 + i})
}

/// Which item a request is for, by the marker in its text.
fn item_of(body: &Value) -> usize {
    let messages = messages(body);
    let at = messages.find("item-").expect("a request for an item") + 5;
    messages[at..at + 3].parse().expect("the item's number")
}

/// The item's reply: its value, or for `failing` one without the required age.
fn reply(i: usize, failing: Option<usize>) -> Reply {
    if Some(i) == failing {
        Reply::Chat(json!({"name": format!("Name{i}")}).to_string())
    } else {
        Reply::Chat(value(i).to_string())
    }
}

/// The input file: one JSON object a line, with an id and the text.
fn input(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("in.jsonl");
    let lines: Vec<String> = (0..ITEMS)
        .map(|i| json!({"id": format!("doc-{i}"), "text": text(i)}).to_string())
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the input");
    path
}

fn batch(url: &str, dir: &Path, concurrency: usize) -> std::process::Command {
    let mut command = factum(url);
    command
        .args(["batch", "--schema", "name, age int", "--concurrency"])
        .arg(concurrency.to_string())
        .arg("--input")
        .arg(dir.join("in.jsonl"))
        .arg("--output")
        .arg(dir.join("out.jsonl"))
        .arg("--journal")
        .arg(dir.join("journal.jsonl"));
    command
}

/// Asserts the output holds every item, in input order, each with its value.
fn assert_complete(output: &[Value]) {
    assert_eq!(output.len(), ITEMS);
    for (i, line) in output.iter().enumerate() {
        assert_eq!(*line, json!({"id": format!("doc-{i}"), "value": value(i)}));
    }
}

/// Counts each item's requests.
fn counts(server: &Server) -> HashMap<usize, usize> {
    let mut counts = HashMap::new();
    for body in server.requests() {
        *counts.entry(item_of(&body)).or_default() += 1;
    }
    counts
}

#[test]
fn every_item_gets_a_line_in_order_and_a_failed_one_exits_4() {
    let server = Server::start(|body| reply(item_of(body), Some(13)));
    let dir = scratch("batch-50");
    input(&dir);
    let out = run(batch(&server.url, &dir, 8), "");
    assert_eq!(out.code, Some(4), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "", "the output goes to its file");
    let output = json_lines(&dir.join("out.jsonl"));
    assert_eq!(output.len(), ITEMS);
    for (i, line) in output.iter().enumerate() {
        assert_eq!(line["id"], format!("doc-{i}"), "input order");
        if i == 13 {
            assert_failed(line);
        } else {
            assert_eq!(line["value"], value(i), "{line}");
        }
    }
    assert_reported(&out.stderr_lines());
    let counts = counts(&server);
    assert_eq!(counts.len(), ITEMS);
    assert_eq!(counts[&13], 3, "the failing item was asked three times");
    assert!(counts.iter().all(|(i, n)| *i == 13 || *n == 1));
}

/// The failing item's line: its error's kind and message, and every attempt.
fn assert_failed(line: &Value) {
    assert_eq!(line["error"]["kind"], "Exhausted", "{line}");
    let message = line["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("\"age\" is a required"), "{line}");
    assert_eq!(
        line["attempts"].as_array().map(Vec::len),
        Some(3),
        "with every attempt"
    );
    assert!(line.get("value").is_none());
}

/// stderr: the progress as JSON lines (stderr is no terminal), then one line saying how
/// many items failed.
fn assert_reported(stderr: &[&str]) {
    let last = stderr.last().expect("a line on stderr");
    assert!(
        last.starts_with("factum: 1 of 50 items failed"),
        "{stderr:?}"
    );
    let progress: Value = stderr
        .iter()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .expect("a JSON progress line, stderr not being a terminal");
    assert_eq!(progress["done"], 50);
    assert_eq!(progress["failed"], 1);
    assert_eq!(progress["total"], 50);
}

/// Whole lines in the file at `path`.
fn whole_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .matches('\n')
        .count()
}

/// Serves the first `answered` requests at once and holds the rest behind `gate`,
/// recording which items were answered at once.
fn first_then_hold(answered: usize, gate: &Arc<Gate>) -> (Server, Arc<Mutex<Vec<usize>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (gate, items) = (Arc::clone(gate), Arc::clone(&log));
    let server = Server::start(move |body| {
        let i = item_of(body);
        let mut items = items.lock().unwrap_or_else(PoisonError::into_inner);
        if items.len() < answered {
            items.push(i);
            reply(i, None)
        } else {
            Reply::After(Arc::clone(&gate), Box::new(reply(i, None)))
        }
    });
    (server, log)
}

/// Starts the batch and presses Ctrl-C once `answered` items are journaled and
/// `concurrency` more are in flight, held by the server; waits until it stops taking
/// items.
fn interrupt_when_held(
    server: &Server,
    dir: &Path,
    answered: usize,
    concurrency: usize,
) -> Running {
    let running = spawn(batch(&server.url, dir, concurrency), "");
    wait_for("the requests in flight", || {
        server.requests().len() == answered + concurrency
    });
    wait_for("the journal's lines", || {
        whole_lines(&dir.join("journal.jsonl")) == answered
    });
    running.interrupt();
    wait_for("the batch to stop taking items", || {
        running.stderr().contains("stopping")
    });
    running
}

/// Runs the batch again with every request answered: the output is complete, and only
/// the items not answered before were sent, each once.
fn rerun_sends_only_the_rest(server: &Server, dir: &Path, answered: &BTreeSet<usize>) {
    let sent_before = server.requests().len();
    server.set_handler(|body| reply(item_of(body), None));
    let second = run(batch(&server.url, dir, 4), "");
    assert_eq!(second.code, Some(0), "stderr: {}", second.stderr);
    assert_complete(&json_lines(&dir.join("out.jsonl")));
    let mut rerun: Vec<usize> = server.requests()[sent_before..]
        .iter()
        .map(item_of)
        .collect();
    rerun.sort_unstable();
    let rest: Vec<usize> = (0..ITEMS).filter(|i| !answered.contains(i)).collect();
    assert_eq!(
        rerun, rest,
        "the rerun sent each item not answered before, once"
    );
}

#[test]
fn ctrl_c_finishes_what_is_in_flight_and_a_rerun_sends_only_the_rest() {
    let gate = Arc::new(Gate::default());
    let (server, log) = first_then_hold(20, &gate);
    let dir = scratch("batch-resume");
    input(&dir);
    let running = interrupt_when_held(&server, &dir, 20, 4);
    gate.open();
    let first = running.finish();
    assert_eq!(first.code, Some(130), "stderr: {}", first.stderr);
    assert_eq!(
        server.requests().len(),
        24,
        "no item was taken after Ctrl-C"
    );
    let output = json_lines(&dir.join("out.jsonl"));
    assert_eq!(
        output.len(),
        24,
        "the items in flight finished and were written"
    );
    for (i, line) in output.iter().enumerate() {
        assert_eq!(*line, json!({"id": format!("doc-{i}"), "value": value(i)}));
    }
    let last = first.stderr_lines().last().map(|l| (*l).to_owned());
    let last = last.unwrap_or_default();
    assert!(
        last.starts_with("factum: interrupted: 24 of 50 items"),
        "{last}"
    );
    // The twenty answered at once and the four held ones, answered once the gate opened.
    let answered: BTreeSet<usize> = counts(&server).into_keys().collect();
    assert_eq!(answered.len(), 24);
    assert!(
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .all(|i| answered.contains(i))
    );
    rerun_sends_only_the_rest(&server, &dir, &answered);
}

#[test]
fn ctrl_c_twice_stops_at_once_and_keeps_everything_answered() {
    let gate = Arc::new(Gate::default());
    let (server, log) = first_then_hold(10, &gate);
    let dir = scratch("batch-abandon");
    input(&dir);
    let running = interrupt_when_held(&server, &dir, 10, 4);
    running.interrupt();
    let first = running.finish();
    assert_eq!(first.code, Some(130), "stderr: {}", first.stderr);
    let answered: BTreeSet<usize> = log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .copied()
        .collect();
    let written: BTreeSet<usize> = json_lines(&dir.join("out.jsonl"))
        .iter()
        .map(|line| {
            let id = line["id"].as_str().expect("an id");
            id.trim_start_matches("doc-").parse().expect("a number")
        })
        .collect();
    assert_eq!(
        written, answered,
        "every answered item was written, nothing else"
    );
    // The four held requests were never answered: the rerun sends them again, with the
    // other thirty-six, and none of the ten answered.
    rerun_sends_only_the_rest(&server, &dir, &answered);
}

#[test]
fn a_directory_of_texts_is_read_in_name_order_with_stems_as_ids() {
    let server = Server::start(|body| reply(item_of(body), None));
    let dir = scratch("batch-dir");
    let texts = dir.join("texts");
    std::fs::create_dir(&texts).expect("a directory");
    for (name, i) in [("b", 1), ("a", 0), ("c", 2)] {
        std::fs::write(texts.join(format!("{name}.txt")), text(i)).expect("a text");
    }
    std::fs::write(texts.join("notes.md"), "not a text").expect("another file");
    let mut command = factum(&server.url);
    command
        .args(["batch", "--schema", "name, age int", "--input"])
        .arg(&texts)
        .args(["--output", "-"]);
    let out = run(command, "");
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<Value> = out
        .stdout_lines()
        .iter()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let expected: Vec<Value> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"id": id, "value": value(i)}))
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn a_bad_input_line_exits_2_before_anything_is_sent() {
    let server = Server::start(|body| reply(item_of(body), None));
    let dir = scratch("batch-bad-input");
    std::fs::write(dir.join("in.jsonl"), format!("\"{}\"\n42\n", text(0))).expect("input");
    let out = run(batch(&server.url, &dir, 2), "");
    assert_eq!(out.code, Some(2));
    let stderr = out.stderr_lines();
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].contains("line 2"), "{stderr:?}");
    assert!(server.requests().is_empty());
}
