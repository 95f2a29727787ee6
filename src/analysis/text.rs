//! Word normalisation and phrase matching shared by every stage.
//!
//! Cue phrases and transcript words go through the same tokenizer, so "I didn't", "I did not" and
//! "i didnt," all meet the same cue, and a match can always be traced back to the spoken words.

/// One normalised token and the index of the transcript word it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub text: String,
    pub word: usize,
}

/// Contractions expanded so that a cue need only be written once.
const CONTRACTIONS: &[(&str, &str)] = &[
    ("n't", " not"),
    ("'m", " am"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
    ("'d", " would"),
];

/// Irregular negative forms the generic "n't" rule gets wrong.
const IRREGULAR_NEGATIVES: &[(&str, &str)] = &[
    ("can't", "can not"),
    ("cannot", "can not"),
    ("won't", "will not"),
    ("shan't", "shall not"),
    ("ain't", "is not"),
    // Apostrophes whisper sometimes drops.
    ("didnt", "did not"),
    ("dont", "do not"),
    ("doesnt", "does not"),
    ("wasnt", "was not"),
    ("werent", "were not"),
    ("hadnt", "had not"),
    ("havent", "have not"),
    ("hasnt", "has not"),
    ("couldnt", "could not"),
    ("shouldnt", "should not"),
    ("wouldnt", "would not"),
    ("isnt", "is not"),
    ("cant", "can not"),
    ("wont", "will not"),
    ("im", "i am"),
    ("ive", "i have"),
];

/// Lowercases, drops punctuation (keeping apostrophes inside words, `%` and digits) and expands
/// contractions into one or more tokens.
pub(crate) fn normalize_word(raw: &str) -> Vec<String> {
    let lowered: String = raw
        .chars()
        .map(|c| if c == '\u{2019}' || c == '`' { '\'' } else { c })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '%')
        .collect();
    let word = lowered.trim_matches('\'');
    if word.is_empty() {
        return Vec::new();
    }
    if let Some((_, expanded)) = IRREGULAR_NEGATIVES.iter().find(|(w, _)| *w == word) {
        return expanded.split(' ').map(str::to_string).collect();
    }
    // "'s" stays attached except on pronouns where it means "is" (that's, it's, what's).
    if let Some(stem) = word.strip_suffix("'s") {
        if matches!(
            stem,
            "it" | "that" | "what" | "there" | "here" | "he" | "she" | "who"
        ) {
            return vec![stem.to_string(), "is".to_string()];
        }
        return vec![word.to_string()];
    }
    for (suffix, expansion) in CONTRACTIONS {
        if let Some(stem) = word.strip_suffix(suffix) {
            if !stem.is_empty() {
                let mut out = vec![stem.to_string()];
                out.extend(expansion.split_whitespace().map(str::to_string));
                return out;
            }
        }
    }
    vec![word.to_string()]
}

/// Past participles that turn an ambiguous "'d" into "had" ("I'd promised", "she'd seen").
const IRREGULAR_PARTICIPLES: &[&str] = &[
    "been",
    "had",
    "done",
    "gone",
    "made",
    "seen",
    "taken",
    "told",
    "written",
    "known",
    "thought",
    "got",
    "gotten",
    "given",
    "left",
    "kept",
    "sent",
    "spent",
    "put",
    "set",
    "let",
    "said",
    "found",
    "built",
    "forgotten",
    "heard",
    "run",
    "begun",
    "brought",
    "bought",
    "caught",
    "taught",
    "felt",
    "read",
    "lost",
    "met",
    "paid",
    "shown",
    "understood",
    "sold",
    "learnt",
    "become",
];

/// Whether a token can follow "have" as a past participle.
pub(crate) fn is_participle(token: &str) -> bool {
    IRREGULAR_PARTICIPLES.contains(&token) || (token.len() > 4 && token.ends_with("ed"))
}

/// Tokens of a run of raw words; `first_word` is the transcript index of `words[0]`.
pub(crate) fn tokenize<'a>(
    words: impl IntoIterator<Item = &'a str>,
    first_word: usize,
) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    // Indices of "would" tokens that came from "'d".
    let mut from_d: Vec<usize> = Vec::new();
    for (i, raw) in words.into_iter().enumerate() {
        let bare = raw
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
            .replace('\u{2019}', "'");
        let contracted_d = bare.ends_with("'d");
        for text in normalize_word(raw) {
            if contracted_d && text == "would" {
                from_d.push(tokens.len());
            }
            tokens.push(Token {
                text,
                word: first_word + i,
            });
        }
    }
    for at in from_d {
        // "she'd clearly never thought": look past adverbs for the participle.
        let participle = tokens[at + 1..]
            .iter()
            .map(|next| next.text.as_str())
            .find(|t| !SKIPPABLE.contains(t) && *t != "never" && *t != "already")
            .is_some_and(is_participle);
        if participle {
            tokens[at].text = "had".to_string();
        }
    }
    tokens
}

/// Words a speaker slips between the words of a cue without changing it ("I just assumed",
/// "I also didn't"); phrase matching steps over them.
const SKIPPABLE: &[&str] = &[
    "also",
    "just",
    "really",
    "actually",
    "honestly",
    "then",
    "even",
    "probably",
    "definitely",
    "simply",
    "obviously",
    "literally",
    "completely",
    "totally",
    "badly",
    "seriously",
    "still",
    "now",
    "basically",
    "genuinely",
    "quietly",
    "personally",
    "clearly",
    "um",
    "uh",
    "pretty",
    "very",
    "quite",
    "fairly",
];

/// A cue phrase compiled to tokens. A token ending in `*` matches any token with that prefix, one
/// starting with `*` any longer token with that suffix ("*ing").
#[derive(Debug, Clone)]
pub(crate) struct Phrase {
    pub source: String,
    parts: Vec<String>,
}

impl Phrase {
    pub fn new(source: &str) -> Phrase {
        let parts = source
            .split_whitespace()
            .flat_map(|w| {
                if let Some(suffix) = w.strip_prefix('*') {
                    vec![format!("*{suffix}")]
                } else if let Some(prefix) = w.strip_suffix('*') {
                    let mut tokens = normalize_word(prefix);
                    if let Some(last) = tokens.last_mut() {
                        last.push('*');
                    }
                    tokens
                } else {
                    normalize_word(w)
                }
            })
            .collect();
        Phrase {
            source: source.to_string(),
            parts,
        }
    }

    /// Start indices (into `tokens`) of every occurrence of the phrase, allowing skippable
    /// words between its tokens.
    pub fn find_all(&self, tokens: &[Token]) -> Vec<usize> {
        self.find_spans(tokens)
            .into_iter()
            .map(|(start, _)| start)
            .collect()
    }

    /// Every occurrence as (start, number of tokens spanned).
    pub fn find_spans(&self, tokens: &[Token]) -> Vec<(usize, usize)> {
        let Some(first) = self.parts.first() else {
            return Vec::new();
        };
        (0..tokens.len())
            .filter(|&start| token_matches(first, &tokens[start].text))
            .filter_map(|start| {
                let mut at = start + 1;
                for part in &self.parts[1..] {
                    while at < tokens.len()
                        && !token_matches(part, &tokens[at].text)
                        && SKIPPABLE.contains(&tokens[at].text.as_str())
                    {
                        at += 1;
                    }
                    if at >= tokens.len() || !token_matches(part, &tokens[at].text) {
                        return None;
                    }
                    at += 1;
                }
                Some((start, at - start))
            })
            .collect()
    }
}

fn token_matches(pattern: &str, token: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        return token.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return token.len() > suffix.len() + 1 && token.ends_with(suffix);
    }
    pattern == token
}

/// Compiles a cue list once.
pub(crate) fn phrases(sources: &[&'static str]) -> Vec<Phrase> {
    sources.iter().map(|s| Phrase::new(s)).collect()
}

/// Words that turn the cue after them around ("I didn't blame", "it was never fine").
const NEGATORS: &[&str] = &[
    "not", "never", "no", "nobody", "without", "hardly", "nothing",
];

/// Whether one of the `window` tokens before `start` negates what follows.
pub(crate) fn negated_before(tokens: &[Token], start: usize, window: usize) -> bool {
    tokens[start.saturating_sub(window)..start]
        .iter()
        .any(|t| NEGATORS.contains(&t.text.as_str()))
}

/// Number words from zero to twenty, each at the index of its value.
const SMALL_NUMBER_WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// The other number words a speaker states a quantity with: tens past twenty, hundreds and up,
/// "dozen", "half" and "percent".
const LARGE_NUMBER_WORDS: &[&str] = &[
    "thirty",
    "forty",
    "fifty",
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "million",
    "dozen",
    "half",
    "percent",
];

/// The value of a number word from zero to twenty ("ten" → 10). `is_number` and
/// `small_number_value` both read number words, so they read them from one list.
fn small_number_word(token: &str) -> Option<u32> {
    SMALL_NUMBER_WORDS
        .iter()
        .position(|w| *w == token)
        .map(|i| i as u32)
}

/// Whether a token states a quantity: digits, a percentage or a number word. Of the small number
/// words, two to twelve, fifteen and twenty count; "one" is as often a pronoun ("the one I
/// picked").
pub(crate) fn is_number(token: &str) -> bool {
    token.chars().any(|c| c.is_ascii_digit())
        || matches!(small_number_word(token), Some(2..=12 | 15 | 20))
        || LARGE_NUMBER_WORDS.contains(&token)
}

/// Value of a spoken small number ("ten" → 10, "7" → 7) for "N years ago".
pub(crate) fn small_number_value(token: &str) -> Option<u32> {
    if let Ok(n) = token.parse::<u32>() {
        return Some(n);
    }
    match token {
        "a" | "an" => Some(1),
        "several" | "many" => Some(5),
        "couple" => Some(2),
        "few" => Some(3),
        _ => small_number_word(token),
    }
}

/// The year the tokens from `k` say and how many tokens it takes: digits ("2016"), or spoken
/// as people say years ("two thousand and sixteen", "twenty sixteen", "twenty twenty one").
pub(crate) fn year_at(tokens: &[Token], k: usize) -> Option<(i32, usize)> {
    let text = |i: usize| tokens.get(i).map(|t| t.text.as_str());
    if let Some(year) = text(k).and_then(|t| t.parse::<i32>().ok()) {
        return Some((year, 1));
    }
    // A number up to 99 at `i`: "sixteen", "twenty", "twenty one"; and its length in tokens.
    let under_hundred = |i: usize| {
        let n = text(i)
            .and_then(small_number_value)
            .filter(|n| (1..=20).contains(n))?;
        match text(i + 1).and_then(small_number_value) {
            Some(unit) if n == 20 && (1..=9).contains(&unit) => Some((n + unit, 2)),
            _ => Some((n, 1)),
        }
    };
    // "in twenty one days" counts days, not a year.
    const COUNTED: &[&str] = &[
        "seconds", "minutes", "hours", "days", "weeks", "months", "years", "times", "people",
        "percent",
    ];
    let spoken = match (text(k), text(k + 1)) {
        (Some("two"), Some("thousand")) => {
            let skip_and = usize::from(text(k + 2) == Some("and"));
            let (n, len) = under_hundred(k + 2 + skip_and)?;
            Some((2000 + n as i32, 2 + skip_and + len))
        }
        (Some("twenty"), _) => {
            let (n, len) = under_hundred(k + 1).filter(|(n, _)| *n >= 10)?;
            Some((2000 + n as i32, 1 + len))
        }
        _ => None,
    }?;
    (!text(k + spoken.1).is_some_and(|t| COUNTED.contains(&t))).then_some(spoken)
}

/// A short quote of the words `tokens[start..start + len]` came from, as spoken.
pub(crate) fn quote(
    words: &[crate::transcript::Word],
    tokens: &[Token],
    start: usize,
    len: usize,
) -> String {
    let Some(first) = tokens.get(start) else {
        return String::new();
    };
    let last = tokens
        .get(start + len.max(1) - 1)
        .map_or(first.word, |t| t.word);
    let text: Vec<&str> = words[first.word..=last.min(words.len() - 1)]
        .iter()
        .map(|w| w.text.trim())
        .collect();
    text.join(" ")
        .trim_matches(|c: char| matches!(c, '.' | ',' | '?' | '!' | ';' | ':'))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token> {
        tokenize(s.split_whitespace(), 0)
    }

    #[test]
    fn expands_contractions_and_strips_punctuation() {
        let t: Vec<String> = toks("I didn't, I’m that's can't Dave's 15%.")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            t,
            ["i", "did", "not", "i", "am", "that", "is", "can", "not", "dave's", "15%"]
        );
        let d: Vec<String> = toks("I'd promised, I'd pick")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(d, ["i", "had", "promised", "i", "would", "pick"]);
    }

    #[test]
    fn phrase_matches_contracted_and_full_forms_and_prefixes() {
        let p = Phrase::new("I didn't");
        assert_eq!(p.find_all(&toks("so I did not test it")), vec![1]);
        assert_eq!(p.find_all(&toks("so I didn't test it")), vec![1]);
        let prefix = Phrase::new("I underestimat*");
        assert_eq!(prefix.find_all(&toks("I underestimated it")), vec![0]);
        let suffix = Phrase::new("without *ing");
        assert_eq!(suffix.find_all(&toks("ran it without checking")), vec![2]);
        assert!(suffix.find_all(&toks("without ing")).is_empty());
        assert_eq!(p.find_spans(&toks("I just didn't")), vec![(0, 4)]);
        assert!(p.find_all(&toks("I never did not")).is_empty());
    }

    #[test]
    fn negation_looks_back_a_few_tokens() {
        let t = toks("I did not blame anyone");
        assert!(negated_before(&t, 3, 3));
        assert!(!negated_before(&t, 1, 1));
    }
}
