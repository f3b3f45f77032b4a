//! Schema benchmark: the prompt-to-schema byte ratio over the test zoo, and the cost of a
//! cached `factum::schema::<T>()` call.
//!
//! ```text
//! cargo bench -p factum-tests --bench schema
//! ```
//!
//! Machines here are shared and noisy, so every time is printed as a ratio against a
//! baseline measured in the same run: a load of a `static` through `black_box`, and a
//! fresh, uncached schema build.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

use factum::Schema;
#[allow(clippy::wildcard_imports)] // the zoo macro names every type
use factum_tests::zoo::*;

/// Median of several timed batches, in nanoseconds per call.
fn per_call(iterations: u32, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

static BASELINE: OnceLock<Schema> = OnceLock::new();

fn main() {
    prompt_ratio();
    cached_call_cost();
}

/// The prompt-to-schema byte ratio over the zoo (compact JSON, as sent on the wire).
fn prompt_ratio() {
    let (mut prompt, mut schema, mut types) = (0usize, 0usize, 0usize);
    let mut worst = (String::new(), 0.0f64);
    macro_rules! size {
        ($t:ty) => {{
            let s = factum::schema::<$t>();
            let json = serde_json::to_string(s.json()).unwrap().len();
            let ratio = s.prompt().len() as f64 / json as f64;
            if ratio > worst.1 {
                worst = (stringify!($t).to_owned(), ratio);
            }
            prompt += s.prompt().len();
            schema += json;
            types += 1;
        }};
    }
    factum_tests::for_each_zoo_type!(size);
    println!(
        "prompt/schema bytes over {types} zoo types: {prompt}/{schema} = {:.3} (worst: {} at {:.3})",
        prompt as f64 / schema as f64,
        worst.0,
        worst.1
    );
}

/// The cost of a cached `schema::<T>()` call, against a `static` load and a fresh build.
fn cached_call_cost() {
    let baseline_ref = BASELINE.get_or_init(Schema::of::<Person>);
    let _ = factum::schema::<Invoice>();
    let _ = factum::schema::<Page<Person>>();
    let iterations = 2_000_000;
    let baseline = per_call(iterations, || {
        black_box(black_box(&BASELINE).get());
    });
    let cached = per_call(iterations, || {
        black_box(factum::schema::<Invoice>());
    });
    let cached_generic = per_call(iterations / 10, || {
        black_box(factum::schema::<Page<Person>>());
    });
    let build = per_call(200, || {
        black_box(Schema::of::<Invoice>());
    });
    let _ = black_box(baseline_ref);
    let floor = baseline.max(0.1);
    println!("baseline (OnceLock::get on a static): {baseline:.2} ns/call");
    println!(
        "schema::<Invoice>() cached:          {cached:.2} ns/call = {:.1}x baseline",
        cached / floor
    );
    println!(
        "schema::<Page<Person>>() cached:     {cached_generic:.2} ns/call = {:.1}x baseline (generic types share a TypeId map)",
        cached_generic / floor
    );
    println!(
        "Schema::of::<Invoice>() uncached:    {:.1} us/call = {:.0}x the cached call",
        build / 1000.0,
        build / cached.max(0.1)
    );
}
