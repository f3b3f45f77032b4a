//! Field types from other crates work through schemars' own features (`chrono04`,
//! `uuid1`, `url2`): their schemas carry the right formats, lowering keeps or moves them
//! per dialect, and values validate and deserialize.

use factum::{Dialect, Extract};
use serde::Deserialize;
use serde_json::json;

/// A meeting invitation.
#[derive(Debug, Deserialize, Extract)]
struct Meeting {
    /// The invitation's identifier.
    id: uuid::Uuid,
    /// When the meeting starts.
    starts_at: chrono::DateTime<chrono::Utc>,
    /// The day it was sent.
    sent_on: chrono::NaiveDate,
    /// Where to join.
    link: url::Url,
}

#[test]
fn foreign_types_carry_their_formats() {
    let schema = factum::schema::<Meeting>();
    let properties = &schema.json()["properties"];
    assert_eq!(properties["id"]["format"], "uuid");
    assert_eq!(properties["starts_at"]["format"], "date-time");
    assert_eq!(properties["sent_on"]["format"], "date");
    assert_eq!(properties["link"]["format"], "uri");
    assert_eq!(
        properties["id"]["description"],
        "The invitation's identifier."
    );

    // llama.cpp enforces uuid, date-time and date; `uri` moves into the description.
    let llama = &schema.for_dialect(Dialect::LlamaCpp).unwrap()["properties"];
    assert_eq!(llama["id"]["format"], "uuid");
    assert_eq!(llama["starts_at"]["format"], "date-time");
    assert!(llama["link"].get("format").is_none());
    assert!(
        llama["link"]["description"]
            .as_str()
            .unwrap()
            .contains("uri")
    );
    // OpenAI strict mode has no `uri` format either.
    let strict = &schema.for_dialect(Dialect::OpenAiStrict).unwrap()["properties"];
    assert!(strict["link"].get("format").is_none());
    assert_eq!(strict["sent_on"]["format"], "date");
    assert!(schema.prompt().contains("format uuid"));
}

#[test]
fn foreign_values_validate_and_deserialize() {
    let schema = factum::schema::<Meeting>();
    let good = json!({
        "id": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "starts_at": "2024-05-01T09:30:00Z",
        "sent_on": "2024-04-28",
        "link": "https://meet.example/abc"
    });
    schema.validate(&good).unwrap();
    let meeting: Meeting = serde_json::from_value(good.clone()).unwrap();
    assert_eq!(meeting.link.host_str(), Some("meet.example"));
    assert_eq!(meeting.sent_on.to_string(), "2024-04-28");
    assert!(meeting.validate().is_ok());

    let mut bad = good;
    bad["id"] = json!("not-a-uuid");
    bad["starts_at"] = json!("tomorrow at nine");
    let violations = schema.validate(&bad).unwrap_err();
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert!(
        paths.contains(&"/id") && paths.contains(&"/starts_at"),
        "{violations:?}"
    );
}
