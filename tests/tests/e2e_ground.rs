//! Grounding on the real model: the 30 people texts of `tests/data/people.jsonl` extracted
//! by SmolLM2 on the local llama-server (`scripts/llama-server.sh`), nothing mocked.
//!
//! Prints how many values were located `Exact` or `Normalized`, and how many values the
//! model invented (not in the text) were returned without `grounded` and caught with it.

use factum::{Extract, Match};
use factum_tests::llama::{Person, client};
use futures_util::StreamExt as _;
use serde::Deserialize;

/// One line of the data set.
#[derive(Deserialize)]
struct Case {
    text: String,
}

fn texts() -> Vec<String> {
    let data = include_str!("../data/people.jsonl");
    data.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Case>(l).expect("a case").text)
        .collect()
}

/// The DESIGN `Person`, its name and email quoted from the text.
#[derive(Debug, Deserialize, Extract)]
struct QuotedPerson {
    /// Full name, as written.
    #[extract(grounded)]
    name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    age: u8,
    /// Email address, if the text gives one.
    #[extract(format = "email", grounded)]
    email: Option<String>,
}

/// Counts of span qualities.
#[derive(Default, Debug)]
struct Tally {
    exact: usize,
    normalized: usize,
    fuzzy: usize,
    not_found: usize,
}

impl Tally {
    fn add(&mut self, quality: Match) {
        match quality {
            Match::Exact => self.exact += 1,
            Match::Normalized => self.normalized += 1,
            Match::Fuzzy(_) => self.fuzzy += 1,
            Match::NotFound => self.not_found += 1,
            other => panic!("a match quality this tally does not know: {other:?}"),
        }
    }

    fn total(&self) -> usize {
        self.exact + self.normalized + self.fuzzy + self.not_found
    }
}

/// The qualities of every span of the plain results, and how many names or emails are not
/// in their texts. Exact spans are checked to point at the value.
fn tally(
    plain: &[(usize, factum::Result<factum::Extracted<Person>>)],
    texts: &[String],
) -> (Tally, usize) {
    let mut tally = Tally::default();
    let mut invented = 0;
    for (i, result) in plain {
        let Ok(out) = result else { continue };
        for span in &out.spans {
            tally.add(span.quality);
            if let Some(passage) = span.text(&texts[*i])
                && span.quality == Match::Exact
            {
                assert_eq!(passage, span.value, "{span:?}");
            }
            if span.path != "/age" && !span.quality.is_quoted() {
                invented += 1;
            }
        }
    }
    (tally, invented)
}

/// Every text extracted in one ordered batch, each re-asked at most once.
async fn extract_all<T: Extract + Send>(
    client: &factum::Client,
    texts: &[String],
) -> Vec<factum::BatchItem<T>> {
    client
        .extract_batch::<T>(texts.to_vec())
        .concurrency(2)
        .max_retries(1)
        .ordered()
        .stream()
        .collect()
        .await
}

/// Whether an attempt failed because a grounded value was not in the text.
fn invented_caught(attempts: &[factum::Attempt]) -> bool {
    attempts.iter().any(|a| {
        a.failure.as_ref().is_some_and(|f| {
            let f = f.to_string();
            f.contains("is not in the text") || f.contains("not written so")
        })
    })
}

#[tokio::test]
async fn values_of_the_e2e_set_are_located_and_invented_ones_caught() {
    let client = client().await;
    let texts = texts();
    assert!(texts.len() >= 24);

    // Without `grounded`: every value comes back, located or not.
    let plain: Vec<_> = extract_all::<Person>(&client, &texts).await;
    let (tally, invented) = tally(&plain, &texts);
    assert!(tally.total() > 0, "the model extracted nothing");
    let located = tally.exact + tally.normalized;
    eprintln!(
        "grounding, plain Person: {}/{} returned, {} values: {} Exact, {} Normalized, {} Fuzzy, {} NotFound ({:.0}% located); {invented} names or emails not in the text",
        plain.iter().filter(|(_, r)| r.is_ok()).count(),
        texts.len(),
        tally.total(),
        tally.exact,
        tally.normalized,
        tally.fuzzy,
        tally.not_found,
        100.0 * located as f64 / tally.total() as f64
    );
    assert!(
        located * 2 > tally.total(),
        "most values of the e2e set are in their texts: {tally:?}"
    );
    caught_with_grounded(&client, &texts, invented).await;
}

/// What `grounded` promises of a returned value: its name and email are in the text.
fn every_grounded_value_is_quoted(out: &factum::Extracted<QuotedPerson>) {
    assert!(!out.value.name.is_empty() && out.value.age <= 150);
    assert!(out.value.email.as_deref().is_none_or(|e| e.contains('@')));
    for span in out.spans.iter().filter(|s| s.path != "/age") {
        assert!(
            span.quality.is_quoted(),
            "a grounded value came back unquoted: {span:?}"
        );
    }
}

/// The same texts with `grounded` on the name and email: no value that is not in the text
/// comes back, and the first attempts that invented one are counted.
async fn caught_with_grounded(client: &factum::Client, texts: &[String], invented: usize) {
    let quoted: Vec<_> = extract_all::<QuotedPerson>(client, texts).await;
    let (mut caught, mut fixed, mut refused, mut returned) = (0, 0, 0, 0);
    for (_, result) in &quoted {
        let attempts = match result {
            Ok(out) => {
                returned += 1;
                every_grounded_value_is_quoted(out);
                &out.attempts
            }
            Err(error) => error.attempts(),
        };
        let flagged = invented_caught(attempts);
        if flagged {
            caught += 1;
            if result.is_ok() {
                fixed += 1;
            } else {
                refused += 1;
            }
        }
    }
    eprintln!(
        "grounding, QuotedPerson: {returned}/{} returned, every name and email in its text; {caught} extractions had an invented value caught ({fixed} fixed by the re-ask, {refused} ended as errors); without `grounded`, {invented} invented values were returned",
        texts.len()
    );
}
