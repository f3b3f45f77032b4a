//! The review page in a real browser: an extraction from a loopback server is rendered with
//! `factum::review::html`, opened in headless Chromium, and checked from the DOM the browser
//! built. A script appended to a copy of the page measures, with `TextEncoder`, the UTF-8
//! byte offset of every highlight within the rendered source text, and reports it with the
//! panel's entries as JSON in `<pre id="verdict">`, which `--dump-dom` prints; the test
//! compares that with each span's range and `&text[range]`.
//!
//! The first test renders the spans grounding found; the second sets spans by hand to
//! cover what grounding rarely yields (crossing and empty ranges, ranges out of the text).
//!
//! Chromium comes from `PATH` (`chromium`, Debian's package; `.ci/run` installs it). Without
//! it the tests fail when `CI` is set and are skipped with a message otherwise.

use std::io::Read as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use factum::{Extracted, Match, Provider, Span};
use factum_tests::http::{Person, chat, client, respond};
use serde::Deserialize;
use wiremock::MockServer;

/// The source text: several lines, multi-byte characters, markup to escape, a CRLF line
/// end, and values that appear twice (a name, an age, a city).
const TEXT: &str = "Équipe « Zürich » — roster, 2024\n\
1. Zoë Ångström, 34 ans, zoe@example.com, lead engineer.\r\n\
2. José Müller, 41, prefers the phone: +41 44 123 45 67.\n\
3. Ναταλία Παπαδοπούλου, 34, natalia@example.gr (mentor of Zoë Ångström).\n\
Note: <b>José</b> & Zoë share an office in Zürich.";

/// The model's reply: the three people, José with an email the text does not give.
const REPLY: &str = r#"{"person_list": [
    {"name": "Zoë Ångström", "age": 34, "email": "zoe@example.com"},
    {"name": "José Müller", "age": 41, "email": "jose.mueller@example.ch"},
    {"name": "Ναταλία Παπαδοπούλου", "age": 34, "email": "natalia@example.gr"}
]}"#;

/// Appended to a copy of the page: measures every mark's byte offsets in the rendered
/// source text and gathers, for each panel entry, the run of marks naming its span.
/// Non-ASCII is escaped in the JSON so that the DOM dump prints it as it is.
const CHECK: &str = r"<script>
(function () {
  var encoder = new TextEncoder();
  var source = document.getElementById('source');
  var marks = [], problems = [], offset = 0;
  source.childNodes.forEach(function (node) {
    var start = offset;
    offset += encoder.encode(node.textContent).length;
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (node.tagName !== 'MARK') problems.push('a ' + node.tagName + ' in the source');
      marks.push({ el: node, start: start, end: offset, text: node.textContent });
    }
  });
  marks.forEach(function (m) {
    if (Number(m.el.dataset.start) !== m.start || Number(m.el.dataset.end) !== m.end) {
      problems.push('mark ' + m.el.dataset.start + '..' + m.el.dataset.end
        + ' sits at ' + m.start + '..' + m.end);
    }
  });
  var entries = Array.prototype.map.call(document.querySelectorAll('#fields li.field'), function (li) {
    var index = li.dataset.index;
    var run = marks.filter(function (m) { return m.el.dataset.spans.split(' ').indexOf(index) >= 0; });
    var path = li.querySelector('.path').textContent;
    return {
      index: Number(index),
      path: li.dataset.path,
      value: li.querySelector('.value').textContent,
      quality: li.querySelector('.quality').textContent,
      classes: li.className,
      start: li.dataset.start === undefined ? null : Number(li.dataset.start),
      end: li.dataset.end === undefined ? null : Number(li.dataset.end),
      marks: run.length,
      run_start: run.length ? run[0].start : null,
      run_end: run.length ? run[run.length - 1].end : null,
      contiguous: run.every(function (m, k) { return k === 0 || run[k - 1].end === m.start; }),
      text: run.map(function (m) { return m.text; }).join(''),
      titled: run.every(function (m) { return m.el.title.indexOf(path + ' = ') >= 0; })
    };
  });
  var verdict = { source: source.textContent, problems: problems, marks: marks.length, entries: entries };
  var out = document.createElement('pre');
  out.id = 'verdict';
  out.textContent = JSON.stringify(verdict).replace(/[^\x20-\x7e]|[<>&]/g, function (c) {
    return '\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4);
  });
  document.body.appendChild(out);
})();
</script>
";

/// What [`CHECK`] reports.
#[derive(Debug, Deserialize)]
struct Verdict {
    source: String,
    problems: Vec<String>,
    marks: usize,
    entries: Vec<Entry>,
}

/// One panel entry as the browser shows it, with the marks naming its span.
#[derive(Debug, Deserialize)]
struct Entry {
    index: usize,
    path: String,
    value: String,
    quality: String,
    classes: String,
    start: Option<usize>,
    end: Option<usize>,
    marks: usize,
    run_start: Option<usize>,
    run_end: Option<usize>,
    contiguous: bool,
    text: String,
    titled: bool,
}

/// Chromium on `PATH`; `None` (after saying so) when it is absent outside CI.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not on PATH; the review-page test needs it \
             (apt-get install chromium, as .ci/run does)"
        );
        eprintln!("skipped: chromium is not on PATH (apt-get install chromium)");
    }
    found
}

/// Extracts the people of [`TEXT`] from a loopback server answering [`REPLY`].
async fn extract_people() -> Extracted<Vec<Person>> {
    let server = MockServer::start().await;
    respond(&server, chat(REPLY, 300, 90)).await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>(TEXT)
        .send()
        .await
        .expect("the extraction succeeds");
    assert_eq!(out.value.len(), 3);
    assert_eq!(out.value[1].name, "José Müller");
    out
}

/// Loads `page` with [`CHECK`] appended in headless Chromium and returns the verdict.
fn browse(chromium: &Path, page: &str, name: &str) -> Verdict {
    let dir = std::env::temp_dir().join(format!("factum-review-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("review.html"), page).unwrap();
    let checked = page.replacen("</body>", &format!("{CHECK}</body>"), 1);
    assert_ne!(checked, page, "the page has a </body>");
    let file = dir.join("checked.html");
    std::fs::write(&file, checked).unwrap();
    let dom = dump_dom(chromium, &file, &dir.join("profile"));
    let start = dom
        .find("<pre id=\"verdict\">")
        .unwrap_or_else(|| panic!("no verdict in the dumped DOM:\n{dom}"))
        + "<pre id=\"verdict\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let verdict = serde_json::from_str(&dom[start..end]).expect("the verdict is JSON");
    let _ = std::fs::remove_dir_all(&dir);
    verdict
}

/// Chromium's `--dump-dom` of `file`, with its own profile so that tests can run at once.
fn dump_dom(chromium: &Path, file: &Path, profile: &Path) -> String {
    let started = Instant::now();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        stdout.read_to_string(&mut dom).map(|_| dom)
    });
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let dom = reader.join().unwrap().expect("chromium's output is UTF-8");
    eprintln!("chromium dumped the DOM in {:.2?}", started.elapsed());
    dom
}

/// A span's range when the page can draw it.
fn drawable(text: &str, span: &Span) -> Option<Range<usize>> {
    span.range.clone().filter(|r| text.get(r.clone()).is_some())
}

/// The browser shows `text` once and every span of `spans` as the page promises.
fn assert_page(text: &str, spans: &[Span], verdict: &Verdict) {
    assert!(verdict.problems.is_empty(), "{:#?}", verdict.problems);
    assert_eq!(verdict.source, text, "the rendered text is the source");
    assert_eq!(verdict.entries.len(), spans.len(), "one entry per span");
    for (i, (span, entry)) in spans.iter().zip(&verdict.entries).enumerate() {
        assert_eq!(entry.index, i);
        assert_eq!(entry.path, span.path, "{entry:?}");
        assert_eq!(entry.value, span.value, "{entry:?}");
        let not_found = span.quality == Match::NotFound;
        assert_eq!(entry.classes.contains("not-found"), not_found, "{entry:?}");
        assert_eq!(entry.quality == "not found", not_found, "{entry:?}");
        match drawable(text, span) {
            Some(range) => assert_highlighted(text, &range, entry),
            None => assert_eq!(entry.marks, 0, "{entry:?} is drawn"),
        }
    }
}

/// The marks naming a span run, without a gap, over exactly its range of `text`.
fn assert_highlighted(text: &str, range: &Range<usize>, entry: &Entry) {
    assert!(entry.marks > 0, "{entry:?} is not highlighted");
    assert_eq!(
        (entry.start, entry.end),
        (Some(range.start), Some(range.end))
    );
    assert_eq!(
        (entry.run_start, entry.run_end),
        (Some(range.start), Some(range.end)),
        "{entry:?}: the highlight is not at the span's offsets"
    );
    assert!(entry.contiguous, "{entry:?}");
    assert_eq!(entry.text, &text[range.clone()], "{entry:?}");
    assert!(entry.titled, "{entry:?}: a mark's title does not name it");
}

#[tokio::test]
async fn every_grounded_value_is_highlighted_at_its_offset() {
    let Some(chromium) = chromium() else { return };
    let out = extract_people().await;
    assert!(
        !out.spans.is_empty(),
        "the extraction has no spans: grounding (core/src/ground) fills Extracted::spans"
    );
    assert!(
        out.spans.iter().any(|s| s.range.is_some()),
        "{:#?}",
        out.spans
    );
    let page = factum::review::html(TEXT, &out);
    let verdict = browse(&chromium, &page, "grounded");
    assert_page(TEXT, &out.spans, &verdict);
    assert!(verdict.marks > 0);
    // José's email is nowhere in the text: listed, and marked so.
    let invented = verdict
        .entries
        .iter()
        .find(|e| e.path == "/1/email")
        .unwrap();
    assert!(invented.classes.contains("not-found"), "{invented:?}");
    assert_eq!(invented.marks, 0, "{invented:?}");
}

/// Spans of [`TEXT`] set by hand over passages: path, value, the passage and which of its
/// occurrences, quality. Repeated values, nested spans (a name in a line) and crossing
/// ones (a name's end with an age) are all there.
const PASSAGES: [(&str, &str, &str, usize, Match); 12] = [
    ("/0/name", "Zoë Ångström", "Zoë Ångström", 0, Match::Exact),
    ("/0/age", "34", "34", 0, Match::Exact),
    (
        "/0/email",
        "zoe@example.com",
        "zoe@example.com",
        0,
        Match::Exact,
    ),
    ("/1/name", "José Müller", "José Müller", 0, Match::Exact),
    (
        "/2/name",
        "Ναταλία Παπαδοπούλου",
        "Ναταλία Παπαδοπούλου",
        0,
        Match::Exact,
    ),
    ("/2/age", "34", "34", 1, Match::Exact),
    (
        "/2/mentor",
        "zoe angstrom",
        "Zoë Ångström",
        1,
        Match::Normalized,
    ),
    ("/team", "Zurich", "Zürich", 0, Match::Normalized),
    (
        "/cross",
        "Παπαδοπούλου 34",
        "Παπαδοπούλου, 34",
        0,
        Match::Fuzzy(0.9),
    ),
    ("/office", "Zürich", "Zürich", 1, Match::Exact),
    ("/markup", "<b>José</b>", "<b>José</b>", 0, Match::Exact),
    (
        "/entry",
        "the first person's line",
        "1. Zoë Ångström, 34 ans, zoe@example.com, lead engineer.",
        0,
        Match::Fuzzy(0.41),
    ),
];

fn span(path: &str, value: &str, range: Option<Range<usize>>, quality: Match) -> Span {
    Span::new(path, value, range, quality)
}

/// [`PASSAGES`], then spans the page cannot draw or draws empty: not found, empty, out of
/// the text, and inside a character.
fn hand_spans() -> Vec<Span> {
    let mut spans: Vec<Span> = PASSAGES
        .iter()
        .map(|&(path, value, passage, nth, quality)| {
            let start = TEXT.match_indices(passage).nth(nth).expect("in the text").0;
            span(path, value, Some(start..start + passage.len()), quality)
        })
        .collect();
    let note = TEXT.find("Note").unwrap();
    spans.extend([
        span("/1/email", "jose.mueller@example.ch", None, Match::NotFound),
        span("/here", "", Some(note..note), Match::Exact),
        span("/outside", "x", Some(3..TEXT.len() + 1), Match::Exact),
        // `É` is the text's first two bytes.
        span("/inside", "É", Some(1..4), Match::Fuzzy(0.2)),
    ]);
    spans
}

#[tokio::test]
async fn hand_set_spans_are_highlighted_at_their_offsets() {
    let Some(chromium) = chromium() else { return };
    let mut out = extract_people().await;
    out.spans = hand_spans();
    let page = factum::review::html(TEXT, &out);
    let verdict = browse(&chromium, &page, "hand");
    assert_page(TEXT, &out.spans, &verdict);
    let entry = |path: &str| verdict.entries.iter().find(|e| e.path == path).unwrap();
    for path in ["/outside", "/inside"] {
        assert!(
            entry(path).classes.contains("unplaced"),
            "{:?}",
            entry(path)
        );
    }
    assert!(entry("/1/email").classes.contains("not-found"));
    assert_eq!(entry("/entry").quality, "fuzzy 0.41");
    assert_eq!(entry("/here").marks, 1, "the empty span is one empty mark");
    // The line is cut around the name, the age and the email nested in it.
    assert_eq!(entry("/entry").marks, 7, "{:?}", entry("/entry"));
    // The name's end and the age are cut where `/cross` starts and ends.
    assert_eq!(entry("/2/name").marks, 2, "{:?}", entry("/2/name"));
    assert_eq!(entry("/cross").marks, 3, "{:?}", entry("/cross"));
}
