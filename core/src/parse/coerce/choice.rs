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
}

/// Lowercase, accents folded, only letters and digits: `"In-Progress"` and
/// `"in_progress"` both become `"inprogress"`.
pub(super) fn normalize(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{err_path, ok};
    use super::*;
    use crate::parse::Leniency;

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
    fn normalization() {
        assert_eq!(normalize("In-Progress"), "inprogress");
        assert_eq!(normalize("São Paulo"), "saopaulo");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("日本"), "日本");
        assert_eq!(normalize("--"), "");
    }
}
