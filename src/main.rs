use std::process::ExitCode;

use clap::Parser;

use rehearse::cli::{
    Cli, Command, ConfigCommand, FrameworksCommand, ModelsCommand, QuestionsCommand,
    SessionsCommand,
};
use rehearse::{commands, stdout};

fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::init_logging(cli.verbose);
    let result = match cli.command {
        Command::Transcribe(args) => commands::transcribe(&args),
        Command::Analyze(args) => commands::analyze(&args),
        Command::Session(args) => commands::session(&args),
        Command::Devices => commands::devices(),
        Command::Eval(args) => commands::eval(&args),
        Command::Train(args) => commands::train(&args),
        Command::Models(ModelsCommand::List { json }) => commands::models_list(json),
        Command::Models(ModelsCommand::Check { model }) => commands::models_check(model.as_deref()),
        Command::Models(ModelsCommand::Dir) => commands::models_dir(),
        Command::Models(ModelsCommand::Fetch { name, url, sha1 }) => {
            commands::models_fetch(&name, url.as_deref(), sha1.as_deref())
        }
        Command::Models(ModelsCommand::Convert { dir, out, quantize }) => {
            commands::models_convert(&dir, out.as_deref(), &quantize)
        }
        Command::History { json } => commands::history(json),
        Command::Report(args) => commands::report(&args),
        Command::Hint(args) => commands::hint(&args),
        Command::Questions(QuestionsCommand::List {
            level,
            questions,
            json,
        }) => commands::questions_list(level, questions.as_deref(), json),
        Command::Frameworks(FrameworksCommand::List) => commands::frameworks_list(),
        Command::Frameworks(FrameworksCommand::Show { name }) => commands::frameworks_show(&name),
        Command::Frameworks(FrameworksCommand::Dir) => commands::frameworks_dir(),
        Command::Config(ConfigCommand::Show) => commands::config_show(),
        Command::Config(ConfigCommand::Path) => commands::config_path(),
        Command::Config(ConfigCommand::Init { force }) => commands::config_init(force),
        Command::Sessions(SessionsCommand::List) => commands::sessions_list(),
        Command::Sessions(SessionsCommand::Recover { level, whisper }) => {
            commands::sessions_recover(level, &whisper)
        }
    };
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
