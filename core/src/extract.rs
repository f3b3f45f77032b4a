//! The [`Extract`] trait, what `#[derive(Extract)]` implements, and its impls for lists,
//! maps, options, boxes and plain values.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

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
/// | `validate = path` | a `fn(&Self) -> Result<(), String>` run after deserializing, or `-> Result<(), Violation>` to point at a field ([`Violation::at`]) |
/// | `strict` | every field type must prove at compile time that it fits OpenAI strict mode |
/// | `schemars` | reuse the type's existing `schemars::JsonSchema` impl instead of generating one |
/// | `crate = "…"` | the path to factum, when it is re-exported under another name |
///
/// Field and variant attributes: `description`, `example`, `range(min = …, max = …)`,
/// `length(min = …, max = …)` (strings and arrays), `pattern = "…"` (checked at compile
/// time), `format = "…"`, `allow_empty` and `validate = path` (a
/// `fn(&FieldType) -> Result<(), String>`, or `Result<(), Violation>`).
///
/// A required `String` field gets `minLength: 1`, so that grammars forbid `""` and a reply
/// with one is re-asked; `#[extract(allow_empty)]` keeps `""` allowed, and an explicit
/// `length(min = …)` wins. An `Option<String>` the model leaves `""` (or blank) reads as
/// `None`, recorded as a [`RepairKind::EmptyAsNull`](crate::parse::RepairKind::EmptyAsNull) repair.
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

    /// The key a non-object root is asked for under (see [`Schema::envelope_key`]): the
    /// type's schema name in snake case, so that it agrees with the name the model is shown.
    ///
    /// For a derived type that name is serde's: the Rust name (`Sentiment` → `sentiment`),
    /// or the container's `#[serde(rename = "…")]` (`#[serde(rename = "Verdict")]` →
    /// `verdict`), which is how to choose another key. The derive writes the key out at
    /// compile time; generic types and `#[extract(schemars)]` types keep this default, which
    /// computes the same rule from [`schemars::JsonSchema::schema_name`]. `Vec<T>` gives
    /// `{T's key}_list`, plain values `answer`, a hand-written impl its schema name in snake
    /// case.
    fn envelope_key() -> Cow<'static, str> {
        Cow::Owned(crate::schema::envelope_key_for(&Self::schema_name()))
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

/// A list of values: "every person in the text". The schema is an array, asked for
/// wrapped in an object (see [`Schema::envelope_key`]); each element is validated in turn.
impl<T: Extract> Extract for Vec<T> {
    fn envelope_key() -> Cow<'static, str> {
        Cow::Owned(format!("{}_list", T::envelope_key()))
    }

    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        for (index, item) in self.iter().enumerate() {
            let len = path.len();
            crate::__private::push_index(path, index);
            item.validate_into(path, out);
            path.truncate(len);
        }
    }
}

/// A map from names to values, "each score by subject": an object whose keys the model
/// chooses (`additionalProperties`), each value validated under its key. OpenAI strict mode
/// cannot express open keys, so a map is refused before sending in that mode (and at
/// compile time under `#[extract(strict)]`); llama.cpp grammars take it.
impl<V: Extract, S: BuildHasher + Default + 'static> Extract for HashMap<String, V, S> {
    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        validate_entries(self, path, out);
    }
}

/// An ordered map; see the `HashMap` impl.
impl<V: Extract> Extract for BTreeMap<String, V> {
    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        validate_entries(self, path, out);
    }
}

/// Validates each value of a map under its key.
fn validate_entries<'a, V: Extract>(
    entries: impl IntoIterator<Item = (&'a String, &'a V)>,
    path: &mut String,
    out: &mut Vec<Violation>,
) {
    for (key, value) in entries {
        let len = path.len();
        crate::__private::push_key(path, key);
        value.validate_into(path, out);
        path.truncate(len);
    }
}

/// A value the text may not hold at all: `None` when it does not.
impl<T: Extract> Extract for Option<T> {
    const INSTRUCTIONS: Option<&'static str> = T::INSTRUCTIONS;

    fn envelope_key() -> Cow<'static, str> {
        T::envelope_key()
    }

    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        if let Some(inner) = self {
            inner.validate_into(path, out);
        }
    }
}

impl<T: Extract> Extract for Box<T> {
    const INSTRUCTIONS: Option<&'static str> = T::INSTRUCTIONS;

    fn envelope_key() -> Cow<'static, str> {
        T::envelope_key()
    }

    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        (**self).validate_into(path, out);
    }
}

/// Plain values: a yes/no answer, a count, a name.
macro_rules! extract_scalar {
    ($($ty:ty),*) => {$(
        impl Extract for $ty {
            fn envelope_key() -> Cow<'static, str> {
                Cow::Borrowed("answer")
            }
        }
    )*};
}
extract_scalar!(bool, String, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);
