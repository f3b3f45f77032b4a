//! Maps with integer keys are objects whose keys are digits; their values are validated
//! under their keys, and they deserialize from the keys' text.
use std::collections::{BTreeMap, HashMap};

use factum::Extract;
use serde::Deserialize;
use serde_json::json;

fn positive(score: &Score) -> Result<(), String> {
    if score.points > 0 { Ok(()) } else { Err("points must be positive".into()) }
}

#[derive(Debug, Deserialize, Extract, PartialEq)]
#[extract(validate = positive)]
struct Score {
    points: u32,
}

#[derive(Debug, Deserialize, Extract)]
struct Report {
    scores: HashMap<u32, u32>,
    by_year: BTreeMap<i64, Score>,
    rooms: Option<HashMap<u8, String>>,
    offsets: BTreeMap<isize, i16>,
    counts: HashMap<usize, u64>,
}

fn main() {
    let schema = factum::schema::<Report>();
    let props = &schema.json()["properties"];
    let digits = json!({"pattern": "^[0-9]+$"});
    let signed = json!({"pattern": "^-?[0-9]+$"});
    assert_eq!(props["scores"]["propertyNames"], digits);
    assert_eq!(props["scores"]["additionalProperties"]["type"], "integer");
    assert_eq!(props["by_year"]["propertyNames"], signed);
    assert_eq!(props["by_year"]["additionalProperties"], json!({"$ref": "#/$defs/Score"}));
    assert_eq!(props["rooms"]["propertyNames"], digits);
    assert_eq!(props["rooms"]["additionalProperties"]["type"], "string");
    assert_eq!(props["offsets"]["propertyNames"], signed);
    assert_eq!(props["counts"]["propertyNames"], digits);
    for (name, map) in props.as_object().unwrap() {
        assert!(map.get("patternProperties").is_none(), "{name}: {map}");
    }
    assert!(schema.prompt().contains("scores: map<integer, integer>"), "{}", schema.prompt());

    let sample = json!({
        "scores": {"1": 5, "22": 7},
        "by_year": {"-44": {"points": 3}, "2024": {"points": 9}},
        "rooms": {"7": "lab"},
        "offsets": {"-1": -3},
        "counts": {"0": 0}
    });
    assert!(schema.validate(&sample).is_ok());
    let report: Report = serde_json::from_value(sample).unwrap();
    assert_eq!(report.scores, HashMap::from([(1, 5), (22, 7)]));
    assert_eq!(report.by_year[&-44], Score { points: 3 });
    assert_eq!(report.rooms.unwrap()[&7], "lab");
    assert_eq!(report.offsets[&-1], -3);

    let bad = json!({"scores": {"x": 1}, "by_year": {}, "offsets": {}, "counts": {"-2": 1}});
    let violations = schema.validate(&bad).unwrap_err();
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["/scores/x", "/counts/-2"], "{violations:?}");

    // The value's validator runs under its key.
    let zero: Report = serde_json::from_value(json!({
        "scores": {}, "by_year": {"1999": {"points": 0}}, "offsets": {}, "counts": {}
    }))
    .unwrap();
    let found = zero.validate().unwrap_err();
    assert_eq!(found[0].path, "/by_year/1999");
    assert_eq!(found[0].message, "points must be positive");
}
