//! Streaming: replies read as they are written. [`Node`] is a JSON value as far as the model
//! has written it; [`PartialField`] says how a field's type appears in a partial value.

mod guard;
mod node;
mod parser;
mod salvage;

pub use guard::Runaway;
pub(crate) use guard::{Cut, Guard, RUNAWAY, looping, looping_but_for_numbers};
pub use node::Node;
pub use parser::{ItemSpan, StreamParser};
pub(crate) use salvage::whole_items;

use crate::{Extract, PartialValue};

/// How a field's type appears in a typed partial value (`Partial<T>`), while a reply
/// streams. Every [`Extract`] type has it (its own `Partial`), and so do
/// `serde_json::Value`, maps with `String` or integer keys, shared and boxed text
/// (`Box<str>`, `Rc<str>`, `Arc<str>`, `Cow<'static, str>`), and the types of factum's `chrono`, `uuid`
/// and `url` features (read only once whole); implement it for another foreign field type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no partial form for streaming",
    label = "a field of this type cannot appear in the type's `Partial`",
    note = "on a type of your own, derive `factum::Extract` (or implement `factum::stream::PartialField`); for another crate's type, use a type factum extracts (`String` or `Box<str>` for text, lists, options, maps, numbers, `bool`) or mark the field `#[extract(stream(skip))]`"
)]
pub trait PartialField {
    /// What the field holds while its value streams.
    type Partial: PartialValue;

    /// The partial value `node` holds so far, or `None` when it holds nothing yet.
    fn partial_from(node: &Node) -> Option<Self::Partial>;
}

// Not recommended in diagnostics: for a field type that is neither `Extract` nor
// `PartialField`, the error names `PartialField` (with its note) instead of `Extract`.
#[diagnostic::do_not_recommend]
impl<T: Extract> PartialField for T {
    type Partial = T::Partial;

    fn partial_from(node: &Node) -> Option<Self::Partial> {
        T::partial_from(node)
    }
}

/// Shared and boxed text (`Box<str>`, `Rc<str>`, `Arc<str>`, `Cow<'static, str>`) streams
/// as a `String` does: its prefix so far.
macro_rules! partial_text {
    ($($ty:ty),*) => {$(
        // Not listed in diagnostics: "the following types implement it" would point every
        // missing impl at these four.
        #[diagnostic::do_not_recommend]
        impl PartialField for $ty {
            type Partial = String;

            fn partial_from(node: &Node) -> Option<String> {
                node.as_str().map(str::to_owned)
            }
        }
    )*};
}
partial_text!(
    Box<str>,
    std::rc::Rc<str>,
    std::sync::Arc<str>,
    std::borrow::Cow<'static, str>
);

/// Foreign values (dates, identifiers, links) extract as plain values, and stream only
/// once whole, since a prefix of one is no value of the type. As `Extract` types they also
/// work as roots and inside lists and maps.
#[cfg(any(feature = "chrono", feature = "uuid", feature = "url"))]
macro_rules! partial_once_whole {
    ($($ty:ty),*) => {$(
        impl Extract for $ty {
            type Partial = $ty;

            fn partial_from(node: &Node) -> Option<$ty> {
                node.complete()
            }
        }
    )*};
}
#[cfg(feature = "chrono")]
partial_once_whole!(
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::FixedOffset>,
    chrono::NaiveDate,
    chrono::NaiveTime,
    chrono::NaiveDateTime
);
#[cfg(feature = "uuid")]
partial_once_whole!(uuid::Uuid);
#[cfg(feature = "url")]
partial_once_whole!(url::Url);
