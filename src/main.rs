use std::process::ExitCode;

use clap::Parser;

use rehearse::app::{self, cli::Cli};
use rehearse::stdout;

fn main() -> ExitCode {
    let result = app::run(Cli::parse());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if stdout::is_closed_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes as one line, each cause said once: many messages already carry
/// their cause ("cannot open F: No such file or directory"), and `{:#}` would repeat it.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line
}
