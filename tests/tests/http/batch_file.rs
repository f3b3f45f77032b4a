//! Provider batch files, round trip: the request file written through the pipeline, run by
//! a stand-in for the provider's batch runner (each body posted to a wiremock model on
//! 127.0.0.1, as `vllm run-batch` does with its server), the results file read back with
//! a reply that does not fit, a request the provider failed and a broken line, and the
//! re-ask file for the failures. The live OpenAI and Groq batch APIs cannot run here; the
//! format is theirs.

use factum::{ErrorKind, Provider, batch_file};
use factum_tests::http::{JOHN_JSON, Person, bodies, chat, client, john};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ITEMS: [(&str, &str); 3] = [
    ("doc-a", "John Doe, john@example.com, 30"),
    ("doc-b", "Mary Major, 41"),
    ("doc-c", "Johnny, john@example.com, 30"),
];

/// A model that gives Mary an age out of range and everyone else John.
async fn model() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("Mary"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat(
            r#"{"name":"Mary Major","age":999,"email":null}"#,
            30,
            9,
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat(JOHN_JSON, 30, 12)))
        .mount(&server)
        .await;
    server
}

/// The provider's side: each request line's body posted to `server`, each reply written
/// as an OpenAI Batch API result line.
async fn run_batch(server: &MockServer, requests: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut results = Vec::new();
    for (i, line) in requests.lines().enumerate() {
        let request: Value = serde_json::from_str(line).unwrap();
        let url = format!("{}{}", server.uri(), request["url"].as_str().unwrap());
        let reply = http
            .post(url)
            .header("content-type", "application/json")
            .body(request["body"].to_string())
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let body: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        results.push(
            json!({
                "id": format!("batch_req_{i}"),
                "custom_id": request["custom_id"],
                "response": {"status_code": status, "request_id": format!("req_{i}"), "body": body},
                "error": null
            })
            .to_string(),
        );
    }
    results
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one round trip, export to re-ask file, checked at every step"
)]
async fn export_run_import_and_reask_a_provider_batch_file() {
    let server = model().await;
    let client = client(&server, Provider::OpenAi);

    // Export: one line per item, each body the request send() makes.
    let mut requests = Vec::new();
    let n = batch_file::write_requests::<Person>(&client, ITEMS, &mut requests)
        .await
        .unwrap();
    assert_eq!(n, 3);
    let requests = String::from_utf8(requests).unwrap();
    let lines: Vec<Value> = requests
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, (id, _)) in lines.iter().zip(ITEMS) {
        assert_eq!(line["custom_id"], id);
        assert_eq!(line["method"], "POST");
        assert_eq!(line["url"], "/v1/chat/completions");
        assert!(
            line["body"].get("stream").is_none(),
            "batch APIs do not stream"
        );
        assert_eq!(
            line["body"]["response_format"]["json_schema"]["strict"],
            true
        );
    }
    // The very body send() posts for the same item.
    client.extract::<Person>(ITEMS[0].1).await.unwrap();
    let mut sent = bodies(&server).await.remove(0);
    // send() streams; a batch body is the same request without streaming.
    sent.as_object_mut().unwrap().remove("stream");
    sent.as_object_mut().unwrap().remove("stream_options");
    assert_eq!(lines[0]["body"], sent);

    // The provider runs it; its results file has a failed request and a broken line.
    let mut results = run_batch(&server, &requests).await;
    results[2] = json!({
        "id": "batch_req_2",
        "custom_id": "doc-c",
        "response": {"status_code": 500, "request_id": "req_2", "body": {"error": {"message": "the server had an error"}}},
        "error": null
    })
    .to_string();
    results.push("{\"id\": \"batch_req_3\", \"custom_id\"".to_owned());
    let results = results.join("\n");

    // Import, grounded against the items.
    let entries = batch_file::read_results_for::<Person>(&client, ITEMS, results.as_bytes())
        .await
        .unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0].custom_id, "doc-a");
    let john_out = entries[0].result.as_ref().unwrap();
    assert_eq!(john_out.value, john());
    assert_eq!(john_out.attempts.len(), 1);
    assert_eq!(john_out.usage.prompt_tokens, 30);
    assert!(
        !john_out.spans.is_empty(),
        "read with its text, the value is located"
    );

    assert_eq!(entries[1].custom_id, "doc-b");
    let mary = entries[1].result.as_ref().unwrap_err();
    assert_eq!(mary.kind(), ErrorKind::Exhausted);
    assert!(
        mary.attempts()[0].raw.contains("999"),
        "the raw reply is kept"
    );

    assert_eq!(entries[2].custom_id, "doc-c");
    let failed = entries[2].result.as_ref().unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Http);
    assert!(failed.to_string().contains("500"), "{failed}");

    let broken = entries[3].result.as_ref().unwrap_err();
    assert_eq!(broken.kind(), ErrorKind::BatchFile);
    assert_eq!(broken.line(), Some(4));

    // Without the items: the same judgement, no grounding.
    let plain = batch_file::read_results::<Person>(&client, results.as_bytes())
        .await
        .unwrap();
    let value = plain[0].result.as_ref().unwrap();
    assert_eq!(value.value, john());
    assert!(value.spans.is_empty());

    // The re-ask file: Mary's re-ask with its feedback, and doc-c's request again.
    let mut reasks = Vec::new();
    let n = batch_file::reask_requests(&client, ITEMS, &entries, &mut reasks)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let reasks: Vec<Value> = String::from_utf8(reasks)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reasks[0]["custom_id"], "doc-b");
    let messages = reasks[0]["body"]["messages"].as_array().unwrap();
    let first_messages = lines[1]["body"]["messages"].as_array().unwrap();
    assert_eq!(
        messages[..first_messages.len()],
        first_messages[..],
        "the same conversation"
    );
    let turns = &messages[first_messages.len()..];
    assert_eq!(turns[0]["role"], "assistant");
    assert!(turns[0]["content"].as_str().unwrap().contains("999"));
    assert_eq!(turns[1]["role"], "user");
    let feedback = turns[1]["content"].as_str().unwrap();
    assert!(feedback.contains("/age"), "{feedback}");
    assert_eq!(reasks[1]["custom_id"], "doc-c");
    assert_eq!(
        reasks[1]["body"], lines[2]["body"],
        "a failed request is sent again as it was"
    );
}

#[tokio::test]
async fn results_in_vllm_run_batch_form_and_provider_errors_read_back() {
    let server = model().await;
    let client = client(&server, Provider::Vllm);
    // `vllm run-batch` writes its own ids and no `error` on success.
    let reply = chat(JOHN_JSON, 20, 10);
    let results = [
        json!({"id": "vllm-1", "custom_id": "0", "response": {"status_code": 200, "request_id": "vllm-batch-1", "body": reply}}),
        json!({"id": "batch_req_2", "custom_id": "1", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}),
    ]
    .map(|l| l.to_string())
    .join("\n");
    let entries = batch_file::read_results::<Person>(&client, results.as_bytes())
        .await
        .unwrap();
    assert_eq!(entries[0].result.as_ref().unwrap().value, john());
    let expired = entries[1].result.as_ref().unwrap_err();
    assert_eq!(expired.kind(), ErrorKind::InvalidResponse);
    assert!(
        expired.to_string().contains("completion window"),
        "{expired}"
    );
    // Bare texts get their positions as ids.
    let mut out = Vec::new();
    batch_file::write_requests::<Person>(&client, ["John Doe, 30", "Mary, 41"], &mut out)
        .await
        .unwrap();
    let ids: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["custom_id"].clone())
        .collect();
    assert_eq!(ids, [json!("0"), json!("1")]);
    assert!(
        bodies(&server).await.is_empty(),
        "writing and reading send nothing"
    );
}
