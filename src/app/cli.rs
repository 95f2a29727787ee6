//! The command line: what each subcommand takes. `main.rs` hands each to one function in
//! `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::analysis::LONGEST_S;

#[derive(Debug, Parser)]
#[command(
    name = "rehearse",
    version,
    about = "A local, hands-free mock interviewer for \"Describe a time you failed\"",
    long_about = "rehearse asks the failure question aloud, listens, transcribes your answer locally \
with whisper.cpp, and tells you where your time went and what your answer lacks. \
Nothing leaves your machine."
)]
pub struct Cli {
    #[command(flatten)]
    pub logging: Logging,

    #[command(subcommand)]
    pub command: Command,
}

/// How much to log, `-v` repeated: the same flag for `rehearse` and `rehearse-dev`
/// (`app::init_logging` reads it).
#[derive(Debug, Args)]
pub struct Logging {
    /// Show what is being done (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Transcribe a WAV file into timed words.
    Transcribe(TranscribeArgs),
    /// Analyse an answer: where the time went, what it lacks, what to ask next.
    Analyze(AnalyzeArgs),
    /// Run a hands-free mock interview: questions aloud, answers heard, reports, follow-ups.
    Session(SessionArgs),
    /// List audio input and output devices.
    Devices,
    /// Manage Whisper models: list, fetch, convert.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Every session and answer so far, and whether answers are getting closer to the budget.
    History {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a recorded session or answer again, or write it as one self-contained HTML page.
    Report(ReportArgs),
    /// Before answering: the parts of a good answer to a question, with their times, what each
    /// should contain at your level, and an example sentence from another line of work.
    Hint(HintArgs),
    /// The question bank.
    #[command(subcommand)]
    Questions(QuestionsCommand),
    /// Answer frameworks (the parts an answer should have): list, show one, where yours go.
    #[command(subcommand)]
    Frameworks(FrameworksCommand),
    /// The config file: show what is in effect, where it is, or write a commented template.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Saved sessions: list them, recover those rehearse could not finish.
    #[command(subcommand)]
    Sessions(SessionsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the settings in effect, each marked as from the config file or the default.
    Show,
    /// Print where the config file is (or would be).
    Path,
    /// Write a commented template with every key at its default.
    Init {
        /// Replace an existing config file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A session (its directory, its name as `rehearse history` lists it, or `latest`),
    /// optionally with `:N` for one answer, e.g. `latest:2`.
    #[arg(value_name = "SESSION|SESSION:N")]
    pub selection: String,

    /// Write an HTML page (timelines, coloured transcript, findings, recordings) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Replace FILE even if it is not a page rehearse wrote (never a recording, never inside
    /// rehearse's data folder).
    #[arg(long, requires = "html")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct HintArgs {
    /// A question id from `rehearse questions list` (default: the first that suits your level).
    pub question: Option<String>,
    /// Your career level (default: the config file's, then mid).
    #[arg(long, value_enum)]
    pub level: Option<LevelArg>,
    /// The answer framework for a question that names none, as in a session (default: the
    /// config file's, then failure).
    #[arg(long, value_name = "NAME|FILE")]
    pub framework: Option<String>,
    /// Your own question file, as `session --questions` takes it.
    #[arg(long, value_name = "FILE")]
    pub questions: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum FrameworksCommand {
    /// List the built-in frameworks and your own, with their parts and budgets.
    List,
    /// Print a framework's TOML definition: a starting point for your own.
    Show {
        /// A name from `rehearse frameworks list`, or a .toml file to check.
        name: String,
    },
    /// Print the folder where your own frameworks go (NAME.toml).
    Dir,
}

#[derive(Debug, Subcommand)]
pub enum QuestionsCommand {
    /// List the questions a session can ask, with their levels and follow-ups.
    List {
        /// Only the questions that suit this level.
        #[arg(long, value_enum)]
        level: Option<LevelArg>,
        /// Include your own question file, as `session --questions` would.
        #[arg(long, value_name = "FILE")]
        questions: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List saved sessions and how each ended.
    List,
    /// Transcribe and analyse the answers of sessions that stopped unexpectedly (a crash, a
    /// kill, a power cut); `rehearse session` also does this when it starts.
    Recover {
        /// Your career level (default: the config file's, then mid).
        #[arg(long, value_enum)]
        level: Option<LevelArg>,

        #[command(flatten)]
        whisper: WhisperArgs,
    },
}

/// Which Whisper model to run and how.
#[derive(Debug, Args)]
pub struct WhisperArgs {
    /// Model: a name `models list` shows (base-q8_0, tiny.en-q8_0, tiny.en, base.en, small.en)
    /// or a path to a ggml file. Defaults to $REHEARSE_MODEL, then the config file, then
    /// base-q8_0.
    #[arg(long, value_name = "PATH|NAME")]
    pub model: Option<String>,

    /// Threads for whisper (default: the available cores; never more).
    #[arg(long, value_name = "N", value_parser = thread_count)]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// A PCM WAV file: 8/16/24/32-bit integer or 32-bit float, any rate, any channels.
    pub file: PathBuf,

    /// Print JSON: {"duration_s", "words": [{"text", "start_s", "end_s", "probability"}], "text"}.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub whisper: WhisperArgs,
}

/// Career level: sets the stakes the analysis expects and the follow-ups it picks.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LevelArg {
    Early,
    Mid,
    Senior,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A WAV answer (transcribed first) or a transcript JSON as `transcribe --json` prints.
    pub input: PathBuf,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,

    /// Your career level (default: the config file's `level`, else mid).
    #[arg(long, value_enum)]
    pub level: Option<LevelArg>,

    /// The framework to measure the answer against: a name from `rehearse frameworks list` or a
    /// .toml file (default: the config file's `framework`, else failure).
    #[arg(long, value_name = "NAME|FILE")]
    pub framework: Option<String>,

    #[command(flatten)]
    pub whisper: WhisperArgs,
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// A TOML file of your own questions; it extends the built-in bank, or replaces it with
    /// `mode = "replace"`.
    #[arg(long, value_name = "FILE")]
    pub questions: Option<PathBuf>,

    /// How many questions to ask.
    #[arg(long, default_value_t = 3, value_parser = question_count)]
    pub count: usize,

    /// Answer a question you answered before, and compare: SESSION as `rehearse history` names
    /// it (or `latest`), `:N` for its Nth answer (default: its last answer heard).
    #[arg(long, value_name = "SESSION[:N]", conflicts_with = "count")]
    pub retry: Option<String>,

    /// Your career level (default: the config file's `level`, else mid).
    #[arg(long, value_enum)]
    pub level: Option<LevelArg>,

    /// The framework answers are measured against when a question names none: a name from
    /// `rehearse frameworks list` or a .toml file (default: the config file's `framework`, else
    /// failure).
    #[arg(long, value_name = "NAME|FILE")]
    pub framework: Option<String>,

    /// While you answer, a short cue in the live line when a part runs past its budget; `tone`
    /// also sounds a soft tone on the output device (default text; config `nudge`).
    #[arg(long, value_enum)]
    pub nudge: Option<crate::session::nudge::NudgeMode>,

    /// Microphone to use: part of its name as `rehearse devices` lists it (default: the config
    /// file's `input_device`, else the system's default).
    #[arg(long, value_name = "NAME", conflicts_with = "input")]
    pub input_device: Option<String>,

    /// Speak through this output device (part of its name as `rehearse devices` lists it)
    /// instead of the system speech service.
    #[arg(long, value_name = "NAME", conflicts_with = "silent")]
    pub output_device: Option<String>,

    /// Play a WAV file in place of the microphone, in real time.
    #[arg(long, value_name = "FILE.wav")]
    pub input: Option<PathBuf>,

    /// Play `--input` this many times faster than real time (benchmarks).
    #[arg(
        long,
        value_name = "X",
        default_value_t = 1.0,
        hide = true,
        requires = "input",
        value_parser = playback_speed
    )]
    pub input_speed: f64,

    /// Seconds of silence that end an answer (default: the config file's `end_silence_s`,
    /// else 3).
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub end_silence: Option<f64>,

    /// Longest answer, in seconds, before rehearse stops listening (default: the config
    /// file's `max_answer_s`, else 360).
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub max_answer: Option<f64>,

    /// Text-to-speech voice, by part of its name (default: the config file's `voice`, else
    /// the speech service's).
    #[arg(long, value_name = "NAME")]
    pub voice: Option<String>,

    /// How fast questions are spoken, 0 (slowest) to 1 (fastest) (default: the config file's
    /// `speaking_rate`, else the voice's normal rate).
    #[arg(long, value_name = "0..1", value_parser = unit_fraction)]
    pub speaking_rate: Option<f32>,

    /// Print questions instead of speaking them.
    #[arg(long)]
    pub silent: bool,

    #[command(flatten)]
    pub whisper: WhisperArgs,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List known models, their size and checksum, and whether they are installed.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the Whisper model rehearse would use (or the one given) and the sentence model.
    Check {
        /// Model to check instead of the configured one.
        #[arg(long, value_name = "PATH|NAME")]
        model: Option<String>,
    },
    /// Print the directory where models are installed.
    Dir,
    /// Download an official whisper.cpp model, resuming an interrupted download.
    Fetch {
        /// Model name: tiny.en, base.en or small.en.
        name: String,
        /// Base URL to download from (a mirror); the file name is appended.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Expected SHA-1 of the file, for a mirror that serves its own build.
        #[arg(long, value_name = "HEX")]
        sha1: Option<String>,
    },
    /// Convert a faster-whisper (CTranslate2) model directory into a ggml file.
    Convert {
        /// The directory holding model.bin, config.json and vocabulary.txt.
        dir: PathBuf,
        /// Output file (default: the models directory, named after the model's size).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Store weights as f16 (default) or quantized to q8_0.
        #[arg(long, value_name = "TYPE", default_value = "f16")]
        quantize: String,
    },
}

/// `text` as a number more than 0 and up to `most`. Durations and speeds are read alike and
/// differ only in their ceiling and in how a bad one is explained.
fn positive_up_to(text: &str, most: f64) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0 && *v <= most)
}

/// `text` as a whole number of 1 or more. Threads and questions are counted alike and differ
/// only in how a bad count is explained.
fn count_from_one(text: &str) -> Option<usize> {
    text.parse::<usize>().ok().filter(|&n| n >= 1)
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    positive_up_to(text, LONGEST_S).ok_or_else(|| {
        format!("{text:?} is not a number of seconds more than 0 and up to {LONGEST_S} (an hour)")
    })
}

fn thread_count(text: &str) -> Result<usize, String> {
    count_from_one(text)
        .ok_or_else(|| format!("{text:?} is not a number of threads; use 1 or more"))
}

fn question_count(text: &str) -> Result<usize, String> {
    count_from_one(text)
        .ok_or_else(|| format!("{text:?} is not a number of questions; ask at least 1"))
}

/// `--input` played faster than this is no longer a test of the live loop.
const FASTEST_PLAYBACK: f64 = 1000.0;

fn playback_speed(text: &str) -> Result<f64, String> {
    positive_up_to(text, FASTEST_PLAYBACK).ok_or_else(|| {
        format!("{text:?} is not a speed more than 0 and up to {FASTEST_PLAYBACK} (1 is real time)")
    })
}

fn unit_fraction(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a number between 0 and 1")),
    }
}
