//! The keywords llama.cpp's grammar converter reads but does not enforce, dropped and said
//! in the description instead ([`drop_ignored`]).
//!
//! Read from the converter in llama-cpp-python 0.3.36 (`common/json-schema.cpp`,
//! `common_chat_schema_builder::build_node` and the `build_*` it calls): a `$ref` is read
//! alone; `anyOf`/`oneOf` alone (siblings are ignored); `const` and `enum` alone; objects
//! read `properties`, `required` and `additionalProperties`; strings read `pattern`, else a
//! known `format`, else `minLength`/`maxLength`; arrays read `items`, `minItems` and
//! `maxItems`, but a tuple (`prefixItems`) reads neither bound; integers read `minimum`
//! (else `exclusiveMinimum`) and `maximum` (else `exclusiveMaximum`); numbers read no
//! bound at all. Everything else is skipped without a warning.

use serde_json::{Map, Value};

use crate::json::{compact, types};
use crate::lower::append_sentence;

/// Bounds on a value, and the sentence that says each (`{}` is the bound).
const NUMBER_BOUNDS: &[(&str, &str)] = &[
    ("minimum", "At least {}."),
    ("maximum", "At most {}."),
    ("exclusiveMinimum", "Greater than {}."),
    ("exclusiveMaximum", "Less than {}."),
];

/// String lengths, which the converter skips beside a `pattern` or a known `format`.
const LENGTHS: &[(&str, &str)] = &[
    ("minLength", "At least {} characters."),
    ("maxLength", "At most {} characters."),
];

/// Array sizes, which the converter skips on tuples.
const ITEM_COUNTS: &[(&str, &str)] = &[
    ("minItems", "At least {} items."),
    ("maxItems", "At most {} items."),
];

/// Keywords the converter never reads, with the sentence that says each (`{}` is the
/// value).
const NEVER_READ: &[(&str, &str)] = &[
    ("multipleOf", "A multiple of {}."),
    ("minProperties", "At least {} entries."),
    ("maxProperties", "At most {} entries."),
];

/// Keywords the converter never reads that no short sentence says: dropped, and the
/// description says they are checked after the reply. The converter also skips
/// `additionalItems`, which strict mode never sees.
const CHECKED_AFTER: [&[&str]; 2] = [crate::lower::CHECKED_AFTER, &["additionalItems"]];

/// Drops from one schema object every keyword the converter would skip and says it in
/// the description. Runs after the pattern and the format are lowered, so a `pattern`
/// still present is one the converter takes.
pub(super) fn drop_ignored(object: &mut Map<String, Value>) {
    for (keyword, words) in NEVER_READ {
        describe_removed(object, keyword, words);
    }
    if object.shift_remove("uniqueItems") == Some(Value::Bool(true)) {
        append_sentence(object, "Items must be unique.");
    }
    for keyword in CHECKED_AFTER.iter().copied().flatten() {
        if object.shift_remove(*keyword).is_some() {
            append_sentence(
                object,
                &format!("(The `{keyword}` constraint is checked after the reply.)"),
            );
        }
    }
    drop_number_bounds(object);
    drop_string_lengths(object);
    drop_tuple_counts(object);
}

/// Removes `keyword` and appends `words` with its value in place of `{}`.
fn describe_removed(object: &mut Map<String, Value>, keyword: &str, words: &str) {
    if let Some(value) = object.shift_remove(keyword) {
        append_sentence(object, &words.replace("{}", &compact(&value)));
    }
}

/// Bounds hold only on integers: on anything that may be another number (or has no
/// type, which the converter reads as any value) they go. On an integer, `minimum` wins
/// over `exclusiveMinimum` and `maximum` over `exclusiveMaximum`, so the loser goes.
fn drop_number_bounds(object: &mut Map<String, Value>) {
    let types = types(object);
    let integer_only = types.contains(&"integer") && !types.contains(&"number");
    if !integer_only {
        for (keyword, words) in NUMBER_BOUNDS {
            describe_removed(object, keyword, words);
        }
        return;
    }
    for (kept, (dropped, words)) in [("minimum", NUMBER_BOUNDS[2]), ("maximum", NUMBER_BOUNDS[3])] {
        if object.contains_key(kept) {
            describe_removed(object, dropped, words);
        }
    }
}

/// A `pattern` takes precedence over `format` and the lengths, a known `format` over the
/// lengths.
fn drop_string_lengths(object: &mut Map<String, Value>) {
    if object.contains_key("pattern")
        && let Some(format) = object.shift_remove("format")
    {
        let format = format
            .as_str()
            .map_or_else(|| compact(&format), str::to_owned);
        append_sentence(object, &format!("Format: {format}."));
    }
    if object.contains_key("pattern") || object.contains_key("format") {
        for (keyword, words) in LENGTHS {
            describe_removed(object, keyword, words);
        }
    }
}

/// A tuple's length is its `prefixItems`: the counts go. A boolean `items` beside
/// `prefixItems` would be read as the item schema, which the converter refuses; the
/// tuple grammar already allows no further items, so it goes too.
fn drop_tuple_counts(object: &mut Map<String, Value>) {
    let tuple = object.contains_key("prefixItems") && !object.contains_key("items")
        || matches!(object.get("items"), Some(Value::Array(_)))
        || (object.contains_key("prefixItems")
            && matches!(object.get("items"), Some(Value::Bool(_))));
    if !tuple {
        return;
    }
    if object.contains_key("prefixItems") && matches!(object.get("items"), Some(Value::Bool(_))) {
        object.shift_remove("items");
    }
    for (keyword, words) in ITEM_COUNTS {
        describe_removed(object, keyword, words);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dropped(value: Value) -> Value {
        let Value::Object(mut object) = value else {
            unreachable!("a test schema is an object")
        };
        drop_ignored(&mut object);
        Value::Object(object)
    }

    #[test]
    fn number_bounds_hold_on_integers_only() {
        assert_eq!(
            dropped(json!({"type": "number", "minimum": 0, "exclusiveMaximum": 1})),
            json!({"type": "number", "description": "At least 0. Less than 1."})
        );
        assert_eq!(
            dropped(json!({"type": ["number", "null"], "maximum": 5})),
            json!({"type": ["number", "null"], "description": "At most 5."})
        );
        let integer = json!({"type": "integer", "minimum": 1, "maximum": 9});
        assert_eq!(dropped(integer.clone()), integer);
        assert_eq!(
            dropped(
                json!({"type": "integer", "minimum": 1, "exclusiveMinimum": 2, "multipleOf": 3})
            ),
            json!({"type": "integer", "minimum": 1, "description": "A multiple of 3. Greater than 2."})
        );
    }

    #[test]
    fn pattern_and_format_take_precedence_over_lengths() {
        assert_eq!(
            dropped(json!({"type": "string", "pattern": "^a+$", "format": "date", "maxLength": 4})),
            json!({"type": "string", "pattern": "^a+$", "description": "Format: date. At most 4 characters."})
        );
        assert_eq!(
            dropped(json!({"type": "string", "format": "date", "minLength": 1})),
            json!({"type": "string", "format": "date", "description": "At least 1 characters."})
        );
        let lengths = json!({"type": "string", "minLength": 1, "maxLength": 200});
        assert_eq!(dropped(lengths.clone()), lengths);
    }

    #[test]
    fn tuples_lose_their_counts_and_never_read_keywords_go() {
        assert_eq!(
            dropped(
                json!({"type": "array", "prefixItems": [{"type": "integer"}], "items": false, "minItems": 1, "maxItems": 1})
            ),
            json!({"type": "array", "prefixItems": [{"type": "integer"}], "description": "At least 1 items. At most 1 items."})
        );
        let list = json!({"type": "array", "items": {"type": "integer"}, "minItems": 1});
        assert_eq!(dropped(list.clone()), list);
        assert_eq!(
            dropped(
                json!({"type": "array", "items": {}, "uniqueItems": true, "contains": {"const": 1}})
            ),
            json!({"type": "array", "items": {}, "description": "Items must be unique. (The `contains` constraint is checked after the reply.)"})
        );
        assert_eq!(
            dropped(
                json!({"type": "object", "minProperties": 1, "propertyNames": {"pattern": "^a"}})
            ),
            json!({"type": "object", "description": "At least 1 entries. (The `propertyNames` constraint is checked after the reply.)"})
        );
    }
}
