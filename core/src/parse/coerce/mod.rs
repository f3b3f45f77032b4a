//! Schema-aligned coercion: bends a parsed value toward a JSON Schema as far
//! as the [`Leniency`] allows, recording each change, and reports the first
//! place where fitting it would mean guessing.
//!
//! This file holds the entry point, the [`Coercer`] state and the dispatch over a
//! schema object: `$ref`, `allOf`, `anyOf`/`oneOf` and the `type` list. What each
//! type does to a value lives in [`scalar`], [`container`] and [`choice`].
//!
//! The value is moved through the schema, so a value that already fits is
//! rebuilt without copying its strings. Unions clone the value per branch.

mod choice;
mod container;
mod scalar;

use serde_json::{Map, Value};

use super::cheapest::{Miss, NoFit, cheapest};
use super::fits::{fits, type_matches};
use super::repair::push_repair;
use super::repair::{Repair, RepairKind};
use super::terms::{Leniency, MAX_NESTING, ParseError, Parsed};
use crate::json::excerpt;

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
        let found = cheapest(
            branches,
            |_| 0,
            |branch| {
                let mut branch_repairs = Vec::new();
                self.tag_mismatch = false;
                match self.value(value.clone(), branch, depth, hops + 1, &mut branch_repairs) {
                    Ok(out) => Ok((out, branch_repairs)),
                    Err(e) if self.tag_mismatch => Err(Miss::from(e).on_tag()),
                    Err(e) => Err(e.into()),
                }
            },
        );
        match found {
            Ok(best) => {
                if best.fits > 1 {
                    let detail = format!(
                        "chose branch {} of {}, the cheapest fit",
                        best.index,
                        branches.len()
                    );
                    self.note(repairs, RepairKind::UnionChosen, detail);
                }
                for r in best.repairs {
                    push_repair(repairs, r);
                }
                Ok(best.value)
            }
            Err(NoFit::Fatal(e)) => Err(e),
            Err(NoFit::Mismatch { error, tied: false }) => Err(error),
            // No branch fit, and none got further than all the others: no branch is
            // the obvious intent.
            Err(_) => Err(self.mismatch(format!("one of the {} variants", branches.len()), &value)),
        }
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
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => return self.typed(value, t, s, depth, repairs),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            Some(_) => return Err(self.invalid("`type` must be a string or an array of strings")),
            None => match implied_type(s) {
                Some(implied) => vec![implied],
                None => return Ok(value),
            },
        };
        if let [only] = types.as_slice() {
            return self.typed(value, only, s, depth, repairs);
        }
        if self.allows(Leniency::Standard)
            && types.contains(&"null")
            && types.contains(&"string")
            && value.as_str().is_some_and(|text| text.trim().is_empty())
        {
            self.note(
                repairs,
                RepairKind::EmptyAsNull,
                format!("read {value} as null"),
            );
            return Ok(Value::Null);
        }
        if let Some(exact) = types.iter().find(|t| type_matches(&value, t)) {
            return self.typed(value, exact, s, depth, repairs);
        }
        self.cheapest_type(&value, &types, s, depth, repairs)
    }

    /// A value of none of the listed types: the cheapest coercion to one of them.
    fn cheapest_type(
        &mut self,
        value: &Value,
        types: &[&str],
        s: &'s Map<String, Value>,
        depth: usize,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        let found = cheapest(
            types,
            |_| 0,
            |t| {
                let mut type_repairs = Vec::new();
                let out = self.typed(value.clone(), t, s, depth, &mut type_repairs)?;
                Ok((out, type_repairs))
            },
        );
        match found {
            Ok(best) => {
                for r in best.repairs {
                    push_repair(repairs, r);
                }
                Ok(best.value)
            }
            Err(NoFit::Fatal(e)) => Err(e),
            Err(NoFit::Mismatch { error, .. }) => Err(error),
            Err(NoFit::Nothing) => Err(self.mismatch(types.join(" or "), value)),
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

/// The type a schema without `type` implies by its keywords: `object` for the
/// object keywords, `array` for the array ones, `None` for neither.
fn implied_type(s: &Map<String, Value>) -> Option<&'static str> {
    if ["properties", "required", "additionalProperties"]
        .iter()
        .any(|k| s.contains_key(*k))
    {
        Some("object")
    } else if s.contains_key("items") || s.contains_key("prefixItems") {
        Some("array")
    } else {
        None
    }
}

/// A short description of a value for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {:?}", excerpt(s, 40)),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().take(5).map(String::as_str).collect();
            let more = if o.len() > 5 { ", …" } else { "" };
            format!("an object with keys [{}{more}]", keys.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    pub(super) fn ok(value: Value, schema: &Value, leniency: Leniency) -> (Value, Vec<RepairKind>) {
        let parsed = coerce(value, schema, leniency).unwrap();
        (
            parsed.value,
            parsed.repairs.iter().map(|r| r.kind).collect(),
        )
    }

    pub(super) fn err_path(value: Value, schema: &Value, leniency: Leniency) -> String {
        match coerce(value, schema, leniency) {
            Err(ParseError::Mismatch { path, .. }) => path,
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_optional_string_is_null() {
        let optional = json!({"type": ["string", "null"]});
        for blank in ["", "  \n"] {
            assert_eq!(
                ok(json!(blank), &optional, Leniency::Standard),
                (json!(null), vec![RepairKind::EmptyAsNull])
            );
            assert_eq!(ok(json!(blank), &optional, Leniency::Exact).0, json!(blank));
        }
        assert_eq!(ok(json!("x"), &optional, Leniency::Standard).1, []);
        // A required string keeps its empty value for the schema to judge.
        let required = json!({"type": "string"});
        assert_eq!(ok(json!(""), &required, Leniency::Standard).0, json!(""));
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
}
