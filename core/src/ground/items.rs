//! Spans of a list's items: split per item, moved into a whole document, renumbered. What
//! an item stream and a chunked extraction need when they hand over only some items, or
//! items from several places.

use super::span::Span;

/// The item index a list span's path starts with, and the rest of the path.
fn split(path: &str) -> Option<(usize, &str)> {
    let rest = path.strip_prefix('/')?;
    let (index, tail) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    Some((index.parse().ok()?, tail))
}

/// The spans of a list's items, one list per item, with paths relative to the item
/// (`/0/name` becomes `/name` in the first list). Spans of other paths are dropped.
pub(crate) fn per_item(spans: Vec<Span>, items: usize) -> Vec<Vec<Span>> {
    let mut out: Vec<Vec<Span>> = (0..items).map(|_| Vec::new()).collect();
    for mut span in spans {
        let Some((index, tail)) = split(&span.path).map(|(i, t)| (i, t.to_owned())) else {
            continue;
        };
        let Some(slot) = out.get_mut(index) else {
            continue;
        };
        span.path = tail;
        slot.push(span);
    }
    out
}

/// An item's spans (paths relative to the item) as item `index` of a list in a text where
/// the item's text starts at byte `offset`.
pub(crate) fn place(spans: Vec<Span>, index: usize, offset: usize) -> impl Iterator<Item = Span> {
    shift(spans, offset).into_iter().map(move |mut span| {
        let mut path = String::new();
        crate::json::push_index(&mut path, index);
        path.push_str(&span.path);
        span.path = path;
        span
    })
}

/// Spans of a text that starts at byte `offset` of a document, moved into the document.
pub(crate) fn shift(mut spans: Vec<Span>, offset: usize) -> Vec<Span> {
    for span in &mut spans {
        span.range = span.range.take().map(|r| r.start + offset..r.end + offset);
    }
    spans
}

/// The spans of a list from which its first `dropped` items were taken out.
pub(crate) fn drop_items(spans: Vec<Span>, dropped: usize) -> Vec<Span> {
    let items = spans
        .iter()
        .filter_map(|s| split(&s.path))
        .map(|(i, _)| i + 1)
        .max()
        .unwrap_or(0);
    per_item(spans, items)
        .into_iter()
        .skip(dropped)
        .enumerate()
        .flat_map(|(i, spans)| place(spans, i, 0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Match;

    fn span(path: &str, range: std::ops::Range<usize>) -> Span {
        Span {
            path: path.into(),
            value: "v".into(),
            range: Some(range),
            quality: Match::Exact,
        }
    }

    #[test]
    fn items_are_split_moved_and_renumbered() {
        let spans = vec![
            span("/0/name", 0..3),
            span("/1/name", 10..13),
            span("/1/tags/0", 14..15),
        ];
        let per = per_item(spans.clone(), 2);
        assert_eq!(per[1], vec![span("/name", 10..13), span("/tags/0", 14..15)]);
        let placed: Vec<Span> = place(per[1].clone(), 4, 100).collect();
        assert_eq!(
            placed,
            vec![span("/4/name", 110..113), span("/4/tags/0", 114..115)]
        );
        assert_eq!(
            drop_items(spans, 1),
            vec![span("/0/name", 10..13), span("/0/tags/0", 14..15)]
        );
    }
}
