use clap::Parser;

use rehearse::app;
use rehearse_dev::cli::{Cli, Command};
use rehearse_dev::commands;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    app::init_logging(&cli.logging);
    app::exit_code(match cli.command {
        Command::Eval(args) => commands::eval(&args),
        Command::Train(args) => commands::train(&args),
    })
}
