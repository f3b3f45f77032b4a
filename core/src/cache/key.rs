//! What a cached reply or a recorded interaction is found by: the request body in a
//! canonical form, and the schema's fingerprint.

use serde_json::{Map, Value};

use crate::json::{FNV_OFFSET, fnv};
use crate::wire::ChatRequest;

/// A request as the cache and cassettes know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// The body, keys sorted at every level, as compact JSON: the sampling fields and
    /// `stream` kept, the key never (it is a header, not part of the body), and Dria's
    /// `timeout_secs` left out (how long the router may wait changes nothing the model
    /// writes).
    pub(crate) request: String,
    /// The [`fingerprint`](crate::Schema::fingerprint) of the schema asked for.
    pub(crate) schema: u64,
}

impl Key {
    pub(crate) fn of(request: &ChatRequest) -> Key {
        Key::from_body(&body(request), request.schema_hash)
    }

    /// The key of a body made by [`body`].
    pub(crate) fn from_body(body: &Value, schema: u64) -> Key {
        Key {
            request: body.to_string(),
            schema,
        }
    }

    /// A file-name-safe id: the request's and the schema's hashes.
    pub(crate) fn id(&self) -> String {
        format!(
            "{:016x}-{:016x}",
            fnv(FNV_OFFSET, self.request.as_bytes()),
            self.schema
        )
    }
}

/// The request's body as the key knows it: canonical, without `timeout_secs`.
pub(crate) fn body(request: &ChatRequest) -> Value {
    let mut body = request.body().unwrap_or_default();
    if let Value::Object(fields) = &mut body {
        fields.remove("timeout_secs");
    }
    canonical(body)
}

/// `value` with the keys of every object sorted, so two bodies that differ only in key
/// order are the same text.
pub(crate) fn canonical(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The first place where `a` and `b` differ, as a JSON pointer with both values (cut
/// short): what a cassette names when a request has no recording.
pub(crate) fn first_difference(here: &Value, recorded: &Value) -> Option<String> {
    walk(here, recorded, &mut String::new())
}

/// [`first_difference`] below `path`.
fn walk(here: &Value, recorded: &Value, path: &mut String) -> Option<String> {
    let step =
        |path: &mut String, mine: Option<&Value>, theirs: Option<&Value>| match (mine, theirs) {
            (Some(mine), Some(theirs)) => walk(mine, theirs, path),
            (mine, theirs) => Some(describe(path, mine, theirs)),
        };
    match (here, recorded) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|key| {
                let len = path.len();
                crate::json::push_key(path, key);
                let found = step(path, x.get(key), y.get(key));
                path.truncate(len);
                found
            })
        }
        (Value::Array(x), Value::Array(y)) => (0..x.len().max(y.len())).find_map(|i| {
            let len = path.len();
            crate::json::push_index(path, i);
            let found = step(path, x.get(i), y.get(i));
            path.truncate(len);
            found
        }),
        _ if here == recorded => None,
        _ => Some(describe(path, Some(here), Some(recorded))),
    }
}

/// One difference: where, and both values cut short.
fn describe(path: &str, here: Option<&Value>, recorded: Option<&Value>) -> String {
    let show = |v: Option<&Value>| {
        v.map_or_else(
            || "nothing".to_owned(),
            |v| crate::json::excerpt(&v.to_string(), 120).into_owned(),
        )
    };
    let path = if path.is_empty() { "/" } else { path };
    format!("{path}: {} here, {} recorded", show(here), show(recorded))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_order_does_not_change_the_canonical_text() {
        let a = canonical(json!({"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": 2}}));
        let b = canonical(json!({"a": {"c": 2, "d": [1, {"y": 1, "z": 0}]}, "b": 1}));
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(
            a.to_string(),
            r#"{"a":{"c":2,"d":[1,{"y":1,"z":0}]},"b":1}"#
        );
    }

    #[test]
    fn the_first_difference_is_named_by_its_path_with_both_values() {
        let here = json!({"model": "m", "messages": [{"content": "new prompt"}]});
        let recorded = json!({"model": "m", "messages": [{"content": "old prompt"}]});
        assert_eq!(
            first_difference(&here, &recorded).as_deref(),
            Some(r#"/messages/0/content: "new prompt" here, "old prompt" recorded"#)
        );
        assert_eq!(first_difference(&here, &here), None);
        let more = json!({"model": "m", "messages": [], "seed": 3});
        assert_eq!(
            first_difference(&more, &json!({"model": "m", "messages": []})).as_deref(),
            Some("/seed: 3 here, nothing recorded")
        );
    }
}
