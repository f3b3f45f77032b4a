//! Schema-aligned coercion: bends a parsed value toward a JSON Schema as far
//! as the [`Leniency`] allows, recording each change, and reports the first
//! place where fitting it would mean guessing.
//!
//! The value is moved through the schema, so a value that already fits is
//! rebuilt without copying its strings. Unions clone the value per branch.

use std::collections::HashSet;

use serde_json::{Map, Number, Value};

use super::repair::{push_repair, total_cost};
use super::{Leniency, MAX_NESTING, ParseError, Parsed, Repair, RepairKind, push_pointer};

/// Most schema steps one coercion may take; unions nested inside unions
/// multiply the work, and this keeps a hostile schema from taking forever.
const MAX_STEPS: usize = 1_000_000;
/// Most `$ref`/`allOf`/`anyOf` hops without descending into the value; more
/// means the schema refers to itself in a loop.
const MAX_HOPS: usize = 64;

pub(crate) fn coerce(
    value: Value,
    schema: &Value,
    leniency: Leniency,
) -> Result<Parsed, ParseError> {
    // Fast path: a value that already fits exactly needs no coercion, and a read-only
    // walk is far cheaper than moving the value through the coercer (which rebuilds
    // every object). Anything `fits` is unsure of goes the full way.
    if fits(&value, schema, schema, 0) {
        return Ok(Parsed {
            value,
            repairs: Vec::new(),
        });
    }
    let mut coercer = Coercer {
        root: schema,
        leniency,
        steps: 0,
        path: String::new(),
        tag_mismatch: false,
    };
    let mut repairs = Vec::new();
    let value = coercer.value(value, schema, 0, 0, &mut repairs)?;
    Ok(Parsed { value, repairs })
}

struct Coercer<'s> {
    root: &'s Value,
    leniency: Leniency,
    steps: usize,
    /// JSON pointer of the value being coerced.
    path: String,
    /// Whether the last mismatch was a `const` or one-value `enum`: a union
    /// branch failing on its tag is the wrong branch, not a near miss.
    tag_mismatch: bool,
}

impl<'s> Coercer<'s> {
    fn allows(&self, needed: Leniency) -> bool {
        self.leniency >= needed
    }

    fn note(&self, repairs: &mut Vec<Repair>, kind: RepairKind, detail: impl Into<String>) {
        push_repair(repairs, Repair::new(kind, &self.path, detail));
    }

    fn mismatch(&self, expected: impl Into<String>, found: &Value) -> ParseError {
        ParseError::Mismatch {
            path: self.path.clone(),
            expected: expected.into(),
            found: describe(found),
        }
    }

    fn invalid(&self, reason: impl Into<String>) -> ParseError {
        ParseError::InvalidSchema {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    fn value(
        &mut self,
        value: Value,
        schema: &'s Value,
        depth: usize,
        hops: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(ParseError::TooComplex { limit: MAX_STEPS });
        }
        if depth > MAX_NESTING {
            return Err(ParseError::TooDeep { limit: MAX_NESTING });
        }
        if hops > MAX_HOPS {
            return Err(self.invalid("$ref, allOf or anyOf refer to themselves in a loop"));
        }
        match schema {
            Value::Bool(true) => Ok(value),
            Value::Bool(false) => Err(self.mismatch("nothing (the schema is `false`)", &value)),
            Value::Object(s) => self.schema_object(value, s, depth, hops, repairs),
            _ => Err(self.invalid("a schema must be an object or a boolean")),
        }
    }

    fn schema_object(
        &mut self,
        mut value: Value,
        s: &'s Map<String, Value>,
        depth: usize,
        hops: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        if let Some(reference) = s.get("$ref") {
            let target = self.resolve(reference)?;
            value = self.value(value, target, depth, hops + 1, repairs)?;
        }
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                value = self.value(value, sub, depth, hops + 1, repairs)?;
            }
        }
        if let Some(Value::Array(branches)) = s.get("anyOf").or_else(|| s.get("oneOf")) {
            value = self.union(value, branches, depth, hops, repairs)?;
        }
        self.local(value, s, depth, repairs)
    }

    fn resolve(&self, reference: &Value) -> Result<&'s Value, ParseError> {
        let Some(text) = reference.as_str() else {
            return Err(self.invalid("$ref must be a string"));
        };
        let Some(pointer) = text.strip_prefix('#') else {
            return Err(self.invalid(format!("only local $refs are supported, not {text:?}")));
        };
        self.root
            .pointer(pointer)
            .ok_or_else(|| self.invalid(format!("$ref {text:?} points nowhere")))
    }

    /// `anyOf`/`oneOf`: every branch is tried on its own copy of the value and
    /// the cheapest fit wins (the first one on ties; a free fit stops the search).
    fn union(
        &mut self,
        value: Value,
        branches: &'s [Value],
        depth: usize,
        hops: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        if let [only] = branches {
            return self.value(value, only, depth, hops + 1, repairs);
        }
        let mut best: Option<(Value, Vec<Repair>, u32, usize)> = None;
        // The failed branch that got furthest into the value, and whether
        // another got as far (then no branch is the obvious intent).
        let mut error: Option<(ParseError, usize)> = None;
        let mut tied = false;
        let mut fits = 0;
        for (i, branch) in branches.iter().enumerate() {
            let mut branch_repairs = Vec::new();
            self.tag_mismatch = false;
            match self.value(value.clone(), branch, depth, hops + 1, &mut branch_repairs) {
                Ok(out) => {
                    fits += 1;
                    let cost = total_cost(&branch_repairs);
                    if best.as_ref().is_none_or(|b| cost < b.2) {
                        best = Some((out, branch_repairs, cost, i));
                    }
                    if cost == 0 {
                        break;
                    }
                }
                Err(e @ ParseError::Mismatch { .. }) => {
                    let score = 2 * pointer_depth(&e) - usize::from(self.tag_mismatch);
                    match &error {
                        Some((_, old)) if *old > score => {}
                        Some((_, old)) if *old == score => tied = true,
                        _ => {
                            error = Some((e, score));
                            tied = false;
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let Some((out, branch_repairs, _, i)) = best else {
            return Err(match error {
                Some((e, _)) if !tied => e,
                _ => self.mismatch(format!("one of the {} variants", branches.len()), &value),
            });
        };
        if fits > 1 {
            self.note(
                repairs,
                RepairKind::UnionChosen,
                format!("chose branch {i} of {}, the cheapest fit", branches.len()),
            );
        }
        for r in branch_repairs {
            push_repair(repairs, r);
        }
        Ok(out)
    }

    /// The keywords that constrain this value itself: `const`, `enum`, `type`
    /// and the object and array keywords.
    fn local(
        &mut self,
        value: Value,
        s: &'s Map<String, Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        if let Some(c) = s.get("const") {
            return self.enumerated(value, std::slice::from_ref(c), repairs);
        }
        if let Some(Value::Array(variants)) = s.get("enum") {
            return self.enumerated(value, variants, repairs);
        }
        let inferred;
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => return self.typed(value, t, s, depth, repairs),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            Some(_) => return Err(self.invalid("`type` must be a string or an array of strings")),
            None => {
                inferred = if ["properties", "required", "additionalProperties"]
                    .iter()
                    .any(|k| s.contains_key(*k))
                {
                    "object"
                } else if s.contains_key("items") || s.contains_key("prefixItems") {
                    "array"
                } else {
                    return Ok(value);
                };
                vec![inferred]
            }
        };
        if let [only] = types.as_slice() {
            return self.typed(value, only, s, depth, repairs);
        }
        if let Some(exact) = types.iter().find(|t| type_matches(&value, t)) {
            return self.typed(value, exact, s, depth, repairs);
        }
        let mut best: Option<(Value, Vec<Repair>, u32)> = None;
        let mut error = None;
        for t in &types {
            let mut type_repairs = Vec::new();
            match self.typed(value.clone(), t, s, depth, &mut type_repairs) {
                Ok(out) => {
                    let cost = total_cost(&type_repairs);
                    if best.as_ref().is_none_or(|b| cost < b.2) {
                        best = Some((out, type_repairs, cost));
                    }
                }
                Err(e @ ParseError::Mismatch { .. }) => {
                    if error
                        .as_ref()
                        .is_none_or(|old| pointer_depth(&e) > pointer_depth(old))
                    {
                        error = Some(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        match best {
            Some((out, type_repairs, _)) => {
                for r in type_repairs {
                    push_repair(repairs, r);
                }
                Ok(out)
            }
            None => Err(error.unwrap_or_else(|| self.mismatch(types.join(" or "), &value))),
        }
    }

    fn typed(
        &mut self,
        value: Value,
        t: &str,
        s: &'s Map<String, Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        match t {
            "null" => self.to_null(value, repairs),
            "boolean" => self.to_bool(value, repairs),
            "integer" => self.to_integer(&value, repairs),
            "number" => self.to_number(value, repairs),
            "string" => self.to_string(value, repairs),
            "array" => self.array_from(value, s, depth, repairs),
            "object" => self.object_from(value, s, depth, repairs),
            other => Err(self.invalid(format!("unknown type {other:?}"))),
        }
    }

    fn to_null(&self, value: Value, repairs: &mut Vec<Repair>) -> Result<Value, ParseError> {
        if let Value::String(s) = &value {
            let word = s.trim().to_lowercase();
            if self.allows(Leniency::Standard) && matches!(word.as_str(), "null" | "none" | "nil") {
                self.note(
                    repairs,
                    RepairKind::NullFromString,
                    format!("read {s:?} as null"),
                );
                return Ok(Value::Null);
            }
            if self.allows(Leniency::Lenient) && matches!(word.as_str(), "" | "n/a" | "na") {
                let repair = Repair::new(
                    RepairKind::NullFromString,
                    &self.path,
                    format!("read {s:?} as null"),
                );
                push_repair(repairs, repair.with_cost(2));
                return Ok(Value::Null);
            }
        }
        if value.is_null() {
            Ok(value)
        } else {
            Err(self.mismatch("null", &value))
        }
    }

    fn to_bool(&self, value: Value, repairs: &mut Vec<Repair>) -> Result<Value, ParseError> {
        if !self.allows(Leniency::Standard) {
            return if value.is_boolean() {
                Ok(value)
            } else {
                Err(self.mismatch("a boolean", &value))
            };
        }
        match &value {
            Value::Bool(_) => Ok(value),
            Value::String(s) => {
                let b = match s.trim().to_lowercase().as_str() {
                    "true" | "yes" | "y" | "on" | "1" => true,
                    "false" | "no" | "n" | "off" | "0" => false,
                    _ => return Err(self.mismatch("a boolean", &value)),
                };
                self.note(
                    repairs,
                    RepairKind::BoolFromString,
                    format!("read {s:?} as {b}"),
                );
                Ok(Value::Bool(b))
            }
            Value::Number(n) => {
                let b = match n.as_u64().or_else(|| integral(n).and_then(|i| i.as_u64())) {
                    Some(1) => true,
                    Some(0) => false,
                    _ => return Err(self.mismatch("a boolean", &value)),
                };
                self.note(
                    repairs,
                    RepairKind::BoolFromNumber,
                    format!("read {n} as {b}"),
                );
                Ok(Value::Bool(b))
            }
            _ => Err(self.mismatch("a boolean", &value)),
        }
    }

    fn to_number(&self, value: Value, repairs: &mut Vec<Repair>) -> Result<Value, ParseError> {
        match &value {
            Value::Number(_) => Ok(value),
            Value::String(s) => match self.number_from_str(s) {
                Some((n, kind)) => {
                    self.note(repairs, kind, format!("read {s:?} as {n}"));
                    Ok(Value::Number(n))
                }
                None => Err(self.mismatch("a number", &value)),
            },
            _ => Err(self.mismatch("a number", &value)),
        }
    }

    fn to_integer(&self, value: &Value, repairs: &mut Vec<Repair>) -> Result<Value, ParseError> {
        let (n, from_string) = match value {
            Value::Number(n) => (n.clone(), None),
            Value::String(s) => match self.number_from_str(s) {
                Some((n, kind)) => (n, Some((kind, s))),
                None => return Err(self.mismatch("an integer", value)),
            },
            _ => return Err(self.mismatch("an integer", value)),
        };
        let integer = if n.is_i64() || n.is_u64() {
            n
        } else {
            match integral(&n) {
                Some(i) if self.allows(Leniency::Standard) => {
                    self.note(
                        repairs,
                        RepairKind::FloatToInteger,
                        format!("read {n} as {i}"),
                    );
                    i
                }
                _ => return Err(self.mismatch("an integer", value)),
            }
        };
        if let Some((kind, s)) = from_string {
            self.note(repairs, kind, format!("read {s:?} as {integer}"));
        }
        Ok(Value::Number(integer))
    }

    /// A number written as a string: clean (`"30"`, `"-2.5e3"`) from
    /// [`Leniency::Standard`], formatted (`"$1,234.50"`, `"12.5%"`) from
    /// [`Leniency::Lenient`]. Ambiguous forms such as `"1,5"` are refused.
    fn number_from_str(&self, s: &str) -> Option<(Number, RepairKind)> {
        if !self.allows(Leniency::Standard) {
            return None;
        }
        let t = s.trim();
        let unsigned = t
            .strip_prefix('+')
            .filter(|rest| !rest.starts_with(['-', '+']))
            .unwrap_or(t);
        if let Ok(n) = unsigned.parse::<Number>() {
            return Some((n, RepairKind::NumberFromString));
        }
        if !self.allows(Leniency::Lenient) {
            return None;
        }
        formatted_number(t).map(|n| (n, RepairKind::FormattedNumber))
    }

    fn to_string(&self, value: Value, repairs: &mut Vec<Repair>) -> Result<Value, ParseError> {
        match &value {
            Value::String(_) => Ok(value),
            Value::Number(n) if self.allows(Leniency::Lenient) => {
                self.note(
                    repairs,
                    RepairKind::StringFromNumber,
                    format!("wrote {n} as text"),
                );
                Ok(Value::String(n.to_string()))
            }
            Value::Bool(b) if self.allows(Leniency::Lenient) => {
                self.note(
                    repairs,
                    RepairKind::StringFromBool,
                    format!("wrote {b} as text"),
                );
                Ok(Value::String(b.to_string()))
            }
            _ => Err(self.mismatch("a string", &value)),
        }
    }

    fn array_from(
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
            push_pointer(&mut self.path, &i.to_string());
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
        Ok(Value::Array(out))
    }

    fn object_from(
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

    #[allow(clippy::too_many_lines)] // the member pass reads best in one place
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

        // Members named exactly like a property are coerced in the order
        // written; the rest wait for key matching and `additionalProperties`.
        let mut out = Map::new();
        let mut rest: Vec<(String, Value)> = Vec::new();
        for (key, v) in map {
            match props.get(&key) {
                Some(schema) => {
                    let v = self.member(&key, v, schema, depth, repairs)?;
                    out.insert(key, v);
                }
                None => rest.push((key, v)),
            }
        }
        // `"First Name"` for `first_name`: match the rest through case and punctuation.
        if self.allows(Leniency::Standard) && !rest.is_empty() && out.len() < props.len() {
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
                        push_pointer(&mut self.path, prop);
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
            rest = unmatched;
        }

        let required = s
            .get("required")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for name in required.iter().filter_map(Value::as_str) {
            if out.contains_key(name) {
                continue;
            }
            let mut path = self.path.clone();
            push_pointer(&mut path, name);
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
        let additional = s.get("additionalProperties");
        for (key, v) in rest {
            let mark = self.path.len();
            push_pointer(&mut self.path, &key);
            let result = match additional {
                Some(Value::Bool(false)) => {
                    if self.allows(Leniency::Standard) {
                        self.note(
                            repairs,
                            RepairKind::DroppedExtraKey,
                            format!("dropped unknown key {key:?}"),
                        );
                        Ok(None)
                    } else {
                        Err(ParseError::Mismatch {
                            path: self.path.clone(),
                            expected: "no such property".to_owned(),
                            found: describe(&v),
                        })
                    }
                }
                Some(schema @ Value::Object(_)) => {
                    self.value(v, schema, depth + 1, 0, repairs).map(Some)
                }
                _ => Ok(Some(v)),
            };
            self.path.truncate(mark);
            if let Some(v) = result? {
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
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
        push_pointer(&mut self.path, name);
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

    /// `enum` and `const`: exact, then (Standard) through case, accents and
    /// punctuation, then (Lenient) a unique prefix or substring.
    fn enumerated(
        &mut self,
        value: Value,
        variants: &[Value],
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        if variants.contains(&value) {
            return Ok(value);
        }
        self.tag_mismatch = variants.len() == 1;
        let expected = || {
            let listed: Vec<String> = variants.iter().take(8).map(Value::to_string).collect();
            let more = if variants.len() > 8 { ", …" } else { "" };
            if variants.len() == 1 {
                listed.join("")
            } else {
                format!("one of {}{more}", listed.join(", "))
            }
        };
        if !self.allows(Leniency::Standard) {
            return Err(self.mismatch(expected(), &value));
        }
        match &value {
            Value::String(s) => {
                // "2" for the number 2, "true" for true.
                if let Some(hit) = variants.iter().find(|v| match v {
                    Value::Number(n) => s.trim().parse::<Number>().ok().as_ref() == Some(n),
                    Value::Bool(b) => {
                        s.trim()
                            .eq_ignore_ascii_case(if *b { "true" } else { "false" })
                    }
                    _ => false,
                }) {
                    self.note(
                        repairs,
                        RepairKind::EnumFuzzyMatch,
                        format!("read {s:?} as {hit}"),
                    );
                    return Ok(hit.clone());
                }
                let key = normalize(s);
                let strings: Vec<(&Value, String)> = variants
                    .iter()
                    .filter_map(|v| v.as_str().map(|t| (v, normalize(t))))
                    .collect();
                let same: Vec<&Value> = strings
                    .iter()
                    .filter(|(_, n)| !key.is_empty() && *n == key)
                    .map(|(v, _)| *v)
                    .collect();
                match same.as_slice() {
                    [hit] => {
                        self.note(
                            repairs,
                            RepairKind::EnumFuzzyMatch,
                            format!("read {s:?} as {hit}"),
                        );
                        return Ok((*hit).clone());
                    }
                    [] => {}
                    _ => return Err(self.mismatch(format!("{} (ambiguous)", expected()), &value)),
                }
                if self.allows(Leniency::Lenient) && key.len() >= 2 {
                    let prefix: Vec<&Value> = strings
                        .iter()
                        .filter(|(_, n)| n.starts_with(&key))
                        .map(|(v, _)| *v)
                        .collect();
                    let within: Vec<&Value> = strings
                        .iter()
                        .filter(|(_, n)| {
                            n.len() >= 2 && (key.contains(n.as_str()) || n.contains(&key))
                        })
                        .map(|(v, _)| *v)
                        .collect();
                    for (hits, how, cost) in [(prefix, "prefix", 4), (within, "substring", 5)] {
                        if let [hit] = hits.as_slice() {
                            let detail = format!("read {s:?} as {hit} by unique {how}");
                            push_repair(
                                repairs,
                                Repair::new(RepairKind::EnumFuzzyMatch, &self.path, detail)
                                    .with_cost(cost),
                            );
                            return Ok((*hit).clone());
                        }
                    }
                }
                Err(self.mismatch(expected(), &value))
            }
            Value::Number(n) if self.allows(Leniency::Lenient) => {
                let text = n.to_string();
                match variants.iter().find(|v| v.as_str() == Some(text.as_str())) {
                    Some(hit) => {
                        self.note(
                            repairs,
                            RepairKind::StringFromNumber,
                            format!("read {n} as {hit}"),
                        );
                        Ok(hit.clone())
                    }
                    None => Err(self.mismatch(expected(), &value)),
                }
            }
            _ => Err(self.mismatch(expected(), &value)),
        }
    }

    /// Whether `null` satisfies `schema` (used to fill missing required `Option`s).
    fn allows_null(&self, schema: &'s Value, hops: usize) -> bool {
        let Value::Object(s) = schema else {
            return schema.as_bool().unwrap_or(false);
        };
        if hops > MAX_HOPS {
            return false;
        }
        if let Some(reference) = s.get("$ref") {
            match self.resolve(reference) {
                Ok(target) if self.allows_null(target, hops + 1) => {}
                _ => return false,
            }
        }
        match s.get("type") {
            Some(Value::String(t)) if t != "null" => return false,
            Some(Value::Array(ts)) if !ts.iter().any(|t| t == "null") => return false,
            _ => {}
        }
        if let Some(c) = s.get("const") {
            return c.is_null();
        }
        if let Some(Value::Array(variants)) = s.get("enum") {
            return variants.iter().any(Value::is_null);
        }
        if let Some(Value::Array(all)) = s.get("allOf")
            && !all.iter().all(|sub| self.allows_null(sub, hops + 1))
        {
            return false;
        }
        if let Some(Value::Array(branches)) = s.get("anyOf").or_else(|| s.get("oneOf")) {
            return branches.iter().any(|b| self.allows_null(b, hops + 1));
        }
        true
    }
}

/// Whether `value` already fits `schema` as the coercer sees it, so that coercing would
/// change nothing. Conservative: `false` only means "take the full path", never that the
/// value is wrong. Checks what coercion acts on (types, `const`/`enum`, required and
/// closed properties, items, unions); value constraints such as `minimum` or `pattern`
/// are the validator's business, as they are the coercer's.
fn fits(value: &Value, schema: &Value, root: &Value, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    let s = match schema {
        Value::Bool(b) => return *b,
        Value::Object(s) => s,
        _ => return false,
    };
    // One pass over the schema's few keywords: string compares are cheaper than a hashed
    // lookup per keyword, and this runs once per value node.
    let (mut reference, mut structural) = (None, false);
    let (mut properties, mut required, mut extra, mut items) = (None, None, None, None);
    for (key, keyword) in s {
        match key.as_str() {
            "$ref" => reference = Some(keyword),
            "type" => {
                structural = true;
                let ok = match keyword {
                    Value::String(t) => type_matches(value, t),
                    Value::Array(ts) => ts
                        .iter()
                        .any(|t| t.as_str().is_some_and(|t| type_matches(value, t))),
                    _ => false,
                };
                if !ok {
                    return false;
                }
            }
            "const" => {
                structural = true;
                if keyword != value {
                    return false;
                }
            }
            "enum" => {
                structural = true;
                if !keyword
                    .as_array()
                    .is_some_and(|choices| choices.contains(value))
                {
                    return false;
                }
            }
            "anyOf" | "oneOf" => {
                structural = true;
                let Value::Array(branches) = keyword else {
                    return false;
                };
                if !branches.iter().any(|b| fits(value, b, root, depth + 1)) {
                    return false;
                }
            }
            "allOf" | "prefixItems" => return false,
            "properties" => {
                structural = true;
                properties = keyword.as_object();
            }
            "required" => required = keyword.as_array(),
            "additionalProperties" => extra = Some(keyword),
            "items" => {
                structural = true;
                items = Some(keyword);
            }
            _ => {}
        }
    }
    if let Some(reference) = reference {
        let target = reference
            .as_str()
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| resolve_pointer(root, pointer));
        return !structural && target.is_some_and(|t| fits(value, t, root, depth + 1));
    }
    match value {
        Value::Object(object) => {
            if let Some(required) = required
                && !required
                    .iter()
                    .all(|k| k.as_str().is_some_and(|k| lookup(object, k).is_some()))
            {
                return false;
            }
            object.iter().all(
                |(key, item)| match properties.and_then(|p| lookup(p, key)) {
                    Some(property) => fits(item, property, root, depth + 1),
                    None => match extra {
                        None | Some(Value::Bool(true)) => true,
                        Some(Value::Bool(false)) => false,
                        Some(other) => fits(item, other, root, depth + 1),
                    },
                },
            )
        }
        Value::Array(elements) => {
            items.is_none_or(|item| elements.iter().all(|e| fits(e, item, root, depth + 1)))
        }
        _ => true,
    }
}

/// `root.pointer(pointer)`, without the allocations `Value::pointer` makes for the
/// common `/$defs/Name` form.
fn resolve_pointer<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    match pointer.strip_prefix("/$defs/") {
        Some(name) if !name.contains(['/', '~']) => root.get("$defs")?.get(name),
        _ => root.pointer(pointer),
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

fn type_matches(value: &Value, t: &str) -> bool {
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

/// An integral float as an integer (`30.0` → `30`), if it fits.
fn integral(n: &Number) -> Option<Number> {
    let f = n.as_f64()?;
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    // The range checks make the casts exact: `f` is integral and in range.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
        Some(Number::from(f as u64))
    } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
        Some(Number::from(f as i64))
    } else {
        None
    }
}

/// `"$1,234.50"`, `"12.5%"`, `"€ 30"`, `"1,234"`: strips one currency symbol
/// and a percent sign, and thousands separators only where they group digits
/// in threes (so `"1,5"` is refused as ambiguous).
fn formatted_number(text: &str) -> Option<Number> {
    const CURRENCY: &[char] = &['$', '€', '£', '¥', '₹'];
    let mut t = text.trim();
    let negative = t.starts_with('-');
    if let Some(rest) = t.strip_prefix('-') {
        t = rest.trim_start();
    }
    t = t.strip_prefix(CURRENCY).unwrap_or(t).trim();
    t = t.strip_suffix(CURRENCY).unwrap_or(t).trim();
    t = t.strip_suffix('%').unwrap_or(t).trim_end();
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    let digits: String = if int.contains(',') {
        let mut groups = int.split(',');
        let head = groups.next()?;
        if head.is_empty() || head.len() > 3 || !head.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut out = head.to_owned();
        for g in groups {
            if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            out.push_str(g);
        }
        out
    } else {
        int.to_owned()
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut plain = String::with_capacity(digits.len() + 8);
    if negative {
        plain.push('-');
    }
    plain.push_str(&digits);
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        plain.push('.');
        plain.push_str(f);
    }
    if plain.trim_start_matches('-') == text.trim() {
        return None; // nothing was stripped: it would already have parsed as a clean number
    }
    plain.parse().ok()
}

fn looks_like_json(text: &str, open: char) -> bool {
    let t = text.trim_start();
    t.starts_with(open) || t.starts_with("```")
}

/// A string holding JSON (possibly fenced or repaired), with the repairs that took.
fn json_in_string(text: &str) -> Option<(Value, Vec<Repair>)> {
    let parsed = super::parse_json(text).ok()?;
    Some((parsed.value, parsed.repairs))
}

/// Lowercase, accents folded, only letters and digits: `"In-Progress"` and
/// `"in_progress"` both become `"inprogress"`.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match fold_accent(c) {
            Some(folded) => out.push_str(folded),
            None if c.is_alphanumeric() => out.push(c),
            None => {}
        }
    }
    out
}

fn fold_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ś' | 'š' | 'ş' => "s",
        'ź' | 'ż' | 'ž' => "z",
        'ł' => "l",
        'ř' => "r",
        'ť' | 'ţ' => "t",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

/// A short description of a value for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => {
            let mut short: String = s.chars().take(40).collect();
            if short.len() < s.len() {
                short.push('…');
            }
            format!("string {short:?}")
        }
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().take(5).map(String::as_str).collect();
            let more = if o.len() > 5 { ", …" } else { "" };
            format!("an object with keys [{}{more}]", keys.join(", "))
        }
    }
}

fn pointer_depth(e: &ParseError) -> usize {
    match e {
        ParseError::Mismatch { path, .. } => path.matches('/').count() + 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    fn ok(value: Value, schema: &Value, leniency: Leniency) -> (Value, Vec<RepairKind>) {
        let parsed = coerce(value, schema, leniency).unwrap();
        (
            parsed.value,
            parsed.repairs.iter().map(|r| r.kind).collect(),
        )
    }

    fn err_path(value: Value, schema: &Value, leniency: Leniency) -> String {
        match coerce(value, schema, leniency) {
            Err(ParseError::Mismatch { path, .. }) => path,
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn numbers() {
        let int = json!({"type": "integer"});
        assert_eq!(
            ok(json!("30"), &int, Leniency::Standard),
            (json!(30), vec![RepairKind::NumberFromString])
        );
        assert_eq!(
            ok(json!(30.0), &int, Leniency::Standard),
            (json!(30), vec![RepairKind::FloatToInteger])
        );
        assert_eq!(ok(json!(-4.0), &int, Leniency::Standard).0, json!(-4));
        assert_eq!(err_path(json!(30.5), &int, Leniency::Lenient), "");
        assert_eq!(err_path(json!(1e300), &int, Leniency::Lenient), "");
        assert_eq!(err_path(json!("1,234"), &int, Leniency::Standard), "");
        assert_eq!(
            ok(json!("1,234"), &int, Leniency::Lenient),
            (json!(1234), vec![RepairKind::FormattedNumber])
        );
        assert_eq!(err_path(json!("1,5"), &int, Leniency::Lenient), "");
        assert_eq!(err_path(json!(true), &int, Leniency::Lenient), "");
        let num = json!({"type": "number"});
        assert_eq!(
            ok(json!("-$12.50"), &num, Leniency::Lenient).0,
            json!(-12.5)
        );
        assert_eq!(ok(json!("+3"), &num, Leniency::Standard).0, json!(3));
        assert_eq!(err_path(json!("+-3"), &num, Leniency::Lenient), "");
        assert_eq!(err_path(json!("NaN"), &num, Leniency::Lenient), "");
    }

    #[test]
    fn formatted_numbers() {
        assert_eq!(formatted_number("$1,234.50"), "1234.50".parse().ok());
        assert_eq!(formatted_number("12%"), "12".parse().ok());
        assert_eq!(formatted_number("€ 7"), "7".parse().ok());
        assert_eq!(formatted_number("1,23"), None);
        assert_eq!(formatted_number(",123"), None);
        assert_eq!(formatted_number("1.2.3"), None);
        assert_eq!(formatted_number("$"), None);
        assert_eq!(formatted_number("12"), None, "nothing to strip");
    }

    #[test]
    fn booleans_and_nulls() {
        let b = json!({"type": "boolean"});
        for (word, expected) in [
            ("Yes", true),
            ("n", false),
            ("ON", true),
            ("off", false),
            ("1", true),
            (" false ", false),
        ] {
            assert_eq!(
                ok(json!(word), &b, Leniency::Standard).0,
                json!(expected),
                "{word}"
            );
        }
        assert_eq!(
            ok(json!(0), &b, Leniency::Standard),
            (json!(false), vec![RepairKind::BoolFromNumber])
        );
        assert_eq!(err_path(json!("yes"), &b, Leniency::Exact), "");
        let n = json!({"type": "null"});
        assert_eq!(
            ok(json!("None"), &n, Leniency::Standard),
            (json!(null), vec![RepairKind::NullFromString])
        );
        assert_eq!(err_path(json!(""), &n, Leniency::Standard), "");
        assert_eq!(ok(json!("n/a"), &n, Leniency::Lenient).0, json!(null));
    }

    #[test]
    fn strings() {
        let s = json!({"type": "string"});
        assert_eq!(ok(json!("30"), &s, Leniency::Exact).0, json!("30"));
        assert_eq!(err_path(json!(30), &s, Leniency::Standard), "");
        assert_eq!(
            ok(json!(30), &s, Leniency::Lenient),
            (json!("30"), vec![RepairKind::StringFromNumber])
        );
        assert_eq!(ok(json!(false), &s, Leniency::Lenient).0, json!("false"));
    }

    #[test]
    fn enums() {
        let e = json!({"enum": ["open", "in_progress", "closed", 3]});
        assert_eq!(
            ok(json!("In-Progress"), &e, Leniency::Standard).0,
            json!("in_progress")
        );
        assert_eq!(
            ok(json!("  CLOSED "), &e, Leniency::Standard).0,
            json!("closed")
        );
        assert_eq!(ok(json!("3"), &e, Leniency::Standard).0, json!(3));
        assert_eq!(err_path(json!("clo"), &e, Leniency::Standard), "");
        assert_eq!(ok(json!("clo"), &e, Leniency::Lenient).0, json!("closed"));
        assert_eq!(err_path(json!("o"), &e, Leniency::Lenient), "");
        let ambiguous = json!({"enum": ["in_progress", "InProgress"]});
        assert_eq!(
            err_path(json!("in progress"), &ambiguous, Leniency::Lenient),
            ""
        );
        let accents = json!({"enum": ["Zurich", "Creme brulee"]});
        assert_eq!(
            ok(json!("crème brûlée"), &accents, Leniency::Standard).0,
            json!("Creme brulee")
        );
        let c = json!({"const": "circle"});
        assert_eq!(
            ok(json!("Circle"), &c, Leniency::Standard).0,
            json!("circle")
        );
        assert_eq!(err_path(json!("Circle"), &c, Leniency::Exact), "");
    }

    #[test]
    fn arrays() {
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
    fn objects() {
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

    #[test]
    fn refs_unions_and_bounds() {
        let schema = json!({
            "$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false}},
            "anyOf": [{"$ref": "#/$defs/A"}, {"type": "string"}]
        });
        assert_eq!(
            ok(json!({"a": "1"}), &schema, Leniency::Standard).0,
            json!({"a": 1})
        );
        assert_eq!(ok(json!("x"), &schema, Leniency::Exact).0, json!("x"));
        let (_, kinds) = ok(json!(7), &schema, Leniency::Lenient);
        assert_eq!(kinds, vec![RepairKind::StringFromNumber]);
        assert!(matches!(
            coerce(
                json!(1),
                &json!({"$ref": "#/$defs/Nope"}),
                Leniency::Standard
            ),
            Err(ParseError::InvalidSchema { .. })
        ));
        let cyclic = json!({"$ref": "#/$defs/L", "$defs": {"L": {"$ref": "#/$defs/L"}}});
        assert!(matches!(
            coerce(json!(1), &cyclic, Leniency::Standard),
            Err(ParseError::InvalidSchema { .. })
        ));
        // A value at the depth limit through a recursive `$ref` + `anyOf` is
        // about ten frames per level; unoptimised builds need more than the
        // default 2 MiB test-thread stack for that, so give it room.
        let deep_case = std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(|| {
                let mut deep = json!(1);
                for _ in 0..(MAX_NESTING + 5) {
                    deep = json!([deep]);
                }
                let nested = json!({"$ref": "#/$defs/N", "$defs": {"N": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#/$defs/N"}}]}}});
                coerce(deep, &nested, Leniency::Standard)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(deep_case, Err(ParseError::TooDeep { limit: MAX_NESTING }));
        assert_eq!(ok(json!(5), &json!(true), Leniency::Exact).0, json!(5));
        assert_eq!(err_path(json!(5), &json!(false), Leniency::Lenient), "");
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize("In-Progress"), "inprogress");
        assert_eq!(normalize("São Paulo"), "saopaulo");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("日本"), "日本");
        assert_eq!(normalize("--"), "");
    }
}
