//! Small JSON and JSON-Schema chores, each written once: JSON-pointer segments (RFC 6901),
//! `$ref` targets, a schema's `type` list, compact rendering, schemars' numeric formats,
//! and cutting text at a char boundary.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// schemars' numeric formats (`uint8`, `int32`, `double`…). They repeat what `minimum` and
/// `maximum` already say, and no server uses them.
pub(crate) const NUMERIC_FORMATS: &[&str] = &[
    "int8", "int16", "int32", "int64", "int128", "int", "uint8", "uint16", "uint32", "uint64",
    "uint128", "uint", "float", "double",
];

/// Whether `format` is one of schemars' [`NUMERIC_FORMATS`].
pub(crate) fn is_numeric_format(format: &str) -> bool {
    NUMERIC_FORMATS.contains(&format)
}

/// The schema keyword of a grounded field. It is ours: lowering takes it out of what
/// servers see and says it in the description instead.
pub(crate) const GROUNDED: &str = "x-grounded";
/// The keyword `#[extract(inferred)]` marks a field's schema with: its value is derived
/// from the text, not quoted, so default grounding leaves it alone. No server sees it.
pub(crate) const INFERRED: &str = "x-inferred";

/// What the prompt and a lowered description say of a grounded field.
pub(crate) const GROUNDED_NOTE: &str = "copied exactly as written in the text";

/// Appends an object key to a JSON pointer, escaping `~` and `/` as RFC 6901 requires.
pub(crate) fn push_key(path: &mut String, key: &str) {
    path.reserve(key.len() + 1);
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// Appends an array index to a JSON pointer.
pub(crate) fn push_index(path: &mut String, index: usize) {
    use std::fmt::Write as _;
    let _ = write!(path, "/{index}");
}

/// The items of a list that repeat an earlier one, as `(later, first)` index pairs, equal
/// as JSON Schema's `uniqueItems` compares them: numbers by value (`1` and `1.0`), objects
/// whatever their key order.
pub(crate) fn repeats(items: &[Value]) -> Vec<(usize, usize)> {
    let mut first = std::collections::HashMap::with_capacity(items.len());
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut key = String::new();
        canonical(item, &mut key);
        match first.entry(key) {
            std::collections::hash_map::Entry::Occupied(seen) => out.push((index, *seen.get())),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
            }
        }
    }
    out
}

/// One text per JSON value up to equality: keys sorted, whole numbers without a fraction.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                #[allow(clippy::cast_possible_truncation, reason = "whole and within i64")]
                out.push_str(&(f as i64).to_string());
            }
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for item in items {
                canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(key, _)| *key);
            out.push('{');
            for (key, item) in entries {
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical(item, out);
                out.push(',');
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The definition a local `$ref` names: `#/$defs/Foo~1Bar` → `Foo/Bar`, with the RFC 6901
/// escapes undone. `None` for a reference that does not point into `$defs`.
pub(crate) fn def_name(reference: &str) -> Option<Cow<'_, str>> {
    let name = reference
        .strip_prefix("#/$defs/")
        .or_else(|| reference.strip_prefix("#/definitions/"))?;
    if name.contains('~') {
        Some(Cow::Owned(name.replace("~1", "/").replace("~0", "~")))
    } else {
        Some(Cow::Borrowed(name))
    }
}

/// The schema a local `$ref` (`#/$defs/Name`, `#/properties/a`) points at in `root`,
/// without the allocations `Value::pointer` makes for the common `#/$defs/Name` form.
pub(crate) fn local_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    match pointer.strip_prefix("/$defs/") {
        Some(name) if !name.contains(['/', '~']) => root.get("$defs")?.get(name),
        _ => root.pointer(pointer),
    }
}

/// Whether a schema's root is a plain object (no union at the top).
pub(crate) fn is_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
        && schema.get("anyOf").is_none()
        && schema.get("oneOf").is_none()
}

/// The types a schema object names in `type`: one string or a list of them.
pub(crate) fn types(object: &Map<String, Value>) -> Vec<&str> {
    match object.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// [`types`] of any value: empty for a schema that is not an object.
pub(crate) fn types_of(schema: &Value) -> Vec<&str> {
    schema.as_object().map(types).unwrap_or_default()
}

/// A value as compact JSON text, for descriptions and prompts.
pub(crate) fn compact(value: &Value) -> String {
    // Serializing a `Value` to a `String` cannot fail: its keys are strings and its
    // numbers finite.
    serde_json::to_string(value).unwrap_or_default()
}

/// The longest prefix of `text` that is at most `max` bytes and ends on a char boundary.
pub(crate) fn cut_at_char(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// `text` cut to at most `max` bytes at a char boundary, with `…` added when it was cut.
pub(crate) fn excerpt(text: &str, max: usize) -> Cow<'_, str> {
    let cut = cut_at_char(text, max);
    if cut.len() == text.len() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("{cut}…"))
    }
}

/// Whether a byte-by-byte JSON scanner is inside a string, and after a backslash there:
/// the one automaton every scanner that skips strings uses (the prose locator's balanced
/// spans, the in-process model's end-of-value watch).
#[derive(Debug, Default)]
pub(crate) struct InString {
    open: bool,
    escaped: bool,
}

impl InString {
    /// A string opens (the scanner saw its opening quote).
    pub(crate) fn open(&mut self) {
        self.open = true;
    }

    /// Whether `b` belongs to an open string, the closing quote included.
    pub(crate) fn consumes(&mut self, b: u8) -> bool {
        if !self.open {
            return false;
        }
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.open = false;
        }
        true
    }
}

/// Takes the value at JSON pointer `path` out of `value`: `null` is left in its place when
/// `nullable`, else an object's member is removed. Returns what was there (`null` when the
/// path leads nowhere).
pub(crate) fn drop_at(value: &mut Value, path: &str, nullable: bool) -> Value {
    let mut tokens: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some(last) = tokens.pop() else {
        return Value::Null;
    };
    let parent = tokens.iter().try_fold(value, |at, token| match at {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    });
    match parent {
        Some(Value::Object(map)) if nullable => map
            .get_mut(&last)
            .map(|v| std::mem::replace(v, Value::Null))
            .unwrap_or_default(),
        Some(Value::Object(map)) => map.shift_remove(&last).unwrap_or_default(),
        Some(Value::Array(items)) => last
            .parse::<usize>()
            .ok()
            .and_then(|i| items.get_mut(i))
            .map(|v| std::mem::replace(v, Value::Null))
            .unwrap_or_default(),
        _ => Value::Null,
    }
}

pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// 64-bit FNV-1a, continued from `hash`: stable across runs, platforms and releases, as a
/// journal, a cassette or a cache kept on disk needs (std's hashers promise none of that).
pub(crate) fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pointer_segments_are_escaped() {
        let mut path = String::new();
        push_key(&mut path, "a/b");
        push_index(&mut path, 3);
        push_key(&mut path, "m~n");
        assert_eq!(path, "/a~1b/3/m~0n");
    }

    #[test]
    fn repeats_compare_as_json_values() {
        let items = [
            json!("Ann"),
            json!({"a": 1, "b": [2.0]}),
            json!("Bob"),
            json!("Ann"),
            json!({"b": [2], "a": 1.0}),
            json!("ann"),
            json!("Ann"),
        ];
        assert_eq!(repeats(&items), [(3, 0), (4, 1), (6, 0)]);
        assert!(repeats(&[json!(1), json!("1"), json!([1])]).is_empty());
    }

    #[test]
    fn def_names_are_unescaped() {
        assert_eq!(def_name("#/$defs/Person").as_deref(), Some("Person"));
        assert_eq!(def_name("#/$defs/a~1b~0c").as_deref(), Some("a/b~c"));
        assert_eq!(def_name("#/definitions/X").as_deref(), Some("X"));
        assert_eq!(def_name("https://example.com/x"), None);
    }

    #[test]
    fn types_read_one_or_many() {
        assert_eq!(types_of(&json!({"type": "string"})), ["string"]);
        assert_eq!(
            types_of(&json!({"type": ["integer", "null"]})),
            ["integer", "null"]
        );
        assert!(types_of(&json!(true)).is_empty());
    }

    #[test]
    fn fnv_matches_its_reference_values() {
        assert_eq!(fnv(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn cuts_fall_on_char_boundaries() {
        assert_eq!(cut_at_char("héllo", 2), "h");
        assert_eq!(cut_at_char("héllo", 3), "hé");
        assert_eq!(cut_at_char("abc", 10), "abc");
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(excerpt("abc", 3), "abc");
        assert!(is_numeric_format("uint8") && !is_numeric_format("email"));
    }

    proptest::proptest! {
        /// A key pushed onto a pointer is found again by `serde_json`'s own RFC 6901 reader,
        /// and a `$defs` reference written with the same escapes names the key again.
        #[test]
        fn pushed_keys_are_found_by_serde_json_and_read_back_from_refs(
            key in crate::arbitrary::string(),
            index in 0usize..4,
        ) {
            let mut value = json!({});
            value[&key] = json!([0, 1, 2, 3]);
            let mut path = String::new();
            push_key(&mut path, &key);
            push_index(&mut path, index);
            proptest::prop_assert_eq!(value.pointer(&path), Some(&json!(index)));
            let mut reference = String::from("#/$defs");
            push_key(&mut reference, &key);
            let name = def_name(&reference);
            proptest::prop_assert_eq!(name.as_deref(), Some(key.as_str()));
        }
    }
}
