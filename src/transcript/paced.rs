//! A text laid out in time as if it were read aloud at a steady pace: deterministic word
//! timings for text that was never spoken (test fixtures, fuzzing, the labelled corpus), so the
//! analysis reads it exactly as it reads a transcript Whisper made.

use super::{Transcript, Word};

/// Silence before the first word: real recordings start with a breath, not a word.
const LEAD_IN_S: f64 = 0.5;
/// Silence kept after the last word (`duration_s = last end + TAIL_S`).
const TAIL_S: f64 = 0.5;
/// Gap between words inside a clause.
const WORD_GAP_S: f64 = 0.12;
/// Gap after a comma, semicolon or colon.
const COMMA_GAP_S: f64 = 0.3;
/// Gap after a sentence (. ? ! or, in the corpus, the end of a labelled sentence).
const SENTENCE_GAP_S: f64 = 0.6;
/// Seconds per letter never drop below this, so even a crammed stretch has audible words.
const MIN_S_PER_LETTER: f64 = 0.02;
/// Shortest word, in seconds ("a", "I").
const MIN_WORD_S: f64 = 0.06;
/// Whisper-like confidence given to every synthesised word.
const SYNTH_PROBABILITY: f64 = 0.93;

/// One stretch of speech at one pace: the whole text for `timed_transcript`, one sentence in the
/// corpus.
pub struct Stretch {
    pub words: Vec<String>,
    pub words_per_minute: f64,
    /// Extra silence before the stretch (a thinking pause), on top of the normal gap.
    pub pause_before_s: f64,
    /// An extra hesitation inside the stretch: (index of the word it follows, seconds).
    pub mid_pause: Option<(usize, f64)>,
    /// Whether the stretch ends a sentence even without punctuation (corpus sentences do).
    pub ends_sentence: bool,
}

/// Letters that take time to say; a token of punctuation alone still counts as one.
fn letter_count(word: &str) -> usize {
    word.chars().filter(|c| c.is_alphanumeric()).count().max(1)
}

/// The normal gap after a word, from the punctuation attached to it.
fn gap_after(word: &str) -> f64 {
    let trimmed = word.trim_end_matches(['"', '\'', ')', '\u{201d}', '\u{2019}']);
    match trimmed.chars().last() {
        Some('.' | '?' | '!') => SENTENCE_GAP_S,
        Some(',' | ';' | ':') => COMMA_GAP_S,
        _ => WORD_GAP_S,
    }
}

/// Splits text into spoken words, dropping tokens with no letter or digit (a lone dash), which a
/// recogniser would not emit as a word.
pub fn spoken_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
        .map(str::to_string)
        .collect()
}

/// Lays stretches out on a timeline. Each stretch's words plus its normal gaps take
/// `words * 60 / wpm` seconds, word durations proportional to letter count; extra pauses come on
/// top, as they do when a speaker stops to think.
pub fn lay_out(stretches: &[Stretch]) -> Transcript {
    let mut words = Vec::new();
    let mut t = LEAD_IN_S;
    let total = stretches.len();
    for (si, stretch) in stretches.iter().enumerate() {
        if stretch.words.is_empty() {
            continue;
        }
        if !words.is_empty() {
            t += stretch.pause_before_s;
        }
        let n = stretch.words.len();
        let is_last_stretch = si + 1 == total;
        // Normal gaps after each word of this stretch (none after the very last word).
        let gaps: Vec<f64> = stretch
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i + 1 < n {
                    gap_after(w)
                } else if is_last_stretch {
                    0.0
                } else if stretch.ends_sentence {
                    gap_after(w).max(SENTENCE_GAP_S)
                } else {
                    gap_after(w)
                }
            })
            .collect();
        let budget = n as f64 * 60.0 / stretch.words_per_minute;
        let letters: usize = stretch.words.iter().map(|w| letter_count(w)).sum();
        let gap_total: f64 = gaps.iter().sum();
        let s_per_letter = ((budget - gap_total) / letters as f64).max(MIN_S_PER_LETTER);
        for (i, text) in stretch.words.iter().enumerate() {
            let duration = (letter_count(text) as f64 * s_per_letter).max(MIN_WORD_S);
            let start = t;
            let end = start + duration;
            words.push(Word {
                text: text.clone(),
                start_s: round_ms(start),
                end_s: round_ms(end),
                probability: SYNTH_PROBABILITY,
            });
            t = end + gaps[i];
            if let Some((after, pause)) = stretch.mid_pause {
                if after == i && i + 1 < n {
                    t += pause;
                }
            }
        }
    }
    let duration_s = words.last().map_or(0.0, |w: &Word| w.end_s + TAIL_S);
    Transcript {
        duration_s: round_ms(duration_s),
        words,
    }
}

/// Millisecond precision, like a recogniser's output, and stable across platforms.
fn round_ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Deterministic word timings for test fixtures.
///
/// Words are split on whitespace with punctuation kept attached. Gaps are 0.12 s between words,
/// 0.3 s after a comma, 0.6 s after a sentence-ending `.` `?` `!`; each word lasts in proportion
/// to its letters so that the span from the first word's start to the last word's end is
/// `words * 60 / words_per_minute` (pauses count as speaking time, as in a spoken pace).
/// Speech starts at 0.5 s and `duration_s` is the last word's end plus 0.5 s.
pub fn timed_transcript(text: &str, words_per_minute: f64) -> Transcript {
    let wpm = if words_per_minute.is_finite() && words_per_minute > 0.0 {
        words_per_minute
    } else {
        150.0
    };
    lay_out(&[Stretch {
        words: spoken_words(text),
        words_per_minute: wpm,
        pause_before_s: 0.0,
        mid_pause: None,
        ends_sentence: true,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_transcript_matches_pace_and_gaps() {
        let t = timed_transcript("So I failed. Then, I learned something new!", 150.0);
        assert_eq!(t.words.len(), 8);
        assert_eq!(t.words[0].text, "So");
        assert!((t.words[0].start_s - 0.5).abs() < 1e-9);
        let span = t.words[7].end_s - t.words[0].start_s;
        assert!((span - 8.0 * 60.0 / 150.0).abs() < 0.05, "span {span}");
        let gap = |i: usize| t.words[i + 1].start_s - t.words[i].end_s;
        assert!((gap(0) - 0.12).abs() < 0.002);
        assert!((gap(2) - 0.6).abs() < 0.002, "after 'failed.'");
        assert!((gap(3) - 0.3).abs() < 0.002, "after 'Then,'");
        assert!((t.duration_s - (t.words[7].end_s + 0.5)).abs() < 1e-9);
        // Longer words last longer.
        let d = |i: usize| t.words[i].end_s - t.words[i].start_s;
        assert!(d(6) > d(1), "'something' longer than 'I'");
        assert!(t.validate().is_ok());
    }

    #[test]
    fn timed_transcript_is_deterministic_and_handles_empty_text() {
        let a = timed_transcript("one two three.", 140.0);
        assert_eq!(a, timed_transcript("one two three.", 140.0));
        let empty = timed_transcript("   ", 140.0);
        assert!(empty.words.is_empty());
        assert_eq!(empty.duration_s, 0.0);
    }
}
