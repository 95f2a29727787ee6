use clap::Parser;

use rehearse::app::{self, cli::Cli};

fn main() -> std::process::ExitCode {
    app::exit_code(app::run(Cli::parse()))
}
