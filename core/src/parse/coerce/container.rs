//! Containers: arrays (single values, JSON in strings, tuples) and objects
//! (exact members, renamed keys, missing nullable properties, extra keys and a
//! single-key wrapper the model added).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Coercer, describe};
use crate::fold::key as normalize;
use crate::json::{push_index, push_key};
use crate::parse::repair::push_repair;
use crate::parse::{Leniency, ParseError, Repair, RepairKind};

impl<'s> Coercer<'s> {
    pub(super) fn array_from(
        &mut self,
        value: Value,
        s: &'s Map<String, Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        let items = match value {
            Value::Array(items) => items,
            Value::String(ref text)
                if self.allows(Leniency::Standard) && looks_like_json(text, '[') =>
            {
                match json_in_string(text) {
                    Some((Value::Array(items), inner)) => {
                        self.note(
                            repairs,
                            RepairKind::JsonInString,
                            "parsed an array written as a string",
                        );
                        repairs.extend(inner);
                        items
                    }
                    _ => self.single_to_array(value, repairs)?,
                }
            }
            Value::Object(map)
                if self.allows(Leniency::Lenient)
                    && map.len() == 1
                    && map.values().next().is_some_and(Value::is_array) =>
            {
                // `{"items": [...]}` for a list: try unwrapping, else wrap as usual.
                if let Some((key, Value::Array(items))) = map.clone().into_iter().next() {
                    let mut attempt = Vec::new();
                    self.note(
                        &mut attempt,
                        RepairKind::UnwrappedSingleKey,
                        format!("unwrapped the array under {key:?}"),
                    );
                    if let Ok(out) = self.array_items(items, s, depth, &mut attempt) {
                        repairs.extend(attempt);
                        return Ok(out);
                    }
                }
                self.single_to_array(Value::Object(map), repairs)?
            }
            other => self.single_to_array(other, repairs)?,
        };
        self.array_items(items, s, depth, repairs)
    }

    fn single_to_array(
        &self,
        value: Value,
        repairs: &mut Vec<Repair>,
    ) -> Result<Vec<Value>, ParseError> {
        if value.is_null() || !self.allows(Leniency::Standard) {
            return Err(self.mismatch("an array", &value));
        }
        self.note(
            repairs,
            RepairKind::SingleToArray,
            "wrapped a single value in an array",
        );
        Ok(vec![value])
    }

    fn array_items(
        &mut self,
        items: Vec<Value>,
        s: &'s Map<String, Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        // 2020-12 tuples use `prefixItems` + `items`; draft-07 ones `items: [...]` + `additionalItems`.
        let (prefix, rest): (&[Value], Option<&Value>) =
            match (s.get("prefixItems"), s.get("items")) {
                (Some(Value::Array(prefix)), rest) => (prefix, rest),
                (_, Some(Value::Array(prefix))) => (prefix, s.get("additionalItems")),
                (_, rest) => (&[], rest),
            };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let mark = self.path.len();
            push_index(&mut self.path, i);
            let result = match prefix.get(i).or(rest) {
                None => Ok(Some(item)),
                Some(Value::Bool(false)) if self.allows(Leniency::Standard) => {
                    self.note(
                        repairs,
                        RepairKind::DroppedExtraKey,
                        "dropped an item past the end of the tuple",
                    );
                    Ok(None)
                }
                Some(schema) => self.value(item, schema, depth + 1, 0, repairs).map(Some),
            };
            self.path.truncate(mark);
            if let Some(v) = result? {
                out.push(v);
            }
        }
        if self.allows(Leniency::Lenient) {
            self.drop_repeats(&mut out, s, repairs);
            self.drop_past_max(&mut out, s, repairs);
        }
        Ok(Value::Array(out))
    }

    /// A list that must not repeat (`uniqueItems`) keeps the first of equal items; each
    /// item dropped is a repair at its path.
    fn drop_repeats(
        &self,
        items: &mut Vec<Value>,
        s: &Map<String, Value>,
        repairs: &mut Vec<Repair>,
    ) {
        if s.get("uniqueItems") != Some(&Value::Bool(true)) {
            return;
        }
        let pairs = crate::json::repeats(items);
        for &(later, first) in &pairs {
            let mut path = self.path.clone();
            push_index(&mut path, later);
            let mut earlier = self.path.clone();
            push_index(&mut earlier, first);
            let detail = format!("dropped the item at {path}, a repeat of {earlier}");
            push_repair(
                repairs,
                Repair::new(RepairKind::DroppedRepeat, &path, detail),
            );
        }
        for &(later, _) in pairs.iter().rev() {
            items.remove(later);
        }
    }

    /// A list longer than `maxItems` keeps its first items; the rest are one repair.
    fn drop_past_max(
        &self,
        items: &mut Vec<Value>,
        s: &Map<String, Value>,
        repairs: &mut Vec<Repair>,
    ) {
        let Some(max) = s.get("maxItems").and_then(Value::as_u64) else {
            return;
        };
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if items.len() > max {
            let detail = format!("dropped {} items past the first {max}", items.len() - max);
            self.note(repairs, RepairKind::DroppedPastMaxItems, detail);
            items.truncate(max);
        }
    }

    pub(super) fn object_from(
        &mut self,
        value: Value,
        s: &'s Map<String, Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        match value {
            Value::Object(map) => self.object(map, s, depth, repairs),
            Value::String(ref text)
                if self.allows(Leniency::Standard) && looks_like_json(text, '{') =>
            {
                match json_in_string(text) {
                    Some((Value::Object(map), inner)) => {
                        self.note(
                            repairs,
                            RepairKind::JsonInString,
                            "parsed an object written as a string",
                        );
                        repairs.extend(inner);
                        self.object(map, s, depth, repairs)
                    }
                    _ => Err(self.mismatch("an object", &value)),
                }
            }
            other => Err(self.mismatch("an object", &other)),
        }
    }

    /// An object's members: exact names first, then renamed keys, then missing
    /// required properties, then whatever `additionalProperties` says of the rest.
    fn object(
        &mut self,
        mut map: Map<String, Value>,
        s: &'s Map<String, Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let props = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new));
        if self.allows(Leniency::Lenient) {
            map = self.unwrap_wrapper(map, props, repairs);
        }
        let mut out = Map::new();
        let mut rest = self.exact_members(map, props, depth, &mut out, repairs)?;
        if self.allows(Leniency::Standard) && !rest.is_empty() && out.len() < props.len() {
            rest = self.renamed_members(rest, props, depth, &mut out, repairs)?;
        }
        self.fill_required(s, props, &rest, &mut out, repairs)?;
        let additional = s.get("additionalProperties");
        for (key, v) in rest {
            if let Some(v) = self.additional_member(&key, v, additional, depth, repairs)? {
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
    }

    /// Members named exactly like a property, coerced in the order written; the
    /// others are returned for key matching and `additionalProperties`.
    fn exact_members(
        &mut self,
        map: Map<String, Value>,
        props: &'s Map<String, Value>,
        depth: usize,
        out: &mut Map<String, Value>,
        repairs: &mut Vec<Repair>,
    ) -> Result<Vec<(String, Value)>, ParseError> {
        let mut rest = Vec::new();
        for (key, v) in map {
            match props.get(&key) {
                Some(schema) => {
                    let v = self.member(&key, v, schema, depth, repairs)?;
                    out.insert(key, v);
                }
                None => rest.push((key, v)),
            }
        }
        Ok(rest)
    }

    /// `"First Name"` for `first_name`: the members left over matched to the
    /// properties not yet filled, through case and punctuation, when exactly one
    /// property matches. Returns the members still unmatched.
    fn renamed_members(
        &mut self,
        rest: Vec<(String, Value)>,
        props: &'s Map<String, Value>,
        depth: usize,
        out: &mut Map<String, Value>,
        repairs: &mut Vec<Repair>,
    ) -> Result<Vec<(String, Value)>, ParseError> {
        let free: Vec<(&String, String)> = props
            .keys()
            .filter(|p| !out.contains_key(*p))
            .map(|p| (p, normalize(p)))
            .collect();
        let mut claimed: HashSet<&str> = HashSet::new();
        let mut unmatched = Vec::with_capacity(rest.len());
        for (key, v) in rest {
            let nk = normalize(&key);
            let mut hits = free.iter().filter(|(_, np)| !nk.is_empty() && *np == nk);
            match (hits.next(), hits.next()) {
                (Some((prop, _)), None) if !claimed.contains(prop.as_str()) => {
                    claimed.insert(prop.as_str());
                    let mark = self.path.len();
                    push_key(&mut self.path, prop);
                    self.note(
                        repairs,
                        RepairKind::RenamedKey,
                        format!("read key {key:?} as {prop:?}"),
                    );
                    self.path.truncate(mark);
                    let schema = props.get(prop.as_str()).unwrap_or(&Value::Bool(true));
                    let v = self.member(prop, v, schema, depth, repairs)?;
                    out.insert((*prop).clone(), v);
                }
                _ => unmatched.push((key, v)),
            }
        }
        Ok(unmatched)
    }

    /// Required properties still missing: `null` where the property's schema
    /// allows it (from [`Leniency::Standard`]), else a mismatch. A required name
    /// the schema does not describe is left to `additionalProperties` when the
    /// model wrote it.
    fn fill_required(
        &self,
        s: &'s Map<String, Value>,
        props: &'s Map<String, Value>,
        rest: &[(String, Value)],
        out: &mut Map<String, Value>,
        repairs: &mut Vec<Repair>,
    ) -> Result<(), ParseError> {
        let required = s
            .get("required")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for name in required.iter().filter_map(Value::as_str) {
            if out.contains_key(name) {
                continue;
            }
            let mut path = self.path.clone();
            push_key(&mut path, name);
            match props.get(name) {
                Some(schema) if self.allows(Leniency::Standard) && self.allows_null(schema, 0) => {
                    let detail = "filled a missing nullable property with null";
                    push_repair(
                        repairs,
                        Repair::new(RepairKind::MissingOptionalAsNull, &path, detail),
                    );
                    out.insert(name.to_owned(), Value::Null);
                }
                _ if rest.iter().any(|(k, _)| k == name) => {}
                _ => {
                    return Err(ParseError::Mismatch {
                        path,
                        expected: format!("required property {name:?}"),
                        found: "nothing".to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A member no property names, as `additionalProperties` says: dropped (from
    /// [`Leniency::Standard`]) where it is `false`, coerced where it is a schema,
    /// kept as written otherwise. `None` when dropped.
    fn additional_member(
        &mut self,
        key: &str,
        v: Value,
        additional: Option<&'s Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Option<Value>, ParseError> {
        let mark = self.path.len();
        push_key(&mut self.path, key);
        let result = match additional {
            Some(Value::Bool(false)) if self.allows(Leniency::Standard) => {
                self.note(
                    repairs,
                    RepairKind::DroppedExtraKey,
                    format!("dropped unknown key {key:?}"),
                );
                Ok(None)
            }
            Some(Value::Bool(false)) => Err(ParseError::Mismatch {
                path: self.path.clone(),
                expected: "no such property".to_owned(),
                found: describe(&v),
            }),
            Some(schema @ Value::Object(_)) => {
                self.value(v, schema, depth + 1, 0, repairs).map(Some)
            }
            _ => Ok(Some(v)),
        };
        self.path.truncate(mark);
        result
    }

    /// One property's value, coerced under its own path.
    fn member(
        &mut self,
        name: &str,
        value: Value,
        schema: &'s Value,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        let mark = self.path.len();
        push_key(&mut self.path, name);
        let result = self.value(value, schema, depth + 1, 0, repairs);
        self.path.truncate(mark);
        result
    }

    /// `{"person": {"name": …}}` where the schema wants the person itself: one
    /// key that names no property, holding an object that has some of them.
    fn unwrap_wrapper(
        &self,
        map: Map<String, Value>,
        props: &Map<String, Value>,
        repairs: &mut Vec<Repair>,
    ) -> Map<String, Value> {
        if props.is_empty() || map.len() != 1 {
            return map;
        }
        let names: HashSet<String> = props.keys().map(|k| normalize(k)).collect();
        let unwrap = map.iter().next().is_some_and(|(key, inner)| {
            !names.contains(&normalize(key))
                && inner
                    .as_object()
                    .is_some_and(|inner| inner.keys().any(|k| names.contains(&normalize(k))))
        });
        if !unwrap {
            return map;
        }
        let mut entries = map.into_iter();
        match entries.next() {
            Some((key, Value::Object(inner))) => {
                self.note(
                    repairs,
                    RepairKind::UnwrappedSingleKey,
                    format!("unwrapped the object under {key:?}"),
                );
                inner
            }
            Some((key, other)) => {
                let mut back = Map::new();
                back.insert(key, other);
                back
            }
            None => Map::new(),
        }
    }
}

fn looks_like_json(text: &str, open: char) -> bool {
    let t = text.trim_start();
    t.starts_with(open) || t.starts_with("```")
}

/// A string holding JSON (possibly fenced or repaired), with the repairs that took.
fn json_in_string(text: &str) -> Option<(Value, Vec<Repair>)> {
    let parsed = crate::parse::parse_json(text).ok()?;
    Some((parsed.value, parsed.repairs))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::parse::coerce::tests::{err_path, ok};
    use crate::parse::{Leniency, RepairKind};

    #[test]
    fn a_single_value_or_json_text_becomes_an_array_and_bad_items_name_their_index() {
        let a = json!({"type": "array", "items": {"type": "integer"}});
        assert_eq!(
            ok(json!(5), &a, Leniency::Standard),
            (json!([5]), vec![RepairKind::SingleToArray])
        );
        assert_eq!(
            ok(json!("[1, \"2\"]"), &a, Leniency::Standard).0,
            json!([1, 2])
        );
        assert_eq!(err_path(json!(null), &a, Leniency::Lenient), "");
        assert_eq!(err_path(json!([1, "x"]), &a, Leniency::Lenient), "/1");
        assert_eq!(
            ok(json!({"items": [1]}), &a, Leniency::Lenient).0,
            json!([1])
        );
        let tuple = json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false});
        assert_eq!(
            ok(json!(["a", "2", "extra"]), &tuple, Leniency::Standard).0,
            json!(["a", 2])
        );
        assert_eq!(err_path(json!(["a", 2, 3]), &tuple, Leniency::Exact), "/2");
    }

    #[test]
    fn lenient_drops_repeats_and_items_past_the_bound_and_records_each_drop() {
        let schema = json!({
            "type": "object",
            "properties": {"attendees": {
                "type": "array", "items": {"type": "string"}, "uniqueItems": true, "maxItems": 3
            }}
        });
        let reply = json!({"attendees": ["Ann", "Bob", "Ann", "Cy", "Bob", "Dee", "Eve"]});
        let parsed = crate::parse::coerce(reply.clone(), &schema, Leniency::Lenient).unwrap();
        assert_eq!(parsed.value, json!({"attendees": ["Ann", "Bob", "Cy"]}));
        let repairs: Vec<(RepairKind, &str, &str)> = parsed
            .repairs
            .iter()
            .map(|r| (r.kind, r.path.as_str(), r.detail.as_str()))
            .collect();
        assert_eq!(
            repairs,
            [
                (
                    RepairKind::DroppedRepeat,
                    "/attendees/2",
                    "dropped the item at /attendees/2, a repeat of /attendees/0"
                ),
                (
                    RepairKind::DroppedRepeat,
                    "/attendees/4",
                    "dropped the item at /attendees/4, a repeat of /attendees/1"
                ),
                (
                    RepairKind::DroppedPastMaxItems,
                    "/attendees",
                    "dropped 2 items past the first 3"
                ),
            ]
        );
        // Below Lenient the list stays as written, for validation to re-ask.
        assert_eq!(
            ok(reply.clone(), &schema, Leniency::Standard),
            (reply, vec![])
        );
    }

    #[test]
    fn object_keys_are_matched_loosely_and_missing_nullable_fields_become_null() {
        let schema = json!({
            "type": "object",
            "properties": {"first_name": {"type": "string"}, "nick": {"type": ["string", "null"]}},
            "required": ["first_name", "nick"],
            "additionalProperties": false
        });
        let (value, kinds) = ok(
            json!({"First Name": "Ada", "x": 1}),
            &schema,
            Leniency::Standard,
        );
        assert_eq!(value, json!({"first_name": "Ada", "nick": null}));
        assert!(kinds.contains(&RepairKind::RenamedKey));
        assert!(kinds.contains(&RepairKind::MissingOptionalAsNull));
        assert!(kinds.contains(&RepairKind::DroppedExtraKey));
        assert_eq!(
            err_path(json!({"nick": "a"}), &schema, Leniency::Lenient),
            "/first_name"
        );
        assert_eq!(
            err_path(json!({"first_name": "a"}), &schema, Leniency::Exact),
            "/nick"
        );
        let (value, kinds) = ok(
            json!({"person": {"first_name": "Ada", "nick": "A"}}),
            &schema,
            Leniency::Lenient,
        );
        assert_eq!(value, json!({"first_name": "Ada", "nick": "A"}));
        assert!(kinds.contains(&RepairKind::UnwrappedSingleKey));
        assert_eq!(
            ok(
                json!("{\"first_name\": \"Ada\", \"nick\": null}"),
                &schema,
                Leniency::Standard
            )
            .0["first_name"],
            json!("Ada")
        );
    }
}
