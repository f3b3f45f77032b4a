//! What the derive's `partial_from` calls: a field's node under its names, lists read item
//! by item, a variant's tag and content, and the serializer of an internally tagged
//! newtype variant whose content has not begun.

use serde::{Serialize, Serializer};

use crate::stream::{Node, PartialField};

/// Compiles only when `T` has a partial form; the derive calls it at each field's type.
pub fn assert_partial<T: ?Sized + PartialField>() {}

/// `node` when it is an object: a struct's partial exists once its `{` arrived.
pub fn open_object(node: &Node) -> Option<&Node> {
    matches!(node, Node::Object { .. }).then_some(node)
}

/// The member of `object` under the first of `keys`: a field's name, then its aliases.
pub fn member<'n>(object: Option<&'n Node>, keys: &[&str]) -> Option<&'n Node> {
    object.and_then(|o| o.get_any(keys))
}

/// `node` once it is complete: a `#[extract(stream(done))]` field.
pub fn done(node: Option<&Node>) -> Option<&Node> {
    node.filter(|n| n.is_complete())
}

/// An array's items, each read by `item`; items that hold nothing yet are left out.
/// `None` when `node` is no array.
pub fn list<T>(node: &Node, item: impl Fn(&Node) -> Option<T>) -> Option<Vec<T>> {
    match node {
        Node::Array { items, .. } => Some(items.iter().filter_map(item).collect()),
        _ => None,
    }
}

/// A variant's tag: a complete string (`"Cl"` could still become `"Click"` or `"Close"`).
pub fn tag(node: Option<&Node>) -> Option<&str> {
    done(node)?.as_str()
}

/// An externally tagged value's tag and content: a complete string names a unit variant;
/// an object's first key names the variant and its value is the content.
pub fn external(node: &Node) -> Option<(&str, Option<&Node>)> {
    match node {
        Node::String { .. } => Some((tag(Some(node))?, None)),
        Node::Object { members, .. } => {
            let (key, value) = members.first()?;
            Some((key.as_str(), Some(value)))
        }
        _ => None,
    }
}

/// Serializes an internally tagged newtype variant's content: serde writes the tag into
/// the content's map, so content that has not begun is an empty map (the tag alone).
pub fn content_or_empty<T: Serialize, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    match value {
        Some(value) => value.serialize(serializer),
        None => serializer.serialize_map(Some(0))?.end(),
    }
}
