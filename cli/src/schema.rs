//! `factum schema`: the schema as it is sent, or the prompt made of it; nothing is sent.

use std::io::Write as _;

use factum::Dialect;

use crate::args::{DialectArg, SchemaArgs};
use crate::fail::Failure;
use crate::setup;

/// Runs `factum schema`.
pub(crate) fn run(args: &SchemaArgs) -> Result<(), Failure> {
    let target = setup::target(&args.target, false)?;
    let schema = target.schema();
    let text = if args.prompt {
        schema.prompt().to_owned()
    } else {
        let json = match args.dialect {
            DialectArg::Source => schema.enveloped_json(),
            DialectArg::Openai => schema.for_dialect(Dialect::OpenAiStrict)?,
            DialectArg::Llamacpp => schema.for_dialect(Dialect::LlamaCpp)?,
        };
        serde_json::to_string_pretty(json)
            .map_err(|e| Failure::Usage(format!("cannot write the schema: {e}")))?
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", text.trim_end())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::io("cannot write to stdout", &e))
}
