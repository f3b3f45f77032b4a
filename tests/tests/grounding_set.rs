//! Grounding against an outside-style set of cases (`tests/data/grounding/cases.jsonl`):
//! texts in many scripts, numbers, dates, line breaks, repeated, paraphrased and absent
//! values, each with where the value truly is and which qualities would be acceptable.
//!
//! Prints the places right, the false locations, the absent values found, and the ranges
//! of the Fuzzy scores given to true variants and to absent values. Fails on any false
//! location: a value placed anywhere but its true place, or an absent value placed at all.

use factum::{Match, Span, ground};
use serde::Deserialize;
use serde_json::{Value, json};

/// One line of the set.
#[derive(Deserialize)]
struct Case {
    id: String,
    text: String,
    value: Value,
    /// The passage the value truly is, as written in the text; absent when `absent`.
    at: Option<String>,
    /// Which occurrence of `at` (0 for the first).
    #[serde(default)]
    occurrence: usize,
    #[serde(default)]
    absent: bool,
    /// Acceptable qualities: `exact`, `normalized`, `fuzzy`.
    #[serde(default)]
    accept: Vec<String>,
}

fn cases() -> Vec<Case> {
    include_str!("../data/grounding/cases.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The byte range of the `n`th occurrence of `at` in `text`.
fn nth(text: &str, at: &str, n: usize) -> std::ops::Range<usize> {
    let start = text
        .match_indices(at)
        .nth(n)
        .unwrap_or_else(|| panic!("{at:?} is not {n} times in {text:?}"))
        .0;
    start..start + at.len()
}

fn quality_name(quality: Match) -> &'static str {
    match quality {
        Match::Exact => "exact",
        Match::Normalized => "normalized",
        Match::Fuzzy(_) => "fuzzy",
        _ => "notfound",
    }
}

/// The figures of one run over the set.
#[derive(Default)]
struct Figures {
    present: usize,
    right: usize,
    right_place_other_quality: usize,
    missed: usize,
    false_locations: Vec<String>,
    absent: usize,
    absent_found: usize,
    absent_quoted: usize,
    variant_scores: Vec<f32>,
    absent_scores: Vec<f32>,
}

impl Figures {
    fn record(&mut self, case: &Case, span: &Span) {
        let described = format!(
            "{}: {:?} given {:?} at {:?}",
            case.id,
            case.value,
            span.quality,
            span.text(&case.text)
        );
        if case.absent {
            self.record_absent(span, described);
        } else {
            self.record_present(case, span, described);
        }
    }

    fn record_absent(&mut self, span: &Span, described: String) {
        self.absent += 1;
        if span.range.is_some() {
            self.absent_found += 1;
            if span.quality.is_quoted() {
                self.absent_quoted += 1;
            }
            if let Match::Fuzzy(score) = span.quality {
                self.absent_scores.push(score);
            }
            self.false_locations.push(described);
        }
    }

    fn record_present(&mut self, case: &Case, span: &Span, described: String) {
        self.present += 1;
        let Some(at) = &case.at else {
            panic!("{}: neither `at` nor `absent`", case.id)
        };
        let truth = nth(&case.text, at, case.occurrence);
        match span.range.clone() {
            None => {
                self.missed += 1;
                eprintln!("  missed: {described}");
            }
            Some(range) if range == truth => {
                if case.accept.iter().any(|a| a == quality_name(span.quality)) {
                    self.right += 1;
                } else {
                    self.right_place_other_quality += 1;
                    eprintln!("  right place, quality not accepted: {described}");
                }
                if let Match::Fuzzy(score) = span.quality {
                    self.variant_scores.push(score);
                }
            }
            Some(_) => self.false_locations.push(described),
        }
    }

    fn print(&self, cases: usize) {
        eprintln!(
            "grounding set: {cases} cases; {} present: {} places right, {} right place with another quality, {} missed; {} false locations; {} absent: {} found ({} as Exact or Normalized)",
            self.present,
            self.right,
            self.right_place_other_quality,
            self.missed,
            self.false_locations.len(),
            self.absent,
            self.absent_found,
            self.absent_quoted
        );
        eprintln!(
            "fuzzy scores: true variants {}, absent values {}",
            range_of(&self.variant_scores),
            range_of(&self.absent_scores)
        );
        for false_location in &self.false_locations {
            eprintln!("  false location: {false_location}");
        }
    }
}

fn range_of(scores: &[f32]) -> String {
    let lo = scores.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if scores.is_empty() {
        "none".to_owned()
    } else {
        format!("{lo:.3}..={hi:.3} ({} scores)", scores.len())
    }
}

#[test]
fn the_set_has_no_false_locations() {
    let cases = cases();
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let mut figures = Figures::default();
    for case in &cases {
        let spans = ground::spans(&case.text, &json!({"v": case.value}));
        assert_eq!(spans.len(), 1, "{}: {spans:?}", case.id);
        figures.record(case, &spans[0]);
    }
    figures.print(cases.len());
    assert!(
        figures.false_locations.is_empty() && figures.absent_quoted == 0,
        "{} false locations",
        figures.false_locations.len()
    );
}
