//! Choices: `enum` and `const` values matched exactly, through case, accents and
//! punctuation, or by a unique prefix or substring, and the normalization those
//! comparisons use.

use serde_json::{Number, Value};

use super::Coercer;
use crate::parse::repair::push_repair;
use crate::parse::{Leniency, ParseError, Repair, RepairKind};

impl Coercer<'_> {
    /// `enum` and `const`: exact, then (Standard) through case, accents and
    /// punctuation, then (Lenient) a unique prefix or substring.
    pub(super) fn enumerated(
        &mut self,
        value: Value,
        variants: &[Value],
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
        if variants.contains(&value) {
            return Ok(value);
        }
        self.tag_mismatch = variants.len() == 1;
        if self.allows(Leniency::Standard) {
            let hit = match &value {
                Value::String(s) => self.string_choice(&value, s, variants, repairs)?,
                Value::Number(n) if self.allows(Leniency::Lenient) => {
                    self.number_choice(n, variants, repairs)
                }
                _ => None,
            };
            if let Some(hit) = hit {
                return Ok(hit);
            }
        }
        Err(self.mismatch(expected(variants), &value))
    }

    /// A string for a choice: the text of a number or boolean choice, then the
    /// [`normalized`](Self::normalized) spelling, then a unique prefix or substring.
    fn string_choice(
        &self,
        value: &Value,
        s: &str,
        variants: &[Value],
        repairs: &mut Vec<Repair>,
    ) -> Result<Option<Value>, ParseError> {
        if let Some(hit) = variants.iter().find(|v| spells(s, v)) {
            self.note(
                repairs,
                RepairKind::EnumFuzzyMatch,
                format!("read {s:?} as {hit}"),
            );
            return Ok(Some(hit.clone()));
        }
        let key = crate::fold::key(s);
        let strings: Vec<(&Value, String)> = variants
            .iter()
            .filter_map(|v| v.as_str().map(|t| (v, crate::fold::key(t))))
            .collect();
        if let Some(hit) = self.normalized(value, s, &key, &strings, variants, repairs)? {
            return Ok(Some(hit));
        }
        if self.allows(Leniency::Lenient) && key.len() >= 2 {
            return Ok(self.by_prefix_or_substring(s, &key, &strings, repairs));
        }
        Ok(None)
    }

    /// The one string choice whose normalized spelling is `key`; a mismatch when
    /// several are.
    fn normalized(
        &self,
        value: &Value,
        s: &str,
        key: &str,
        strings: &[(&Value, String)],
        variants: &[Value],
        repairs: &mut Vec<Repair>,
    ) -> Result<Option<Value>, ParseError> {
        let same: Vec<&Value> = strings
            .iter()
            .filter(|(_, n)| !key.is_empty() && n == key)
            .map(|(v, _)| *v)
            .collect();
        match same.as_slice() {
            [hit] => {
                self.note(
                    repairs,
                    RepairKind::EnumFuzzyMatch,
                    format!("read {s:?} as {hit}"),
                );
                Ok(Some((*hit).clone()))
            }
            [] => Ok(None),
            _ => Err(self.mismatch(format!("{} (ambiguous)", expected(variants)), value)),
        }
    }

    /// The one string choice that `key` begins (cost 4), else the one that holds
    /// `key` or that `key` holds (cost 5).
    fn by_prefix_or_substring(
        &self,
        s: &str,
        key: &str,
        strings: &[(&Value, String)],
        repairs: &mut Vec<Repair>,
    ) -> Option<Value> {
        let prefix: Vec<&Value> = strings
            .iter()
            .filter(|(_, n)| n.starts_with(key))
            .map(|(v, _)| *v)
            .collect();
        let within: Vec<&Value> = strings
            .iter()
            .filter(|(_, n)| n.len() >= 2 && (key.contains(n.as_str()) || n.contains(key)))
            .map(|(v, _)| *v)
            .collect();
        for (hits, how, cost) in [(prefix, "prefix", 4), (within, "substring", 5)] {
            if let [hit] = hits.as_slice() {
                let detail = format!("read {s:?} as {hit} by unique {how}");
                push_repair(
                    repairs,
                    Repair::new(RepairKind::EnumFuzzyMatch, &self.path, detail).with_cost(cost),
                );
                return Some((*hit).clone());
            }
        }
        None
    }

    /// A number for a string choice that is its decimal text (Lenient).
    fn number_choice(
        &self,
        n: &Number,
        variants: &[Value],
        repairs: &mut Vec<Repair>,
    ) -> Option<Value> {
        let text = n.to_string();
        let hit = variants
            .iter()
            .find(|v| v.as_str() == Some(text.as_str()))?;
        self.note(
            repairs,
            RepairKind::StringFromNumber,
            format!("read {n} as {hit}"),
        );
        Some(hit.clone())
    }
}

/// Whether `s` is the text of a number or boolean choice: `"2"` for `2`, `"true"`
/// for `true`.
fn spells(s: &str, choice: &Value) -> bool {
    match choice {
        Value::Number(n) => s.trim().parse::<Number>().ok().as_ref() == Some(n),
        Value::Bool(b) => s
            .trim()
            .eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        _ => false,
    }
}

/// The choices for an error message: the value itself for a single one, else
/// `one of …` with the first eight.
fn expected(variants: &[Value]) -> String {
    let listed: Vec<String> = variants.iter().take(8).map(Value::to_string).collect();
    let more = if variants.len() > 8 { ", …" } else { "" };
    if variants.len() == 1 {
        listed.join("")
    } else {
        format!("one of {}{more}", listed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::parse::Leniency;
    use crate::parse::coerce::tests::{err_path, ok};

    #[test]
    fn enum_spellings_match_by_their_folded_keys_and_prefixes_only_when_lenient() {
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
}
