//! proptest strategies shared by the property tests: any JSON value (recursive, with keys and
//! strings that need escaping), and model-like text around one.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Strings with what JSON must escape, what models misuse, and text beyond ASCII.
pub(crate) fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _-]{0,12}",
        "[\"\\\\/\u{0}-\u{1f}'`{}\\[\\],:éß日本😀\u{a0}\u{2028}]{0,8}",
        any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Finite floats only: JSON has no NaN or infinity.
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        (-10_000i32..10_000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
    ]
}

/// Any JSON value, at most a few levels deep and a few members wide.
pub(crate) fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((string(), inner), 0..5)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A value as a model may write it: compact or pretty.
pub(crate) fn written() -> impl Strategy<Value = (Value, String)> {
    (value(), any::<bool>()).prop_map(|(value, pretty)| {
        let text = if pretty {
            serde_json::to_string_pretty(&value)
        } else {
            serde_json::to_string(&value)
        };
        (value, text.unwrap_or_default())
    })
}
