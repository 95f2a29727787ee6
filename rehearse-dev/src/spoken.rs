//! The corpus as a candidate's microphone gives it: each answer spoken by a synthetic voice,
//! transcribed by Whisper, and its labels carried onto the words Whisper heard.
//!
//! Scoring the judge on the corpus's own text flatters it: a real transcript mishears words
//! ("I let" for "I led"), drops and adds some, and punctuates as it pleases. `rehearse-dev eval
//! --through-audio` scores the judge on what Whisper makes of the answers instead, with each
//! heard word given the label of the written word it was aligned to.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use similar::{capture_diff_slices, Algorithm, DiffOp};

use crate::CorpusAnswer;
use rehearse::speech::transcribe::{self, SpeechToText, WavFileBlocks};
use rehearse::transcript::Transcript;

/// espeak-ng voices the answers are read by, in turn: an American and an English accent, and
/// a higher (female-like) variant of the American. espeak-ng's Scottish and Caribbean voices were
/// tried and left out: tiny.en misses 30-34 % of their words against 11-22 % for these, which
/// measures espeak-ng's rendering more than a speaker's accent.
pub const VOICES: [&str; 3] = ["en-us", "en-gb-x-rp", "en-us+f3"];

/// espeak-ng's speaking rate is kept within what it renders intelligibly.
const SLOWEST_WPM: f64 = 110.0;
const FASTEST_WPM: f64 = 200.0;

/// A word as the alignment compares it: lower case, letters, digits and apostrophes only.
fn comparable(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric() || *c == '\'')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The label of each heard word, from the written word it aligns to (a word-level Myers diff).
/// A misheard word takes its written counterpart's label (the written words of a replaced run
/// are spread evenly over the heard ones); an added word takes the label of the written word
/// just before it (the first one's, at the start). `labels` is parallel to `written`; with no
/// written words nothing can be carried and every heard word is unlabelled (`None`).
pub fn carry_labels<T: Copy>(written: &[&str], labels: &[T], heard: &[&str]) -> Option<Vec<T>> {
    if written.is_empty() || written.len() != labels.len() {
        return None;
    }
    let written_words: Vec<String> = written.iter().map(|w| comparable(w)).collect();
    let heard_words: Vec<String> = heard.iter().map(|w| comparable(w)).collect();
    let before = |index: usize| labels[index.saturating_sub(1).min(labels.len() - 1)];
    let mut carried = Vec::with_capacity(heard.len());
    for op in capture_diff_slices(Algorithm::Myers, &written_words, &heard_words) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                carried.extend_from_slice(&labels[old_index..old_index + len]);
            }
            DiffOp::Delete { .. } => {}
            DiffOp::Insert {
                old_index, new_len, ..
            } => carried.extend(std::iter::repeat_n(before(old_index), new_len)),
            DiffOp::Replace {
                old_index,
                old_len,
                new_len,
                ..
            } => carried.extend((0..new_len).map(|j| labels[old_index + j * old_len / new_len])),
        }
    }
    Some(carried)
}

/// Word error rate of `heard` against `written`: substituted, dropped and added words over the
/// written words, compared as the alignment compares them.
pub fn word_errors(written: &[&str], heard: &[&str]) -> (usize, usize) {
    let written_words: Vec<String> = written.iter().map(|w| comparable(w)).collect();
    let heard_words: Vec<String> = heard.iter().map(|w| comparable(w)).collect();
    let errors = capture_diff_slices(Algorithm::Myers, &written_words, &heard_words)
        .into_iter()
        .map(|op| match op {
            DiffOp::Equal { .. } => 0,
            DiffOp::Delete { old_len, .. } => old_len,
            DiffOp::Insert { new_len, .. } => new_len,
            DiffOp::Replace {
                old_len, new_len, ..
            } => old_len.max(new_len),
        })
        .sum();
    (errors, written.len())
}

/// The answer as Whisper heard it: the transcript of `voice` reading its words, with the
/// written labels carried onto the heard words. Transcripts are kept in `cache` (named by the
/// model, how `stt` cuts and prompts the audio, voice, pace and words), so scoring a retrained judge
/// does not transcribe again.
pub fn hear(
    answer: &CorpusAnswer,
    voice: &str,
    stt: &mut dyn SpeechToText,
    model_id: &str,
    decoding: &str,
    cache: &Path,
) -> Result<CorpusAnswer> {
    // The author's sentences, punctuated: read without their stops, the voice would run every
    // sentence into the next as no speaker does.
    let text = &answer.said;
    let pace = words_per_minute(&answer.transcript).clamp(SLOWEST_WPM, FASTEST_WPM);
    let mut key = Sha256::new();
    // How the audio is cut and prompted changes what Whisper writes, so it names the
    // transcript too.
    for part in [model_id, decoding, voice, &format!("{pace:.0}"), text] {
        key.update(part.as_bytes());
        key.update([0]);
    }
    let key: String = key.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cached = cache.join(format!("{key}.json"));
    let transcript = if cached.is_file() {
        Transcript::read_json(&cached)?
    } else {
        let heard = transcribe_spoken(text, voice, pace, stt, &cache.join(format!("{key}.wav")))
            .with_context(|| format!("cannot hear answer {}", answer.id))?;
        rehearse::files::write_atomic(&cached, serde_json::to_string(&heard)?.as_bytes())?;
        heard
    };
    let written: Vec<&str> = answer
        .transcript
        .words
        .iter()
        .map(|w| w.text.as_str())
        .collect();
    let heard: Vec<&str> = transcript.words.iter().map(|w| w.text.as_str()).collect();
    let unlabelled = || anyhow::anyhow!("answer {} has no words to carry labels from", answer.id);
    let word_parts = carry_labels(&written, &answer.word_parts, &heard).ok_or_else(unlabelled)?;
    let word_properties = match &answer.word_properties {
        Some(properties) => {
            Some(carry_labels(&written, properties, &heard).ok_or_else(unlabelled)?)
        }
        None => None,
    };
    Ok(CorpusAnswer {
        transcript,
        word_parts,
        word_properties,
        ..answer.clone()
    })
}

/// The corpus transcript's pace: its words over its length.
fn words_per_minute(transcript: &Transcript) -> f64 {
    if transcript.duration_s > 0.0 {
        transcript.words.len() as f64 * 60.0 / transcript.duration_s
    } else {
        FASTEST_WPM
    }
}

/// Speaks `text` with espeak-ng into `wav`, transcribes it and removes the recording.
fn transcribe_spoken(
    text: &str,
    voice: &str,
    words_per_minute: f64,
    stt: &mut dyn SpeechToText,
    wav: &PathBuf,
) -> Result<Transcript> {
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-s", &format!("{words_per_minute:.0}"), "-w"])
        .arg(wav)
        .arg("--")
        .arg(text)
        .status()
        .context("cannot run espeak-ng (scripts/setup.sh installs it)")?;
    anyhow::ensure!(
        status.success(),
        "espeak-ng could not speak with voice {voice} ({status})"
    );
    let heard = WavFileBlocks::open(wav)
        .map_err(anyhow::Error::from)
        .and_then(|mut audio| {
            Ok(transcribe::transcribe_blocks(
                stt,
                &mut audio,
                &wav.display().to_string(),
            )?)
        });
    let _ = std::fs::remove_file(wav);
    heard
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn heard_words_take_the_label_of_the_written_word_they_align_to() {
        let written = words("I led the team. The launch slipped, and that was my call.");
        let labels = [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3];
        // Misheard ("let"), a word dropped ("the"), punctuation and case changed.
        let heard = words("i let team the launch slipped and that was my call");
        let carried = carry_labels(&written, &labels, &heard).unwrap();
        assert_eq!(carried, vec![1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
    }

    #[test]
    fn an_added_word_takes_the_label_before_it_and_at_the_start_the_first() {
        let written = words("we shipped late");
        let heard = words("um we shipped it late");
        let carried = carry_labels(&written, &[7, 8, 9], &heard).unwrap();
        assert_eq!(carried, vec![7, 7, 8, 8, 9]);
    }

    #[test]
    fn a_run_heard_as_more_words_spreads_the_written_labels_over_it() {
        let written = words("seatmaps broke. Since then");
        let heard = words("seat maps broke since then");
        let carried = carry_labels(&written, &['d', 'd', 'l', 'l'], &heard).unwrap();
        assert_eq!(carried, vec!['d', 'd', 'd', 'l', 'l']);
    }

    #[test]
    fn nothing_written_carries_nothing() {
        assert_eq!(carry_labels::<u8>(&[], &[], &words("hello")), None);
    }

    #[test]
    fn word_errors_count_substitutions_drops_and_additions() {
        let written = words("I led the team, and we missed the date.");
        let heard = words("I let the team and uh we missed date");
        // "led" -> "let", "uh" added, "the" dropped.
        assert_eq!(word_errors(&written, &heard), (3, 9));
    }
}
