//! [`Node`]: a JSON value as far as the model has written it, with what is complete marked.
//! The streaming parser builds it; `Extract::partial_from` reads typed partial values out
//! of it.

use serde_json::{Map, Number, Value};

/// A JSON value as far as the model has written it.
///
/// Strings show their prefix; numbers and literals appear only once complete (a number
/// is complete when a delimiter follows it, so `3` never shows before `36`); objects and
/// arrays hold their members as they arrive, and say whether they closed. An object member
/// appears once its key is complete and its value has begun.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Node {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A complete number.
    Number(Number),
    /// A string: its text so far, and whether its closing quote arrived.
    String {
        /// The text so far, escapes decoded.
        text: String,
        /// Whether the closing quote arrived.
        complete: bool,
    },
    /// An array: its items so far, and whether it closed.
    Array {
        /// The items so far; the last may be incomplete.
        items: Vec<Node>,
        /// Whether `]` arrived.
        complete: bool,
    },
    /// An object: its members so far, in order, and whether it closed.
    Object {
        /// The members so far; the last value may be incomplete.
        members: Vec<(String, Node)>,
        /// Whether `}` arrived.
        complete: bool,
    },
}

impl Node {
    /// Whether the value is whole: closed, with every part inside it whole.
    pub fn is_complete(&self) -> bool {
        match self {
            Node::Null | Node::Bool(_) | Node::Number(_) => true,
            Node::String { complete, .. }
            | Node::Array { complete, .. }
            | Node::Object { complete, .. } => *complete,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// A string's text so far.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String { text, .. } => Some(text),
            _ => None,
        }
    }

    /// An object's member `key` (the last one, when the model repeated a key).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object { members, .. } => {
                members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// An object's member under the first of `keys` present: a field's name and aliases.
    pub fn get_any(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().find_map(|key| self.get(key))
    }

    /// An array's items so far (empty for anything else).
    pub fn items(&self) -> &[Node] {
        match self {
            Node::Array { items, .. } => items,
            _ => &[],
        }
    }

    /// An object's members so far (empty for anything else).
    pub fn members(&self) -> &[(String, Node)] {
        match self {
            Node::Object { members, .. } => members,
            _ => &[],
        }
    }

    /// The value as JSON, only when it is complete.
    pub fn to_value(&self) -> Option<Value> {
        self.is_complete().then(|| self.to_value_so_far())
    }

    /// The value as JSON as far as it goes: strings as their prefix, open containers with
    /// what they hold.
    pub fn to_value_so_far(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String { text, .. } => Value::String(text.clone()),
            Node::Array { items, .. } => {
                Value::Array(items.iter().map(Node::to_value_so_far).collect())
            }
            Node::Object { members, .. } => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value_so_far()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    /// A complete node holding `value`.
    pub fn from_value(value: Value) -> Node {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => Node::Number(n),
            Value::String(text) => Node::String {
                text,
                complete: true,
            },
            Value::Array(items) => Node::Array {
                items: items.into_iter().map(Node::from_value).collect(),
                complete: true,
            },
            Value::Object(map) => Node::Object {
                members: map
                    .into_iter()
                    .map(|(k, v)| (k, Node::from_value(v)))
                    .collect(),
                complete: true,
            },
        }
    }

    /// A complete value read with serde: numbers, literals, choices, foreign types.
    pub fn complete<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.to_value()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn complete_values_round_trip() {
        let value = json!({"a": [1, "x", null, true], "b": {"c": 2.5}});
        let node = Node::from_value(value.clone());
        assert!(node.is_complete());
        assert_eq!(node.to_value(), Some(value));
        assert_eq!(node.get("a").map(|a| a.items().len()), Some(4));
        assert_eq!(
            node.get_any(&["z", "b"])
                .and_then(|b| b.get("c"))
                .and_then(Node::complete::<f64>),
            Some(2.5)
        );
    }

    #[test]
    fn open_values_show_what_they_hold() {
        let node = Node::Object {
            members: vec![(
                "name".into(),
                Node::String {
                    text: "Jo".into(),
                    complete: false,
                },
            )],
            complete: false,
        };
        assert!(!node.is_complete());
        assert_eq!(node.to_value(), None);
        assert_eq!(node.to_value_so_far(), json!({"name": "Jo"}));
        assert_eq!(node.get("name").and_then(Node::as_str), Some("Jo"));
        assert_eq!(node.get("name").and_then(Node::complete::<String>), None);
    }
}
