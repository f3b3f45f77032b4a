//! The review page: one self-contained HTML document that shows an extraction over its
//! source text, each grounded value highlighted where it was found and listed beside it.
//!
//! [`html`] needs only the text and the [`Extracted`] record. The page loads nothing from
//! elsewhere (no scripts, styles, fonts or images), so it can be saved, mailed or attached
//! to a ticket as it is. A small inline script links a highlight and its entry in the list
//! on hover; without it, each highlight's `title` still names its values.

use std::fmt;
use std::ops::Range;

use crate::{Extracted, Match, Span};
use html::Html;

mod html;

/// The page, its braces naming the parts [`html`] fills in.
const TEMPLATE: &str = include_str!("page.html");
/// The page's stylesheet; the `.fN` and `.uN` colour classes follow it.
const STYLE: &str = include_str!("style.css");
/// Links the highlights and the list on hover, and scrolls to a value's first highlight
/// when its entry is clicked. The page works without it.
const SCRIPT: &str = include_str!("script.js");

/// Highlight colours, one per field (the path without its array indices) in the order the
/// fields first appear; a page with more fields reuses them from the start. Light enough
/// for dark text, and far enough apart to tell neighbours apart.
const PALETTE: [&str; 10] = [
    "#ffe08a", "#a7e3b0", "#a9cfff", "#ffb8c9", "#d7bfff", "#ffcc99", "#92e0da", "#e3e38c",
    "#f4b3ee", "#c6d9a6",
];

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
    let mut html = Html::with_capacity(text.len() * 2 + 200 * out.spans.len() + 8192);
    // The template's braces name its slots; everything between them is markup.
    for (i, piece) in TEMPLATE.split(['{', '}']).enumerate() {
        if i % 2 == 0 {
            html.markup(piece);
            continue;
        }
        match piece {
            "model" => {
                html.text(&out.model);
            }
            "style" => style(&mut html),
            "summary" => summary(&mut html, out),
            "counts" => counts(&mut html, &page),
            "failures" => failures(&mut html, out),
            "source" => page.source(&mut html),
            "hint" => page.hint(&mut html),
            "fields" => page.panel(&mut html),
            "script" => {
                html.markup(SCRIPT);
            }
            _ => unreachable!("the template names only these slots"),
        }
    }
    html.into_string()
}

/// The stylesheet, then one background class (`.fN`) and one underline class (`.uN`) per
/// palette colour.
fn style(html: &mut Html) {
    html.markup(STYLE);
    for (i, colour) in PALETTE.iter().enumerate() {
        html.markup(".f")
            .text(i)
            .markup("{background:")
            .markup(colour)
            .markup("}mark.u")
            .text(i)
            .markup("{border-bottom-color:")
            .text(darker(colour))
            .markup("}\n");
    }
}

/// A palette colour at half its brightness, for underlines that show on the light ones.
fn darker(colour: &str) -> String {
    let channel = |i: usize| u8::from_str_radix(&colour[i..i + 2], 16).unwrap_or(0) / 2;
    format!("#{:02x}{:02x}{:02x}", channel(1), channel(3), channel(5))
}

/// The header's list: model, attempts, tokens, node, failed chunks and values.
fn summary<T>(html: &mut Html, out: &Extracted<T>) {
    let failed = out.attempts.iter().filter(|a| a.failure.is_some()).count();
    let attempts = match failed {
        0 => out.attempts.len().to_string(),
        n => format!("{} ({n} failed)", out.attempts.len()),
    };
    let mut items = vec![
        ("model", "model", out.model.clone()),
        ("attempts", "attempts", attempts),
        ("tokens", "tokens", out.usage.total_tokens.to_string()),
    ];
    if let Some(node) = &out.node_id {
        items.push(("node", "node", node.clone()));
    }
    if !out.failed_chunks.is_empty() {
        let count = out.failed_chunks.len().to_string();
        items.push(("failed-chunks", "failed chunks", count));
    }
    items.push(("values", "values", out.spans.len().to_string()));
    for (item, name, value) in items {
        html.markup("<div data-item=\"")
            .markup(item)
            .markup("\"><dt>")
            .markup(name)
            .markup("</dt><dd>")
            .text(value)
            .markup("</dd></div>\n");
    }
}

/// One badge per quality with its count, and one for the spans that cannot be drawn.
fn counts(html: &mut Html, page: &Page<'_>) {
    let mut counts = [0usize; 4];
    for span in page.spans {
        counts[quality_rank(span.quality)] += 1;
    }
    html.markup("<p class=\"counts\">");
    for (rank, (class, word)) in QUALITIES.iter().enumerate() {
        let n = counts[rank];
        html.markup("<span class=\"count q-")
            .markup(class)
            .markup(if n == 0 { " zero" } else { "" })
            .markup("\" data-count=\"")
            .text(n)
            .markup("\">")
            .text(n)
            .markup(" ")
            .markup(word)
            .markup("</span>");
    }
    let unplaced = page.unplaced();
    if unplaced > 0 {
        html.markup("<span class=\"count unplaced\" data-count=\"")
            .text(unplaced)
            .markup("\">")
            .text(unplaced)
            .markup(" not highlighted</span>");
    }
    html.markup("</p>\n");
}

/// The reason each failed attempt was re-asked, and each chunk left out of a partial
/// result, folded away.
fn failures<T>(html: &mut Html, out: &Extracted<T>) {
    failed_attempts(html, out);
    if out.failed_chunks.is_empty() {
        return;
    }
    html.markup("<details open><summary>failed chunks: their values are missing</summary><ol>\n");
    for failed in &out.failed_chunks {
        let range = &failed.range;
        html.markup("<li class=\"failed-chunk\" data-start=\"")
            .text(range.start)
            .markup("\" data-end=\"")
            .text(range.end)
            .markup("\">chunk ")
            .text(failed.chunk)
            .markup(" (pass ")
            .text(failed.pass)
            .markup("), bytes ")
            .text(range.start)
            .markup("\u{2013}")
            .text(range.end)
            .markup(": ")
            .text(&failed.error)
            .markup("</li>\n");
    }
    html.markup("</ol></details>\n");
}

/// Each failed attempt's reason.
fn failed_attempts<T>(html: &mut Html, out: &Extracted<T>) {
    let mut failed = out
        .attempts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.failure.as_ref().map(|f| (i + 1, f)))
        .peekable();
    if failed.peek().is_none() {
        return;
    }
    html.markup("<details><summary>failed attempts</summary><ol>\n");
    for (number, failure) in failed {
        html.markup("<li value=\"")
            .text(number)
            .markup("\">")
            .text(failure)
            .markup("</li>\n");
    }
    html.markup("</ol></details>\n");
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
    /// spans cover it. (The template writes a newline right after `<pre>`, which the HTML
    /// parser drops, so that a text that starts with a newline keeps it.)
    fn source(&self, html: &mut Html) {
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
    }

    /// How to read the highlights, when there are any.
    fn hint(&self, html: &mut Html) {
        if self.placed.iter().any(Option::is_some) {
            html.markup(
                "<p class=\"hint\">Hover a highlight for its values; an underlined passage \
                 holds more than one.</p>\n",
            );
        }
    }

    /// One piece of the text: plain when no span covers it, else a mark.
    fn piece(&self, html: &mut Html, range: Range<usize>, active: &mut [usize]) {
        if active.is_empty() {
            html.text(&self.text[range]);
        } else {
            active.sort_unstable();
            self.mark(html, range, active);
        }
    }

    /// A mark over `range`, covered by the spans `covering` (in index order): coloured by
    /// the shortest of them, underlined in the longest other's colour when there are more.
    fn mark(&self, html: &mut Html, range: Range<usize>, covering: &[usize]) {
        let by_length = |&i: &usize| self.range(i).len();
        let inner = covering.iter().copied().min_by_key(by_length).unwrap_or(0);
        html.markup("<mark class=\"seg f").text(self.colours[inner]);
        if range.is_empty() {
            html.markup(" empty");
        }
        let outer = covering
            .iter()
            .copied()
            .filter(|&i| i != inner)
            .max_by_key(by_length);
        if let Some(outer) = outer {
            html.markup(" multi u").text(self.colours[outer]);
        }
        html.markup("\" data-spans=\"");
        for (n, i) in covering.iter().enumerate() {
            html.markup(if n == 0 { "" } else { " " }).text(i);
        }
        html.markup("\" data-path=\"")
            .text(&self.spans[inner].path)
            .markup("\" data-start=\"")
            .text(range.start)
            .markup("\" data-end=\"")
            .text(range.end)
            .markup("\" title=\"");
        for (n, &i) in covering.iter().enumerate() {
            html.markup(if n == 0 { "" } else { "\n" })
                .text(Described(&self.spans[i]));
        }
        html.markup("\">").text(&self.text[range]).markup("</mark>");
    }

    /// The side panel: every span, in the value's order.
    fn panel(&self, html: &mut Html) {
        if self.spans.is_empty() {
            html.markup(
                "<p class=\"none\">No values to show: the value has no string, number or \
                 bool leaf, or it was not grounded.</p>\n",
            );
        }
        html.markup("<ol id=\"fields\">\n");
        for index in 0..self.spans.len() {
            self.entry(html, index);
        }
        html.markup("</ol>\n");
    }

    /// One span's entry in the panel.
    fn entry(&self, html: &mut Html, index: usize) {
        let span = &self.spans[index];
        let quality = QUALITIES[quality_rank(span.quality)].0;
        let placed = self.placed[index].as_ref();
        html.markup("<li class=\"field q-").markup(quality);
        if span.quality == Match::NotFound {
            html.markup(" not-found");
        }
        if span.range.is_some() && placed.is_none() {
            html.markup(" unplaced");
        }
        html.markup("\" data-index=\"")
            .text(index)
            .markup("\" data-quality=\"")
            .markup(quality)
            .markup("\" data-path=\"")
            .text(&span.path);
        if let Some(range) = placed {
            html.markup("\" data-start=\"")
                .text(range.start)
                .markup("\" data-end=\"")
                .text(range.end);
        }
        html.markup("\" title=\"")
            .text(Described(span))
            .markup("\"><span class=\"swatch f")
            .text(self.colours[index])
            .markup("\"></span><code class=\"path\">")
            .text(display_path(&span.path))
            .markup("</code><span class=\"value\">")
            .text(&span.value)
            .markup("</span><span class=\"quality\">")
            .text(Quality(span.quality))
            .markup("</span>");
        self.location(html, span, placed);
        html.markup("</li>\n");
    }

    /// Where a span is, or why it is not drawn.
    fn location(&self, html: &mut Html, span: &Span, placed: Option<&Range<usize>>) {
        html.markup("<span class=\"where\">");
        match (placed, &span.range) {
            (Some(range), _) => {
                let line = self.newlines.partition_point(|&i| i < range.start) + 1;
                html.markup("line ")
                    .text(line)
                    .markup(", bytes ")
                    .text(range.start)
                    .markup("\u{2013}")
                    .text(range.end);
            }
            (None, Some(range)) => {
                html.markup("not highlighted: bytes ")
                    .text(range.start)
                    .markup("\u{2013}")
                    .text(range.end)
                    .markup(" are not a passage of the text (")
                    .text(self.text.len())
                    .markup(" bytes)");
            }
            (None, None) => {
                html.markup("nowhere in the text");
            }
        }
        html.markup("</span>");
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
struct Described<'a>(&'a Span);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = self.0;
        let path = display_path(&span.path);
        write!(f, "{path} = {} ({})", span.value, Quality(span.quality))
    }
}

/// The match qualities' CSS class suffixes (and `data-quality`) and their words, best
/// first.
const QUALITIES: [(&str, &str); 4] = [
    ("exact", "exact"),
    ("normalized", "normalized"),
    ("fuzzy", "fuzzy"),
    ("not-found", "not found"),
];

fn quality_rank(quality: Match) -> usize {
    match quality {
        Match::Exact => 0,
        Match::Normalized => 1,
        Match::Fuzzy(_) => 2,
        Match::NotFound => 3,
    }
}

/// The quality in words, a fuzzy match with its score.
struct Quality(Match);

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Match::Fuzzy(score) => write!(f, "fuzzy {score:.2}"),
            other => f.write_str(QUALITIES[quality_rank(other)].1),
        }
    }
}

#[cfg(test)]
mod tests;
