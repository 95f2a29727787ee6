//! The timed-word transcript: the one type every stage after transcription speaks.
//!
//! Whisper produces it, `transcribe --json` prints it, `analyze` reads it back, and the whole
//! analysis works on it alone, without audio or a model.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub mod paced;

/// The longest audio a transcript may describe: a day. Answers are minutes long; a one-hour
/// recording is transcribed in the tests; more is a damaged or hand-made file.
pub const LONGEST_AUDIO_S: f64 = 86_400.0;

/// One recognised word with its place in the answer, in seconds from the start of the audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as spoken, with any punctuation whisper attached to it ("failed.", "Then,").
    pub text: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Whisper's mean token probability for the word, 0..=1.
    pub probability: f64,
}

/// A whole answer: its audio length and the words in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub duration_s: f64,
    pub words: Vec<Word>,
}

/// Why a transcript cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("cannot read transcript {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a transcript JSON like `rehearse transcribe --json` prints: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: String },
}

impl Transcript {
    /// The words joined with single spaces, as a person would read them.
    pub fn text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads a transcript JSON (the shape `transcribe --json` prints) and checks its times.
    pub fn read_json(path: &Path) -> Result<Transcript, TranscriptError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| TranscriptError::Read {
            path: shown.clone(),
            source,
        })?;
        Transcript::from_json_slice(&bytes, &shown)
    }

    /// Parses and checks a transcript JSON; `path` names it in errors.
    pub fn from_json_slice(bytes: &[u8], path: &str) -> Result<Transcript, TranscriptError> {
        let transcript: Transcript =
            serde_json::from_slice(bytes).map_err(|source| TranscriptError::Parse {
                path: path.to_string(),
                source,
            })?;
        transcript
            .validate()
            .map_err(|problem| TranscriptError::Invalid {
                path: path.to_string(),
                problem,
            })?;
        Ok(transcript)
    }

    /// Checks that times are finite, non-negative, ordered and inside the audio, and the audio
    /// at most `LONGEST_AUDIO_S`.
    pub fn validate(&self) -> Result<(), String> {
        if !self.duration_s.is_finite() || self.duration_s < 0.0 {
            return Err(format!(
                "duration_s is {}, expected a non-negative number of seconds",
                self.duration_s
            ));
        }
        // Every word ends within the audio, so this bounds every time in the file; 1e300 s
        // would otherwise print as a clock of 18 digits.
        if self.duration_s > LONGEST_AUDIO_S {
            return Err(format!(
                "duration_s is {:e} s; a recording rehearse reads is at most a day ({LONGEST_AUDIO_S} s)",
                self.duration_s
            ));
        }
        let mut previous_start = 0.0;
        for (i, word) in self.words.iter().enumerate() {
            if !word.start_s.is_finite() || !word.end_s.is_finite() || word.start_s < 0.0 {
                return Err(format!("word {} ({:?}) has an invalid time", i, word.text));
            }
            if word.end_s < word.start_s {
                return Err(format!(
                    "word {} ({:?}) ends at {:.2} s before it starts at {:.2} s",
                    i, word.text, word.end_s, word.start_s
                ));
            }
            if word.start_s < previous_start {
                return Err(format!(
                    "times go backwards at word {} ({:?}): {:.2} s after {:.2} s",
                    i, word.text, word.start_s, previous_start
                ));
            }
            if word.end_s > self.duration_s + 0.5 {
                return Err(format!(
                    "word {} ({:?}) ends at {:.2} s, after the audio ends at {:.2} s",
                    i, word.text, word.end_s, self.duration_s
                ));
            }
            previous_start = word.start_s;
        }
        Ok(())
    }
}
