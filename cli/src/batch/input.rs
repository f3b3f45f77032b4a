//! A batch's input: the items of a JSONL file (or stdin), or of a directory of `.txt`
//! files, each with its id and text. Read whole before anything is sent, so that a bad line
//! is a usage error that costs nothing.

use std::io::Read as _;
use std::path::Path;

use serde_json::Value;

use crate::fail::Failure;

/// One input item.
#[derive(Debug)]
pub(crate) struct Item {
    /// The id its output line carries.
    pub(crate) id: Value,
    /// The text to extract from.
    pub(crate) text: String,
}

/// Which fields of an input object hold the text and the id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub(crate) text: &'a str,
    pub(crate) id: &'a str,
}

/// The items at `input`: `-` for JSONL on stdin, a directory of `.txt` files, or a JSONL
/// file.
pub(crate) fn read(input: &Path, fields: Fields<'_>) -> Result<Vec<Item>, Failure> {
    if input == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| Failure::io("cannot read the input from stdin", &e))?;
        return jsonl(&text, "stdin", fields);
    }
    let shown = input.display();
    if input.is_dir() {
        return directory(input);
    }
    match std::fs::read_to_string(input) {
        Ok(text) => jsonl(&text, &format!("`{shown}`"), fields),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Failure::Usage(format!("input `{shown}` not found")))
        }
        Err(e) => Err(Failure::io(
            format_args!("cannot read the input `{shown}`"),
            &e,
        )),
    }
}

/// The items of JSONL `text` read from `source`; blank lines are skipped.
fn jsonl(text: &str, source: &str, fields: Fields<'_>) -> Result<Vec<Item>, Failure> {
    let mut items = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |why: String| Failure::Usage(format!("{source}, line {}: {why}", number + 1));
        let value: Value =
            serde_json::from_str(line).map_err(|e| at(format!("not a JSON line: {e}")))?;
        items.push(item(value, items.len(), fields).map_err(at)?);
    }
    Ok(items)
}

/// The item a line holds: a string is the text, an object holds it in the text field.
fn item(value: Value, index: usize, fields: Fields<'_>) -> Result<Item, String> {
    let mut object = match value {
        Value::String(text) => {
            return Ok(Item {
                id: index.into(),
                text,
            });
        }
        Value::Object(object) => object,
        other => {
            return Err(format!(
                "a line is a JSON string (the text) or an object, not `{other}`"
            ));
        }
    };
    let text = match object.remove(fields.text) {
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(format!(
                "field `{}` is not a string: `{other}`",
                fields.text
            ));
        }
        None => {
            return Err(format!(
                "no field `{}` holds the text (see --text-field)",
                fields.text
            ));
        }
    };
    let id = object.remove(fields.id).unwrap_or_else(|| index.into());
    Ok(Item { id, text })
}

/// The `.txt` files of `dir`, by name, each with its stem as its id.
fn directory(dir: &Path) -> Result<Vec<Item>, Failure> {
    let shown = dir.display();
    let listing = std::fs::read_dir(dir)
        .map_err(|e| Failure::io(format_args!("cannot list `{shown}`"), &e))?;
    let mut paths = Vec::new();
    for entry in listing {
        let path = entry
            .map_err(|e| Failure::io(format_args!("cannot list `{shown}`"), &e))?
            .path();
        let is_txt = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("txt"));
        if is_txt && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths.into_iter().map(|path| text_file(&path)).collect()
}

fn text_file(path: &Path) -> Result<Item, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::io(format_args!("cannot read `{}`", path.display()), &e))?;
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Item {
        id: Value::String(stem),
        text,
    })
}
