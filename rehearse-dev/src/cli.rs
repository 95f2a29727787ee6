//! The `rehearse-dev` command line: the judge's two development commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rehearse::app::cli::{Logging, WhisperArgs};

use crate::Split;

#[derive(Debug, Parser)]
#[command(
    name = "rehearse-dev",
    version,
    about = "The judge's development tools for rehearse: score it on the labelled corpus, retrain its weights"
)]
pub struct Cli {
    #[command(flatten)]
    pub logging: Logging,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score the analysis against a labelled corpus of answers.
    Eval(EvalArgs),
    /// Train the failure framework's classifiers on the corpus's training split.
    Train(TrainArgs),
}

/// What `rehearse-dev train` reads and writes.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The corpus root, with split.toml.
    pub corpus: PathBuf,
    /// Where to write the weights.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "models/judge-failure.safetensors"
    )]
    pub out: PathBuf,
    /// Write the training split's sentences (word pieces, part, properties) as JSON lines
    /// to FILE instead of training: what the sentence adapter is fine-tuned on
    /// (`scripts/train-judge.sh`).
    #[arg(long, value_name = "FILE")]
    pub export_sentences: Option<PathBuf>,
    /// Where the heard training answers' transcripts are kept (`train::heard_voice`;
    /// default: a folder in the platform's cache directory).
    #[arg(long, value_name = "DIR")]
    pub audio_cache: Option<PathBuf>,
    #[command(flatten)]
    pub whisper: WhisperArgs,
}

/// What `rehearse-dev eval` scores, and how.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The corpus root (tests/corpus, with split.toml) or a folder of answers (TOML).
    pub dir: PathBuf,
    /// Which authors of a corpus root to score: test (never trained on), train or all.
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Score what Whisper hears instead of the written words: each answer is read aloud by
    /// an espeak-ng voice (three, in turn), transcribed, and its labels carried onto the
    /// heard words. Transcripts are kept under the cache folder for the next run.
    #[arg(long)]
    pub through_audio: bool,
    /// Only N answers, spread evenly over the split (the same ones on every run).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// With --through-audio: where transcripts are kept (default: a folder in the
    /// platform's cache directory).
    #[arg(long, value_name = "DIR", requires = "through_audio")]
    pub audio_cache: Option<PathBuf>,
    #[command(flatten)]
    pub whisper: WhisperArgs,
}
