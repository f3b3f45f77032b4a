//! Shared by the examples: the client to run on.

use std::path::Path;
use std::process::Command;

use factum::{Client, Provider};

/// Whether a key or a base URL points the examples at a remote server.
fn remote_configured() -> bool {
    ["FACTUM_API_KEY", "DRIA_API_KEY", "FACTUM_BASE_URL"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// Dria or `FACTUM_BASE_URL` when configured, else the local llama-server.
pub(crate) fn client() -> Result<Client, Box<dyn std::error::Error>> {
    if remote_configured() {
        return Ok(Client::from_env()?);
    }
    let url = local_llama_server()?;
    Ok(Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .model("smollm2")
        .build()?)
}

/// Starts the project's llama-server and returns its base URL.
fn local_llama_server() -> Result<String, Box<dyn std::error::Error>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/llama-server.sh");
    eprintln!("no FACTUM_API_KEY, DRIA_API_KEY or FACTUM_BASE_URL: using a local llama-server");
    eprintln!(
        "the first run downloads and builds llama.cpp and fetches SmolLM2-135M (several minutes \
         on 2 cores); progress follows"
    );
    // The script reports progress on stderr, which is inherited and shown as it happens.
    let status = Command::new("bash").arg(&script).arg("start").status()?;
    if !status.success() {
        return Err(format!("`{} start` failed ({status})", script.display()).into());
    }
    let output = Command::new("bash").arg(&script).arg("url").output()?;
    let url = String::from_utf8(output.stdout)?.trim().to_owned();
    if !output.status.success() || url.is_empty() {
        return Err(format!("`{} url` printed no URL", script.display()).into());
    }
    Ok(url)
}

/// Prints an example's outcome for a person to read: the error's message (not its
/// `Debug` dump, which holds every raw attempt), what the model last said, and a hint.
pub(crate) fn report(result: Result<(), Box<dyn std::error::Error>>) -> std::process::ExitCode {
    let Err(error) = result else {
        return std::process::ExitCode::SUCCESS;
    };
    eprintln!("error: {error}");
    if let Some(error) = error.downcast_ref::<factum::Error>()
        && let Some(last) = error.attempts().last()
    {
        let mut raw: String = last.raw.chars().take(300).collect();
        if raw.len() < last.raw.len() {
            raw.push('…');
        }
        eprintln!("the model's last reply began: {raw}");
    }
    if !remote_configured() {
        eprintln!(
            "hint: the local SmolLM2-135M model is tiny; set FACTUM_API_KEY (or DRIA_API_KEY) to run on Dria"
        );
    }
    std::process::ExitCode::FAILURE
}
