//! End-to-end extraction against a real model server: llama.cpp's llama-server serving
//! SmolLM2-135M-Instruct on 127.0.0.1, built and started by `scripts/llama-server.sh`
//! (which `scripts/test.sh` and CI run first). The server's URL comes from
//! `FACTUM_LLAMA_URL` (default `http://127.0.0.1:8089/v1`).
//!
//! Nothing here is mocked. Sampling is greedy (temperature 0), so results are repeatable
//! for a given build of the server and model.

use std::time::Duration;

use factum::{Client, Extract, Leniency, Mode, Provider};
use serde::Deserialize;

fn url() -> String {
    std::env::var("FACTUM_LLAMA_URL").unwrap_or_else(|_| "http://127.0.0.1:8089/v1".to_owned())
}

/// A client for the local server; fails loudly, with the fix, when no server answers.
async fn client() -> Client {
    let base = url();
    let health = format!(
        "{}/health",
        base.trim_end_matches('/').trim_end_matches("/v1")
    );
    let up = reqwest::get(&health)
        .await
        .is_ok_and(|r| r.status().is_success());
    assert!(
        up,
        "no llama-server answers at {base}: run `scripts/llama-server.sh start` (or `scripts/test.sh`)"
    );
    Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(base)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// A person mentioned in the text.
#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Person {
    /// Full name, as written.
    name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    age: u8,
    /// Email address, if the text gives one.
    #[extract(format = "email")]
    email: Option<String>,
}

#[tokio::test]
async fn quickstart_person_in_json_schema_mode() {
    let client = client().await;
    assert_eq!(
        client.mode(client.model()),
        Mode::JsonSchema { strict: false }
    );
    let out = client
        .extraction::<Person>("John Doe, john@example.com, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.value,
        Person {
            name: "John Doe".into(),
            age: 30,
            email: Some("john@example.com".into())
        }
    );
    assert!(
        out.usage.prompt_tokens > 0 && out.usage.completion_tokens > 0,
        "{:?}",
        out.usage
    );
    assert_eq!(
        out.usage.total_tokens,
        out.usage.prompt_tokens + out.usage.completion_tokens
    );
    assert!(!out.attempts.is_empty());
    assert!(out.attempts.last().unwrap().failure.is_none());
}

/// A shopping order.
#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Order {
    /// Who placed the order.
    customer: String,
    /// Every item ordered.
    #[extract(length(min = 1))]
    items: Vec<Item>,
}

/// One item of an order.
#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Item {
    /// What was ordered, in one or two words.
    product: String,
    /// How many.
    #[extract(range(min = 1))]
    quantity: u32,
}

#[tokio::test]
async fn nested_type_with_a_list() {
    let client = client().await;
    let out = client
        .extraction::<Order>("Order from Alice Smith: 3 apples.")
        .send()
        .await
        .unwrap();
    let order = out.value;
    assert_eq!(order.customer, "Alice Smith");
    assert!(!order.items.is_empty());
    assert!(order.items.iter().all(|item| item.quantity >= 1));
    assert!(
        order
            .items
            .iter()
            .any(|item| item.product.to_lowercase().contains("apple")),
        "{order:?}"
    );
}

/// The overall feeling of a product review.
#[derive(Debug, PartialEq, Eq, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum Sentiment {
    /// The reviewer liked it.
    Positive,
    /// The reviewer disliked it.
    Negative,
}

/// A unit enum at the root is asked for wrapped under its name (`{"sentiment": …}`), which
/// is what lets this 135M-parameter model classify at all: bare, it picks the first choice
/// for every text.
#[tokio::test]
async fn unit_enum_classification() {
    let client = client().await;
    for (text, expected) in [
        (
            "This is terrible. It broke after one day and I hate it.",
            Sentiment::Negative,
        ),
        (
            "I love it! Wonderful quality, works perfectly, very happy.",
            Sentiment::Positive,
        ),
        (
            "Awful. Negative experience, would not buy again.",
            Sentiment::Negative,
        ),
    ] {
        let out = client.extraction::<Sentiment>(text).send().await.unwrap();
        assert_eq!(out.value, expected, "{text}: {}", out.attempts[0].raw);
        assert!(
            out.attempts[0].raw.contains("\"sentiment\""),
            "{}",
            out.attempts[0].raw
        );
    }
}

/// A contact card.
#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Contact {
    /// The person's full name.
    name: String,
    /// Their age in years.
    age: u32,
}

const PEOPLE: [&str; 24] = [
    "John Doe is 30 years old.",
    "Mary Jones, aged 45.",
    "Ahmed Khan (52)",
    "Lucy Brown is a 28 year old nurse.",
    "Name: Peter Parker. Age: 18.",
    "Olivia Chen turned 33 last week.",
    "Carlos Diaz, 61, retired.",
    "Meet Sara Lee, who is 24.",
    "Tom Hanks is 67.",
    "Anna Schmidt - 39 years",
    "Raj Patel, age 41, engineer",
    "Emma Wilson is twenty-two; she was born 22 years ago.",
    "Liam O'Brien, 35, from Dublin.",
    "Yuki Tanaka is 27 years of age.",
    "The customer, Maria Garcia, is 50.",
    "Noah Smith (age 12) won the prize.",
    "Grace Kim, 31, joined in May.",
    "Omar Farouk is 44 years old.",
    "Chloe Martin, 29, designer.",
    "Ivan Petrov was 58 when he retired.",
    "Sophie Dubois, thirty-six (36).",
    "Ben Carter is 19.",
    "Hana Novak, 47 years.",
    "Diego Rossi, aged 63.",
];

/// Prompt-only mode (no `response_format`): SmolLM2 then wraps its JSON in prose and
/// code, as small models do. Each input is sent once, through the whole pipeline with the
/// default (lenient, schema-aligned) parser and no re-ask; the same raw reply is then read
/// with a strict JSON parser, so both see identical model output.
#[tokio::test]
async fn prompt_only_mode_lenient_parser_recovers_more_first_attempts() {
    let client = client().await;
    let schema = factum::schema::<Contact>();
    let (mut strict_ok, mut lenient_ok) = (0, 0);
    for text in PEOPLE {
        let result = client
            .extraction::<Contact>(text)
            .mode(Mode::PromptOnly)
            .max_retries(0)
            .max_tokens(160)
            .send()
            .await;
        let raw = match &result {
            Ok(out) => out.attempts[0].raw.clone(),
            Err(error) => error
                .attempts()
                .first()
                .map(|a| a.raw.clone())
                .unwrap_or_default(),
        };
        let strict = factum::parse::parse(&raw, schema.json(), Leniency::Exact)
            .ok()
            .filter(|parsed| schema.validate(&parsed.value).is_ok())
            .and_then(|parsed| serde_json::from_value::<Contact>(parsed.value).ok());
        strict_ok += usize::from(strict.is_some());
        lenient_ok += usize::from(result.is_ok());
        // Whatever the strict reading accepts, the pipeline accepts too.
        if strict.is_some() {
            assert!(
                result.is_ok(),
                "the pipeline refused what strict parsing reads: {raw}"
            );
        }
    }
    println!(
        "prompt-only, {} inputs, first attempt: strict parser {strict_ok}, lenient parser {lenient_ok}",
        PEOPLE.len()
    );
    assert!(
        lenient_ok > strict_ok,
        "lenient {lenient_ok} vs strict {strict_ok}"
    );
}

/// A list at the root: every person in the text, asked for as `{"contact_list": [...]}`.
#[tokio::test]
async fn a_list_of_people() {
    let client = client().await;
    let out = client
        .extraction::<Vec<Contact>>("John Doe is 30 years old. Mary Jones is 45 years old.")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = out.value.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"John Doe") && names.contains(&"Mary Jones"),
        "{:?}",
        out.value
    );
    let john = out.value.iter().find(|c| c.name == "John Doe").unwrap();
    assert_eq!(john.age, 30);
}
