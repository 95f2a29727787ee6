//! `rehearse transcribe` and `rehearse analyze`: one recording (or transcript) through the
//! pipeline, printed.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::analysis::{self, Level};
use crate::app::cli::{AnalyzeArgs, TranscribeArgs, WhisperArgs};
use crate::app::config::Config;
use crate::report::terminal;
use crate::speech::transcribe::{self, WavFileBlocks};
use crate::transcript::Transcript;
use crate::{out, outln};

use super::{analysis_options, load_config, load_sentence_model, load_whisper, stdout_color};

/// Transcribes a WAV with the chosen model, streaming it (the header is checked before the
/// model loads).
pub fn transcribe_file(file: &Path, whisper: &WhisperArgs) -> Result<Transcript> {
    let mut audio = WavFileBlocks::open(file)?;
    let mut stt = load_whisper(whisper)?;
    let started = std::time::Instant::now();
    let transcript =
        transcribe::transcribe_blocks(&mut stt, &mut audio, &file.display().to_string())?;
    if let Some(seconds) = audio.cut_short_at() {
        eprintln!(
            "warning: {} ends after {seconds:.1} s, before its header says it does (a recorder that crashed, or a copy that did not finish); using the audio that is there",
            file.display()
        );
    }
    tracing::info!(
        "transcribed {:.1} s of audio in {} ms",
        transcript.duration_s,
        started.elapsed().as_millis()
    );
    Ok(transcript)
}

/// `transcribe --json` output: the transcript plus its text.
#[derive(Serialize)]
struct TranscriptJson<'a> {
    #[serde(flatten)]
    transcript: &'a Transcript,
    text: String,
}

pub fn transcribe(args: &TranscribeArgs) -> Result<()> {
    let transcript = transcribe_file(&args.file, &args.whisper)?;
    if args.json {
        let json = TranscriptJson {
            transcript: &transcript,
            text: transcript.text(),
        };
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        outln!("{}", transcript.text())?;
    }
    Ok(())
}

pub fn analyze(args: &AnalyzeArgs) -> Result<()> {
    let is_json = args
        .input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let flags = Config {
        level: args.level.map(Level::from),
        framework: args.framework.clone(),
        ..Config::default()
    };
    let options = analysis_options(&load_config()?.settings(&flags))?;
    let mut encoder = load_sentence_model()?;
    let transcript = if is_json {
        Transcript::read_json(&args.input)?
    } else {
        transcribe_file(&args.input, &args.whisper)?
    };
    let report = analysis::analyze_with(&mut encoder, &transcript, &options)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out!("{}", terminal::render_terminal(&report, stdout_color()))?;
    }
    Ok(())
}
