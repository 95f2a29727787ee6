//! The command-line application: its arguments (`cli`), one file per group of commands, and
//! the helpers they share (the config file, the models each command loads, the analysis
//! settings). `main` parses, calls `run`, and prints an error as the one line it is.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use crate::analysis::{AnalysisOptions, Framework, Level};
use crate::app::config::{Config, Settings};
use crate::library::FrameworkLibrary;
use crate::models::sentence::{self, CachedEncoder, SentenceModel};
use crate::paths;
use crate::speech::transcribe::{WhisperSpeechToText, WhisperTuning};
use crate::stdout;

mod catalog;
pub mod cli;
pub mod config;
mod models;
mod review;
mod session;
mod transcribe;

use cli::{
    Cli, Command, ConfigCommand, FrameworksCommand, LevelArg, ModelsCommand, QuestionsCommand,
    SessionsCommand, WhisperArgs,
};

/// How a command's result leaves the process: success, quietly success when stdout was closed
/// early (`rehearse history | head -1`), or the error as one line on stderr and failure.
pub fn exit_code(result: Result<()>) -> ExitCode {
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

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<()> {
    init_logging(&cli.logging);
    match cli.command {
        Command::Transcribe(args) => transcribe::transcribe(&args),
        Command::Analyze(args) => transcribe::analyze(&args),
        Command::Session(args) => session::session(&args),
        Command::Devices => session::devices(),
        Command::Models(ModelsCommand::List { json }) => models::list(json),
        Command::Models(ModelsCommand::Check { model }) => models::check(model.as_deref()),
        Command::Models(ModelsCommand::Dir) => models::dir(),
        Command::Models(ModelsCommand::Fetch { name, url, sha1 }) => {
            models::fetch(&name, url.as_deref(), sha1.as_deref())
        }
        Command::Models(ModelsCommand::Convert { dir, out, quantize }) => {
            models::convert(&dir, out.as_deref(), &quantize)
        }
        Command::History { json } => review::history(json),
        Command::Report(args) => review::report(&args),
        Command::Hint(args) => review::hint(&args),
        Command::Questions(QuestionsCommand::List {
            level,
            questions,
            json,
        }) => catalog::questions_list(level, questions.as_deref(), json),
        Command::Frameworks(FrameworksCommand::List) => catalog::frameworks_list(),
        Command::Frameworks(FrameworksCommand::Show { name }) => catalog::frameworks_show(&name),
        Command::Frameworks(FrameworksCommand::Dir) => catalog::frameworks_dir(),
        Command::Config(ConfigCommand::Show) => catalog::config_show(),
        Command::Config(ConfigCommand::Path) => catalog::config_path(),
        Command::Config(ConfigCommand::Init { force }) => catalog::config_init(force),
        Command::Sessions(SessionsCommand::List) => session::sessions_list(),
        Command::Sessions(SessionsCommand::Recover { level, whisper }) => {
            session::sessions_recover(level, &whisper)
        }
    }
}

/// Logs go to stderr; whisper.cpp's own chatter only shows with -vv.
pub fn init_logging(logging: &cli::Logging) {
    let filter = match logging.verbose {
        0 => "warn,whisper_rs=error",
        1 => "info,whisper_rs=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("REHEARSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// The user's config file, or the defaults where there is none.
pub fn load_config() -> Result<Config> {
    Config::load(&paths::config_file()?)
}

/// Chooses, checks and loads the Whisper model.
fn load_whisper(args: &WhisperArgs) -> Result<WhisperSpeechToText> {
    load_whisper_tuned(args, WhisperTuning::from_env())
}

/// Loads the chosen Whisper model decoding with `tuning`.
pub fn load_whisper_tuned(
    args: &WhisperArgs,
    tuning: WhisperTuning,
) -> Result<WhisperSpeechToText> {
    let config = load_config()?;
    let (path, source) =
        crate::models::choose_model(args.model.as_deref(), config.model.as_deref())?;
    crate::models::check_model(&path, source)?;
    tracing::info!(model = %path.display(), %source, "loading model");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.map(|asked| {
        if asked > cores {
            eprintln!("warning: --threads {asked} is more than the {cores} cores here; using {cores} (more threads than cores only wait on each other)");
        }
        asked.min(cores)
    });
    Ok(WhisperSpeechToText::load_tuned(&path, threads, tuning)?)
}

/// The sentence model, loaded once per command; sentences already encoded (while a session
/// listens) are not encoded again.
pub type Encoder = CachedEncoder<SentenceModel>;

/// Loads the sentence model the analysis reads meaning with.
pub fn load_sentence_model() -> Result<Encoder> {
    let dir = sentence::sentence_model_dir()?;
    tracing::info!(model = %dir.display(), "loading the sentence model");
    Ok(CachedEncoder::new(SentenceModel::load(&dir)?))
}

impl From<LevelArg> for Level {
    fn from(level: LevelArg) -> Level {
        match level {
            LevelArg::Early => Level::Early,
            LevelArg::Mid => Level::Mid,
            LevelArg::Senior => Level::Senior,
        }
    }
}

/// Columns of the terminal stdout is, or 80 when it is a file or a pipe.
fn terminal_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map_or(80, |(terminal_size::Width(w), _)| usize::from(w))
}

/// Colour only on a terminal, and never when NO_COLOR is set.
fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn framework_library() -> Result<FrameworkLibrary> {
    Ok(FrameworkLibrary::new(paths::frameworks_dir()?))
}

/// A framework by name or file, with the config's budget overrides for its parts.
fn load_framework(name: &str, settings: &Settings) -> Result<Arc<Framework>> {
    let framework = framework_library()?.load(name)?;
    Ok(Arc::new(framework.with_budgets(&settings.budgets)))
}

/// Analysis settings for today: the year lets "back in 2015" date a story (the analysis itself
/// has no clock).
fn analysis_options(settings: &Settings) -> Result<AnalysisOptions> {
    Ok(AnalysisOptions {
        level: settings.level,
        framework: load_framework(&settings.framework, settings)?,
        reference_year: Some(i32::from(jiff::Zoned::now().year())),
    })
}
