//! What every command starts from: the target made of `--schema` and its flags, the client
//! made of the environment and the connection flags, and the text read from an argument or
//! stdin.

use std::io::{IsTerminal as _, Read as _};
use std::path::Path;
use std::time::Duration;

use factum::{Client, ClientBuilder, Dynamic};

use crate::args::{Connection, Target, Tuning};
use crate::fail::Failure;

/// The target `--schema SPEC` names: a `*.json` file read as a JSON Schema, anything else
/// a concise spec; then `--name`, `--instructions`, and `--multi` (or `multi` forced).
pub(crate) fn target(args: &Target, multi: bool) -> Result<Dynamic, Failure> {
    let spec = args.schema.trim();
    let mut target = if is_json_path(spec) {
        Dynamic::from_json_schema(schema_file(Path::new(spec))?)?
    } else {
        Dynamic::from_fields(spec)?
    };
    if let Some(name) = &args.name {
        target = target.name(name);
    }
    if let Some(instructions) = &args.instructions {
        target = target.instructions(instructions);
    }
    if args.multi || multi {
        target = target.multi();
    }
    Ok(target)
}

fn is_json_path(spec: &str) -> bool {
    Path::new(spec)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
}

/// The JSON document in the schema file at `path`.
fn schema_file(path: &Path) -> Result<serde_json::Value, Failure> {
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::Usage(format!(
                "schema file `{shown}` not found (a SPEC ending in .json names a file)"
            )));
        }
        Err(e) => {
            return Err(Failure::io(
                format_args!("cannot read schema file `{shown}`"),
                &e,
            ));
        }
    };
    serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(format!("schema file `{shown}` is not JSON: {e}")))
}

/// The client: the environment (`ClientBuilder::from_env`), the connection flags over it,
/// and the tuning flags as its defaults.
pub(crate) fn client(connection: &Connection, tuning: &Tuning) -> Result<Client, Failure> {
    let mut builder = connected(ClientBuilder::from_env(), connection);
    if let Some(temperature) = tuning.temperature {
        builder = builder.temperature(temperature);
    }
    if let Some(retries) = tuning.max_retries {
        builder = builder.max_retries(retries);
    }
    if let Some(leniency) = tuning.leniency {
        builder = builder.leniency(leniency.into());
    }
    if let Some(grounding) = tuning.grounding {
        builder = builder.grounding(grounding.into());
    }
    Ok(builder.build()?)
}

fn connected(mut builder: ClientBuilder, connection: &Connection) -> ClientBuilder {
    if let Some(url) = &connection.base_url {
        builder = builder.base_url(url);
    }
    if let Some(model) = &connection.model {
        builder = builder.model(model);
    }
    if let Some(provider) = connection.provider {
        builder = builder.provider(provider);
    }
    if let Some(secs) = connection.timeout {
        builder = builder.timeout(Duration::from_secs(secs));
    }
    #[cfg(feature = "local")]
    if let Some(path) = &connection.local {
        builder = builder.local(path);
    }
    builder
}

/// The text to extract from: `text`, or stdin when it is absent or `-`.
pub(crate) fn text(text: Option<&str>) -> Result<String, Failure> {
    match text {
        Some(text) if text != "-" => Ok(text.to_owned()),
        given => {
            let stdin = std::io::stdin();
            if given.is_none() && stdin.is_terminal() {
                return Err(Failure::Usage(
                    "no text: give it as an argument, or pipe it on stdin (or pass -)".to_owned(),
                ));
            }
            let mut text = String::new();
            stdin
                .lock()
                .read_to_string(&mut text)
                .map_err(|e| Failure::io("cannot read the text from stdin", &e))?;
            Ok(text)
        }
    }
}
