use serde::de::DeserializeOwned;

use crate::{Schema, Violation};

/// A type that an LLM can be asked to fill in.
///
/// Derive it with `#[derive(Extract)]` beside serde's `Deserialize`; the derive also
/// implements [`schemars::JsonSchema`] with the *source schema* (every description and
/// constraint the type declares). Implementing it by hand is possible but rarely useful.
///
/// # Attributes
///
/// Container attributes, in `#[extract(...)]`:
///
/// | attribute | meaning |
/// |---|---|
/// | `description = "…"` | the type's description (default: its doc comment) |
/// | `instructions = "…"` | extra instructions for the model, placed in the prompt |
/// | `example = "…"` | a JSON example, added to the schema's `examples` |
/// | `validate = path` | a `fn(&Self) -> Result<(), String>` run after deserializing |
/// | `strict` | every field type must prove at compile time that it fits OpenAI strict mode |
/// | `schemars` | reuse the type's existing `schemars::JsonSchema` impl instead of generating one |
/// | `crate = "…"` | the path to factum, when it is re-exported under another name |
///
/// Field and variant attributes: `description`, `example`, `range(min = …, max = …)`,
/// `length(min = …, max = …)` (strings and arrays), `pattern = "…"` (checked at compile
/// time), `format = "…"` and `validate = path` (a `fn(&FieldType) -> Result<(), String>`).
/// Doc comments are the descriptions. Serde's attributes mean exactly what serde means.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted because it does not implement `factum::Extract`",
    label = "this type needs `#[derive(factum::Extract)]`",
    note = "add `#[derive(serde::Deserialize, factum::Extract)]` to the type's definition"
)]
pub trait Extract: DeserializeOwned + schemars::JsonSchema + 'static {
    /// Extra instructions for the model, from `#[extract(instructions = "…")]`.
    const INSTRUCTIONS: Option<&'static str> = None;

    /// The type's cached schema; same as [`crate::schema::<Self>()`](crate::schema).
    fn schema() -> &'static Schema {
        crate::schema::cached::<Self>()
    }

    /// Runs the type's own validators (`#[extract(validate = …)]`) over a deserialized value,
    /// nested `Extract` fields included, and returns every violation with its JSON path.
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut out = Vec::new();
        self.validate_into(&mut String::new(), &mut out);
        if out.is_empty() { Ok(()) } else { Err(out) }
    }

    /// Appends this value's violations to `out`; `path` is the JSON pointer of `self`.
    #[doc(hidden)]
    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        let _ = (path, out);
    }
}
