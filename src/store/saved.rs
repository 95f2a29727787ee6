//! Reading recorded sessions back from the data directory, for `history` and `report`.
//!
//! Each answer's `answer-N.report.json` is the stable source of its analysis; `session.json`
//! adds what only the session knows: the question, the follow-up and its answer, notes.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::analysis::{AnswerReport, ReplyVerdict};
use crate::store::{IndexedAnswer, SessionEnd, SessionIndex, SessionRecord};

/// One session directory, read back.
#[derive(Debug, Clone)]
pub struct SavedSession {
    /// The directory's name, e.g. `2026-11-25_14-03-00`: how the user names a session.
    pub id: String,
    pub dir: PathBuf,
    /// When it started, from the directory name ("2026-11-25 14:03").
    pub started: String,
    /// How it ended, or None while unfinished.
    pub end: Option<SessionEnd>,
    pub answers: Vec<SavedAnswer>,
}

/// One answered question, read back.
#[derive(Debug, Clone)]
pub struct SavedAnswer {
    pub number: usize,
    pub question: String,
    /// The recording, when it is still on disk.
    pub wav: Option<PathBuf>,
    /// None when nothing was heard.
    pub report: Option<AnswerReport>,
    pub followup: Option<SavedFollowup>,
    pub note: Option<String>,
    /// The earlier answer this one tried again (`SESSION:N`).
    pub retry_of: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SavedFollowup {
    pub question: String,
    pub answer: String,
    pub wav: Option<PathBuf>,
    /// Whether the reply filled the gap the question was about; None for sessions recorded
    /// before replies were judged, or a question about no gap.
    pub verdict: Option<ReplyVerdict>,
}

/// `2026-11-25_14-03-00` (optionally `_2`) as "2026-11-25 14:03"; None if it is not a session name.
fn started_from_name(name: &str) -> Option<String> {
    let stamp = name.get(..19)?;
    let time = jiff::civil::DateTime::strptime("%Y-%m-%d_%H-%M-%S", stamp).ok()?;
    Some(time.strftime("%Y-%m-%d %H:%M").to_string())
}

fn existing(path: PathBuf) -> Option<PathBuf> {
    path.is_file().then_some(path)
}

impl SavedSession {
    /// Reads one session directory.
    pub fn read(dir: &Path) -> Result<SavedSession> {
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let started = started_from_name(&id).with_context(|| {
            format!(
                "{} is not a session directory (its name is not a date like 2026-11-25_14-03-00)",
                dir.display()
            )
        })?;
        let index_path = dir.join(SessionRecord::INDEX);
        let index = SessionIndex::read(dir)?.with_context(|| {
            format!(
                "cannot read {}: the session has no index",
                index_path.display()
            )
        })?;
        let mut answers = Vec::new();
        for (position, entry) in index.answers.into_iter().enumerate() {
            let answer = match entry {
                IndexedAnswer::Read(answer) => *answer,
                IndexedAnswer::Unread(_) => bail!(
                    "{} is damaged: its answer entry {} is not one rehearse wrote; `rehearse \
                     sessions recover` analyses the session's recordings again",
                    index_path.display(),
                    position + 1
                ),
            };
            let report_path = dir.join(SessionRecord::report_name(answer.number));
            let (report, from) = match std::fs::read_to_string(&report_path) {
                Ok(text) => (
                    Some(serde_json::from_str::<AnswerReport>(&text).map_err(|e| {
                        anyhow::anyhow!(
                            "{} is not a report rehearse wrote: {e}",
                            report_path.display()
                        )
                    })?),
                    &report_path,
                ),
                Err(_) => (answer.report, &index_path),
            };
            if let Some(problem) = report.as_ref().and_then(|r| r.check_durations().err()) {
                bail!(
                    "{} is damaged: answer {}'s {problem}",
                    from.display(),
                    answer.number
                );
            }
            let followup = answer.followup.map(|f| SavedFollowup {
                question: f.question,
                answer: f.transcript.text(),
                wav: existing(dir.join(SessionRecord::wav_name(answer.number, true))),
                verdict: f.verdict,
            });
            answers.push(SavedAnswer {
                number: answer.number,
                question: answer.question,
                wav: existing(dir.join(SessionRecord::wav_name(answer.number, false))),
                report,
                followup,
                note: answer.note,
                retry_of: answer.retry_of,
            });
        }
        Ok(SavedSession {
            id,
            dir: dir.to_path_buf(),
            started,
            end: index.end,
            answers,
        })
    }
}

/// Every session directory under `sessions_dir`, oldest first. A session directory is named by
/// the time it started, as rehearse names them, and holds the session's index or its event log
/// (a session killed before its first answer has only the log). `history`, `sessions list` and
/// recovery all find sessions here, so they never disagree about what a session is. A missing
/// `sessions_dir` holds no sessions.
pub fn session_dirs(sessions_dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(sessions_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", sessions_dir.display())),
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(started_from_name)
                .is_some()
                && (p.join(SessionRecord::INDEX).is_file()
                    || p.join(SessionRecord::EVENTS).is_file())
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// What reading all sessions found: the readable ones, oldest first, and one line per
/// directory that could not be read.
pub struct SessionList {
    pub sessions: Vec<SavedSession>,
    pub unreadable: Vec<String>,
}

/// Reads every session under `sessions_dir`, oldest first. A missing directory is no sessions.
pub fn read_all(sessions_dir: &Path) -> Result<SessionList> {
    let mut list = SessionList {
        sessions: Vec::new(),
        unreadable: Vec::new(),
    };
    for dir in session_dirs(sessions_dir)? {
        match SavedSession::read(&dir) {
            Ok(session) => list.sessions.push(session),
            Err(e) => list.unreadable.push(format!("{e:#}")),
        }
    }
    Ok(list)
}

/// Which answers of which session the user asked for.
pub struct Selection {
    pub session: SavedSession,
    /// None: every answer.
    pub answer: Option<usize>,
}

/// Resolves `SESSION` or `SESSION:N`: SESSION is a session directory, a session's name under
/// `sessions_dir`, or `latest`; N is an answer number.
pub fn select(spec: &str, sessions_dir: &Path) -> Result<Selection> {
    let (session_spec, answer) = match spec.rsplit_once(':') {
        Some((session, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            let n: usize = n
                .parse()
                .with_context(|| format!("{n:?} is not an answer number"))?;
            (session, Some(n))
        }
        _ => (spec, None),
    };
    let dir = if session_spec == "latest" {
        let list = read_all(sessions_dir)?;
        match list.sessions.last() {
            Some(session) => session.dir.clone(),
            None if !list.unreadable.is_empty() => bail!(
                "no session in {} can be read: {}",
                sessions_dir.display(),
                list.unreadable.join("; ")
            ),
            None => bail!(
                "there are no sessions in {} yet; run `rehearse session` first",
                sessions_dir.display()
            ),
        }
    } else if Path::new(session_spec).is_dir() {
        PathBuf::from(session_spec)
    } else if sessions_dir.join(session_spec).is_dir() {
        sessions_dir.join(session_spec)
    } else {
        bail!(
            "no session {session_spec:?}: give a session directory, a name that `rehearse history` lists, or `latest`"
        )
    };
    let session = SavedSession::read(&dir)?;
    if let Some(n) = answer {
        if !session.answers.iter().any(|a| a.number == n) {
            bail!(
                "session {} has no answer {n}; it has {}",
                session.id,
                match session.answers.len() {
                    0 => "none".to_string(),
                    1 => "answer 1".to_string(),
                    count => format!("answers 1 to {count}"),
                }
            );
        }
    }
    Ok(Selection { session, answer })
}

impl Selection {
    /// The answers selected, in order.
    pub fn answers(&self) -> impl Iterator<Item = &SavedAnswer> {
        self.session
            .answers
            .iter()
            .filter(|a| self.answer.is_none_or(|n| a.number == n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_session(root: &Path, name: &str, index: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("session.json"), index).unwrap();
        dir
    }

    const TWO_ANSWERS: &str = r#"{"answers": [
        {"number": 1, "question": "Describe a time you failed.", "wav": "answer-1.wav",
         "end": "silence", "report": null, "followup": null, "note": null},
        {"number": 2, "question": "Tell me about a mistake.", "wav": "answer-2.wav",
         "end": "silence", "report": null,
         "followup": {"question": "Who did you tell?", "wav": "x.wav",
                      "transcript": {"duration_s": 2.0, "words": [
                        {"text": "My", "start_s": 0.1, "end_s": 0.3, "probability": 0.9},
                        {"text": "manager.", "start_s": 0.3, "end_s": 0.8, "probability": 0.9}]}},
         "note": null}], "end": "completed"}"#;

    #[test]
    fn sessions_are_read_oldest_first_and_a_broken_one_is_named_not_fatal() {
        let root = tempfile::tempdir().unwrap();
        write_session(root.path(), "2026-11-25_14-03-00", TWO_ANSWERS);
        write_session(
            root.path(),
            "2026-11-24_09-00-00",
            r#"{"answers": [], "end": null}"#,
        );
        write_session(root.path(), "2026-11-26_10-00-00", "{not json");
        std::fs::create_dir_all(root.path().join("not-a-session")).unwrap();
        let list = read_all(root.path()).unwrap();
        let ids: Vec<&str> = list.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["2026-11-24_09-00-00", "2026-11-25_14-03-00"]);
        assert_eq!(list.sessions[1].started, "2026-11-25 14:03");
        assert_eq!(list.sessions[1].end, Some(SessionEnd::Completed));
        let followup = list.sessions[1].answers[1].followup.as_ref().unwrap();
        assert_eq!(followup.answer, "My manager.");
        assert_eq!(list.unreadable.len(), 1);
        assert!(list.unreadable[0].contains("2026-11-26_10-00-00"));
    }

    #[test]
    fn a_selection_names_a_session_and_optionally_an_answer() {
        let root = tempfile::tempdir().unwrap();
        write_session(root.path(), "2026-11-25_14-03-00", TWO_ANSWERS);
        let all = select("2026-11-25_14-03-00", root.path()).unwrap();
        assert_eq!(all.answers().count(), 2);
        let second = select("latest:2", root.path()).unwrap();
        let numbers: Vec<usize> = second.answers().map(|a| a.number).collect();
        assert_eq!(numbers, [2]);
        let error = select("latest:3", root.path()).err().unwrap().to_string();
        assert!(
            error.contains("no answer 3") && error.contains("1 to 2"),
            "{error}"
        );
        let error = select("2020-01-01_00-00-00", root.path())
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("rehearse history"), "{error}");
    }
}
