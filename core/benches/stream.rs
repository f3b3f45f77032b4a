//! The streaming parser's cost against one `serde_json::from_slice::<Value>` of the same
//! bytes, in the same run. Run in release mode: `cargo bench -p factum --bench stream`.
//!
//! 1. The parser alone, fed 16-byte chunks, at 64 KiB, 256 KiB, 1 MiB and 4 MiB: its total
//!    as a ratio to one full parse (target at 1 MiB: at most 2×), and its per-byte cost,
//!    which must stay flat as the reply grows.
//! 2. Typed snapshots: a consumer that polls after every 16-byte chunk of a 64 KiB reply,
//!    each poll building a `Partial<Catalog>`; the total as a ratio to one full parse.
//! 3. For contrast, what the peers do: re-parse the whole buffer (leniently, closing what is
//!    open) after every chunk.

mod common;

use std::hint::black_box;
use std::time::Duration;

use factum::Extract;
use factum::stream::StreamParser;
use serde::Deserialize;
use serde_json::{Value, json};

use common::best_of;

/// One product of a catalog, as a model writes it.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "only deserialized and streamed")]
struct Product {
    /// The product's id.
    id: u32,
    /// Its name.
    name: String,
    /// Its price.
    price: f64,
    /// Its tags.
    tags: Vec<String>,
    /// Whether it is in stock.
    in_stock: bool,
}

/// A catalog of products.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "only deserialized and streamed")]
struct Catalog {
    /// The products.
    products: Vec<Product>,
}

/// A catalog of at least `size` bytes of pretty JSON, with escapes and non-ASCII text.
fn catalog(size: usize) -> String {
    let mut products = Vec::new();
    let mut len = 0;
    let mut i = 0u32;
    while len < size {
        let product = json!({
            "id": i,
            "name": format!("Product \"{i}\" — café édition"),
            "price": f64::from(i) * 1.25,
            "tags": ["alpha", "beta", "x\ny"],
            "in_stock": i.is_multiple_of(2),
        });
        len += product.to_string().len() + 8;
        products.push(product);
        i += 1;
    }
    serde_json::to_string_pretty(&json!({"products": products})).unwrap_or_default()
}

/// The 16-byte pieces of `text`, cut on char boundaries.
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + 16).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

fn serde_once(text: &str) {
    black_box(serde_json::from_slice::<Value>(text.as_bytes()).ok());
}

fn stream_once(pieces: &[&str]) {
    let mut parser = StreamParser::new();
    for piece in pieces {
        parser.feed(piece);
    }
    parser.finish();
    black_box(parser.snapshot().is_some());
}

fn snapshots_once(pieces: &[&str]) {
    let mut parser = StreamParser::new();
    for piece in pieces {
        parser.feed(piece);
        if let Some(node) = parser.snapshot() {
            black_box(Catalog::partial_from(node));
        }
    }
}

fn reparse_once(text: &str, pieces: &[&str]) {
    let mut end = 0;
    for piece in pieces {
        end += piece.len();
        black_box(factum::parse::parse_json(&text[..end]).ok());
    }
}

fn parser_alone(runs: usize) {
    println!("1. the parser alone, 16-byte chunks, against one serde_json parse");
    println!("   size      serde_json   stream      ratio   stream ns/byte");
    let mut per_byte = Vec::new();
    for size in [64 << 10, 256 << 10, 1 << 20, 4 << 20] {
        let text = catalog(size);
        let chunks = pieces(&text);
        let runs = if size > (1 << 20) { runs.min(5) } else { runs };
        let baseline = best_of(runs, || serde_once(&text));
        let streamed = best_of(runs, || stream_once(&chunks));
        let ns = streamed.as_secs_f64() * 1e9 / text.len() as f64;
        per_byte.push(ns);
        println!(
            "   {:>6} KiB {:>9.2} ms {:>8.2} ms {:>7.2}× {:>10.2}",
            text.len() >> 10,
            baseline.as_secs_f64() * 1e3,
            streamed.as_secs_f64() * 1e3,
            streamed.as_secs_f64() / baseline.as_secs_f64(),
            ns
        );
    }
    let spread = per_byte.iter().copied().fold(f64::MIN, f64::max)
        / per_byte.iter().copied().fold(f64::MAX, f64::min);
    println!("   per-byte cost, largest over smallest: {spread:.2}× (flat is 1.0)");
}

fn snapshots_and_peers(runs: usize) {
    let text = catalog(64 << 10);
    let chunks = pieces(&text);
    let baseline = best_of(runs, || serde_once(&text));
    let streamed = best_of(runs, || stream_once(&chunks));
    let snapshots = best_of(runs.min(5), || snapshots_once(&chunks));
    let reparse = best_of(1, || reparse_once(&text, &chunks));
    let ratio = |d: Duration| d.as_secs_f64() / baseline.as_secs_f64();
    println!(
        "2. a {} KiB reply, a poll after every one of its {} chunks",
        text.len() >> 10,
        chunks.len()
    );
    println!(
        "   one serde_json parse                      {:>9.2} ms   1.00×",
        baseline.as_secs_f64() * 1e3
    );
    println!(
        "   stream parser, no snapshots               {:>9.2} ms {:>6.2}×",
        streamed.as_secs_f64() * 1e3,
        ratio(streamed)
    );
    println!(
        "   stream parser + a typed snapshot per poll {:>9.2} ms {:>6.2}×",
        snapshots.as_secs_f64() * 1e3,
        ratio(snapshots)
    );
    println!(
        "3. peers: re-parse the whole buffer per poll {:>9.2} ms {:>6.2}×",
        reparse.as_secs_f64() * 1e3,
        ratio(reparse)
    );
}

fn main() {
    let runs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(10);
    parser_alone(runs);
    snapshots_and_peers(runs);
}
