//! Delivery: pace, filler words and pauses, from the word timings alone.
//!
//! Whisper tends to drop "um" and "uh", so the filler count is a floor: it counts what is there.

use super::text::{tokenize, Token};
use super::{Delivery, FillerCount};
use crate::transcript::Word;

/// Fillers that are fillers wherever they occur.
const ALWAYS_FILLER: &[&str] = &[
    "um",
    "umm",
    "uh",
    "uhh",
    "uhm",
    "er",
    "erm",
    "basically",
    "actually",
];
/// Words before "like" that make it a verb or a comparison ("I like", "looks like").
const LIKE_NOT_FILLER_BEFORE: &[&str] = &[
    "i",
    "you",
    "we",
    "they",
    "would",
    "look",
    "looks",
    "looked",
    "feel",
    "feels",
    "felt",
    "seem",
    "seems",
    "seemed",
    "sound",
    "sounds",
    "sounded",
    "something",
    "things",
    "nothing",
    "much",
    "not",
    "did",
    "do",
    "just",
    "exactly",
    "more",
];
/// Words after "you know" that make it a real question or statement ("you know what happened").
const KNOW_NOT_FILLER_AFTER: &[&str] = &[
    "what", "how", "why", "when", "where", "who", "whether", "if", "that", "the", "it", "him",
    "her", "them", "this",
];
/// Words before "kind of" / "sort of" that make it a real noun phrase ("the kind of bug").
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "that", "what", "which", "any", "some", "every", "one", "same", "no",
    "each", "another", "these", "those", "my", "our", "your", "their", "his", "her", "its", "all",
];
/// Words after "I mean" that make it a real statement ("I mean to", "I mean it").
const MEAN_NOT_FILLER_AFTER: &[&str] = &["to", "it", "that", "by", "is", "was"];

/// Whether the raw spoken word ends with a comma (or dash): a pause marked in writing.
fn comma_after(words: &[Word], token: &Token) -> bool {
    words
        .get(token.word)
        .is_some_and(|w| w.text.trim_end().ends_with([',', '-', ';', '.', '?', '!']))
}

/// The filler words found, by word, most frequent first.
fn count_fillers(words: &[Word]) -> Vec<FillerCount> {
    let tokens = tokenize(words.iter().map(|w| w.text.as_str()), 0);
    let text = |i: usize| tokens.get(i).map(|t| t.text.as_str());
    let before = |i: usize| i.checked_sub(1).and_then(text);
    let mut found: Vec<&'static str> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let prev_comma = i
            .checked_sub(1)
            .and_then(|p| tokens.get(p))
            .is_none_or(|p| comma_after(words, p));
        match token.text.as_str() {
            t if ALWAYS_FILLER.contains(&t) => {
                if let Some(f) = ALWAYS_FILLER.iter().find(|f| **f == t) {
                    found.push(f);
                }
            }
            "like" => {
                let marked = comma_after(words, token) || prev_comma;
                let verb = before(i).is_some_and(|b| LIKE_NOT_FILLER_BEFORE.contains(&b));
                if marked && !verb {
                    found.push("like");
                }
            }
            "you" if text(i + 1) == Some("know") => {
                let after = text(i + 2);
                let real = after.is_some_and(|a| KNOW_NOT_FILLER_AFTER.contains(&a))
                    || before(i)
                        .is_some_and(|b| matches!(b, "do" | "did" | "not" | "if" | "as" | "would"));
                if !real {
                    found.push("you know");
                }
            }
            "kind" | "sort"
                if text(i + 1) == Some("of")
                    && !before(i).is_some_and(|b| DETERMINERS.contains(&b)) =>
            {
                found.push(if token.text == "kind" {
                    "kind of"
                } else {
                    "sort of"
                });
            }
            "i" if text(i + 1) == Some("mean") => {
                let after = text(i + 2);
                let marked = tokens.get(i + 1).is_some_and(|m| comma_after(words, m));
                let real = !marked
                    && (after.is_some_and(|a| MEAN_NOT_FILLER_AFTER.contains(&a))
                        || before(i).is_some_and(|b| matches!(b, "what" | "not")));
                if !real {
                    found.push("I mean");
                }
            }
            _ => {}
        }
    }
    let mut counts: Vec<FillerCount> = Vec::new();
    for word in found {
        match counts.iter_mut().find(|c| c.word == word) {
            Some(c) => c.count += 1,
            None => counts.push(FillerCount {
                word: word.to_string(),
                count: 1,
            }),
        }
    }
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.word.cmp(&b.word)));
    counts
}

/// Silence longer than this is thinking, not speaking, and is left out of the pace.
const THINKING_PAUSE_S: f64 = 2.0;

/// Seconds of speech: first word to last, less the part of each pause beyond a thinking pause.
pub(crate) fn speech_seconds(words: &[Word]) -> f64 {
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return 0.0;
    };
    let thinking: f64 = words
        .windows(2)
        .map(|pair| (pair[1].start_s - pair[0].end_s - THINKING_PAUSE_S).max(0.0))
        .sum();
    (last.end_s - first.start_s - thinking).max(0.0)
}

/// Pace, fillers and the longest pause between two words.
pub(crate) fn measure(words: &[Word]) -> Delivery {
    let speech_s = speech_seconds(words);
    let words_per_minute = if speech_s > 0.0 {
        words.len() as f64 * 60.0 / speech_s
    } else {
        0.0
    };
    let longest_pause_s = words
        .windows(2)
        .map(|pair| pair[1].start_s - pair[0].end_s)
        .fold(0.0, f64::max);
    Delivery {
        words_per_minute,
        filler_words: count_fillers(words),
        longest_pause_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::paced::timed_transcript;

    fn fillers(text: &str) -> Vec<(String, usize)> {
        count_fillers(&timed_transcript(text, 150.0).words)
            .into_iter()
            .map(|c| (c.word, c.count))
            .collect()
    }

    #[test]
    fn counts_fillers_but_not_the_same_words_used_for_meaning() {
        assert_eq!(
            fillers("Um, so it was, like, you know, kind of a mess. Basically I, uh, panicked."),
            [
                ("basically".into(), 1),
                ("kind of".into(), 1),
                ("like".into(), 1),
                ("uh".into(), 1),
                ("um".into(), 1),
                ("you know".into(), 1)
            ]
        );
        assert!(
            fillers("I like the kind of work where you know what happened. I mean to fix it.")
                .is_empty()
        );
        assert_eq!(fillers("I mean, it was late."), [("I mean".into(), 1)]);
    }

    #[test]
    fn pace_and_longest_pause() {
        let t = timed_transcript("One two three four five six seven eight nine ten.", 120.0);
        let d = measure(&t.words);
        assert!(
            (d.words_per_minute - 120.0).abs() < 1.0,
            "{}",
            d.words_per_minute
        );
        assert!((d.longest_pause_s - 0.12).abs() < 0.01);
        assert_eq!(measure(&[]).words_per_minute, 0.0);
    }
}
