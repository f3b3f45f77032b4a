//! One row's outcome (what the memo keeps) and a column of them as the UDF's `StructArray`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StructArray, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema as ArrowSchema};
use datafusion::arrow::json::ReaderBuilder;
use factum::{Error, ErrorKind, Extracted};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arrow::Node;

/// What one input row gave: the validated JSON, or the error; the attempts it took, the
/// tokens they used and whether the response cache answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    pub(crate) value: Option<Value>,
    pub(crate) error: Option<RowError>,
    pub(crate) attempts: u32,
    pub(crate) prompt_tokens: u64,
    pub(crate) completion_tokens: u64,
    pub(crate) cached: bool,
}

/// A failed row's error: the kind in snake case (`exhausted`, `http`, …) and its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RowError {
    pub(crate) kind: String,
    pub(crate) message: String,
}

impl Outcome {
    pub(crate) fn success<T>(out: &Extracted<T>, json: Value) -> Outcome {
        Outcome {
            value: Some(json),
            error: None,
            attempts: out.attempts.len() as u32,
            prompt_tokens: out.usage.prompt_tokens,
            completion_tokens: out.usage.completion_tokens,
            cached: out.cached,
        }
    }

    pub(crate) fn failure(error: &Error) -> Outcome {
        let usage = error.usage();
        Outcome {
            value: None,
            error: Some(RowError {
                kind: kind_name(error.kind()),
                message: error.to_string(),
            }),
            attempts: error.attempts().len() as u32,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached: false,
        }
    }

    /// A row that failed in this crate, not in factum (`kind` names the stage).
    pub(crate) fn local(kind: &str, message: impl Into<String>) -> Outcome {
        Outcome {
            value: None,
            error: Some(RowError {
                kind: kind.to_owned(),
                message: message.into(),
            }),
            attempts: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            cached: false,
        }
    }

    /// Whether the outcome is final: a value, or a failure the model's replies decided.
    /// A failure on the way (a transport fault, a timeout, a 5xx that outlasted the
    /// retries) is not: the next evaluation asks again.
    pub(crate) fn is_final(&self) -> bool {
        self.error.as_ref().is_none_or(|e| {
            !matches!(
                e.kind.as_str(),
                "http" | "transport" | "timeout" | "deadline" | "stream" | "invalid_response"
            )
        })
    }
}

/// An [`ErrorKind`] as the error column writes it: its name in snake case.
pub(crate) fn kind_name(kind: ErrorKind) -> String {
    let debug = format!("{kind:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The UDF's return type around the value's type.
pub(crate) fn return_type(value: DataType) -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("value", value, true),
        Field::new(
            "error",
            DataType::Struct(Fields::from(vec![
                Field::new("kind", DataType::Utf8, false),
                Field::new("message", DataType::Utf8, false),
            ])),
            true,
        ),
        Field::new("attempts", DataType::UInt32, false),
        Field::new(
            "usage",
            DataType::Struct(Fields::from(vec![
                Field::new("prompt_tokens", DataType::UInt64, false),
                Field::new("completion_tokens", DataType::UInt64, false),
            ])),
            false,
        ),
        Field::new("cached", DataType::Boolean, false),
    ]))
}

/// The rows (`None`: a null input, a null row) as a `StructArray` of
/// [`return_type`]`(node.data_type())`. A row whose value Arrow's decoder refuses (which
/// validation should rule out) becomes a failed row of kind `arrow`, never a failed query.
pub(crate) fn to_array(
    node: &Node,
    rows: &[Option<&Outcome>],
) -> datafusion::error::Result<ArrayRef> {
    let data_type = return_type(node.data_type());
    let json: Vec<Value> = rows
        .iter()
        .map(|row| json!({ "row": row.map(|o| shaped(node, o)) }))
        .collect();
    match decode(&data_type, &json) {
        Ok(array) => Ok(array),
        Err(error) => refused(node, &data_type, rows, json, &error),
    }
}

/// The rows again after the decoder refused them: each row alone, a refused one written
/// as a failed row of kind `arrow`.
fn refused(
    node: &Node,
    data_type: &DataType,
    rows: &[Option<&Outcome>],
    json: Vec<Value>,
    error: &datafusion::error::DataFusionError,
) -> datafusion::error::Result<ArrayRef> {
    let mut fixed = Vec::with_capacity(rows.len());
    for (row, line) in rows.iter().zip(json) {
        let refusal = if rows.len() == 1 {
            Some(error.to_string())
        } else {
            decode(data_type, std::slice::from_ref(&line))
                .err()
                .map(|e| e.to_string())
        };
        match refusal {
            None => fixed.push(line),
            Some(e) => {
                let failed = row.map(|o| Outcome {
                    value: None,
                    error: Some(RowError {
                        kind: "arrow".into(),
                        message: format!("the value does not fit its Arrow type: {e}"),
                    }),
                    ..o.clone()
                });
                fixed.push(json!({ "row": failed.as_ref().map(|o| shaped(node, o)) }));
            }
        }
    }
    decode(data_type, &fixed)
}

/// One outcome as the JSON of its row.
fn shaped(node: &Node, outcome: &Outcome) -> Value {
    json!({
        "value": outcome.value.clone().map(|v| node.reshape(v)),
        "error": outcome.error.as_ref().map(|e| json!({"kind": e.kind, "message": e.message})),
        "attempts": outcome.attempts,
        "usage": {
            "prompt_tokens": outcome.prompt_tokens,
            "completion_tokens": outcome.completion_tokens,
        },
        "cached": outcome.cached,
    })
}

fn decode(data_type: &DataType, lines: &[Value]) -> datafusion::error::Result<ArrayRef> {
    if lines.is_empty() {
        return Ok(new_null_array(data_type, 0));
    }
    let schema = Arc::new(ArrowSchema::new(vec![Field::new(
        "row",
        data_type.clone(),
        true,
    )]));
    let mut decoder = ReaderBuilder::new(schema)
        .with_batch_size(lines.len())
        .build_decoder()?;
    decoder.serialize(lines)?;
    let batch = decoder.flush()?.ok_or_else(|| {
        datafusion::error::DataFusionError::Internal("the JSON decoder gave no rows".into())
    })?;
    let column = Arc::clone(batch.column(0));
    debug_assert!(column.as_any().downcast_ref::<StructArray>().is_some());
    Ok(column)
}

#[cfg(test)]
#[allow(
    clippy::too_many_lines,
    reason = "a test reads best as the rows it builds and the columns it checks"
)]
mod tests {
    use std::collections::BTreeMap;

    use datafusion::arrow::array::{AsArray as _, RecordBatch};
    use datafusion::arrow::datatypes::{Date32Type, TimestampMicrosecondType, UInt32Type};
    use datafusion::arrow::json::ArrayWriter;
    use factum::Extract;
    use serde::Deserialize;

    use super::*;

    /// A shape, externally tagged.
    #[derive(Deserialize, Extract)]
    #[allow(dead_code, reason = "only the schema is used")]
    enum Shape {
        Circle { radius: f64 },
        Point,
    }

    /// A record with a nested list, a map, an enum, a date and free JSON.
    #[derive(Deserialize, Extract)]
    #[allow(dead_code, reason = "only the schema is used")]
    struct Record {
        name: String,
        tags: Vec<String>,
        counts: BTreeMap<String, u32>,
        shape: Shape,
        born: chrono::NaiveDate,
        seen: chrono::DateTime<chrono::Utc>,
        extra: Value,
        note: Option<String>,
    }

    fn ok(value: Value) -> Outcome {
        Outcome {
            value: Some(value),
            error: None,
            attempts: 1,
            prompt_tokens: 40,
            completion_tokens: 9,
            cached: false,
        }
    }

    /// The array's rows back as JSON, through Arrow's own writer.
    fn json_rows(array: &ArrayRef) -> Vec<Value> {
        let batch = RecordBatch::try_from_iter([("row", Arc::clone(array))]).unwrap();
        let mut writer = ArrayWriter::new(Vec::new());
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        let rows: Vec<Value> = serde_json::from_slice(&writer.into_inner()).unwrap();
        rows.into_iter().map(|mut r| r["row"].take()).collect()
    }

    #[test]
    fn value_rows_failures_and_null_rows_make_one_struct_array() {
        let node = Node::of(Record::schema()).unwrap();
        let first = ok(json!({
            "name": "Ada",
            "tags": ["math", "engines"],
            "counts": {"letters": 3},
            "shape": {"Circle": {"radius": 2.5}},
            "born": "1815-12-10",
            "seen": "2024-05-01T12:30:00Z",
            "extra": {"k": [1, 2]},
            "note": null
        }));
        let second = ok(json!({
            "name": "Bo",
            "tags": [],
            "counts": {},
            "shape": "Point",
            "born": "2000-01-01",
            "seen": "2000-01-01T00:00:00Z",
            "extra": "plain",
            "note": "hi"
        }));
        let failed = Outcome {
            attempts: 3,
            prompt_tokens: 120,
            completion_tokens: 30,
            ..Outcome::local("exhausted", "no attempt fit the type")
        };
        let array = to_array(&node, &[Some(&first), None, Some(&failed), Some(&second)]).unwrap();
        assert_eq!(array.data_type(), &return_type(node.data_type()));
        assert_eq!(array.len(), 4);
        assert!(array.is_null(1), "a null input is a null row");

        let rows = array.as_struct();
        let value = rows.column_by_name("value").unwrap().as_struct();
        assert!(value.is_valid(0) && value.is_null(2) && value.is_valid(3));
        let born = value
            .column_by_name("born")
            .unwrap()
            .as_primitive::<Date32Type>();
        assert_eq!(born.value(0), -56_270, "1815-12-10 in days from 1970-01-01");
        let seen = value
            .column_by_name("seen")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        assert_eq!(seen.value(0), 1_714_566_600_000_000);
        let attempts = rows
            .column_by_name("attempts")
            .unwrap()
            .as_primitive::<UInt32Type>();
        assert_eq!(attempts.value(2), 3);

        let json = json_rows(&array);
        assert_eq!(
            json[0]["value"]["shape"],
            json!({"tag": "Circle", "Circle": {"radius": 2.5}})
        );
        assert_eq!(json[3]["value"]["shape"], json!({"tag": "Point"}));
        assert_eq!(
            json[0]["value"]["extra"], "{\"k\":[1,2]}",
            "free JSON as its text"
        );
        assert_eq!(json[3]["value"]["extra"], "\"plain\"");
        assert_eq!(json[0]["value"]["counts"], json!({"letters": 3}));
        assert_eq!(json[0]["value"]["tags"], json!(["math", "engines"]));
        assert!(json[0].get("error").is_none_or(Value::is_null));
        assert_eq!(
            json[2]["error"],
            json!({"kind": "exhausted", "message": "no attempt fit the type"})
        );
        assert_eq!(
            json[2]["usage"],
            json!({"prompt_tokens": 120, "completion_tokens": 30})
        );
        assert_eq!(
            json[0]["usage"],
            json!({"prompt_tokens": 40, "completion_tokens": 9})
        );
        assert_eq!(json[0]["cached"], false);
    }

    #[test]
    fn a_value_arrow_refuses_fails_its_row_not_the_batch() {
        let node = Node::of(Record::schema()).unwrap();
        let good = ok(json!({
            "name": "Ada", "tags": [], "counts": {}, "shape": "Point",
            "born": "1815-12-10", "seen": "2024-05-01T12:30:00Z", "extra": 1, "note": null
        }));
        // Validation rules this out; if it ever slips through, only its row fails.
        let bad = ok(json!({
            "name": "Bo", "tags": [], "counts": {}, "shape": "Point",
            "born": "not a date", "seen": "2024-05-01T12:30:00Z", "extra": 1, "note": null
        }));
        let array = to_array(&node, &[Some(&good), Some(&bad)]).unwrap();
        let json = json_rows(&array);
        assert_eq!(json[0]["value"]["name"], "Ada");
        assert!(json[1].get("value").is_none_or(Value::is_null));
        assert_eq!(json[1]["error"]["kind"], "arrow");
    }

    #[test]
    fn error_kinds_are_snake_case() {
        assert_eq!(kind_name(ErrorKind::BodyTooLarge), "body_too_large");
        assert_eq!(kind_name(ErrorKind::Exhausted), "exhausted");
        assert_eq!(kind_name(ErrorKind::InvalidResponse), "invalid_response");
    }
}
