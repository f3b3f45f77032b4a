//! A reply cut off inside a list (by the runaway guard, or at the token limit), read as far
//! as its list is whole. Small models loop on lists (`A, B, C, C, C, …`); when every
//! attempt allowed has looped, the pipeline keeps what the last one wrote whole instead of
//! failing, and records that it did (see `RepairKind::CutList`).

use serde_json::Value;

use super::{Node, StreamParser};

/// What [`whole_items`] kept of a reply cut inside a list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Salvaged {
    /// The reply's value with the cut list closed after its last whole item, and every
    /// container around it closed.
    pub(crate) value: Value,
    /// JSON pointer to the cut list in `value`.
    pub(crate) path: String,
    /// The list's items kept.
    pub(crate) kept: usize,
    /// Items dropped: each repeat of the item just before it, and the item being written
    /// when the reply was cut.
    pub(crate) dropped: usize,
}

/// The value of a reply cut inside a list: the innermost list being written keeps its
/// whole items, each run of identical items once; the item it was writing is dropped.
/// `None` when the cut is not inside a list (a string or an object that never ended has
/// no whole part to keep), when the value closed, or when the text stopped being plain
/// JSON before the cut (the preview froze, so it does not hold everything written).
pub(crate) fn whole_items(raw: &str) -> Option<Salvaged> {
    let mut parser = StreamParser::new();
    // No `finish`: a number at the cut may be the start of a longer one.
    parser.feed(raw);
    if parser.is_frozen() || parser.is_closed() {
        return None;
    }
    let root = parser.snapshot()?.clone();
    let mut path = String::new();
    let (node, kept, dropped) = close(root, &mut path)?;
    Some(Salvaged {
        value: node.to_value()?,
        path,
        kept,
        dropped,
    })
}

/// `node` (open) closed along its last member or item down to the innermost open list:
/// the node, and the list's kept and dropped item counts; `path` ends at that list.
fn close(node: Node, path: &mut String) -> Option<(Node, usize, usize)> {
    match node {
        Node::Object {
            mut members,
            complete: false,
        } => {
            let (key, last) = members.pop()?;
            if last.is_complete() {
                return None;
            }
            crate::json::push_key(path, &key);
            let (inner, kept, dropped) = close(last, path)?;
            members.push((key, inner));
            Some((
                Node::Object {
                    members,
                    complete: true,
                },
                kept,
                dropped,
            ))
        }
        Node::Array {
            items,
            complete: false,
        } => Some(close_list(items, path)),
        _ => None,
    }
}

/// An open list closed: an item that was itself cut inside a list keeps that list's whole
/// items; otherwise the item being written is dropped and each run of repeats kept once.
fn close_list(mut items: Vec<Node>, path: &mut String) -> (Node, usize, usize) {
    let mut dropped = 0;
    if let Some(open) = items.pop_if(|item| !item.is_complete()) {
        let at = path.len();
        crate::json::push_index(path, items.len());
        if let Some((inner, kept, dropped)) = close(open, path) {
            items.push(inner);
            let node = Node::Array {
                items,
                complete: true,
            };
            return (node, kept, dropped);
        }
        path.truncate(at);
        dropped += 1;
    }
    let before = items.len();
    items.dedup();
    dropped += before - items.len();
    let kept = items.len();
    let node = Node::Array {
        items,
        complete: true,
    };
    (node, kept, dropped)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_looping_list_keeps_each_run_once_and_drops_the_item_being_written() {
        let raw = "{\"people\": [{\"name\": \"Ada\"}, {\"name\": \"Bo\"}, {\"name\": \"Bo\"}, \
                   {\"name\": \"Bo\"}, {\"name\": \"B";
        let cut = whole_items(raw).expect("cut inside a list");
        assert_eq!(
            cut.value,
            json!({"people": [{"name": "Ada"}, {"name": "Bo"}]})
        );
        assert_eq!(
            (cut.path.as_str(), cut.kept, cut.dropped),
            ("/people", 2, 3)
        );
    }

    #[test]
    fn a_pretty_printed_list_cut_inside_a_key_keeps_its_whole_items() {
        let raw = "{\n  \"people\": [\n    {\n      \"name\": \"Bo\"\n    },\n    {\n      \"";
        let cut = whole_items(raw).expect("cut inside a list");
        assert_eq!(cut.value, json!({"people": [{"name": "Bo"}]}));
        assert_eq!((cut.kept, cut.dropped), (1, 1));
    }

    #[test]
    fn an_item_that_loops_inside_its_string_is_dropped() {
        let raw = "[\"Ada\", \"John Doe, John Doe, John Doe, John Doe, John";
        let cut = whole_items(raw).expect("cut inside a list");
        assert_eq!(cut.value, json!(["Ada"]));
        assert_eq!((cut.path.as_str(), cut.kept, cut.dropped), ("", 1, 1));
    }

    #[test]
    fn the_innermost_open_list_is_the_one_cut() {
        let raw = "{\"teams\": [{\"name\": \"a\", \"members\": [\"x\", \"y\", \"y\", \"y";
        let cut = whole_items(raw).expect("cut inside a list");
        assert_eq!(
            cut.value,
            json!({"teams": [{"name": "a", "members": ["x", "y"]}]})
        );
        assert_eq!(
            (cut.path.as_str(), cut.kept, cut.dropped),
            ("/teams/0/members", 2, 2)
        );
    }

    #[test]
    fn a_cut_outside_a_list_or_after_the_value_closed_keeps_nothing() {
        assert_eq!(whole_items("{\"summary\": \"of note of note of no"), None);
        assert_eq!(whole_items("{\"a\": [1, 2], \"b\": 3"), None);
        assert_eq!(whole_items("[1, 2]"), None);
        assert_eq!(whole_items("no json at all"), None);
    }

    #[test]
    fn repeats_apart_are_kept_and_keys_are_escaped_in_the_path() {
        let raw = "{\"a/b\": [1, 2, 1, 2, 2, 3";
        let cut = whole_items(raw).expect("cut inside a list");
        // `3` may be the start of `36`: a number at the cut is not whole.
        assert_eq!(cut.value, json!({"a/b": [1, 2, 1, 2]}));
        assert_eq!((cut.path.as_str(), cut.kept, cut.dropped), ("/a~1b", 4, 1));
    }
}
