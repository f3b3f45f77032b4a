//! A JSON *prefix* read into a [`Node`], as the streaming parser would have built it by
//! then: strings show their text so far, numbers and literals appear only once complete (a
//! number once a delimiter follows it), and an object member appears once its key is
//! complete and its value has begun. For the partial-value tests; not a validating parser.

use factum::stream::Node;

/// The node `prefix` holds so far, or `None` when no value has begun.
pub fn node(prefix: &str) -> Option<Node> {
    let mut reader = Reader {
        chars: prefix.chars().collect(),
        at: 0,
    };
    match reader.value() {
        Read::Whole(node) => Some(node),
        Read::Cut(node) => node,
    }
}

/// A value read to its end, or cut off by the end of the prefix with what it shows.
enum Read {
    Whole(Node),
    Cut(Option<Node>),
}

struct Reader {
    chars: Vec<char>,
    at: usize,
}

impl Reader {
    fn peek(&mut self) -> Option<char> {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
        self.chars.get(self.at).copied()
    }

    fn value(&mut self) -> Read {
        match self.peek() {
            None => Read::Cut(None),
            Some('{') => self.object(),
            Some('[') => self.array(),
            Some('"') => self.string(),
            Some(_) => self.scalar(),
        }
    }

    fn object(&mut self) -> Read {
        self.at += 1;
        let mut members = Vec::new();
        let open = |members| {
            Read::Cut(Some(Node::Object {
                members,
                complete: false,
            }))
        };
        loop {
            match self.peek() {
                None => return open(members),
                Some('}') => {
                    self.at += 1;
                    return Read::Whole(Node::Object {
                        members,
                        complete: true,
                    });
                }
                Some(',') => self.at += 1,
                Some(_) => {
                    let Read::Whole(Node::String { text: key, .. }) = self.string() else {
                        return open(members);
                    };
                    if self.peek() != Some(':') {
                        return open(members);
                    }
                    self.at += 1;
                    match self.value() {
                        Read::Whole(value) => members.push((key, value)),
                        Read::Cut(value) => {
                            members.extend(value.map(|v| (key, v)));
                            return open(members);
                        }
                    }
                }
            }
        }
    }

    fn array(&mut self) -> Read {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None => {
                    return Read::Cut(Some(Node::Array {
                        items,
                        complete: false,
                    }));
                }
                Some(']') => {
                    self.at += 1;
                    return Read::Whole(Node::Array {
                        items,
                        complete: true,
                    });
                }
                Some(',') => self.at += 1,
                Some(_) => match self.value() {
                    Read::Whole(item) => items.push(item),
                    Read::Cut(item) => {
                        items.extend(item);
                        return Read::Cut(Some(Node::Array {
                            items,
                            complete: false,
                        }));
                    }
                },
            }
        }
    }

    /// A string; an escape cut off at the end of the prefix shows nothing yet.
    fn string(&mut self) -> Read {
        self.at += 1;
        let mut text = String::new();
        while let Some(&c) = self.chars.get(self.at) {
            self.at += 1;
            match c {
                '"' => {
                    return Read::Whole(Node::String {
                        text,
                        complete: true,
                    });
                }
                '\\' => match self.escape() {
                    Some(c) => text.push(c),
                    None => break,
                },
                c => text.push(c),
            }
        }
        Read::Cut(Some(Node::String {
            text,
            complete: false,
        }))
    }

    fn escape(&mut self) -> Option<char> {
        let c = *self.chars.get(self.at)?;
        self.at += 1;
        Some(match c {
            'n' => '\n',
            't' => '\t',
            'u' => {
                let hex: String = self.chars.get(self.at..self.at + 4)?.iter().collect();
                self.at += 4;
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            other => other,
        })
    }

    /// A number or literal: shown once a delimiter follows it (a literal once whole).
    fn scalar(&mut self) -> Read {
        let start = self.at;
        while self
            .chars
            .get(self.at)
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '.'))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        let ended = self.at < self.chars.len();
        match text.as_str() {
            "true" => Read::Whole(Node::Bool(true)),
            "false" => Read::Whole(Node::Bool(false)),
            "null" => Read::Whole(Node::Null),
            number if ended => match serde_json::from_str(number) {
                Ok(n) => Read::Whole(Node::Number(n)),
                Err(_) => Read::Cut(None),
            },
            _ => Read::Cut(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn whole_text_reads_as_the_complete_value() {
        let value = json!({"a": [1, "x\n", null, true], "b": {"c": -2.5}});
        assert_eq!(node(&value.to_string()), Some(Node::from_value(value)));
    }

    #[test]
    fn cut_points_show_what_has_arrived() {
        assert_eq!(node("  "), None);
        let so_far = |prefix: &str| node(prefix).map(|n| n.to_value_so_far());
        assert_eq!(so_far(r#"{"age": 3"#), Some(json!({})));
        assert_eq!(so_far(r#"{"age": 36,"#), Some(json!({"age": 36})));
        assert_eq!(so_far(r#"{"na"#), Some(json!({})));
        assert_eq!(so_far(r#"{"name": "Jo"#), Some(json!({"name": "Jo"})));
        assert_eq!(so_far(r#"{"name": "J\"#), Some(json!({"name": "J"})));
        assert_eq!(so_far(r#"["a", tru"#), Some(json!(["a"])));
        assert!(
            !node(r#"{"a": "b"}"#.trim_end_matches('}'))
                .unwrap()
                .is_complete()
        );
    }
}
