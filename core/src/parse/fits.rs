//! The read-only fast path of coercion: whether a value already fits a schema
//! exactly, so that coercing it would change nothing.

use serde_json::{Map, Value};

use super::terms::MAX_NESTING;

/// Whether `value` already fits `schema` as the coercer sees it, so that coercing would
/// change nothing. Conservative: `false` only means "take the full path", never that the
/// value is wrong. Checks what coercion acts on (types, `const`/`enum`, required and
/// closed properties, items, unions); value constraints such as `minimum` or `pattern`
/// are the validator's business, as they are the coercer's.
pub(super) fn fits(value: &Value, schema: &Value, root: &Value, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    let s = match schema {
        Value::Bool(b) => return *b,
        Value::Object(s) => s,
        _ => return false,
    };
    let Some(keywords) = Keywords::scan(value, s, root, depth) else {
        return false;
    };
    if let Some(reference) = keywords.reference {
        let target = reference
            .as_str()
            .and_then(|r| crate::json::local_ref(root, r));
        return !keywords.structural && target.is_some_and(|t| fits(value, t, root, depth + 1));
    }
    match value {
        Value::Object(object) => keywords.members_fit(object, root, depth),
        Value::Array(elements) => keywords
            .items
            .is_none_or(|item| elements.iter().all(|e| fits(e, item, root, depth + 1))),
        _ => true,
    }
}

/// What [`fits`] reads of one schema object.
#[derive(Default)]
struct Keywords<'s> {
    reference: Option<&'s Value>,
    /// Whether a keyword besides `$ref` constrains the value; a `$ref` with such
    /// siblings goes the full way.
    structural: bool,
    properties: Option<&'s Map<String, Value>>,
    required: Option<&'s Vec<Value>>,
    extra: Option<&'s Value>,
    items: Option<&'s Value>,
}

impl<'s> Keywords<'s> {
    /// One pass over the schema's few keywords: string compares are cheaper than a
    /// hashed lookup per keyword, and this runs once per value node. `None` as soon
    /// as a keyword rules the value out, or is one the fast path leaves to coercion.
    fn scan(value: &Value, s: &'s Map<String, Value>, root: &Value, depth: usize) -> Option<Self> {
        let mut keywords = Self::default();
        for (key, keyword) in s {
            match key.as_str() {
                "$ref" => keywords.reference = Some(keyword),
                "type" | "const" | "enum" | "anyOf" | "oneOf" => {
                    keywords.structural = true;
                    if !admits(key, keyword, value, root, depth) {
                        return None;
                    }
                }
                "allOf" | "prefixItems" => return None,
                "properties" => {
                    keywords.structural = true;
                    keywords.properties = keyword.as_object();
                }
                "required" => keywords.required = keyword.as_array(),
                // Lenient coercion drops repeats and items past the most allowed.
                "uniqueItems" | "maxItems" if !list_fits(key, keyword, value) => return None,
                "additionalProperties" => keywords.extra = Some(keyword),
                "items" => {
                    keywords.structural = true;
                    keywords.items = Some(keyword);
                }
                _ => {}
            }
        }
        Some(keywords)
    }

    /// Every required property present, and every member fitting its property or
    /// `additionalProperties`.
    fn members_fit(&self, object: &Map<String, Value>, root: &Value, depth: usize) -> bool {
        if let Some(required) = self.required
            && !required
                .iter()
                .all(|k| k.as_str().is_some_and(|k| lookup(object, k).is_some()))
        {
            return false;
        }
        object.iter().all(
            |(key, item)| match self.properties.and_then(|p| lookup(p, key)) {
                Some(property) => fits(item, property, root, depth + 1),
                None => match self.extra {
                    None | Some(Value::Bool(true)) => true,
                    Some(Value::Bool(false)) => false,
                    Some(other) => fits(item, other, root, depth + 1),
                },
            },
        )
    }
}

/// Whether a list keeps its `uniqueItems` or `maxItems`; anything but a list does.
fn list_fits(key: &str, keyword: &Value, value: &Value) -> bool {
    let Value::Array(items) = value else {
        return true;
    };
    match key {
        "uniqueItems" => keyword != &Value::Bool(true) || crate::json::repeats(items).is_empty(),
        _ => keyword.as_u64().is_none_or(|max| items.len() as u64 <= max),
    }
}

/// Whether one of `type`, `const`, `enum`, `anyOf` or `oneOf` admits `value`.
fn admits(key: &str, keyword: &Value, value: &Value, root: &Value, depth: usize) -> bool {
    match key {
        "type" => match keyword {
            Value::String(t) => type_matches(value, t),
            // A blank string where `null` is allowed too may become `null`
            // (`RepairKind::EmptyAsNull`): coercion decides.
            Value::Array(ts) if value.as_str().is_some_and(|v| v.trim().is_empty()) => {
                !ts.iter().any(|t| t == "null")
                    && ts
                        .iter()
                        .any(|t| t.as_str().is_some_and(|t| type_matches(value, t)))
            }
            Value::Array(ts) => ts
                .iter()
                .any(|t| t.as_str().is_some_and(|t| type_matches(value, t))),
            _ => false,
        },
        "const" => keyword == value,
        "enum" => keyword
            .as_array()
            .is_some_and(|choices| choices.contains(value)),
        _ => keyword
            .as_array()
            .is_some_and(|branches| branches.iter().any(|b| fits(value, b, root, depth + 1))),
    }
}

/// A key's value in a small map by comparing keys, which beats hashing them for the few
/// keys of a typical record; large maps use the hash index.
fn lookup<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

pub(super) fn type_matches(value: &Value, t: &str) -> bool {
    match (value, t) {
        (Value::Null, "null")
        | (Value::Bool(_), "boolean")
        | (Value::Number(_), "number")
        | (Value::String(_), "string")
        | (Value::Array(_), "array")
        | (Value::Object(_), "object") => true,
        (Value::Number(n), "integer") => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::{Leniency, coerce};

    #[test]
    fn the_fast_path_takes_exact_fits_only() {
        let schema = json!({
            "$defs": {"Line": {"type": "object", "properties": {"qty": {"type": "integer"}}, "required": ["qty"], "additionalProperties": false}},
            "type": "object",
            "properties": {
                "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
                "status": {"oneOf": [{"const": "open"}, {"const": "closed"}]},
                "note": {"type": ["string", "null"]}
            },
            "required": ["lines", "status"]
        });
        let clean = json!({"lines": [{"qty": 1}], "status": "open", "note": null});
        assert!(fits(&clean, &schema, &schema, 0));
        for needs_work in [
            json!({"lines": [{"qty": "1"}], "status": "open"}),
            json!({"lines": [{"qty": 1, "extra": true}], "status": "open"}),
            json!({"lines": [{"qty": 1}], "status": "Open"}),
            json!({"lines": {"qty": 1}, "status": "open"}),
            json!({"lines": [{"qty": 1.0}], "status": "open"}),
            json!({"status": "open"}),
        ] {
            assert!(!fits(&needs_work, &schema, &schema, 0), "{needs_work}");
        }
        // Whichever path it takes, coercion gives the same answer.
        let parsed = coerce(clean.clone(), &schema, Leniency::Standard).unwrap();
        assert_eq!(parsed.value, clean);
        assert!(parsed.repairs.is_empty());
        let fixed = coerce(
            json!({"lines": [{"qty": "2"}], "status": "open"}),
            &schema,
            Leniency::Standard,
        )
        .unwrap();
        assert_eq!(fixed.value["lines"][0]["qty"], 2);
    }
}
