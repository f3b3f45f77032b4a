//! The review page: one self-contained HTML document that shows an extraction over its
//! source text, each grounded value highlighted where it was found and listed beside it.
//!
//! [`html`] needs only the text and the [`Extracted`] record. The page loads nothing from
//! elsewhere (no scripts, styles, fonts or images), so it can be saved, mailed or attached
//! to a ticket as it is. A small inline script links a highlight and its entry in the list
//! on hover; without it, each highlight's `title` still names its values.

use std::fmt::Write as _;
use std::ops::Range;

use crate::{Extracted, Match, Span};

/// Highlight colours, one per field (the path without its array indices) in the order the
/// fields first appear; a page with more fields reuses them from the start. Light enough
/// for dark text, and far enough apart to tell neighbours apart.
const PALETTE: [&str; 10] = [
    "#ffe08a", "#a7e3b0", "#a9cfff", "#ffb8c9", "#d7bfff", "#ffcc99", "#92e0da", "#e3e38c",
    "#f4b3ee", "#c6d9a6",
];

/// The page's stylesheet, inlined; the `.fN` and `.uN` colour classes follow it.
const STYLE: &str = "\
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d1d1f;background:#f6f6f4}
header{padding:12px 20px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:18px;margin:0 0 6px}
h2{font-size:14px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.05em;color:#666}
#summary{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0}
#summary div{display:flex;gap:6px}#summary dt{color:#666}#summary dd{margin:0;font-weight:600}
.counts{margin:8px 0 0;display:flex;flex-wrap:wrap;gap:6px}
.count{padding:1px 8px;border-radius:10px;background:#eee;font-size:13px}
.count.zero{opacity:.45}
.count.q-exact{background:#dcefdc}.count.q-normalized{background:#dfe8f8}
.count.q-fuzzy{background:#fbecc8}.count.q-not-found{background:#f8d4d4}
.count.unplaced{background:#fff;border:1px dashed #999}
details{margin-top:8px;font-size:13px}
main{display:flex;flex-wrap:wrap;gap:20px;padding:20px}
.source{flex:3 1 420px;min-width:0}
.fields{flex:2 1 300px;min-width:0;position:sticky;top:0;align-self:flex-start;\
max-height:100vh;overflow:auto}
.hint{font-size:12px;color:#777;margin:6px 0 0}
#source{margin:0;padding:14px;background:#fff;border:1px solid #ddd;border-radius:6px;\
white-space:pre-wrap;overflow-wrap:anywhere;font:14px/1.7 ui-monospace,monospace}
mark.seg{color:inherit;border-radius:2px;padding:1px 0;cursor:help}
mark.multi{border-bottom:3px solid #555}
mark.empty{display:inline-block;width:0;height:1.2em;vertical-align:text-bottom;\
border-left:2px solid #555}
mark.lit,li.lit{outline:2px solid #1d1d1f}
#fields{list-style:none;margin:0;padding:0}
li.field{display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 8px;padding:6px 8px;\
margin-bottom:4px;background:#fff;border:1px solid #ddd;border-radius:6px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;flex:none}
.path{font:13px ui-monospace,monospace;color:#555}
.value{font-weight:600;overflow-wrap:anywhere}
.quality{font-size:12px;padding:0 6px;border-radius:8px;background:#e8f3e8}
.where{font-size:12px;color:#777;width:100%}
.q-normalized .quality{background:#e6eefb}.q-fuzzy .quality{background:#fdf0d5}
li.not-found{background:#fff1f1;border-color:#e8a0a0}
li.not-found .quality{background:#c62828;color:#fff}
li.unplaced{border-style:dashed}
";

/// Links the highlights and the list on hover, and scrolls to a value's first highlight
/// when its entry is clicked. The page works without it.
const SCRIPT: &str = "<script>
(function () {
  function each(selector, f) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), f);
  }
  function covers(mark, index) {
    return (' ' + mark.dataset.spans + ' ').indexOf(' ' + index + ' ') >= 0;
  }
  function light(index, on) {
    each('#source mark.seg', function (m) { if (covers(m, index)) m.classList.toggle('lit', on); });
    each('#fields li[data-index=\"' + index + '\"]', function (li) { li.classList.toggle('lit', on); });
  }
  each('#fields li.field', function (li) {
    var index = li.dataset.index;
    li.addEventListener('mouseenter', function () { light(index, true); });
    li.addEventListener('mouseleave', function () { light(index, false); });
    li.addEventListener('click', function () {
      var first = Array.prototype.find.call(document.querySelectorAll('#source mark.seg'),
        function (m) { return covers(m, index); });
      if (first) first.scrollIntoView({ block: 'center', behavior: 'smooth' });
    });
  });
  each('#source mark.seg', function (m) {
    var spans = m.dataset.spans.split(' ');
    m.addEventListener('mouseenter', function () { spans.forEach(function (i) { light(i, true); }); });
    m.addEventListener('mouseleave', function () { spans.forEach(function (i) { light(i, false); }); });
  });
})();
</script>
";

/// Renders an extraction as one self-contained HTML page for a person to review.
///
/// The page has three parts:
///
/// - a summary: the model, the attempts (with each failed one's reason), the tokens, and
///   how many values were found exactly, normalized, fuzzily or not at all;
/// - the source text, whitespace kept, with every span whose range lies in `text`
///   highlighted, coloured by field (`/0/name` and `/1/name` share a colour);
/// - the list of every span: its path, value and match quality, values not found marked
///   "not found", fuzzy ones with their score.
///
/// Spans may overlap or nest. The text is cut at every span boundary and each piece is
/// written once, as a `<mark class="seg">` when spans cover it; a mark's `data-spans`
/// holds the indices (into `out.spans`) of the spans covering it, `data-start` and
/// `data-end` its byte offsets in `text`, `title` each covering span's path and value.
/// A span of `out.spans[i]` is thus the run of marks whose `data-spans` holds `i`, and the
/// list entry `li[data-index=i]` carries the span's own `data-start` and `data-end`. An
/// empty range is an empty mark at its offset.
///
/// Everything taken from the text and the values is HTML-escaped; a carriage return is
/// written as a character reference so that the page's text keeps it (a NUL, which HTML
/// cannot hold, shows as U+FFFD). A span whose range is out of the text or not on char
/// boundaries is listed, marked "not highlighted", and not drawn. This never panics.
///
/// # Examples
///
/// ```no_run
/// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
/// # async fn run(client: factum::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let text = "Ada Lovelace wrote the first program.";
/// let out = client.extraction::<Vec<Person>>(text).send().await?;
/// std::fs::write("review.html", factum::review::html(text, &out))?;
/// # Ok(()) }
/// ```
pub fn html<T>(text: &str, out: &Extracted<T>) -> String {
    let page = Page::new(text, &out.spans);
    let mut html = String::with_capacity(text.len() * 2 + 200 * out.spans.len() + 8192);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str("<title>factum review: ");
    escape_into(&mut html, &out.model);
    html.push_str("</title>\n");
    style(&mut html);
    html.push_str("</head>\n<body>\n");
    summary(&mut html, out, &page);
    html.push_str("<main>\n");
    page.source(&mut html);
    page.panel(&mut html);
    html.push_str("</main>\n");
    html.push_str(SCRIPT);
    html.push_str("</body>\n</html>\n");
    html
}

/// The stylesheet with one background class (`.fN`) and one underline class (`.uN`) per
/// palette colour.
fn style(html: &mut String) {
    html.push_str("<style>\n");
    html.push_str(STYLE);
    for (i, colour) in PALETTE.iter().enumerate() {
        let _ = writeln!(
            html,
            ".f{i}{{background:{colour}}}mark.u{i}{{border-bottom-color:{}}}",
            darker(colour)
        );
    }
    html.push_str("</style>\n");
}

/// A palette colour at half its brightness, for underlines that show on the light ones.
fn darker(colour: &str) -> String {
    let channel = |i: usize| u8::from_str_radix(&colour[i..i + 2], 16).unwrap_or(0) / 2;
    format!("#{:02x}{:02x}{:02x}", channel(1), channel(3), channel(5))
}

/// The header: model, attempts, tokens, node, and the count of spans by quality.
fn summary<T>(html: &mut String, out: &Extracted<T>, page: &Page<'_>) {
    html.push_str("<header>\n<h1>Extraction review</h1>\n<dl id=\"summary\">\n");
    let failed = out.attempts.iter().filter(|a| a.failure.is_some()).count();
    let attempts = match failed {
        0 => out.attempts.len().to_string(),
        n => format!("{} ({n} failed)", out.attempts.len()),
    };
    let mut items = vec![
        ("model", out.model.clone()),
        ("attempts", attempts),
        ("tokens", out.usage.total_tokens.to_string()),
    ];
    if let Some(node) = &out.node_id {
        items.push(("node", node.clone()));
    }
    if !out.failed_chunks.is_empty() {
        items.push(("failed chunks", out.failed_chunks.len().to_string()));
    }
    items.push(("values", out.spans.len().to_string()));
    for (name, value) in items {
        let _ = write!(
            html,
            "<div data-item=\"{}\"><dt>{name}</dt><dd>",
            name.replace(' ', "-")
        );
        escape_into(html, &value);
        html.push_str("</dd></div>\n");
    }
    html.push_str("</dl>\n");
    counts(html, page);
    failures(html, out);
    html.push_str("</header>\n");
}

/// One badge per quality with its count, and one for the spans that cannot be drawn.
fn counts(html: &mut String, page: &Page<'_>) {
    let mut counts = [0usize; 4];
    for span in page.spans {
        counts[quality_rank(span.quality)] += 1;
    }
    html.push_str("<p class=\"counts\">");
    for (rank, name) in ["exact", "normalized", "fuzzy", "not-found"]
        .iter()
        .enumerate()
    {
        let n = counts[rank];
        let zero = if n == 0 { " zero" } else { "" };
        let word = name.replace('-', " ");
        let _ = write!(
            html,
            "<span class=\"count q-{name}{zero}\" data-count=\"{n}\">{n} {word}</span>"
        );
    }
    let unplaced = page.unplaced();
    if unplaced > 0 {
        let _ = write!(
            html,
            "<span class=\"count unplaced\" data-count=\"{unplaced}\">{unplaced} not highlighted</span>"
        );
    }
    html.push_str("</p>\n");
}

/// The reason each failed attempt was re-asked, and each chunk left out of a partial
/// result, folded away.
fn failures<T>(html: &mut String, out: &Extracted<T>) {
    failed_attempts(html, out);
    if out.failed_chunks.is_empty() {
        return;
    }
    html.push_str("<details open><summary>failed chunks: their values are missing</summary><ol>\n");
    for failed in &out.failed_chunks {
        let _ = write!(
            html,
            "<li class=\"failed-chunk\" data-start=\"{}\" data-end=\"{}\">chunk {} (pass {}), \
             bytes {}\u{2013}{}: ",
            failed.range.start,
            failed.range.end,
            failed.chunk,
            failed.pass,
            failed.range.start,
            failed.range.end
        );
        escape_into(html, &failed.error.to_string());
        html.push_str("</li>\n");
    }
    html.push_str("</ol></details>\n");
}

/// Each failed attempt's reason.
fn failed_attempts<T>(html: &mut String, out: &Extracted<T>) {
    let failed: Vec<_> = out
        .attempts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.failure.as_ref().map(|f| (i + 1, f)))
        .collect();
    if failed.is_empty() {
        return;
    }
    html.push_str("<details><summary>failed attempts</summary><ol>\n");
    for (number, failure) in failed {
        let _ = write!(html, "<li value=\"{number}\">");
        escape_into(html, &failure.to_string());
        html.push_str("</li>\n");
    }
    html.push_str("</ol></details>\n");
}

/// The spans of one page, with what drawing them needs.
struct Page<'a> {
    text: &'a str,
    spans: &'a [Span],
    /// Each span's range when it can be drawn: inside the text, on char boundaries.
    placed: Vec<Option<Range<usize>>>,
    /// Each span's palette index.
    colours: Vec<usize>,
    /// The offset of every `\n` in the text, to number the lines of long texts quickly.
    newlines: Vec<usize>,
}

impl<'a> Page<'a> {
    fn new(text: &'a str, spans: &'a [Span]) -> Page<'a> {
        let placed = spans
            .iter()
            .map(|s| s.range.clone().filter(|r| text.get(r.clone()).is_some()))
            .collect();
        Page {
            text,
            spans,
            placed,
            colours: colours(spans),
            newlines: text.match_indices('\n').map(|(i, _)| i).collect(),
        }
    }

    /// How many spans have a range that cannot be drawn.
    fn unplaced(&self) -> usize {
        self.spans
            .iter()
            .zip(&self.placed)
            .filter(|(s, p)| s.range.is_some() && p.is_none())
            .count()
    }

    fn range(&self, index: usize) -> Range<usize> {
        self.placed[index].clone().unwrap_or_default()
    }

    /// Every offset where a drawn span starts or ends, and both ends of the text, in order.
    fn boundaries(&self) -> Vec<usize> {
        let mut bounds = vec![0, self.text.len()];
        for range in self.placed.iter().flatten() {
            bounds.extend([range.start, range.end]);
        }
        bounds.sort_unstable();
        bounds.dedup();
        bounds
    }

    /// The source text, cut at every boundary; each piece is written once, in a mark when
    /// spans cover it.
    fn source(&self, html: &mut String) {
        html.push_str("<section class=\"source\">\n<h2>Source text</h2>\n");
        // The HTML parser drops one newline right after `<pre>`: this one, so that a text
        // that starts with a newline keeps it.
        html.push_str("<pre id=\"source\">\n");
        let mut starts: Vec<usize> = (0..self.spans.len())
            .filter(|&i| self.placed[i].is_some())
            .collect();
        starts.sort_by_key(|&i| (self.range(i).start, i));
        let mut starts = starts.into_iter().peekable();
        let bounds = self.boundaries();
        let mut active: Vec<usize> = Vec::new();
        for (i, &at) in bounds.iter().enumerate() {
            active.retain(|&s| self.range(s).end > at);
            while let Some(s) = starts.next_if(|&s| self.range(s).start == at) {
                if self.range(s).is_empty() {
                    self.mark(html, at..at, &[s]);
                } else {
                    active.push(s);
                }
            }
            if let Some(&to) = bounds.get(i + 1) {
                self.piece(html, at..to, &mut active);
            }
        }
        html.push_str("</pre>\n");
        if self.placed.iter().any(Option::is_some) {
            html.push_str(
                "<p class=\"hint\">Hover a highlight for its values; an underlined passage \
                 holds more than one.</p>\n",
            );
        }
        html.push_str("</section>\n");
    }

    /// One piece of the text: plain when no span covers it, else a mark.
    fn piece(&self, html: &mut String, range: Range<usize>, active: &mut [usize]) {
        if active.is_empty() {
            escape_into(html, &self.text[range]);
        } else {
            active.sort_unstable();
            self.mark(html, range, active);
        }
    }

    /// A mark over `range`, covered by the spans `covering` (in index order): coloured by
    /// the shortest of them, underlined in the longest other's colour when there are more.
    fn mark(&self, html: &mut String, range: Range<usize>, covering: &[usize]) {
        let by_length = |&i: &usize| self.range(i).len();
        let inner = covering.iter().copied().min_by_key(by_length).unwrap_or(0);
        let _ = write!(html, "<mark class=\"seg f{}", self.colours[inner]);
        if range.is_empty() {
            html.push_str(" empty");
        }
        let outer = covering
            .iter()
            .copied()
            .filter(|&i| i != inner)
            .max_by_key(by_length);
        if let Some(outer) = outer {
            let _ = write!(html, " multi u{}", self.colours[outer]);
        }
        html.push_str("\" data-spans=\"");
        for (n, i) in covering.iter().enumerate() {
            let _ = write!(html, "{}{i}", if n == 0 { "" } else { " " });
        }
        html.push_str("\" data-path=\"");
        escape_into(html, &self.spans[inner].path);
        let _ = write!(
            html,
            "\" data-start=\"{}\" data-end=\"{}\" title=\"",
            range.start, range.end
        );
        for (n, &i) in covering.iter().enumerate() {
            if n > 0 {
                html.push('\n');
            }
            escape_into(html, &describe(&self.spans[i]));
        }
        html.push_str("\">");
        escape_into(html, &self.text[range]);
        html.push_str("</mark>");
    }

    /// The side panel: every span, in the value's order.
    fn panel(&self, html: &mut String) {
        html.push_str("<aside class=\"fields\">\n<h2>Fields</h2>\n");
        if self.spans.is_empty() {
            html.push_str(
                "<p class=\"none\">No values to show: the value has no string, number or \
                 bool leaf, or it was not grounded.</p>\n",
            );
        }
        html.push_str("<ol id=\"fields\">\n");
        for index in 0..self.spans.len() {
            self.entry(html, index);
        }
        html.push_str("</ol>\n</aside>\n");
    }

    /// One span's entry in the panel.
    fn entry(&self, html: &mut String, index: usize) {
        let span = &self.spans[index];
        let quality = quality_class(span.quality);
        let _ = write!(html, "<li class=\"field q-{quality}");
        if span.quality == Match::NotFound {
            html.push_str(" not-found");
        }
        let placed = self.placed[index].as_ref();
        if span.range.is_some() && placed.is_none() {
            html.push_str(" unplaced");
        }
        let _ = write!(
            html,
            "\" data-index=\"{index}\" data-quality=\"{quality}\" data-path=\""
        );
        escape_into(html, &span.path);
        if let Some(range) = placed {
            let _ = write!(
                html,
                "\" data-start=\"{}\" data-end=\"{}",
                range.start, range.end
            );
        }
        html.push_str("\" title=\"");
        escape_into(html, &describe(span));
        let _ = write!(
            html,
            "\"><span class=\"swatch f{}\"></span><code class=\"path\">",
            self.colours[index]
        );
        escape_into(html, display_path(&span.path));
        html.push_str("</code><span class=\"value\">");
        escape_into(html, &span.value);
        html.push_str("</span><span class=\"quality\">");
        html.push_str(&quality_label(span.quality));
        html.push_str("</span>");
        self.location(html, span, placed);
        html.push_str("</li>\n");
    }

    /// Where a span is, or why it is not drawn.
    fn location(&self, html: &mut String, span: &Span, placed: Option<&Range<usize>>) {
        html.push_str("<span class=\"where\">");
        match (placed, &span.range) {
            (Some(range), _) => {
                let line = self.newlines.partition_point(|&i| i < range.start) + 1;
                let _ = write!(
                    html,
                    "line {line}, bytes {}\u{2013}{}",
                    range.start, range.end
                );
            }
            (None, Some(range)) => {
                let _ = write!(
                    html,
                    "not highlighted: bytes {}\u{2013}{} are not a passage of the text ({} bytes)",
                    range.start,
                    range.end,
                    self.text.len()
                );
            }
            (None, None) => html.push_str("nowhere in the text"),
        }
        html.push_str("</span>");
    }
}

/// Each span's palette index: its field's, the fields numbered as they first appear.
fn colours(spans: &[Span]) -> Vec<usize> {
    let mut fields: Vec<String> = Vec::new();
    spans
        .iter()
        .map(|span| {
            let field = field(&span.path);
            let n = fields.iter().position(|f| *f == field).unwrap_or_else(|| {
                fields.push(field);
                fields.len() - 1
            });
            n % PALETTE.len()
        })
        .collect()
}

/// A path without its array indices: `/0/name` and `/1/name` are the field `/name`.
fn field(path: &str) -> String {
    path.split('/')
        .filter(|segment| segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join("/")
}

/// A path as shown: the root's empty pointer as `(root)`.
fn display_path(path: &str) -> &str {
    if path.is_empty() { "(root)" } else { path }
}

/// `path = value (quality)`, as hovering shows it.
fn describe(span: &Span) -> String {
    format!(
        "{} = {} ({})",
        display_path(&span.path),
        span.value,
        quality_label(span.quality)
    )
}

fn quality_rank(quality: Match) -> usize {
    match quality {
        Match::Exact => 0,
        Match::Normalized => 1,
        Match::Fuzzy(_) => 2,
        Match::NotFound => 3,
    }
}

/// The quality's CSS class suffix and `data-quality`.
fn quality_class(quality: Match) -> &'static str {
    ["exact", "normalized", "fuzzy", "not-found"][quality_rank(quality)]
}

/// The quality in words, a fuzzy match with its score.
fn quality_label(quality: Match) -> String {
    match quality {
        Match::Fuzzy(score) => format!("fuzzy {score:.2}"),
        Match::NotFound => "not found".to_owned(),
        other => quality_class(other).to_owned(),
    }
}

/// Appends `text` escaped for HTML text and quoted attribute values alike.
fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            // The parser turns a raw CR (and CRLF) into LF; a reference keeps it.
            '\r' => html.push_str("&#13;"),
            // The parser drops a raw NUL and reads `&#0;` as U+FFFD: say so openly.
            '\0' => html.push('\u{fffd}'),
            c => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Mode;
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
        }
    }

    fn span(path: &str, value: &str, range: Option<Range<usize>>, quality: Match) -> Span {
        Span {
            path: path.into(),
            value: value.into(),
            range,
            quality,
        }
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

    fn unescape(text: &str) -> String {
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
            page.contains(
                "title=\"/name = &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; (exact)\""
            )
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
}
