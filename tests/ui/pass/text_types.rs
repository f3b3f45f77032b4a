//! Text behind a pointer is a string, with the constraints a `String` takes, and it
//! deserializes and streams as one.
use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use factum::Extract;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, Extract)]
struct Note {
    #[extract(length(min = 2, max = 40))]
    title: Box<str>,
    #[extract(pattern = "^[A-Z]{3}$")]
    code: Rc<str>,
    #[extract(grounded)]
    quote: Arc<str>,
    author: Cow<'static, str>,
    #[extract(allow_empty)]
    summary: Box<str>,
    subtitle: Option<Box<str>>,
    tag: Option<Rc<str>>,
    source: Option<Arc<str>>,
    #[extract(length(max = 9))]
    lang: Option<Cow<'static, str>>,
}

fn main() {
    let schema = factum::schema::<Note>();
    let props = &schema.json()["properties"];
    assert_eq!(props["title"], json!({"type": "string", "minLength": 2, "maxLength": 40}));
    assert_eq!(props["code"], json!({"type": "string", "pattern": "^[A-Z]{3}$"}));
    assert_eq!(props["quote"], json!({"type": "string", "minLength": 1, "x-grounded": true}));
    // A required text is not empty, as a `String` is not; `allow_empty` lifts it.
    assert_eq!(props["author"], json!({"type": "string", "minLength": 1}));
    assert_eq!(props["summary"], json!({"type": "string"}));
    for optional in ["subtitle", "tag", "source"] {
        assert_eq!(props[optional], json!({"type": ["string", "null"]}), "{optional}");
    }
    assert_eq!(props["lang"], json!({"type": ["string", "null"], "maxLength": 9}));
    assert_eq!(
        schema.json()["required"],
        json!(["title", "code", "quote", "author", "summary"])
    );

    let sample = json!({
        "title": "Minutes", "code": "ABC", "quote": "we agree", "author": "Ann",
        "summary": "", "subtitle": "draft", "tag": null, "source": "mail", "lang": "en"
    });
    assert!(schema.validate(&sample).is_ok());
    let note: Note = serde_json::from_value(sample).unwrap();
    assert_eq!(&*note.title, "Minutes");
    assert_eq!(&*note.code, "ABC");
    assert_eq!(&*note.quote, "we agree");
    assert_eq!(note.author, "Ann");
    assert_eq!(note.subtitle.as_deref(), Some("draft"));
    assert!(note.tag.is_none());
    assert_eq!(note.source.as_deref(), Some("mail"));
    assert_eq!(note.lang.as_deref(), Some("en"));
    assert!(schema.validate(&json!({
        "title": "M", "code": "abc", "quote": "", "author": "", "summary": ""
    }))
    .unwrap_err()
    .len() >= 4);

    // While a reply streams, each reads as its prefix so far, like a `String`.
    let mut parser = factum::stream::StreamParser::new();
    parser.feed(r#"{"title": "Minu"#);
    let partial: NotePartial = Note::partial_from(parser.snapshot().unwrap()).unwrap();
    assert_eq!(partial.title.as_deref(), Some("Minu"));
    assert_eq!(partial.code, None);
}
