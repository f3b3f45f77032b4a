//! Chunked runs that stream: items as each chunk is judged, and the merged list as it
//! grows, against a loopback server that answers later chunks slowly.

use std::time::Duration;

use factum::{Chunking, Provider, StreamEvent};
use factum_tests::http::{bodies, client};
use futures_util::StreamExt as _;

use super::ground::{Member, ROSTER, roster, slow_roster_server};

/// The roster's cut: 80 characters, one chunk at a time.
fn chunking() -> Chunking {
    Chunking::chars(80).concurrency(1)
}

#[tokio::test]
async fn chunked_items_come_from_the_first_chunk_before_the_last_chunk_is_sent() {
    let server = slow_roster_server(None, Duration::from_millis(300)).await;
    let text = roster();
    let mut items = client(&server, Provider::Dria)
        .extraction::<Vec<Member>>(text.clone())
        .chunked(chunking())
        .stream_spanned_items();
    let first = items.next().await.expect("an item").unwrap();
    let sent_at_first = bodies(&server).await.len();
    assert_eq!(first.value.name, "Ada King");
    assert_eq!(first.chunk, Some(0));
    let mut all = vec![first];
    while let Some(item) = items.next().await {
        all.push(item.unwrap());
    }
    let chunks = bodies(&server).await.len();
    assert!(chunks >= 3, "{chunks} chunks");
    assert!(
        sent_at_first < chunks,
        "the first item came after {sent_at_first} of {chunks} chunks were sent"
    );
    let names: Vec<&str> = all.iter().map(|i| i.value.name.as_str()).collect();
    let expected: Vec<&str> = ROSTER.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, expected);
    // Each item once, numbered as yielded, its spans in the whole text.
    for (index, item) in all.iter().enumerate() {
        assert_eq!(item.index, index);
        let name = item.spans.iter().find(|s| s.path == "/name").unwrap();
        assert_eq!(&text[name.range.clone().unwrap()], item.value.name);
    }
    assert!(all.windows(2).all(|w| w[0].chunk <= w[1].chunk));
}

#[tokio::test]
async fn a_chunked_stream_shows_the_list_growing_and_ends_with_what_send_gives() {
    let server = slow_roster_server(None, Duration::from_millis(50)).await;
    let client = client(&server, Provider::Dria);
    let events: Vec<_> = client
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking())
        .stream()
        .collect()
        .await;
    let sizes: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Partial(list)) => Some(list.len()),
            _ => None,
        })
        .collect();
    assert!(sizes.len() >= 2, "{events:?}");
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
    assert_eq!(sizes.last(), Some(&ROSTER.len()));
    let Some(Ok(StreamEvent::Done(streamed))) = events.last() else {
        panic!("{events:?}");
    };
    let sent = client
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking())
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.value, sent.value);
    assert_eq!(streamed.spans, sent.spans);
    assert_eq!(streamed.attempts.len(), sent.attempts.len());
}

#[tokio::test]
async fn a_failing_chunk_ends_the_item_stream_with_its_error_unless_partial_ok() {
    let server = slow_roster_server(Some("Cy Young"), Duration::ZERO).await;
    let items: Vec<_> = client(&server, Provider::Dria)
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking())
        .max_retries(0)
        .stream_items()
        .collect()
        .await;
    let last = items.last().expect("something streamed");
    assert!(last.is_err(), "{items:?}");
    assert!(items[..items.len() - 1].iter().all(Result::is_ok));
    let kept: Vec<_> = client(&server, Provider::Dria)
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking())
        .max_retries(0)
        .partial_ok()
        .stream_items()
        .collect()
        .await;
    assert!(kept.iter().all(Result::is_ok), "{kept:?}");
    assert!(kept.len() < ROSTER.len() && !kept.is_empty(), "{kept:?}");
}
