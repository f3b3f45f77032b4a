//! `factum extract` end to end, against the real llama-server the other end-to-end tests
//! use (SmolLM2-135M-Instruct, started by `scripts/llama-server.sh`).

use std::process::Command;

use serde_json::Value;

/// The server's base URL: `FACTUM_LLAMA_URL`, else `http://127.0.0.1:8089/v1`.
fn url() -> String {
    std::env::var("FACTUM_LLAMA_URL").unwrap_or_else(|_| "http://127.0.0.1:8089/v1".to_owned())
}

/// Fails the test, with the command that fixes it, when no llama-server answers.
async fn assert_server_up(base: &str) {
    let health = format!(
        "{}/health",
        base.trim_end_matches('/').trim_end_matches("/v1")
    );
    let up = reqwest::get(&health)
        .await
        .is_ok_and(|r| r.status().is_success());
    assert!(
        up,
        "no llama-server answers at {base}: run `scripts/llama-server.sh start` (or `scripts/test.sh`)"
    );
}

#[tokio::test]
async fn extract_reads_john_doe_with_the_real_model() {
    let base = url();
    assert_server_up(&base).await;
    let out = Command::new(env!("CARGO_BIN_EXE_factum"))
        .env_remove("FACTUM_API_KEY")
        .env_remove("DRIA_API_KEY")
        .env_remove("FACTUM_MODEL")
        .env("FACTUM_BASE_URL", &base)
        .env("FACTUM_PROVIDER", "llamacpp")
        .args([
            "extract",
            "--timeout",
            "120",
            "--schema",
            "name, age int, email?",
            "John Doe, john@example.com, 30",
        ])
        .output()
        .expect("the factum binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    let value: Value = serde_json::from_str(&stdout).expect("the value is JSON");
    assert_eq!(value["name"], "John Doe", "{value}");
    assert_eq!(value["age"], 30, "{value}");
}
