//! The [`Extract`] trait, what `#[derive(Extract)]` implements, and its impls for lists,
//! maps, options, boxes and plain values.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::{OnceLock, RwLock};

use serde::de::DeserializeOwned;

use crate::stream::Node;
use crate::{Schema, Violation};

/// What every partial value offers: a server can forward it as JSON, a UI compare it with
/// the last one shown.
pub trait PartialValue:
    std::fmt::Debug + Clone + PartialEq + serde::Serialize + Send + Sync + 'static
{
}

impl<T> PartialValue for T where
    T: std::fmt::Debug + Clone + PartialEq + serde::Serialize + Send + Sync + 'static
{
}

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
/// `length(min = …, max = …)` (strings and arrays), `unique` (arrays), `pattern = "…"`
/// (checked at compile time), `format = "…"`, `allow_empty`, `grounded` and
/// `validate = path` (a `fn(&FieldType) -> Result<(), String>`, or
/// `Result<(), Violation>`).
///
/// `#[extract(unique)]`, on a `Vec<T>` or `Option<Vec<T>>`, says no item may repeat
/// (`uniqueItems`): a repeat is a violation at its path naming the item it repeats
/// (`at /attendees/3: repeats /attendees/0`), re-asked; at
/// [`Leniency::Lenient`](crate::Leniency::Lenient) the repeats are dropped, the first
/// kept, each recorded as a [`RepairKind::DroppedRepeat`](crate::parse::RepairKind::DroppedRepeat)
/// repair. Dialects that do not take `uniqueItems` get it in the description, and it is
/// still checked after the reply. On any other field type it is a compile error.
///
/// Text fields may be `String`, `Box<str>`, `Rc<str>`, `Arc<str>` or `Cow<'static, str>`
/// (deserializing `Rc<str>` and `Arc<str>` needs serde's `rc` feature); each takes the
/// string constraints. Maps may have `String` or integer keys ([`MapKey`]).
///
/// `#[extract(grounded)]`, on a string or a list of strings, says the value must be quoted
/// from the text: after validation the value is located in the text (see
/// [`Extracted::spans`](crate::Extracted::spans)), and one found only fuzzily or not at all
/// is a violation at the field's path, re-asked with the feedback that the value must be
/// copied exactly as written. The prompt says it too. On any other field type it is a
/// compile error.
///
/// A required `String` field gets `minLength: 1`, so that grammars forbid `""` and a reply
/// with one is re-asked; `#[extract(allow_empty)]` keeps `""` allowed, and an explicit
/// `length(min = …)` wins. An `Option<String>` the model leaves `""` (or blank) reads as
/// `None`, recorded as a [`RepairKind::EmptyAsNull`](crate::parse::RepairKind::EmptyAsNull) repair.
/// Doc comments are the descriptions. Serde's attributes mean exactly what serde means.
///
/// Field attributes for the type's partial value, while a reply streams:
///
/// | attribute | meaning |
/// |---|---|
/// | `stream(done)` | the field shows only once its value is complete (a string not as a prefix), as BAML's `@stream.done` |
/// | `stream(skip)` | the field is left out of the partial (for a field type with no `PartialField`) |
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted because it does not implement `factum::Extract`",
    label = "this type needs `#[derive(factum::Extract)]`",
    note = "on a type of your own, add `#[derive(serde::Deserialize, factum::Extract)]` to its definition; for another crate's type, use a type factum extracts (`String` or `Box<str>` for text, lists, options, maps, numbers, `bool`) or mark the field `#[extract(stream(skip))]`"
)]
pub trait Extract: DeserializeOwned + schemars::JsonSchema + 'static {
    /// The value as far as the model has written it, while a reply streams: see
    /// [`Partial`](crate::Partial). The derive generates it with the same field names: a
    /// `String` as its prefix so far, numbers, bools and choices only once complete,
    /// `Option<F>` as `Option<Partial<F>>`, `Vec<F>` as `Vec<Partial<F>>`, a nested type
    /// as `Option<Partial<S>>`, an enum as `{Ident}Partial` with the same variants, known
    /// once its tag is.
    type Partial: PartialValue;

    /// Extra instructions for the model, from `#[extract(instructions = "…")]`.
    const INSTRUCTIONS: Option<&'static str> = None;

    /// The partial value `node` holds so far, or `None` when it holds nothing of this type
    /// yet (an empty or incomplete scalar, a value of another shape).
    #[doc(hidden)]
    fn partial_from(node: &Node) -> Option<Self::Partial>;

    /// The type's cached schema; same as [`crate::schema::<Self>()`](crate::schema).
    fn schema() -> &'static Schema {
        cached::<Self>()
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
    ///
    /// # Errors
    ///
    /// Every [`Violation`] the validators found, when there is at least one.
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
    type Partial = Vec<T::Partial>;

    fn partial_from(node: &Node) -> Option<Self::Partial> {
        match node {
            Node::Array { items, .. } => Some(items.iter().filter_map(T::partial_from).collect()),
            _ => None,
        }
    }

    fn envelope_key() -> Cow<'static, str> {
        Cow::Owned(format!("{}_list", T::envelope_key()))
    }

    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        for (index, item) in self.iter().enumerate() {
            let len = path.len();
            crate::json::push_index(path, index);
            item.validate_into(path, out);
            path.truncate(len);
        }
    }
}

/// A map from names to values, "each score by subject": an object whose keys the model
/// chooses (`additionalProperties`), each value validated under its key. Integer keys
/// (`HashMap<u32, V>`) are the keys' decimal text, `{"1": …}`, as serde_json reads and
/// writes them; their schema says so with `propertyNames`. OpenAI strict mode cannot
/// express open keys, so a map is refused before sending in that mode (and at compile
/// time under `#[extract(strict)]`); llama.cpp grammars take it.
impl<K: MapKey, V: Extract, S: BuildHasher + Default + 'static> Extract for HashMap<K, V, S> {
    /// Entries so far, in key order.
    type Partial = BTreeMap<K, V::Partial>;

    fn partial_from(node: &Node) -> Option<Self::Partial> {
        partial_entries::<K, V>(node)
    }

    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        validate_entries(self, path, out);
    }
}

/// An ordered map; see the `HashMap` impl.
impl<K: MapKey, V: Extract> Extract for BTreeMap<K, V> {
    type Partial = BTreeMap<K, V::Partial>;

    fn partial_from(node: &Node) -> Option<Self::Partial> {
        partial_entries::<K, V>(node)
    }

    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        validate_entries(self, path, out);
    }
}

mod sealed {
    pub trait Sealed {}
}

/// The key of a map that extracts as a JSON object: `String`, or an integer type (`u8` to
/// `u64`, `i8` to `i64`, `usize`, `isize`), written as its decimal text. Sealed: these are
/// the keys JSON objects can carry and serde_json reads.
pub trait MapKey:
    sealed::Sealed
    + Ord
    + std::hash::Hash
    + std::fmt::Debug
    + Clone
    + serde::Serialize
    + DeserializeOwned
    + schemars::JsonSchema
    + Send
    + Sync
    + 'static
{
    /// The key as the text of a JSON object's member name.
    fn to_key(&self) -> Cow<'_, str>;

    /// The key a member name holds, or `None` when it holds none of this type (`"x"` for
    /// an integer key).
    fn from_key(key: &str) -> Option<Self>;
}

impl sealed::Sealed for String {}

impl MapKey for String {
    fn to_key(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }

    fn from_key(key: &str) -> Option<String> {
        Some(key.to_owned())
    }
}

macro_rules! integer_key {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}

        impl MapKey for $ty {
            fn to_key(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }

            fn from_key(key: &str) -> Option<$ty> {
                key.parse().ok()
            }
        }
    )*};
}
integer_key!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// The entries of an object so far whose keys read as `K` and whose values hold something.
fn partial_entries<K: MapKey, V: Extract>(node: &Node) -> Option<BTreeMap<K, V::Partial>> {
    match node {
        Node::Object { members, .. } => Some(
            members
                .iter()
                .filter_map(|(k, v)| Some((K::from_key(k)?, V::partial_from(v)?)))
                .collect(),
        ),
        _ => None,
    }
}

/// Validates each value of a map under its key.
fn validate_entries<'a, K: MapKey, V: Extract>(
    entries: impl IntoIterator<Item = (&'a K, &'a V)>,
    path: &mut String,
    out: &mut Vec<Violation>,
) {
    for (key, value) in entries {
        let len = path.len();
        crate::json::push_key(path, &key.to_key());
        value.validate_into(path, out);
        path.truncate(len);
    }
}

/// A value the text may not hold at all: `None` when it does not.
impl<T: Extract> Extract for Option<T> {
    type Partial = T::Partial;

    const INSTRUCTIONS: Option<&'static str> = T::INSTRUCTIONS;

    fn partial_from(node: &Node) -> Option<Self::Partial> {
        T::partial_from(node)
    }

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
    type Partial = T::Partial;

    const INSTRUCTIONS: Option<&'static str> = T::INSTRUCTIONS;

    fn partial_from(node: &Node) -> Option<Self::Partial> {
        T::partial_from(node)
    }

    fn envelope_key() -> Cow<'static, str> {
        T::envelope_key()
    }

    fn validate_into(&self, path: &mut String, out: &mut Vec<Violation>) {
        (**self).validate_into(path, out);
    }
}

/// Any JSON value: what a [`Dynamic`](crate::Dynamic) target gives, its schema coming with
/// the call. Asked for on its own (`client.extract::<serde_json::Value>(..)`), its schema
/// admits any value. While it streams, the value so far (strings as their prefix).
impl Extract for serde_json::Value {
    type Partial = serde_json::Value;

    fn partial_from(node: &Node) -> Option<serde_json::Value> {
        Some(node.to_value_so_far())
    }

    fn envelope_key() -> Cow<'static, str> {
        Cow::Borrowed("value")
    }
}

/// A name, a quote: while it streams, its prefix so far.
impl Extract for String {
    type Partial = String;

    fn partial_from(node: &Node) -> Option<String> {
        node.as_str().map(str::to_owned)
    }

    fn envelope_key() -> Cow<'static, str> {
        Cow::Borrowed("answer")
    }
}

/// Plain values: a yes/no answer, a count. While they stream, they show only once whole.
macro_rules! extract_scalar {
    ($($ty:ty),*) => {$(
        impl Extract for $ty {
            type Partial = $ty;

            fn partial_from(node: &Node) -> Option<$ty> {
                node.complete()
            }

            fn envelope_key() -> Cow<'static, str> {
                Cow::Borrowed("answer")
            }
        }
    )*};
}
extract_scalar!(
    bool, u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64
);

impl Schema {
    /// Builds the schema of a type that implements [`Extract`]. Prefer [`schema::<T>()`](crate::schema()),
    /// which caches the result.
    pub fn of<T: Extract>() -> Schema {
        let mut schema = Schema::from_json_schema::<T>(T::INSTRUCTIONS);
        schema.rename_envelope(T::envelope_key().into_owned());
        schema
    }
}

/// Returns the cached schema of `T`, built on first use.
///
/// This is the same as `T::schema()`; the derive keeps a `static` per non-generic type, so
/// a cached call is a single atomic load. Generic types share one map keyed by `TypeId`.
pub fn schema<T: Extract>() -> &'static Schema {
    T::schema()
}

/// The schema of the list `Vec<T>` bounded to `max` items ([`Schema::with_max_items`]),
/// built once per item type and bound and kept for the life of the process, as every
/// schema is: a program uses a few bounds, not one per call.
pub(crate) fn bounded_list<T: Extract>(max: usize) -> &'static Schema {
    type Bounded = HashMap<(TypeId, usize), &'static Schema>;
    static CACHE: OnceLock<RwLock<Bounded>> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    let key = (TypeId::of::<T>(), max);
    if let Some(schema) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
    {
        return schema;
    }
    let built = <Vec<T>>::schema().with_max_items(max);
    let mut map = cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key).or_insert_with(|| Box::leak(Box::new(built)))
}

/// The cache used by generic types and by hand-written `Extract` impls.
pub(crate) fn cached<T: Extract>() -> &'static Schema {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, &'static Schema>>> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    let id = TypeId::of::<T>();
    if let Some(schema) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&id)
    {
        return schema;
    }
    // Built outside the lock: building may need other types' schemas.
    let built = Schema::of::<T>();
    let mut map = cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(id).or_insert_with(|| Box::leak(Box::new(built)))
}
