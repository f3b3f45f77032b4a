//! `#[extract(unique)]` on a list says its items must not repeat, and validation holds it.
use factum::Extract;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, Extract)]
struct Meeting {
    #[extract(unique)]
    attendees: Vec<String>,
    #[extract(unique, length(max = 3))]
    rooms: Option<Vec<u32>>,
    topics: Vec<String>,
}

fn main() {
    let schema = factum::schema::<Meeting>();
    let props = &schema.json()["properties"];
    assert_eq!(props["attendees"]["uniqueItems"], true);
    assert_eq!(props["rooms"]["uniqueItems"], true);
    assert_eq!(props["rooms"]["maxItems"], 3);
    assert!(props["topics"].get("uniqueItems").is_none());
    assert!(schema.prompt().contains("attendees: string[], // unique"), "{}", schema.prompt());

    let ok = json!({"attendees": ["Ann", "Bob"], "rooms": [1, 2], "topics": ["a", "a"]});
    assert!(schema.validate(&ok).is_ok());
    let meeting: Meeting = serde_json::from_value(ok).unwrap();
    assert_eq!(meeting.attendees, ["Ann", "Bob"]);

    let repeated = json!({"attendees": ["Ann", "Bob", "Cy", "Ann"], "rooms": [4, 4], "topics": []});
    let text: Vec<String> = schema
        .validate(&repeated)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        text,
        [
            "at /attendees/3: repeats /attendees/0; each item must appear once",
            "at /rooms/1: repeats /rooms/0; each item must appear once"
        ]
    );
}
