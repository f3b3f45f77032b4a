//! `factum`: typed, validated structured extraction with LLMs from the shell, on the
//! `factum` crate. `factum --help` lists the commands, the environment and the exit codes.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

mod args;
mod batch;
mod extract;
mod fail;
mod schema;
mod setup;

use args::{Cli, Command};
use fail::Failure;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(&error),
    };
    let verbose = cli.verbose;
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr()
                .lock()
                .write_all(failure.report(verbose).as_bytes());
            ExitCode::from(failure.code())
        }
    }
}

/// `--help` and `--version` to stdout with code 0; a usage mistake as one line on stderr,
/// code 2.
fn clap_exit(error: &clap::Error) -> ExitCode {
    if error.use_stderr() {
        let _ = std::io::stderr()
            .lock()
            .write_all(fail::clap_line(error).as_bytes());
        ExitCode::from(fail::USAGE)
    } else {
        let _ = error.print();
        ExitCode::SUCCESS
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Schema(args) => schema::run(args),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(*shell, &mut command, "factum", &mut std::io::stdout());
            Ok(())
        }
        Command::Extract(args) => block_on(extract::run(args, &cli.connection, cli.verbose)),
        Command::Batch(args) => block_on(batch::run(args, &cli.connection)),
    }
}

/// Runs `command` on a runtime of its own, which is then shut down without waiting for
/// what the command left behind (a request dropped by Ctrl-C, a name lookup).
fn block_on(command: impl Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io("cannot start the async runtime", &e))?;
    let result = runtime.block_on(command);
    runtime.shutdown_background();
    result
}
