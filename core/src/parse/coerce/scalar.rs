//! Scalars: `null`, booleans, numbers and strings, read from the JSON type the
//! schema asks for or, as far as the leniency allows, from another one (`"30"`,
//! `"yes"`, `30.0`, `"$1,234.50"`).

use serde_json::{Number, Value};

use super::Coercer;
use crate::parse::repair::push_repair;
use crate::parse::{Leniency, ParseError, Repair, RepairKind};

impl Coercer<'_> {
    pub(super) fn to_null(
        &self,
        value: Value,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
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

    pub(super) fn to_bool(
        &self,
        value: Value,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
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

    pub(super) fn to_number(
        &self,
        value: Value,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
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

    pub(super) fn to_integer(
        &self,
        value: &Value,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
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

    /// A number written as a string: clean (`"30"`, `"-2.5e3"`) or with thousands
    /// separators (`"1,234.50"`) from [`Leniency::Standard`], with a unit dropped
    /// (`"$1,234.50"`, `"12.5%"`) from [`Leniency::Lenient`]. Ambiguous forms such as
    /// `"1,5"` are refused.
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
        let n = formatted_number(t)?;
        (only_grouped(t) || self.allows(Leniency::Lenient))
            .then_some((n, RepairKind::FormattedNumber))
    }

    pub(super) fn to_string(
        &self,
        value: Value,
        repairs: &mut Vec<Repair>,
    ) -> Result<Value, ParseError> {
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
}

/// An integral float as an integer (`30.0` → `30`), if it fits.
fn integral(n: &Number) -> Option<Number> {
    let f = n.as_f64()?;
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "the range checks make the casts exact: `f` is integral and in range"
    )]
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
    let (negative, t) = strip_decoration(text);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    let digits = ungrouped(int)?;
    if digits.is_empty() || !all_digits(&digits) {
        return None;
    }
    let mut plain = String::with_capacity(digits.len() + 8);
    if negative {
        plain.push('-');
    }
    plain.push_str(&digits);
    if let Some(f) = frac {
        if f.is_empty() || !all_digits(f) {
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

/// Whether a leading `-` was there, and the text without it, one currency symbol
/// (before or after) and a trailing `%`.
fn strip_decoration(text: &str) -> (bool, &str) {
    const CURRENCY: &[char] = &['$', '€', '£', '¥', '₹'];
    let mut t = text.trim();
    let negative = t.starts_with('-');
    if let Some(rest) = t.strip_prefix('-') {
        t = rest.trim_start();
    }
    t = t.strip_prefix(CURRENCY).unwrap_or(t).trim();
    t = t.strip_suffix(CURRENCY).unwrap_or(t).trim();
    t = t.strip_suffix('%').unwrap_or(t).trim_end();
    (negative, t)
}

/// The integer part without thousands separators, which must group digits in
/// threes after a head of one to three; `None` when they do not.
fn ungrouped(int: &str) -> Option<String> {
    if !int.contains(',') {
        return Some(int.to_owned());
    }
    let mut groups = int.split(',');
    let head = groups.next()?;
    if head.is_empty() || head.len() > 3 || !all_digits(head) {
        return None;
    }
    let mut out = head.to_owned();
    for g in groups {
        if g.len() != 3 || !all_digits(g) {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

/// Whether `text` is a number whose only decoration is thousands separators (a sign,
/// digits, commas and a decimal point): nothing of what it says is dropped.
fn only_grouped(text: &str) -> bool {
    let t = text.trim();
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    t.contains(',')
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
}

fn all_digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::coerce::tests::{err_path, ok};
    use crate::parse::{Leniency, RepairKind};

    #[test]
    fn numbers_written_as_text_or_floats_become_integers_with_a_repair() {
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
        assert_eq!(err_path(json!("1,234"), &int, Leniency::Exact), "");
        assert_eq!(
            ok(json!("1,234"), &int, Leniency::Standard),
            (json!(1234), vec![RepairKind::FormattedNumber])
        );
        assert_eq!(err_path(json!("$1,234"), &int, Leniency::Standard), "");
        assert_eq!(
            ok(json!("$1,234"), &int, Leniency::Lenient),
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
    fn currency_percent_and_thousands_are_stripped_from_numbers() {
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
    fn yes_no_on_off_and_digits_read_as_booleans() {
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
    fn numbers_and_bools_become_strings_only_when_lenient() {
        let s = json!({"type": "string"});
        assert_eq!(ok(json!("30"), &s, Leniency::Exact).0, json!("30"));
        assert_eq!(err_path(json!(30), &s, Leniency::Standard), "");
        assert_eq!(
            ok(json!(30), &s, Leniency::Lenient),
            (json!("30"), vec![RepairKind::StringFromNumber])
        );
        assert_eq!(ok(json!(false), &s, Leniency::Lenient).0, json!("false"));
    }
}
