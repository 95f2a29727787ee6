//! The command line: what each subcommand takes. `main.rs` hands each to one function in
//! `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Show what rehearse is doing (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
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
    /// Score the analysis against a labelled corpus of answers (developer tool).
    Eval {
        /// A directory of corpus answers (TOML), e.g. tests/corpus.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage Whisper models: list, fetch, convert.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Saved sessions: list them, recover those rehearse could not finish.
    #[command(subcommand)]
    Sessions(SessionsCommand),
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List saved sessions and how each ended.
    List,
    /// Transcribe and analyse the answers of sessions that stopped unexpectedly (a crash, a
    /// kill, a power cut); `rehearse session` also does this when it starts.
    Recover {
        /// Your career level.
        #[arg(long, value_enum, default_value = "mid")]
        level: LevelArg,

        #[command(flatten)]
        whisper: WhisperArgs,
    },
}

/// Which Whisper model to run and how.
#[derive(Debug, Args)]
pub struct WhisperArgs {
    /// Model: a known name (tiny.en, base.en, small.en) or a path to a ggml file.
    /// Defaults to $REHEARSE_MODEL, then the config file, then tiny.en.
    #[arg(long, value_name = "PATH|NAME")]
    pub model: Option<String>,

    /// Threads for whisper (default: the available cores).
    #[arg(long, value_name = "N")]
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

    /// Your career level.
    #[arg(long, value_enum, default_value = "mid")]
    pub level: LevelArg,

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
    #[arg(long, default_value_t = 3)]
    pub count: usize,

    /// Your career level.
    #[arg(long, value_enum, default_value = "mid")]
    pub level: LevelArg,

    /// Microphone to use: part of its name as `rehearse devices` lists it.
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
        requires = "input"
    )]
    pub input_speed: f64,

    /// Seconds of silence that end an answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub end_silence: f64,

    /// Longest answer, in seconds, before rehearse stops listening.
    #[arg(long, value_name = "SECONDS", default_value_t = 360.0)]
    pub max_answer: f64,

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
    /// Check the model rehearse would use (or the one given) and say where it is.
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
