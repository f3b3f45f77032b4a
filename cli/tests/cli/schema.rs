//! `factum schema` and `factum completions`: offline, nothing sent.

use std::process::Command;

use serde_json::Value;

use crate::support::run;

fn factum() -> Command {
    Command::new(env!("CARGO_BIN_EXE_factum"))
}

fn schema(args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = factum();
    command.arg("schema").args(args);
    let out = run(command, "");
    (out.code, out.stdout, out.stderr)
}

#[test]
fn the_llamacpp_dialect_is_the_schema_llama_cpp_is_sent() {
    let (code, stdout, stderr) =
        schema(&["--schema", "name, age int, email?", "--dialect", "llamacpp"]);
    assert_eq!(code, Some(0), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("the schema is JSON");
    assert_eq!(json["type"], "object");
    assert_eq!(json["properties"]["age"]["type"], "integer");
    let required: Vec<&str> = json["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["name", "age"], "email is optional");
    assert!(json["properties"]["email"].is_object());
}

#[test]
fn the_openai_dialect_requires_every_field_and_closes_objects() {
    let (code, stdout, stderr) = schema(&["--schema", "name, email?", "--dialect", "openai"]);
    assert_eq!(code, Some(0), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("the schema is JSON");
    assert_eq!(json["additionalProperties"], false);
    let required = json["required"].as_array().expect("required");
    assert!(
        required.contains(&Value::from("email")),
        "strict mode requires all: {json}"
    );
}

#[test]
fn multi_sends_the_list_in_its_envelope() {
    let (code, stdout, stderr) = schema(&["--schema", "name", "--name", "Person", "--multi"]);
    assert_eq!(code, Some(0), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("the schema is JSON");
    assert_eq!(json["properties"]["person_list"]["type"], "array");
}

#[test]
fn prompt_prints_the_compact_rendering() {
    let (code, stdout, stderr) = schema(&[
        "--schema",
        "name, age int: in whole years, email?",
        "--name",
        "Person",
        "--prompt",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("Person"), "{stdout}");
    assert!(stdout.contains("age: integer"), "{stdout}");
    assert!(stdout.contains("in whole years"), "{stdout}");
    assert!(
        serde_json::from_str::<Value>(&stdout).is_err(),
        "a prompt, not JSON"
    );
}

#[test]
fn a_bad_spec_exits_2_with_one_line() {
    let (code, stdout, stderr) = schema(&["--schema", "name int int", "--prompt"]);
    assert_eq!(code, Some(2));
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("column"), "says where: {stderr}");
}

#[test]
fn completions_and_help() {
    let mut command = factum();
    command.args(["completions", "bash"]);
    let out = run(command, "");
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("factum") && out.stdout.contains("--schema"));

    let mut command = factum();
    command.arg("--help");
    let out = run(command, "");
    assert_eq!(out.code, Some(0));
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130"] {
        assert!(
            out.stdout.lines().any(|l| l.trim_start().starts_with(code)),
            "exit code {code} documented: {}",
            out.stdout
        );
    }
    for sub in ["extract", "batch", "schema"] {
        let mut command = factum();
        command.args([sub, "--help"]);
        let out = run(command, "");
        assert_eq!(out.code, Some(0));
        assert!(
            out.stdout.contains(&format!("factum {sub} --schema")),
            "an example: {}",
            out.stdout
        );
    }
}
