//! Grounding time on long documents, against one linear pass over the same text in the
//! same run. Run in release mode: `cargo bench -p factum --bench ground -- 5`.
//!
//! The documents are rosters of sentences, about 256 KB and 1 MB. The values are what an
//! extraction of them returns: every person's name, age and email (found exactly, half of
//! the names in another case, a few misspelled), and a few invented emails.
//!
//! Printed per size: grounding time (best of N), the baseline (the text lowercased char by
//! char into a new string: one linear pass), their ratio, and the ratio of the 1 MB time
//! to the 256 KB time (4 for cost linear in the text; the values grow with it too).

mod common;

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use factum::{Match, ground};
use serde_json::{Value, json};

use common::best_of;

const FIRST: [&str; 8] = ["Ada", "Bob", "Cy", "Dana", "Emil", "Flo", "Gus", "Hanna"];
const LAST: [&str; 8] = [
    "King", "Stone", "Young", "Prince", "Norton", "Rida", "Grant", "Jordan",
];

/// A roster of about `bytes` bytes, and the values an extraction of it would return.
fn document(bytes: usize, noisy: bool) -> (String, Value) {
    let mut text = String::with_capacity(bytes + 200);
    let mut people = Vec::new();
    let mut i = 0usize;
    while text.len() < bytes {
        let name = format!("{} {} {i}", FIRST[i % 8], LAST[(i / 8) % 8]);
        let age = 20 + i % 60;
        let email = format!("person{i}@example.com");
        let _ = write!(
            text,
            "Member {name} is {age} years old and writes from {email}. "
        );
        if i % 10 == 9 {
            text.push_str("\n\n");
        }
        let said = match i % 20 {
            0 => name.to_uppercase(),
            1 => name.replacen(' ', "  ", 1),
            // Misspelled without the number: a value with a digit is never fuzzy.
            2 if noisy => format!("{} {}", FIRST[i % 8], LAST[(i / 8) % 8]).replacen('a', "e", 1),
            _ => name,
        };
        let email = if noisy && i % 50 == 7 {
            format!("invented{i}@nowhere.org")
        } else {
            email
        };
        people.push(json!({"name": said, "age": age, "email": email}));
        i += 1;
    }
    (text, Value::Array(people))
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    small(runs);
    for (noisy, people) in [(false, Some(1000)), (false, None), (true, None)] {
        let label = match (noisy, people) {
            (_, Some(n)) => format!("the first {n} people only, exact and normalized"),
            (false, None) => "every person, exact and normalized values only".to_owned(),
            (true, None) => {
                "every person, misspelled and invented values too (the fuzzy stage runs)".to_owned()
            }
        };
        println!("{label}:");
        let mut times = Vec::new();
        for bytes in [256 * 1024, 1024 * 1024] {
            times.push(measure(bytes, noisy, people, runs));
        }
        let growth = times[1].0.as_secs_f64() / times[0].0.as_secs_f64();
        let base_growth = times[1].1.as_secs_f64() / times[0].1.as_secs_f64();
        println!(
            "  1 MB / 256 KB: grounding {growth:.2}x, baseline {base_growth:.2}x (4x is linear in the text)"
        );
    }
}

/// Grounding and baseline times for one document.
fn measure(bytes: usize, noisy: bool, people: Option<usize>, runs: usize) -> (Duration, Duration) {
    let (text, mut value) = document(bytes, noisy);
    if let (Some(n), Value::Array(items)) = (people, &mut value) {
        items.truncate(n);
    }
    let spans = ground::spans(&text, &value);
    let count = |q: fn(&Match) -> bool| spans.iter().filter(|s| q(&s.quality)).count();
    let grounding = best_of(runs, || {
        black_box(ground::spans(black_box(&text), black_box(&value)));
    });
    let baseline = best_of(runs, || {
        let lower: String = black_box(&text)
            .chars()
            .flat_map(char::to_lowercase)
            .collect();
        black_box(lower);
    });
    println!(
        "  {:>5} KB, {} leaves: grounding {:>7.1} ms, lowercase pass {:>5.2} ms, ratio {:>5.1}x  ({} exact, {} normalized, {} fuzzy, {} not found)",
        text.len() / 1024,
        spans.len(),
        grounding.as_secs_f64() * 1e3,
        baseline.as_secs_f64() * 1e3,
        grounding.as_secs_f64() / baseline.as_secs_f64(),
        count(|q| *q == Match::Exact),
        count(|q| *q == Match::Normalized),
        count(|q| matches!(q, Match::Fuzzy(_))),
        count(|q| *q == Match::NotFound),
    );
    (grounding, baseline)
}

/// One extraction's worth: a person from a one-line text, as every call grounds it, per
/// call against one `serde_json` parse of the same reply.
fn small(runs: usize) {
    let text = "John Doe, john@example.com, 30 (#17)";
    let reply = r#"{"name":"John Doe","age":30,"email":"john@example.com"}"#;
    let value: Value = serde_json::from_str(reply).unwrap_or_default();
    let calls = 20_000;
    let grounding = best_of(runs, || {
        for _ in 0..calls {
            black_box(ground::spans(black_box(text), black_box(&value)));
        }
    });
    let parse = best_of(runs, || {
        for _ in 0..calls {
            black_box(serde_json::from_str::<Value>(black_box(reply)).ok());
        }
    });
    println!(
        "one person, {} bytes of text: grounding {:.2} us a call, serde_json parse of the reply {:.2} us, ratio {:.1}x",
        text.len(),
        grounding.as_secs_f64() * 1e6 / f64::from(calls),
        parse.as_secs_f64() * 1e6 / f64::from(calls),
        grounding.as_secs_f64() / parse.as_secs_f64()
    );
}
