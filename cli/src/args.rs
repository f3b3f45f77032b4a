//! The command line, as clap's derive reads it: the subcommands, their flags, and the
//! help text with an example for each.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The top-level help's closing text: the environment and the exit codes.
const AFTER_HELP: &str = "\
Environment, as factum::Client::from_env reads it (the Connection flags override it):
  FACTUM_API_KEY (or DRIA_API_KEY)  the API key (read only from the environment)
  FACTUM_BASE_URL                   the server, e.g. http://127.0.0.1:8080/v1
  FACTUM_MODEL                      the model
  FACTUM_PROVIDER                   dria, openai, ollama, llamacpp, vllm, custom, ...

Exit codes:
  0    success
  1    the extraction failed (no valid reply, refusal, truncated, empty, token budget)
  2    usage, configuration or schema error
  3    transport, HTTP or timeout error
  4    a batch finished with some items failed (its output is still complete)
  130  interrupted (Ctrl-C); a batch wrote every item that finished

Examples:
  factum extract --schema 'name, age int, email?' 'John Doe, john@example.com, 30'
  factum batch --schema person.json --input docs.jsonl --output people.jsonl --journal people.journal
  factum schema --schema 'name, age int' --prompt";

const EXTRACT_HELP: &str = "\
Examples:
  factum extract --schema 'name, age int, email?' 'John Doe, john@example.com, 30'
  cat letter.txt | factum extract --schema person.json --full
  factum extract --schema 'name, role' --chunk 4000 --review people.html < report.txt";

const BATCH_HELP: &str = "\
Input: a JSONL file (or - for stdin) whose lines are each a JSON string (the text) or an
object with the text in --text-field and an id in --id-field (default: the item's index,
from 0); or a directory of .txt files (id: the file's stem, in name order).

Output: one JSON line per item, in input order: {\"id\", \"value\"}, or {\"id\", \"error\":
{\"kind\", \"message\"}, \"attempts\"}. With --journal, a rerun after an interruption sends
only the items not done yet and still writes every line.

Example:
  factum batch --schema 'name, age int' --input docs.jsonl --output people.jsonl --journal people.journal";

const SCHEMA_HELP: &str = "\
Examples:
  factum schema --schema 'name, age int, email?' --dialect llamacpp
  factum schema --schema person.json --multi --prompt";

const COMPLETIONS_HELP: &str = "\
Example:
  factum completions bash > ~/.local/share/bash-completion/completions/factum";

/// Typed, validated structured extraction with LLMs over OpenAI-compatible servers.
#[derive(Debug, Parser)]
#[command(name = "factum", version, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// On an error, also print its chain of causes and every attempt the model made.
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
    // After the flags without a heading: its heading holds for the flags declared after it.
    #[command(flatten)]
    pub(crate) connection: Connection,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Extract one value from a text (the argument, or stdin) and print it as JSON.
    #[command(after_help = EXTRACT_HELP)]
    Extract(ExtractArgs),
    /// Extract a value from every text of a JSONL file or a directory, into a JSONL file.
    #[command(after_help = BATCH_HELP)]
    Batch(BatchArgs),
    /// Print a schema as it is sent to the server, or the prompt rendered from it.
    #[command(after_help = SCHEMA_HELP)]
    Schema(SchemaArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Which server and model; the environment first, these flags over it.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub(crate) struct Connection {
    /// The server's base URL (overrides FACTUM_BASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// The model (overrides FACTUM_MODEL).
    #[arg(long, global = true)]
    pub(crate) model: Option<String>,
    /// The server kind (overrides FACTUM_PROVIDER): dria, openai, ollama, llamacpp,
    /// llamacpp-python, vllm, openrouter, groq, deepseek or custom.
    #[arg(long, global = true, value_parser = parse_provider)]
    pub(crate) provider: Option<factum::Provider>,
    /// The per-attempt HTTP timeout in seconds (default: 130).
    #[arg(long, global = true, value_name = "SECS", value_parser = positive)]
    pub(crate) timeout: Option<u64>,
    /// Runs this GGUF model in-process instead of calling a server.
    #[cfg(feature = "local")]
    #[arg(long, global = true, value_name = "FILE.gguf")]
    pub(crate) local: Option<PathBuf>,
}

fn parse_provider(name: &str) -> Result<factum::Provider, String> {
    name.parse()
        .map_err(|e: factum::ParseProviderError| e.to_string())
}

/// The extraction target: the schema and what is made of it.
#[derive(Debug, Args)]
#[command(next_help_heading = "Target")]
pub(crate) struct Target {
    /// A JSON Schema file (`*.json`), or a concise spec such as 'name, age int, email?'
    /// (types str, int, float, bool; `?` optional; `[]` a list; `: description`).
    #[arg(long, value_name = "SPEC")]
    pub(crate) schema: String,
    /// Extract every such object in the text, as a list.
    #[arg(long)]
    pub(crate) multi: bool,
    /// The target's name, as the prompt and the server see it (default: the schema's
    /// title, else Extraction).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Instructions that open the prompt's description of the target.
    #[arg(long)]
    pub(crate) instructions: Option<String>,
}

/// How the model is asked and its replies read.
#[derive(Debug, Args)]
#[command(next_help_heading = "Asking the model")]
pub(crate) struct Tuning {
    /// The sampling temperature (default: 0).
    #[arg(long, value_parser = parse_temperature)]
    pub(crate) temperature: Option<f32>,
    /// How many times a reply that does not fit is asked again (default: 2).
    #[arg(long, value_name = "N")]
    pub(crate) max_retries: Option<u32>,
    /// How far replies are repaired to fit the schema (default: standard).
    #[arg(long, value_enum)]
    pub(crate) leniency: Option<LeniencyArg>,
    /// Which values must be found in the text (default: optional).
    #[arg(long, value_enum)]
    pub(crate) grounding: Option<GroundingArg>,
}

fn positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}` is not a whole number of at least 1")),
    }
}

fn parse_temperature(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(t) if (0.0..=2.0).contains(&t) => Ok(t),
        _ => Err(format!("`{text}` is not a temperature from 0 to 2")),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LeniencyArg {
    /// Plain JSON; values must have the schema's types already.
    #[value(alias = "strict")]
    Exact,
    /// Syntax repairs and the one reading of each value.
    Standard,
    /// Also enum prefixes, numbers with units, numbers as text, "" as null.
    Lenient,
}

impl From<LeniencyArg> for factum::Leniency {
    fn from(arg: LeniencyArg) -> factum::Leniency {
        match arg {
            LeniencyArg::Exact => factum::Leniency::Exact,
            LeniencyArg::Standard => factum::Leniency::Standard,
            LeniencyArg::Lenient => factum::Leniency::Lenient,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum GroundingArg {
    /// Optional fields' values not in the text are asked again once, then dropped.
    Optional,
    /// Every string and number must be in the text.
    All,
    /// Only fields the schema marks `"x-grounded": true`.
    Off,
}

impl From<GroundingArg> for factum::Grounding {
    fn from(arg: GroundingArg) -> factum::Grounding {
        match arg {
            GroundingArg::Optional => factum::Grounding::Optional,
            GroundingArg::All => factum::Grounding::All,
            GroundingArg::Off => factum::Grounding::Off,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ExtractArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) tuning: Tuning,
    /// The text; stdin when absent or `-`.
    #[arg(help_heading = "Arguments")]
    pub(crate) text: Option<String>,
    /// Print the value with its record: attempts, usage, node, spans and model.
    #[arg(long, help_heading = "Output")]
    pub(crate) full: bool,
    /// Print the value as far as the model has written it, a JSON line per change, then the
    /// final value; with --chunk, the merged list each time a chunk adds to it.
    #[arg(long, help_heading = "Output")]
    pub(crate) stream: bool,
    /// Split the text into chunks of about CHARS characters and merge their lists (implies
    /// --multi).
    #[arg(long, help_heading = "Output", value_name = "CHARS", value_parser = positive)]
    pub(crate) chunk: Option<u64>,
    /// Write a review page (the value over the text, each value highlighted where it was
    /// found) to this HTML file.
    #[arg(long, help_heading = "Output", value_name = "FILE.html")]
    pub(crate) review: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BatchArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) tuning: Tuning,
    /// A JSONL file, a directory of .txt files, or - for JSONL on stdin.
    #[arg(long, help_heading = "Batch", value_name = "FILE|DIR|-")]
    pub(crate) input: PathBuf,
    /// The JSONL file to write, one line per item in input order (- for stdout).
    #[arg(long, help_heading = "Batch", value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// The field of an input object that holds the text.
    #[arg(
        long,
        help_heading = "Batch",
        default_value = "text",
        value_name = "FIELD"
    )]
    pub(crate) text_field: String,
    /// The field of an input object that holds its id.
    #[arg(
        long,
        help_heading = "Batch",
        default_value = "id",
        value_name = "FIELD"
    )]
    pub(crate) id_field: String,
    /// A journal to resume from: a rerun sends only the items it holds no value for.
    #[arg(long, help_heading = "Batch", value_name = "FILE")]
    pub(crate) journal: Option<PathBuf>,
    /// How many items run at once.
    #[arg(long, help_heading = "Batch", default_value_t = 8, value_name = "N", value_parser = positive)]
    pub(crate) concurrency: u64,
    /// At most this many requests a minute.
    #[arg(long, help_heading = "Batch", value_name = "N")]
    pub(crate) rpm: Option<u32>,
    /// At most this many tokens a minute.
    #[arg(long, help_heading = "Batch", value_name = "N")]
    pub(crate) tpm: Option<u32>,
}

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Which form: the source schema, or lowered for OpenAI strict mode or llama.cpp.
    #[arg(long, help_heading = "Output", value_enum, default_value_t = DialectArg::Source)]
    pub(crate) dialect: DialectArg,
    /// Print the compact prompt rendered from the schema instead.
    #[arg(long, help_heading = "Output", conflicts_with = "dialect")]
    pub(crate) prompt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    /// The source JSON Schema, in its envelope when the root is not an object.
    Source,
    /// Lowered for OpenAI Structured Outputs (strict).
    #[value(alias = "openai-strict")]
    Openai,
    /// Lowered for llama.cpp's grammar (llama-server, Ollama, Dria nodes).
    #[value(alias = "llama-cpp")]
    Llamacpp,
}
