//! Reads a receipt from an image: the text and an `image_url` part in one request.
//!
//! Needs a vision model: on Dria the Qwen3.5 models read images (the default
//! `qwen3.5:9b` does). Pass an image path as the first argument, or the example uses a
//! small built-in PNG. Without `FACTUM_API_KEY`/`DRIA_API_KEY`/`FACTUM_BASE_URL` there is
//! no vision-capable server to ask (the local `SmolLM2` server reads text only), so the
//! example prints the request it would send instead, and says so.
//!
//! ```text
//! cargo run -p factum-examples --example vision -- receipt.jpg
//! ```

use factum::{Client, Extract, Image};
use serde::Deserialize;

/// What a receipt shows.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the fields are shown through Debug")]
struct Receipt {
    /// The shop's name, if legible.
    shop: Option<String>,
    /// The total paid, if legible.
    total: Option<f64>,
    /// The currency code or symbol, if shown.
    currency: Option<String>,
}

/// A 1×1 white PNG, so the example runs without a file.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xff, 0xff, 0x3f,
    0x00, 0x05, 0xfe, 0x02, 0xfe, 0xa7, 0x35, 0x81, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let image = match std::env::args().nth(1) {
        Some(path) => Image::from_path(path)?,
        None => Image::from_bytes(TINY_PNG, "image/png"),
    };
    let prompt = "Read the receipt in the image.";
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    if !(set("FACTUM_API_KEY") || set("DRIA_API_KEY") || set("FACTUM_BASE_URL")) {
        eprintln!(
            "no vision-capable server configured (set FACTUM_API_KEY or DRIA_API_KEY for Dria, \
             or FACTUM_BASE_URL); NOT sending anything. This is the user message that would go \
             with the system prompt:"
        );
        let message = serde_json::json!({
            "role": "user",
            "content": [
                {"type": "text", "text": format!("<input>\n{prompt}\n</input>")},
                {"type": "image_url", "image_url": {"url": shorten(image.as_url())}},
            ],
        });
        println!("{}", serde_json::to_string_pretty(&message)?);
        return Ok(());
    }
    let client = Client::from_env()?;
    let out = client
        .extraction::<Receipt>(prompt)
        .image(image)
        .send()
        .await?;
    println!("{:#?}", out.value);
    Ok(())
}

/// Keeps a data URL printable.
fn shorten(url: &str) -> String {
    if url.len() > 80 {
        format!("{}… ({} bytes)", &url[..60], url.len())
    } else {
        url.to_owned()
    }
}
