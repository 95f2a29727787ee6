//! Splits timed words into sentences: at `.` `?` `!`, and at pauses where the recogniser left
//! the punctuation out.

use super::text::{tokenize, Token};
use crate::transcript::Word;

/// Pause that ends a sentence in a transcript without punctuation. Inside a clause speakers leave
/// well under half a second between words; between sentences they breathe.
const UNPUNCTUATED_PAUSE_S: f64 = 0.5;
/// Pause that ends a run-on sentence in a punctuated transcript (where shorter pauses are
/// hesitations inside a sentence, not boundaries).
const RUN_ON_PAUSE_S: f64 = 0.7;
/// A punctuated sentence this long without an end is treated as a run-on and split at pauses.
const RUN_ON_WORDS: usize = 40;
/// A transcript with fewer sentence ends than one per this many words lacks punctuation.
const WORDS_PER_SENTENCE_END: usize = 40;

/// A sentence: a contiguous run of transcript words.
#[derive(Debug, Clone)]
pub(crate) struct Sentence {
    /// Index of the first word in the transcript.
    pub first_word: usize,
    /// Index one past the last word.
    pub end_word: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub tokens: Vec<Token>,
}

impl Sentence {
    fn new(words: &[Word], first_word: usize, end_word: usize) -> Sentence {
        let slice = &words[first_word..end_word];
        let text = slice
            .iter()
            .map(|w| w.text.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Sentence {
            first_word,
            end_word,
            start_s: slice.first().map_or(0.0, |w| w.start_s),
            end_s: slice.last().map_or(0.0, |w| w.end_s),
            text,
            tokens: tokenize(slice.iter().map(|w| w.text.as_str()), first_word),
        }
    }

    /// Number of transcript words.
    pub fn word_count(&self) -> usize {
        self.end_word - self.first_word
    }
}

/// Abbreviations whose final period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "e.g.", "i.e.", "vs.", "st.", "approx.",
];

/// Whether a raw word ends a sentence by its punctuation.
fn ends_with_terminal(raw: &str) -> bool {
    let trimmed = raw
        .trim()
        .trim_end_matches(['"', '\'', ')', '\u{201d}', '\u{2019}']);
    let lower = trimmed.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    trimmed.ends_with(['.', '?', '!'])
}

/// Whether a raw word carries any punctuation that marks a clause boundary.
fn has_clause_punctuation(raw: &str) -> bool {
    raw.trim().ends_with([',', ';', ':', '.', '?', '!', '-'])
}

/// Words a sentence cannot end on: articles, prepositions, conjunctions, pronoun subjects and
/// auxiliaries. A pause after one is a hesitation inside the sentence ("on the ... site").
const NEVER_LAST: &[&str] = &[
    "a", "an", "the", "to", "of", "with", "on", "in", "at", "for", "from", "by", "about", "into",
    "and", "but", "or", "so", "because", "that", "which", "who", "if", "when", "than", "as", "my",
    "our", "their", "his", "her", "your", "its", "this", "these", "those", "i", "we", "they", "he",
    "she", "was", "were", "is", "are", "am", "had", "have", "has", "be", "been", "would", "could",
    "should", "will", "can", "did", "do", "does", "very", "really", "just", "um", "uh", "like",
    "i'm", "i'd", "i've", "i'll", "we're", "we'd", "they'd", "it's",
];

/// Whether a raw word leaves its sentence unfinished.
fn ends_mid_phrase(raw: &str) -> bool {
    let lower: String = raw
        .trim()
        .to_lowercase()
        .replace('\u{2019}', "'")
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '\'')
        .collect();
    NEVER_LAST.contains(&lower.as_str())
}

/// Splits the words into sentences; every word lands in exactly one sentence, in order.
pub(crate) fn split_sentences(words: &[Word]) -> Vec<Sentence> {
    let sentence_ends = words.iter().filter(|w| ends_with_terminal(&w.text)).count();
    let punctuated = sentence_ends * WORDS_PER_SENTENCE_END >= words.len() && sentence_ends > 0;
    let mut sentences = Vec::new();
    let mut first = 0;
    for (i, word) in words.iter().enumerate() {
        let pause = words
            .get(i + 1)
            .map_or(0.0, |next| next.start_s - word.end_s);
        let length = i + 1 - first;
        let boundary = if ends_with_terminal(&word.text) {
            true
        } else if punctuated {
            length >= RUN_ON_WORDS && pause >= RUN_ON_PAUSE_S
        } else {
            let mid_phrase = ends_mid_phrase(&word.text) || has_clause_punctuation(&word.text);
            pause >= UNPUNCTUATED_PAUSE_S && !mid_phrase
        };
        if boundary || i + 1 == words.len() {
            sentences.push(Sentence::new(words, first, i + 1));
            first = i + 1;
        }
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start_s: f64, end_s: f64) -> Word {
        Word {
            text: text.to_string(),
            start_s,
            end_s,
            probability: 0.9,
        }
    }

    /// Words 0.3 s long with 0.1 s gaps, plus an extra pause after the words listed.
    fn timed(texts: &[&str], pauses_after: &[(usize, f64)]) -> Vec<Word> {
        let mut t = 0.0;
        texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let w = word(text, t, t + 0.3);
                t += 0.4
                    + pauses_after
                        .iter()
                        .find(|(at, _)| *at == i)
                        .map_or(0.0, |(_, p)| *p);
                w
            })
            .collect()
    }

    fn texts(sentences: &[Sentence]) -> Vec<&str> {
        sentences.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn splits_at_terminal_punctuation_but_not_abbreviations() {
        let words = timed(
            &["I", "failed.", "Dr.", "Lee", "asked", "why?", "Fair!", "ok"],
            &[],
        );
        let s = split_sentences(&words);
        assert_eq!(
            texts(&s),
            ["I failed.", "Dr. Lee asked why?", "Fair!", "ok"]
        );
        assert_eq!(s[1].first_word, 2);
        assert_eq!(s[1].start_s, words[2].start_s);
        assert_eq!(s[1].end_s, words[5].end_s);
    }

    #[test]
    fn splits_at_pauses_when_punctuation_is_missing() {
        let words = timed(
            &[
                "i", "missed", "the", "deadline", "so", "now", "i", "plan", "ahead",
            ],
            &[(3, 0.6)],
        );
        let s = split_sentences(&words);
        assert_eq!(texts(&s), ["i missed the deadline", "so now i plan ahead"]);
    }

    #[test]
    fn a_pause_after_a_word_that_cannot_end_a_sentence_is_a_hesitation() {
        let words = timed(
            &[
                "i", "signed", "off", "the", "design", "and", "it", "failed", "so", "now", "i",
                "check",
            ],
            &[(3, 1.0), (7, 0.6)],
        );
        let s = split_sentences(&words);
        assert_eq!(
            texts(&s),
            ["i signed off the design and it failed", "so now i check"]
        );
    }

    #[test]
    fn hesitation_inside_a_punctuated_sentence_does_not_split() {
        let words = timed(
            &["I", "missed", "the", "deadline.", "Now", "I", "plan."],
            &[(1, 1.2)],
        );
        let s = split_sentences(&words);
        assert_eq!(texts(&s), ["I missed the deadline.", "Now I plan."]);
    }

    #[test]
    fn every_word_is_in_exactly_one_sentence() {
        let words = timed(&["a", "b.", "c", "d", "e?"], &[(2, 2.0)]);
        let s = split_sentences(&words);
        let covered: Vec<usize> = s.iter().flat_map(|s| s.first_word..s.end_word).collect();
        assert_eq!(covered, (0..words.len()).collect::<Vec<_>>());
        assert!(split_sentences(&[]).is_empty());
    }
}
