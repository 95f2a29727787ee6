//! The judge's development tools, kept out of the shipped `rehearse` binary: the labelled
//! evaluation corpus (spoken answers to "Describe a time you failed", written as TOML files with
//! a gold part per sentence, turned into timed transcripts here), `eval` (scores an analysis
//! against the labels), `train` (fits the judge's weights the binary ships), `spoken` (reads
//! answers aloud and hears them back through Whisper), and the `rehearse-dev` command over them.
//!
//! The corpus has no audio, so word timings are laid out from the text by
//! `rehearse::transcript::paced`, the same rules the unit tests' fixtures use, so that an engine
//! tuned on one behaves the same on the other.

pub mod cli;
pub mod commands;
pub mod eval;
mod spoken;
pub mod train;

use std::path::Path;

use serde::Deserialize;

use rehearse::analysis::{AnswerPart, ContentCheck, Level, Property};
use rehearse::transcript::paced::{lay_out, spoken_words, Stretch};
use rehearse::transcript::Transcript;

/// The parts the corpus is labelled with, the built-in failure framework's, in table order;
/// `other` is small talk.
pub fn parts() -> [AnswerPart; 5] {
    ["choose", "describe", "own", "learn", "other"].map(AnswerPart::new)
}

/// The year the corpus's answers were written and labelled in. The labelling guide counts a
/// named year ("back in 2015") back from the year of the interview, so training and scoring
/// date the answers against it, as a session dates a live answer against today.
pub const CORPUS_YEAR: i32 = 2026;

/// One answer of the corpus, ready to be analysed and scored.
#[derive(Debug, Clone)]
pub struct CorpusAnswer {
    /// The file stem; also names the answer in evaluation output.
    pub id: String,
    /// Who wrote it: the corpus is split by author, so a classifier is measured on writers it
    /// never saw.
    pub author: String,
    pub level: Level,
    pub profession: String,
    /// "budget" when the answer follows the guide's proportions, otherwise the deviation it shows.
    pub shape: String,
    /// Content finding codes a careful coach would raise; empty for a strong answer.
    pub expected_findings: Vec<String>,
    pub transcript: Transcript,
    /// The answer as its author wrote it, sentences with their punctuation even where the
    /// transcript leaves it out: what a voice reads aloud (a speaker pauses between sentences
    /// whatever the recogniser then prints).
    pub said: String,
    /// Gold part of each word, parallel to `transcript.words`.
    pub word_parts: Vec<AnswerPart>,
    /// Gold properties of each word's sentence, parallel to `transcript.words`; `None` for
    /// answers written before sentences were tagged.
    pub word_properties: Option<Vec<PropertySet>>,
    /// The interviewer's follow-ups about a gap, with the candidate's replies.
    pub followups: Vec<CorpusFollowup>,
}

/// Which properties a sentence has, one bit per `Property::ALL` entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PropertySet(u16);

impl PropertySet {
    pub fn contains(self, property: Property) -> bool {
        self.0 & Self::bit(property) != 0
    }

    fn insert(&mut self, property: Property) {
        self.0 |= Self::bit(property);
    }

    fn bit(property: Property) -> u16 {
        1 << property.index()
    }
}

/// A follow-up question about one gap of an answer, the reply, and whether it fills the gap.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusFollowup {
    pub gap: String,
    pub question: String,
    pub reply: String,
    pub fills: bool,
}

/// Why a corpus file or folder cannot be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read corpus {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid corpus answer: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: String },
}

/// The TOML layout of one corpus answer. Unknown keys are refused so a typo is not silently lost.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerFile {
    id: String,
    author: String,
    /// The question as the author phrased it (a variant of the failure question).
    #[serde(default)]
    #[allow(dead_code)]
    question: Option<String>,
    /// `spoken` or `composed`: how the author wrote it, for reading the corpus.
    #[serde(default)]
    #[allow(dead_code)]
    style: Option<String>,
    level: String,
    profession: String,
    shape: String,
    words_per_minute: f64,
    #[serde(default = "default_true")]
    punctuation: bool,
    #[serde(default)]
    expected_findings: Vec<String>,
    /// Free text for humans: why the labels are what they are.
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    sentence: Vec<SentenceFile>,
    #[serde(default)]
    followup: Vec<CorpusFollowup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SentenceFile {
    part: String,
    /// Property tags; absent in answers written before sentences were tagged.
    tags: Option<Vec<String>>,
    text: String,
    #[serde(default)]
    pause_before_s: f64,
}

fn default_true() -> bool {
    true
}

/// A part label of the corpus: one of the failure framework's parts, or `other`.
fn parse_part(s: &str) -> Option<AnswerPart> {
    parts().into_iter().find(|p| p.name() == s)
}

fn parse_level(s: &str) -> Option<Level> {
    match s {
        "early" => Some(Level::Early),
        "mid" => Some(Level::Mid),
        "senior" => Some(Level::Senior),
        _ => None,
    }
}

/// FNV-1a: a stable hash (std's hasher may change between releases) to seed timing variation
/// and to pick the heard training answers.
pub(crate) fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// splitmix64 step as a uniform number in [0, 1): deterministic "randomness" per (seed, index).
pub(crate) fn unit(seed: u64, index: u64) -> f64 {
    let mut z = seed.wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Removes sentence punctuation from a word, as a recogniser without punctuation would print it.
fn strip_punctuation(word: &str) -> String {
    word.trim_matches(|c: char| matches!(c, '.' | ',' | '?' | '!' | ';' | ':' | '"'))
        .to_string()
}

/// Lowercases a sentence's first word unless it is "I" or an "I'…" contraction.
fn lowercase_first(word: &str) -> String {
    if word == "I" || word.starts_with("I'") || word.starts_with("I\u{2019}") {
        return word.to_string();
    }
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Reads one corpus answer and synthesises its timed transcript and gold word labels.
pub fn load_answer(path: &Path) -> Result<CorpusAnswer, CorpusError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: shown.clone(),
        source,
    })?;
    let file: AnswerFile = toml::from_str(&text).map_err(|source| CorpusError::Parse {
        path: shown.clone(),
        source: Box::new(source),
    })?;
    let invalid = |problem: String| CorpusError::Invalid {
        path: shown.clone(),
        problem,
    };
    let stem = path.file_stem().and_then(|s| s.to_str());
    let level = check_answer(&file, stem).map_err(invalid)?;
    let tagged = file.sentence.iter().any(|s| s.tags.is_some());
    let seed = fnv1a(&file.id);
    let mut stretches = Vec::with_capacity(file.sentence.len());
    let mut word_parts = Vec::new();
    let mut word_properties = Vec::new();
    for (i, sentence) in file.sentence.iter().enumerate() {
        let (stretch, part, properties) =
            sentence_stretch(&file, i, sentence, seed).map_err(invalid)?;
        let n = stretch.words.len();
        word_parts.extend(std::iter::repeat_n(part, n));
        word_properties.extend(std::iter::repeat_n(properties, n));
        stretches.push(stretch);
    }
    let transcript = lay_out(&stretches);
    transcript
        .validate()
        .map_err(|problem| invalid(format!("synthesised transcript is invalid: {problem}")))?;
    Ok(CorpusAnswer {
        id: file.id,
        author: file.author,
        level,
        profession: file.profession,
        shape: file.shape,
        expected_findings: file.expected_findings,
        said: file
            .sentence
            .iter()
            .map(|s| s.text.trim())
            .collect::<Vec<_>>()
            .join(" "),
        transcript,
        word_parts,
        word_properties: tagged.then_some(word_properties),
        followups: file.followup,
    })
}

/// Checks an answer file's fields other than its sentences' (the file's name `stem` must be its
/// id) and returns its level.
fn check_answer(file: &AnswerFile, stem: Option<&str>) -> Result<Level, String> {
    if file.id.trim().is_empty() {
        return Err("id is empty".into());
    }
    if file.author.trim().is_empty() {
        return Err("author is empty".into());
    }
    if let Some(stem) = stem {
        if stem != file.id {
            return Err(format!(
                "id {:?} does not match the file name {:?}",
                file.id, stem
            ));
        }
    }
    let level = parse_level(&file.level).ok_or_else(|| {
        format!(
            "unknown level {:?}; expected early, mid or senior",
            file.level
        )
    })?;
    if file.profession.trim().is_empty() {
        return Err("profession is empty".into());
    }
    if file.shape.trim().is_empty() {
        return Err("shape is empty".into());
    }
    if !(60.0..=260.0).contains(&file.words_per_minute) {
        return Err(format!(
            "words_per_minute is {}, expected 60 to 260",
            file.words_per_minute
        ));
    }
    for code in &file.expected_findings {
        if !ContentCheck::is_content(code) {
            return Err(format!(
                "unknown finding code {:?} in expected_findings; expected one of {}",
                code,
                ContentCheck::ALL.map(ContentCheck::name).join(", ")
            ));
        }
    }
    if file.sentence.is_empty() {
        return Err("no [[sentence]] entries".into());
    }
    for (i, f) in file.followup.iter().enumerate() {
        if !file.expected_findings.contains(&f.gap) {
            return Err(format!(
                "followup {}: gap {:?} is not one of expected_findings",
                i + 1,
                f.gap
            ));
        }
    }
    Ok(level)
}

/// The `i`th sentence as a stretch of timed speech, with its part and properties. Pace varies
/// ±10 % from sentence to sentence; about one sentence in five of ten words or more has a
/// hesitation of 0.8-1.5 s somewhere in its middle (all drawn from `seed`, so the same file is
/// always laid out the same).
fn sentence_stretch(
    file: &AnswerFile,
    i: usize,
    sentence: &SentenceFile,
    seed: u64,
) -> Result<(Stretch, AnswerPart, PropertySet), String> {
    let number = i + 1;
    let part = parse_part(&sentence.part).ok_or_else(|| {
        format!(
            "sentence {number}: unknown part {:?}; expected choose, describe, own, learn or other",
            sentence.part
        )
    })?;
    if !(0.0..=10.0).contains(&sentence.pause_before_s) {
        return Err(format!(
            "sentence {number}: pause_before_s is {}, expected 0 to 10 seconds",
            sentence.pause_before_s
        ));
    }
    let mut words = spoken_words(&sentence.text);
    if words.is_empty() {
        return Err(format!("sentence {number} is empty"));
    }
    if !file.punctuation {
        words = words
            .iter()
            .map(|w| strip_punctuation(w))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(first) = words.first_mut() {
            *first = lowercase_first(first);
        }
    }
    let k = 4 * i as u64;
    let wpm = file.words_per_minute * (0.9 + 0.2 * unit(seed, k));
    let n = words.len();
    let mid_pause = (n >= 10 && unit(seed, k + 1) < 0.2).then(|| {
        let after = ((n as f64) * (0.3 + 0.4 * unit(seed, k + 2))) as usize;
        (after.min(n - 2), 0.8 + 0.7 * unit(seed, k + 3))
    });
    let mut properties = PropertySet::default();
    for tag in sentence.tags.iter().flatten() {
        let property = Property::from_name(tag)
            .ok_or_else(|| format!("sentence {number}: unknown tag {tag:?}"))?;
        properties.insert(property);
    }
    let stretch = Stretch {
        words,
        words_per_minute: wpm,
        pause_before_s: sentence.pause_before_s,
        mid_pause,
        ends_sentence: true,
    };
    Ok((stretch, part, properties))
}

/// Loads every `*.toml` in a folder, sorted by file name, failing on the first bad file.
pub fn load_dir(dir: &Path) -> Result<Vec<CorpusAnswer>, CorpusError> {
    let shown = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|source| CorpusError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CorpusError::Read {
            path: shown.clone(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths.iter().map(|p| load_answer(p)).collect()
}

/// Which authors an answer set is drawn from: the classifiers are trained on some authors and
/// measured on the others (`split.toml` at the corpus root names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    Train,
    Test,
    All,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
            Split::All => "all",
        }
    }
}

/// The folder of the corpus root that holds second labels: answers of the corpus labelled
/// again, blind, by a labeller who is neither their author nor their first labeller, one
/// folder per author as in the corpus. Not an author: no split names it.
pub const SECOND_LABELS: &str = "second-labels";

/// Every second-labelled answer under the corpus root (none when the folder is absent).
pub fn load_second_labels(root: &Path) -> Result<Vec<CorpusAnswer>, CorpusError> {
    let dir = root.join(SECOND_LABELS);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut folders: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut answers = Vec::new();
    for folder in folders {
        answers.extend(load_dir(&folder)?);
    }
    Ok(answers)
}

/// The file naming each split's authors.
pub const SPLIT_FILE: &str = "split.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitFile {
    train: Vec<String>,
    test: Vec<String>,
}

/// The authors of a split, from the corpus root's `split.toml`.
pub fn split_authors(root: &Path, split: Split) -> Result<Vec<String>, CorpusError> {
    let path = root.join(SPLIT_FILE);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| CorpusError::Read {
        path: shown.clone(),
        source,
    })?;
    let file: SplitFile = toml::from_str(&text).map_err(|source| CorpusError::Parse {
        path: shown.clone(),
        source: Box::new(source),
    })?;
    if let Some(both) = file.train.iter().find(|a| file.test.contains(a)) {
        return Err(CorpusError::Invalid {
            path: shown,
            problem: format!("author {both:?} is in both train and test"),
        });
    }
    Ok(match split {
        Split::Train => file.train,
        Split::Test => file.test,
        Split::All => file.train.into_iter().chain(file.test).collect(),
    })
}

/// Loads a split of a corpus root: one folder per author, each answer's `author` its folder's
/// name.
pub fn load_split(root: &Path, split: Split) -> Result<Vec<CorpusAnswer>, CorpusError> {
    let mut answers = Vec::new();
    for author in split_authors(root, split)? {
        let dir = root.join(&author);
        for answer in load_dir(&dir)? {
            if answer.author != author {
                return Err(CorpusError::Invalid {
                    path: dir
                        .join(format!("{}.toml", answer.id))
                        .display()
                        .to_string(),
                    problem: format!(
                        "author {:?} is not the folder's author {author:?}",
                        answer.author
                    ),
                });
            }
            answers.push(answer);
        }
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, body).expect("write fixture");
        path
    }

    const GOOD: &str = r#"
id = "tiny"
author = "t1"
level = "early"
profession = "barista"
shape = "budget"
words_per_minute = 150
expected_findings = ["no_evidence"]
[[sentence]]
part = "choose"
text = "I'll talk about the time I broke the espresso machine."
[[sentence]]
part = "learn"
text = "Now I read the manual first."
pause_before_s = 1.5
"#;

    #[test]
    fn loads_answer_with_parts_per_word() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "tiny.toml", GOOD);
        let a = load_answer(&path).expect("loads");
        assert_eq!(a.id, "tiny");
        assert_eq!(a.level, Level::Early);
        assert_eq!(a.expected_findings, vec!["no_evidence".to_string()]);
        assert_eq!(a.transcript.words.len(), 16);
        assert_eq!(a.word_parts.len(), 16);
        assert_eq!(a.word_parts[9].name(), "choose");
        assert_eq!(a.word_parts[10].name(), "learn");
        // Sentence gap plus the thinking pause.
        let gap = a.transcript.words[10].start_s - a.transcript.words[9].end_s;
        assert!((gap - 2.1).abs() < 0.01, "gap {gap}");
        assert_eq!(load_answer(&path).expect("loads").transcript, a.transcript);
    }

    #[test]
    fn loaded_transcript_round_trips_through_transcript_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = load_answer(&write(dir.path(), "tiny.toml", GOOD)).expect("loads");
        assert_eq!(
            a.transcript.text(),
            "I'll talk about the time I broke the espresso machine. Now I read the manual first."
        );
        let json = dir.path().join("tiny.json");
        std::fs::write(
            &json,
            serde_json::to_vec(&a.transcript).expect("serializes"),
        )
        .expect("write");
        let back = Transcript::read_json(&json).expect("reads back as a transcript");
        assert_eq!(back, a.transcript);
    }

    #[test]
    fn strips_punctuation_when_asked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let body = GOOD.replace(
            "words_per_minute = 150",
            "words_per_minute = 150\npunctuation = false",
        );
        let a = load_answer(&write(dir.path(), "tiny.toml", &body)).expect("loads");
        let text = a.transcript.text();
        assert_eq!(
            text,
            "I'll talk about the time I broke the espresso machine now I read the manual first"
        );
        // The sentence boundary still has its pause.
        let gap = a.transcript.words[10].start_s - a.transcript.words[9].end_s;
        assert!(gap > 2.0);
    }

    #[test]
    fn reports_bad_files_by_name_and_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                GOOD.replace("part = \"learn\"", "part = \"lesson\""),
                "unknown part \"lesson\"",
            ),
            (
                GOOD.replace("Now I read the manual first.", " "),
                "sentence 2 is empty",
            ),
            (GOOD.replace("\"early\"", "\"junior\""), "unknown level"),
            (
                GOOD.replace("\"no_evidence\"", "\"no_proof\""),
                "unknown finding code",
            ),
            (
                GOOD.replace("id = \"tiny\"", "id = \"other\""),
                "does not match the file name",
            ),
            (GOOD.replace("shape =", "shpe ="), "unknown field"),
        ];
        for (body, expected) in cases {
            let path = write(dir.path(), "tiny.toml", &body);
            let err = load_answer(&path).expect_err(expected).to_string();
            assert!(err.contains("tiny.toml"), "{err}");
            assert!(err.contains(expected), "{err} should mention {expected}");
        }
        let missing = load_answer(&dir.path().join("absent.toml")).expect_err("missing file");
        assert!(missing.to_string().contains("absent.toml"));
    }

    #[test]
    fn load_dir_sorts_by_file_name_and_skips_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "b.toml", &GOOD.replace("\"tiny\"", "\"b\""));
        write(dir.path(), "a.toml", &GOOD.replace("\"tiny\"", "\"a\""));
        write(dir.path(), "README.md", "not an answer");
        let all = load_dir(dir.path()).expect("loads");
        let ids: Vec<_> = all.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }
}
