//! Streaming: replies read as they are written. [`Node`] is a JSON value as far as the model
//! has written it; [`PartialField`] says how a field's type appears in a partial value.

mod guard;
mod node;
mod parser;

pub use guard::Runaway;
pub(crate) use guard::{Cut, Guard, RUNAWAY};
pub use node::Node;
pub use parser::{ItemSpan, StreamParser};

use crate::{Extract, PartialValue};

/// How a field's type appears in a typed partial value (`Partial<T>`), while a reply
/// streams. Every [`Extract`] type has it (its own `Partial`); implement it for a foreign
/// field type that is read only once whole, as factum does for the types of its `chrono`,
/// `uuid` and `url` features.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no partial form for streaming",
    label = "a field of this type cannot appear in the type's `Partial`",
    note = "derive `factum::Extract` on it, implement `factum::stream::PartialField` for it, or mark the field `#[extract(stream(skip))]`"
)]
pub trait PartialField {
    /// What the field holds while its value streams.
    type Partial: PartialValue;

    /// The partial value `node` holds so far, or `None` when it holds nothing yet.
    fn partial_from(node: &Node) -> Option<Self::Partial>;
}

impl<T: Extract> PartialField for T {
    type Partial = T::Partial;

    fn partial_from(node: &Node) -> Option<Self::Partial> {
        T::partial_from(node)
    }
}
