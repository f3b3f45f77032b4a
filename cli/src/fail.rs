//! Why a command did not succeed, its exit code, and how it is told on stderr: one line,
//! `factum: <message>`, then with `--verbose` the causes and the model's attempts.

use std::error::Error as _;
use std::fmt::Write as _;

use factum::{Attempt, ErrorKind};

/// Exit code: the extraction failed.
pub(crate) const EXTRACTION: u8 = 1;
/// Exit code: usage, configuration or schema error.
pub(crate) const USAGE: u8 = 2;
/// Exit code: transport, HTTP or timeout error.
pub(crate) const TRANSPORT: u8 = 3;
/// Exit code: a batch finished with some items failed.
pub(crate) const ITEMS_FAILED: u8 = 4;
/// Exit code: interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED: u8 = 130;

/// A command's failure.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A usage mistake the command found itself: a missing file, a bad input line.
    Usage(String),
    /// factum's error.
    Factum(Box<factum::Error>),
    /// A schema or spec factum cannot use.
    Schema(factum::SchemaError),
    /// The extraction failed in a way factum's error does not say.
    Failed(String),
    /// A batch finished with items failed; the message says how many.
    ItemsFailed(String),
    /// Ctrl-C stopped the command; the message says what was kept.
    Interrupted(String),
}

impl From<factum::Error> for Failure {
    fn from(error: factum::Error) -> Failure {
        Failure::Factum(Box::new(error))
    }
}

impl From<factum::SchemaError> for Failure {
    fn from(error: factum::SchemaError) -> Failure {
        Failure::Schema(error)
    }
}

impl Failure {
    /// A usage failure about `what`, from an I/O error.
    pub(crate) fn io(what: impl std::fmt::Display, error: &std::io::Error) -> Failure {
        Failure::Usage(format!("{what}: {error}"))
    }

    /// The process's exit code.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) | Failure::Schema(_) => USAGE,
            Failure::Factum(error) => code_of(error.kind()),
            Failure::Failed(_) => EXTRACTION,
            Failure::ItemsFailed(_) => ITEMS_FAILED,
            Failure::Interrupted(_) => INTERRUPTED,
        }
    }

    /// What goes to stderr: one line, and with `verbose` the causes and attempts after it.
    pub(crate) fn report(&self, verbose: bool) -> String {
        let message = match self {
            Failure::Usage(message)
            | Failure::Failed(message)
            | Failure::ItemsFailed(message)
            | Failure::Interrupted(message) => message.clone(),
            Failure::Factum(error) => error.to_string(),
            Failure::Schema(error) => format!("invalid --schema: {error}"),
        };
        let mut out = format!("factum: {}\n", one_line(&message));
        if verbose {
            match self {
                Failure::Factum(error) => {
                    causes(&mut out, error.source());
                    attempts(&mut out, error.attempts());
                }
                Failure::Schema(error) => causes(&mut out, error.source()),
                _ => {}
            }
        }
        out
    }
}

/// The exit code of an error of `kind`.
pub(crate) fn code_of(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Config
        | ErrorKind::Schema
        | ErrorKind::Journal
        | ErrorKind::Image
        | ErrorKind::Encode
        | ErrorKind::EmptyInput
        | ErrorKind::InputTooLong => USAGE,
        ErrorKind::Transport
        | ErrorKind::Http
        | ErrorKind::Timeout
        | ErrorKind::Deadline
        | ErrorKind::BodyTooLarge
        | ErrorKind::InvalidResponse => TRANSPORT,
        _ => EXTRACTION,
    }
}

/// `text` on one line: line breaks and tabs become spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.split(['\n', '\r', '\t'])
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn causes(out: &mut String, mut source: Option<&(dyn std::error::Error + 'static)>) {
    while let Some(error) = source {
        let _ = writeln!(out, "  caused by: {}", one_line(&error.to_string()));
        source = error.source();
    }
}

fn attempts(out: &mut String, attempts: &[Attempt]) {
    for (i, attempt) in attempts.iter().enumerate() {
        let failure = attempt
            .failure
            .as_ref()
            .map_or_else(|| "ok".to_owned(), ToString::to_string);
        let _ = writeln!(
            out,
            "  attempt {}: {} ({} tokens); the model wrote: {}",
            i + 1,
            one_line(&failure),
            attempt.usage.total_tokens,
            serde_json::Value::from(attempt.raw.as_str())
        );
    }
}

/// A clap error as one line: its message and tip, without the usage block.
pub(crate) fn clap_line(error: &clap::Error) -> String {
    if error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "factum: no command given (extract, batch, schema or completions); try 'factum --help'\n"
            .to_owned();
    }
    let rendered = error.render().to_string();
    let mut line = String::from("factum:");
    let mut after_colon = true;
    for piece in rendered
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("Usage:"))
    {
        let piece = piece.strip_prefix("error: ").unwrap_or(piece);
        line.push_str(if after_colon { " " } else { "; " });
        line.push_str(&piece.replace("For more information, try", "try"));
        after_colon = piece.ends_with(':');
    }
    line.push('\n');
    line
}
