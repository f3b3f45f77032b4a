use super::*;
use crate::transport::provider::Mode;
use crate::wire::Usage;
use crate::{Attempt, AttemptFailure};

fn attempt(failure: Option<AttemptFailure>) -> Attempt {
    Attempt {
        raw: "{}".into(),
        failure,
        usage: Usage::default(),
        node_id: None,
        mode: Mode::JsonObject,
        repairs: Vec::new(),
        finish_reason: Some("stop".into()),
        max_tokens: 2048,
        temperature: 0.0,
        seed: None,
        cached: false,
    }
}

/// A record of two attempts, the first re-asked, with `spans`.
fn extracted(spans: Vec<Span>) -> Extracted<()> {
    Extracted {
        value: (),
        usage: Usage {
            prompt_tokens: 100,
            completion_tokens: 23,
            total_tokens: 123,
        },
        attempts: vec![attempt(Some(AttemptFailure::Empty)), attempt(None)],
        node_id: Some("0xnode".into()),
        model: "qwen3.5:9b".into(),
        spans,
        failed_chunks: Vec::new(),
        cached: false,
    }
}

fn span(path: &str, value: &str, range: Option<Range<usize>>, quality: Match) -> Span {
    Span::new(path, value, range, quality)
}

/// A span over the first occurrence of `value` in `text`.
fn found(text: &str, path: &str, value: &str) -> Span {
    let start = text.find(value).expect("the value is in the text");
    span(path, value, Some(start..start + value.len()), Match::Exact)
}

/// One mark of the source block, read back from the page.
#[derive(Debug)]
struct Mark {
    spans: Vec<usize>,
    start: usize,
    end: usize,
    class: String,
    title: String,
    /// Where its text begins in the block's text, counted in bytes.
    offset: usize,
    text: String,
}

/// What an HTML parser reads back from escaped text: the five entities and `&#13;`.
pub(super) fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#13;", "\r")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

fn number(tag: &str, name: &str) -> usize {
    attr(tag, name).unwrap().parse().unwrap()
}

/// The source block's text, tags removed and references undone, and its marks. Text
/// outside tags holds no `<`: it is escaped.
fn read_source(page: &str) -> (String, Vec<Mark>) {
    let open = "<pre id=\"source\">\n";
    let start = page.find(open).unwrap() + open.len();
    let mut block = &page[start..start + page[start..].find("</pre>").unwrap()];
    let (mut text, mut marks) = (String::new(), Vec::new());
    while let Some(at) = block.find('<') {
        text.push_str(&unescape(&block[..at]));
        let rest = &block[at..];
        let (tag_end, close) = (rest.find('>').unwrap(), rest.find("</mark>").unwrap());
        let tag = &rest[..tag_end];
        let inner = unescape(&rest[tag_end + 1..close]);
        marks.push(Mark {
            spans: attr(tag, "data-spans")
                .unwrap()
                .split(' ')
                .map(|i| i.parse().unwrap())
                .collect(),
            start: number(tag, "data-start"),
            end: number(tag, "data-end"),
            class: attr(tag, "class").unwrap(),
            title: attr(tag, "title").unwrap(),
            offset: text.len(),
            text: inner.clone(),
        });
        text.push_str(&inner);
        block = &rest[close + "</mark>".len()..];
    }
    text.push_str(&unescape(block));
    (text, marks)
}

/// The page's panel entry of span `index`: its opening tag and its inner HTML.
fn entry(page: &str, index: usize) -> (String, String) {
    let key = format!("data-index=\"{index}\"");
    let at = page.find(&key).unwrap();
    let start = page[..at].rfind("<li").unwrap();
    let end = start + page[start..].find("</li>").unwrap();
    let tag_end = start + page[start..].find('>').unwrap();
    (
        page[start..tag_end].to_owned(),
        page[tag_end + 1..end].to_owned(),
    )
}

/// Checks that the page writes `text` once, that each mark sits at its offsets, and
/// that each drawn span is the run of marks naming it, from its start to its end.
fn assert_drawn(page: &str, text: &str, spans: &[Span]) {
    let (shown, marks) = read_source(page);
    assert_eq!(shown, text, "the page's text is the source, byte for byte");
    for mark in &marks {
        assert_eq!(mark.offset, mark.start, "{mark:?}");
        assert_eq!(mark.offset + mark.text.len(), mark.end, "{mark:?}");
    }
    for (i, span) in spans.iter().enumerate() {
        let Some(range) = span.range.clone().filter(|r| text.get(r.clone()).is_some()) else {
            assert!(marks.iter().all(|m| !m.spans.contains(&i)), "{i} drawn");
            continue;
        };
        let run: Vec<&Mark> = marks.iter().filter(|m| m.spans.contains(&i)).collect();
        assert!(!run.is_empty(), "span {i} is not drawn");
        assert_eq!(run[0].start, range.start, "span {i}");
        assert_eq!(run[run.len() - 1].end, range.end, "span {i}");
        assert!(run.windows(2).all(|w| w[0].end == w[1].start), "span {i}");
        let joined: String = run.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(joined, &text[range], "span {i}");
    }
}

#[test]
fn markup_in_the_text_and_the_values_is_escaped() {
    let text = "Name: <script>alert('x')</script> & \"Bo\"";
    let spans = vec![
        found(text, "/name", "<script>alert('x')</script>"),
        span(
            "/<b>\"'",
            "<img src=x onerror=alert(1)>",
            None,
            Match::NotFound,
        ),
    ];
    let page = html(text, &extracted(spans.clone()));
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("<b>"), "{page}");
    assert!(page.contains(">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</mark>"));
    assert!(
        page.contains("</mark> &amp; &quot;Bo&quot;</pre>"),
        "{page}"
    );
    assert!(
        page.contains("data-path=\"/&lt;b&gt;&quot;&#39;\""),
        "{page}"
    );
    assert!(
        page.contains("title=\"/name = &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; (exact)\"")
    );
    assert_drawn(&page, text, &spans);
}

#[test]
fn overlapping_and_nested_spans_write_each_byte_once() {
    let text = "Ada Lovelace, 12 St James's Square, London";
    let address = "12 St James's Square, London";
    let spans = vec![
        found(text, "/name", "Ada Lovelace"),
        found(text, "/first", "Ada"),
        found(text, "/address", address),
        found(text, "/city", "London"),
        // Crosses the name's end and the address's start.
        found(text, "/note", "Lovelace, 12"),
        // The same passage twice.
        found(text, "/town", "London"),
    ];
    let page = html(text, &extracted(spans.clone()));
    assert_drawn(&page, text, &spans);
    let (_, marks) = read_source(&page);
    let london = marks.iter().find(|m| m.text == "London").unwrap();
    assert_eq!(london.spans, [2, 3, 5]);
    assert!(london.class.contains("multi"), "{london:?}");
    assert_eq!(
        london.title,
        format!("/address = {address} (exact)\n/city = London (exact)\n/town = London (exact)")
    );
    let ada = marks.iter().find(|m| m.text == "Ada").unwrap();
    assert_eq!(ada.spans, [0, 1]);
    // Coloured by the innermost span: `/first`.
    assert!(ada.class.contains(" f1 "), "{ada:?}");
}

#[test]
fn spans_outside_the_text_are_listed_not_drawn() {
    let text = "Zoë, 34";
    let spans = vec![
        span("/a", "x", Some(5..999), Match::Exact),
        #[allow(clippy::reversed_empty_ranges, reason = "a caller may build one")]
        span("/b", "y", Some(6..2), Match::Exact),
        // Inside the two bytes of `ë`.
        span("/c", "z", Some(0..3), Match::Fuzzy(0.5)),
        span("/d", "34", Some(text.len() - 2..text.len()), Match::Exact),
        span("/e", "end", Some(text.len()..usize::MAX), Match::Exact),
    ];
    let page = html(text, &extracted(spans.clone()));
    assert_drawn(&page, text, &spans);
    for index in [0, 1, 2, 4] {
        let (tag, inner) = entry(&page, index);
        assert!(tag.contains(" unplaced"), "{tag}");
        assert!(!tag.contains("data-start"), "{tag}");
        assert!(inner.contains("not highlighted"), "{inner}");
    }
    assert!(!entry(&page, 3).0.contains("unplaced"));
    assert!(
        page.contains("data-count=\"4\">4 not highlighted"),
        "{page}"
    );
}

#[test]
fn values_not_found_are_listed_and_marked() {
    let text = "Ada Lovelace";
    let spans = vec![
        found(text, "/name", "Ada Lovelace"),
        span("/email", "ada@example.com", None, Match::NotFound),
        span("/age", "36", Some(0..3), Match::Fuzzy(0.625)),
    ];
    let page = html(text, &extracted(spans));
    let (tag, inner) = entry(&page, 1);
    assert!(
        tag.contains("class=\"field q-not-found not-found\""),
        "{tag}"
    );
    assert!(
        inner.contains("<span class=\"value\">ada@example.com</span>"),
        "{inner}"
    );
    assert!(inner.contains(">not found<"), "{inner}");
    assert!(!entry(&page, 0).0.contains("not-found"));
    assert!(
        entry(&page, 2).1.contains(">fuzzy 0.62<"),
        "{}",
        entry(&page, 2).1
    );
    assert!(page.contains("data-count=\"1\">1 not found"), "{page}");
    assert!(page.contains("data-count=\"1\">1 exact"), "{page}");
    assert!(page.contains("data-count=\"0\">0 normalized"), "{page}");
}

#[test]
fn multi_byte_text_keeps_byte_offsets() {
    let text = "Équipe: Zoë Ångström (34) — Ναταλία, 34\n日本語の名前: 山田太郎";
    let spans = vec![
        found(text, "/0/name", "Zoë Ångström"),
        found(text, "/1/name", "Ναταλία"),
        found(text, "/2/name", "山田太郎"),
        found(text, "/0/age", "34"),
    ];
    let page = html(text, &extracted(spans.clone()));
    assert_drawn(&page, text, &spans);
    let (_, marks) = read_source(&page);
    let yamada = marks.iter().find(|m| m.text == "山田太郎").unwrap();
    assert_eq!(yamada.start, text.find("山田太郎").unwrap());
    assert_eq!(yamada.end, text.len());
    let (tag, inner) = entry(&page, 2);
    assert!(
        tag.contains(&format!("data-start=\"{}\"", yamada.start)),
        "{tag}"
    );
    assert!(inner.contains("line 2,"), "{inner}");
}

#[test]
fn fields_share_a_colour_across_array_items() {
    let text = "Ada 36, Bo 41";
    let spans = vec![
        found(text, "/0/name", "Ada"),
        found(text, "/0/age", "36"),
        found(text, "/1/name", "Bo"),
        found(text, "/1/age", "41"),
    ];
    let page = html(text, &extracted(spans));
    let (_, marks) = read_source(&page);
    let classes: Vec<&str> = marks.iter().map(|m| m.class.as_str()).collect();
    assert_eq!(classes, ["seg f0", "seg f1", "seg f0", "seg f1"]);
    assert_eq!(field("/people/12/email"), "/people/email");
    assert_eq!(field("/0"), "");
}

#[test]
fn empty_ranges_and_carriage_returns_are_kept() {
    let text = "\nline one\r\nline two";
    let spans = vec![
        span("/gap", "", Some(1..1), Match::Exact),
        found(text, "/two", "two"),
        span("/end", "", Some(text.len()..text.len()), Match::Exact),
    ];
    let page = html(text, &extracted(spans.clone()));
    assert!(page.contains("<pre id=\"source\">\n\n<mark"), "{page}");
    assert!(page.contains("line one&#13;\nline"), "{page}");
    assert_drawn(&page, text, &spans);
    let (_, marks) = read_source(&page);
    assert!(marks[0].class.contains("empty"), "{:?}", marks[0]);
    assert_eq!((marks[0].start, marks[0].end), (1, 1));
    assert_eq!(marks[2].start, text.len());
}

#[test]
fn the_summary_names_the_model_attempts_and_tokens() {
    let page = html("text", &extracted(Vec::new()));
    for item in [
        "<dt>model</dt><dd>qwen3.5:9b</dd>",
        "<dt>attempts</dt><dd>2 (1 failed)</dd>",
        "<dt>tokens</dt><dd>123</dd>",
        "<dt>node</dt><dd>0xnode</dd>",
        "<dt>values</dt><dd>0</dd>",
        "<li value=\"1\">the reply was empty</li>",
        "No values to show",
    ] {
        assert!(page.contains(item), "{item} missing from {page}");
    }
    assert_eq!(read_source(&page).0, "text");
}

#[test]
fn failed_chunks_are_named_in_the_summary() {
    let mut out = extracted(Vec::new());
    out.failed_chunks.push(crate::ChunkFailure {
        chunk: 3,
        pass: 1,
        range: 120..480,
        error: std::sync::Arc::new(crate::Error::refused("<no>".into())),
    });
    let page = html("text", &out);
    assert!(page.contains("<dt>failed chunks</dt><dd>1</dd>"), "{page}");
    let item = "<li class=\"failed-chunk\" data-start=\"120\" data-end=\"480\">chunk 3 (pass 1), bytes 120\u{2013}480: ";
    assert!(page.contains(item), "{page}");
    assert!(page.contains("&lt;no&gt;"), "{page}");
    assert!(!html("text", &extracted(Vec::new())).contains("failed chunks"));
}

#[test]
fn the_page_loads_nothing_from_elsewhere() {
    let text = "see https://example.com/a.png";
    let page = html(
        text,
        &extracted(vec![found(text, "/url", "https://example.com/a.png")]),
    );
    for outside in ["src=", "href=", "@import", "url(", "<link"] {
        assert!(!page.contains(outside), "{outside} in {page}");
    }
}
