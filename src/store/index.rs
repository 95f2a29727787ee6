//! `session.json`, the session's index: one type that the session writes, recovery rewrites,
//! and `history` and `report` read back.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::analysis::{AnswerReport, Comparison, ReplyVerdict};
use crate::store::{write_json, SessionRecord};
use crate::transcript::Transcript;

/// `session.json`: the session's answers and how it ended. The session writes it after each
/// answer, recovery rewrites it, `history` and `report` read it back: one type for all three, so
/// they cannot disagree about what it holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SessionIndex {
    #[serde(default)]
    pub answers: Vec<IndexedAnswer>,
    /// None while the session runs (or when it died).
    #[serde(default)]
    pub end: Option<SessionEnd>,
}

/// One answer of the index.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IndexedAnswer {
    Read(Box<AnswerRecord>),
    /// An entry that does not read as an answer (hand-edited or damaged), kept as it was
    /// written, so that recovery rewriting the index loses nothing.
    Unread(serde_json::Value),
}

impl IndexedAnswer {
    /// The answer's number, where the entry still has one.
    pub fn number(&self) -> Option<usize> {
        match self {
            IndexedAnswer::Read(answer) => Some(answer.number),
            IndexedAnswer::Unread(value) => value["number"].as_u64().map(|n| n as usize),
        }
    }
}

impl SessionIndex {
    /// The index of the session in `dir`; Ok(None) when the session wrote none (it died before
    /// its first answer).
    pub fn read(dir: &Path) -> Result<Option<SessionIndex>> {
        let path = dir.join(SessionRecord::INDEX);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            anyhow::anyhow!(
                "{} is damaged ({e}); `rehearse sessions recover` analyses the session's \
                 recordings again",
                path.display()
            )
        })
    }

    /// Writes the index into the session directory `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        write_json(dir, SessionRecord::INDEX, self)
    }
}

/// The index as a running session writes it, borrowing its answers instead of copying every
/// report after each answer. It serialises exactly as `SessionIndex` does (an untagged
/// `IndexedAnswer::Read` is its record), so `SessionIndex::read` reads it back.
#[derive(Serialize)]
pub struct LiveIndex<'a> {
    pub answers: &'a [AnswerRecord],
    pub end: Option<SessionEnd>,
}

impl LiveIndex<'_> {
    /// Writes `session.json` into the session directory `dir`, replacing it atomically.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        write_json(dir, SessionRecord::INDEX, self)
    }
}

/// Why an answer ended, as its record keeps it: the end-of-answer detector decides the first
/// three, the session the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerEnd {
    /// The candidate stopped talking for the end-of-answer silence.
    Silence,
    /// The candidate said "that's my answer" or similar.
    Phrase,
    /// The answer reached the maximum length.
    MaxLength,
    /// Nobody spoke.
    NoSpeech,
    /// The audio input stopped (device lost, file ended).
    InputEnded,
    /// The disk filled up: the recording stops where the disk did.
    DiskFull,
    /// rehearse stopped mid-answer; the answer was recovered from its recording later.
    Recovered,
    /// The candidate pressed `r` to answer the question again instead.
    RetryKey,
}

/// One answered question, as stored in `session.json` (and read back by recovery, so that a
/// recovered session's summary comes from the same writer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub number: usize,
    pub question: String,
    pub wav: PathBuf,
    pub end: AnswerEnd,
    #[serde(default)]
    pub report: Option<AnswerReport>,
    #[serde(default)]
    pub followup: Option<FollowupRecord>,
    #[serde(default)]
    pub note: Option<String>,
    /// The earlier answer this one tries again (`SESSION:N`), and what changed since it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FollowupRecord {
    pub question: String,
    /// The content gap the question asked the candidate to fill, if it was about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
    pub wav: PathBuf,
    pub transcript: Transcript,
    /// Whether the reply filled the gap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<ReplyVerdict>,
}

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    Completed,
    Interrupted,
    InputEnded,
    /// rehearse stopped unexpectedly; its recordings were analysed afterwards.
    Recovered,
}

impl SessionEnd {
    /// The end in words, for listings ("input ended").
    pub fn words(self) -> &'static str {
        match self {
            SessionEnd::InputEnded => "input ended",
            other => other.name(),
        }
    }

    /// The end as `session.json` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SessionEnd::Completed => "completed",
            SessionEnd::Interrupted => "interrupted",
            SessionEnd::InputEnded => "input_ended",
            SessionEnd::Recovered => "recovered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_end_is_listed_as_the_index_spells_it() {
        for end in [
            SessionEnd::Completed,
            SessionEnd::Interrupted,
            SessionEnd::InputEnded,
            SessionEnd::Recovered,
        ] {
            assert_eq!(serde_json::to_value(end).unwrap(), end.name());
            assert_eq!(end.words(), end.name().replace('_', " "));
        }
    }

    #[test]
    fn the_index_reads_back_what_it_wrote_and_keeps_an_entry_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SessionIndex::read(dir.path()).unwrap().is_none());
        let answer = AnswerRecord {
            number: 1,
            question: "Describe a time you failed.".into(),
            wav: dir.path().join(SessionRecord::wav_name(1, false)),
            end: AnswerEnd::Silence,
            report: None,
            followup: None,
            note: None,
            retry_of: None,
            comparison: None,
        };
        let hand_edited = serde_json::json!({ "number": 2, "question": "Why?" });
        SessionIndex {
            answers: vec![
                IndexedAnswer::Read(Box::new(answer)),
                IndexedAnswer::Unread(hand_edited.clone()),
            ],
            end: Some(SessionEnd::Completed),
        }
        .write(dir.path())
        .unwrap();
        let index = SessionIndex::read(dir.path()).unwrap().unwrap();
        assert_eq!(index.end, Some(SessionEnd::Completed));
        assert!(
            matches!(&index.answers[0], IndexedAnswer::Read(a) if a.question.starts_with("Describe"))
        );
        assert!(matches!(&index.answers[1], IndexedAnswer::Unread(v) if *v == hand_edited));
        let numbers: Vec<_> = index.answers.iter().map(IndexedAnswer::number).collect();
        assert_eq!(numbers, [Some(1), Some(2)]);
        std::fs::write(dir.path().join(SessionRecord::INDEX), "{").unwrap();
        let error = SessionIndex::read(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("is damaged") && error.contains("sessions recover"),
            "{error}"
        );
    }

    #[test]
    fn a_running_session_writes_the_index_that_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let answers: Vec<AnswerRecord> = (1..=2)
            .map(|number| AnswerRecord {
                number,
                question: format!("Question {number}"),
                wav: dir.path().join(SessionRecord::wav_name(number, false)),
                end: AnswerEnd::Silence,
                report: None,
                followup: None,
                note: Some("kept".into()),
                retry_of: None,
                comparison: None,
            })
            .collect();
        LiveIndex {
            answers: &answers,
            end: None,
        }
        .write(dir.path())
        .unwrap();
        let index = SessionIndex::read(dir.path()).unwrap().unwrap();
        assert_eq!(index.end, None);
        let read: Vec<_> = index
            .answers
            .iter()
            .map(|a| match a {
                IndexedAnswer::Read(a) => (a.number, a.question.clone(), a.note.clone()),
                IndexedAnswer::Unread(v) => panic!("not read back as an answer: {v}"),
            })
            .collect();
        assert_eq!(
            read,
            [
                (1, "Question 1".to_string(), Some("kept".to_string())),
                (2, "Question 2".to_string(), Some("kept".to_string()))
            ]
        );
    }
}
