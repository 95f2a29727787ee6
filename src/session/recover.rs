//! Finishing what rehearse could not: after a crash, `kill -9` or a power cut, the answers already
//! on disk are repaired, transcribed and analysed, and the session is marked recovered, so no
//! recorded answer is ever lost.
//!
//! A running session holds a lock on its `events.jsonl`; the kernel drops it when the process
//! dies, so an unlocked session without an end in `session.json` is one that stopped unexpectedly.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::analysis::{self, AnalysisOptions, Framework, SentenceEncoder};
use crate::audio::repair::repair_wav_header;
use crate::report::summary;
use crate::speech::transcribe::{self, SpeechToText, TranscribeError, WavFileBlocks};
use crate::store::AnswerEnd;
use crate::store::{
    saved, write_json, AnswerRecord, FollowupRecord, IndexedAnswer, SessionEnd, SessionIndex,
    SessionRecord,
};
use crate::transcript::Transcript;

/// One session directory, as `rehearse sessions list` shows it.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub dir: PathBuf,
    pub answers: usize,
    /// How it ended, or None while unfinished.
    pub end: Option<SessionEnd>,
    /// Whether a running rehearse holds it.
    pub running: bool,
}

/// What happened to one recording found without its results.
#[derive(Debug, Clone)]
pub struct RecoveredRecording {
    pub wav: PathBuf,
    pub seconds: f64,
    pub outcome: RecoveryOutcome,
}

#[derive(Debug, Clone)]
pub enum RecoveryOutcome {
    /// Transcribed and analysed; the file written (report, or transcript for a follow-up).
    Saved(PathBuf),
    /// The recording holds no speech.
    NoSpeech,
    /// It could not be transcribed; the recording is kept as it is.
    Failed(String),
}

/// Every session directory under `sessions_dir`, oldest first.
pub fn list_sessions(sessions_dir: &Path) -> Result<Vec<SessionSummary>> {
    Ok(saved::session_dirs(sessions_dir)?
        .into_iter()
        .map(|dir| {
            let index = read_index(&dir);
            let answers = index.answers.len();
            let end = index.end;
            let running = end.is_none() && held_by_running(&dir);
            SessionSummary {
                dir,
                answers,
                end,
                running,
            }
        })
        .collect())
}

/// Sessions that stopped without an end and that no running rehearse holds.
pub fn unfinished_sessions(sessions_dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(list_sessions(sessions_dir)?
        .into_iter()
        .filter(|s| s.end.is_none() && !s.running)
        .map(|s| s.dir)
        .collect())
}

/// `session.json`, or an empty index when the session died before writing one (or left it
/// unreadable: its recordings are what recovery works from).
fn read_index(dir: &Path) -> SessionIndex {
    SessionIndex::read(dir).ok().flatten().unwrap_or_default()
}

fn open_events(dir: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .append(true)
        .open(dir.join(SessionRecord::EVENTS))
}

/// Whether a running rehearse holds the session's lock. A session whose events file cannot be
/// opened for writing (a read-only data folder) is not held: it is unfinished, and recovering
/// it says why it cannot be written, rather than the session being passed over in silence.
fn held_by_running(dir: &Path) -> bool {
    open_events(dir).is_ok_and(|file| file.try_lock().is_err())
}

/// Takes the session's lock, failing while a running rehearse holds it.
fn lock_session(dir: &Path) -> Result<File> {
    let file = open_events(dir).with_context(|| {
        format!(
            "cannot recover {}: it cannot be written; make the data folder writable, then run `rehearse sessions recover` again",
            dir.display()
        )
    })?;
    file.try_lock()
        .map_err(|_| anyhow::anyhow!("{} is in use by a running rehearse", dir.display()))?;
    Ok(file)
}

/// Repairs, transcribes and analyses every answer of an unfinished session that has no results,
/// writes them beside the recordings, and marks the session `recovered`. Each answer is measured
/// against the framework the session was listening with (`framework_named` finds it by name),
/// or `options`' own when it cannot be found.
pub fn recover_session(
    dir: &Path,
    stt: &mut dyn SpeechToText,
    encoder: &mut dyn SentenceEncoder,
    options: &AnalysisOptions,
    framework_named: &dyn Fn(&str) -> Option<Arc<Framework>>,
) -> Result<Vec<RecoveredRecording>> {
    let mut events_file = lock_session(dir)?;
    let mut recovery = Recovery {
        dir,
        events: read_events(dir),
        encoder,
        options,
        framework_named,
    };
    let mut answers = read_index(dir).answers;
    let mut recovered = Vec::new();
    let mut new_records = Vec::new();
    for (number, is_followup) in recordings_in(dir)? {
        let name = SessionRecord::wav_name(number, is_followup);
        let wav = dir.join(&name);
        let known = answers.iter().any(|a| a.number() == Some(number));
        let has_result = if is_followup {
            dir.join(SessionRecord::transcript_name(number, true))
                .is_file()
        } else {
            known
        };
        if has_result {
            continue;
        }
        // Killed during a follow-up, the main answer's transcript is already saved but the
        // index not yet written: that transcript is used rather than transcribing again.
        let saved = dir.join(SessionRecord::transcript_name(number, false));
        let (seconds, transcript) = match Transcript::read_json(&saved) {
            Ok(transcript) if !is_followup => (transcript.duration_s, Ok(transcript)),
            _ => transcribe_recording(&wav, stt),
        };
        let outcome = if is_followup {
            let transcript = transcript.unwrap_or_else(|_| Transcript {
                duration_s: seconds,
                words: Vec::new(),
            });
            let answer = answers
                .iter_mut()
                .chain(new_records.iter_mut())
                .find(|a| a.number() == Some(number));
            recovery.followup(number, transcript, answer)?
        } else {
            let (record, outcome) = recovery.answer(number, transcript)?;
            new_records.push(IndexedAnswer::Read(Box::new(record)));
            outcome
        };
        recovered.push(RecoveredRecording {
            wav,
            seconds,
            outcome,
        });
    }
    answers.extend(new_records);
    answers.sort_by_key(IndexedAnswer::number);
    let index = SessionIndex {
        answers,
        end: Some(SessionEnd::Recovered),
    };
    index.write(dir)?;
    crate::files::write_atomic(
        &dir.join(SessionRecord::SUMMARY),
        recovered_markdown(&index).as_bytes(),
    )?;
    let line = json!({
        "at_s": jiff::Timestamp::now().as_millisecond() as f64 / 1000.0,
        "event": "session_recovered",
        "detail": { "recordings": recovered.len() },
    });
    writeln!(events_file, "{line}").context("cannot write the session's event log")?;
    Ok(recovered)
}

/// What recovering one session's recordings needs at hand: its folder and event log, and how
/// its answers are analysed.
struct Recovery<'a> {
    dir: &'a Path,
    events: Vec<Value>,
    encoder: &'a mut dyn SentenceEncoder,
    options: &'a AnalysisOptions,
    framework_named: &'a dyn Fn(&str) -> Option<Arc<Framework>>,
}

impl Recovery<'_> {
    /// The framework the session was listening with for the recording `wav_name`, if known.
    fn framework_of(&self, wav_name: &str) -> Option<Arc<Framework>> {
        framework_for(&self.events, wav_name).and_then(|n| (self.framework_named)(&n))
    }

    /// A main answer's record, with its report when its recording held speech: marked as
    /// recovered, analysed under the framework it was given.
    fn answer(
        &mut self,
        number: usize,
        transcript: Result<Transcript, RecoveryOutcome>,
    ) -> Result<(AnswerRecord, RecoveryOutcome)> {
        let name = SessionRecord::wav_name(number, false);
        let mut record = AnswerRecord {
            number,
            question: question_for(&self.events, &name).unwrap_or_default(),
            wav: self.dir.join(&name),
            end: AnswerEnd::Recovered,
            report: None,
            followup: None,
            note: Some("rehearse stopped during this answer; recovered from the recording".into()),
            retry_of: None,
            comparison: None,
        };
        let transcript = match transcript {
            Ok(transcript) => transcript,
            Err(outcome) => return Ok((record, outcome)),
        };
        let mut options = self.options.clone();
        if let Some(framework) = self.framework_of(&name) {
            options.framework = framework;
        }
        let report = analysis::analyze_with(&mut *self.encoder, &transcript, &options)?;
        write_json(
            self.dir,
            &SessionRecord::transcript_name(number, false),
            &transcript,
        )?;
        let path = write_json(self.dir, &SessionRecord::report_name(number), &report)?;
        record.report = Some(report);
        Ok((record, RecoveryOutcome::Saved(path)))
    }

    /// A follow-up's reply: its transcript saved, judged against the gap the question asked about
    /// (found in the saved report's follow-ups), and put on its answer's record.
    fn followup(
        &mut self,
        number: usize,
        transcript: Transcript,
        answer: Option<&mut IndexedAnswer>,
    ) -> Result<RecoveryOutcome> {
        let name = SessionRecord::wav_name(number, true);
        let question = question_for(&self.events, &name).unwrap_or_default();
        let path = write_json(
            self.dir,
            &SessionRecord::transcript_name(number, true),
            &transcript,
        )?;
        let gap = match answer.as_deref() {
            Some(IndexedAnswer::Read(answer)) => answer
                .report
                .iter()
                .flat_map(|r| &r.followups)
                .find(|f| f.question == question)
                .and_then(|f| f.gap.clone()),
            _ => None,
        };
        let verdict = match &gap {
            Some(gap) => {
                let framework = self
                    .framework_of(&name)
                    .unwrap_or_else(|| self.options.framework.clone());
                // The reply is read after the answer it follows; an answer whose transcript is
                // gone leaves the reply to be read alone.
                let saved = self.dir.join(SessionRecord::transcript_name(number, false));
                let answer = Transcript::read_json(&saved).unwrap_or(Transcript {
                    duration_s: 0.0,
                    words: Vec::new(),
                });
                analysis::judge_reply_with(
                    &mut *self.encoder,
                    gap,
                    &answer,
                    &transcript,
                    &framework,
                )?
            }
            None => None,
        };
        let followup = FollowupRecord {
            question,
            gap,
            wav: self.dir.join(&name),
            transcript,
            verdict,
        };
        match answer {
            Some(IndexedAnswer::Read(answer)) => answer.followup = Some(followup),
            Some(IndexedAnswer::Unread(entry)) => {
                entry["followup"] = serde_json::to_value(&followup)?;
            }
            None => {}
        }
        Ok(RecoveryOutcome::Saved(path))
    }
}

/// The session summary rebuilt from the index by the writer a session uses (answers analysed
/// before the stop keep their saved reports); an entry too damaged to read keeps its number and
/// question.
fn recovered_markdown(index: &SessionIndex) -> String {
    let records: Vec<AnswerRecord> = index
        .answers
        .iter()
        .map(|answer| match answer {
            IndexedAnswer::Read(answer) => (**answer).clone(),
            IndexedAnswer::Unread(entry) => AnswerRecord {
                number: answer.number().unwrap_or(0),
                question: entry["question"].as_str().unwrap_or("").to_string(),
                wav: PathBuf::new(),
                end: AnswerEnd::Recovered,
                report: serde_json::from_value(entry["report"].clone()).ok(),
                followup: None,
                note: entry["note"].as_str().map(str::to_string),
                retry_of: None,
                comparison: None,
            },
        })
        .collect();
    summary::markdown(&records, SessionEnd::Recovered)
}

/// Repairs and transcribes one recording; any failure leaves the file as it is.
fn transcribe_recording(
    wav: &Path,
    stt: &mut dyn SpeechToText,
) -> (f64, Result<Transcript, RecoveryOutcome>) {
    let seconds = match repair_wav_header(wav) {
        Ok(seconds) => seconds,
        Err(e) => return (0.0, Err(RecoveryOutcome::Failed(format!("{e:#}")))),
    };
    let transcript = WavFileBlocks::open(wav)
        .map_err(TranscribeError::from)
        .and_then(|mut audio| {
            transcribe::transcribe_blocks(stt, &mut audio, &wav.display().to_string())
        })
        .map_err(|e| match e {
            TranscribeError::NoSpeech(_) => RecoveryOutcome::NoSpeech,
            other => RecoveryOutcome::Failed(other.to_string()),
        });
    (seconds, transcript)
}

/// The answer recordings in a session directory: (answer number, is a follow-up), in order.
fn recordings_in(dir: &Path) -> Result<Vec<(usize, bool)>> {
    let mut found: Vec<(usize, bool)> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| SessionRecord::recording_of(&e.file_name().to_string_lossy()))
        .collect();
    found.sort();
    Ok(found)
}

fn read_events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join(SessionRecord::EVENTS))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The framework rehearse was listening with for `wav_name`, as its `listening` event names it.
fn framework_for(events: &[Value], wav_name: &str) -> Option<String> {
    events
        .iter()
        .find(|e| e["event"] == "listening" && e["detail"]["wav"] == wav_name)
        .and_then(|e| e["detail"]["framework"].as_str())
        .map(str::to_string)
}

/// The question asked last before rehearse started listening into `wav_name`.
fn question_for(events: &[Value], wav_name: &str) -> Option<String> {
    let listening = events
        .iter()
        .position(|e| e["event"] == "listening" && e["detail"]["wav"] == wav_name)?;
    events[..listening]
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e["event"].as_str(),
                Some("question_asked" | "followup_asked")
            )
        })
        .and_then(|e| e["detail"]["text"].as_str())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Word;

    /// `session.json` as written, for asserting on what is on disk.
    fn index_json(dir: &Path) -> Value {
        let bytes = std::fs::read(dir.join(SessionRecord::INDEX)).expect("session.json");
        serde_json::from_slice(&bytes).expect("session.json is JSON")
    }

    struct OneWord;
    impl SpeechToText for OneWord {
        fn words(&mut self, _audio: &[f32]) -> Result<Vec<Word>, TranscribeError> {
            Ok(vec![Word {
                text: "failed.".into(),
                start_s: 0.1,
                end_s: 0.5,
                probability: 0.9,
            }])
        }
    }

    #[test]
    fn a_locked_session_is_not_recovered_and_an_unlocked_one_is_once() {
        let dir = tempfile::tempdir().unwrap();
        let record = SessionRecord::create(dir.path()).unwrap();
        assert!(unfinished_sessions(dir.path()).unwrap().is_empty());
        let session = record.dir().to_path_buf();
        drop(record);
        assert_eq!(
            unfinished_sessions(dir.path()).unwrap(),
            vec![session.clone()]
        );
        let recovered = recover_session(
            &session,
            &mut OneWord,
            &mut analysis::SameMeaning,
            &AnalysisOptions::default(),
            &|_| None,
        );
        assert!(recovered.unwrap().is_empty());
        assert_eq!(index_json(&session)["end"], "recovered");
        assert!(unfinished_sessions(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn killed_during_a_followup_the_saved_answer_is_used_and_the_followup_attached() {
        // The answer was heard under the STAR framework: recovery measures it against that.
        let dir = tempfile::tempdir().unwrap();
        let mut record = SessionRecord::create(dir.path()).unwrap();
        let mut event = |name: &str, detail: Value| record.log_event(name, detail).unwrap();
        event(
            "question_asked",
            json!({ "text": "Describe a time you failed." }),
        );
        event(
            "listening",
            json!({ "for": "answer", "wav": "answer-1.wav", "framework": "star" }),
        );
        event(
            "followup_asked",
            json!({ "text": "What would you do differently?" }),
        );
        event(
            "listening",
            json!({ "for": "followup", "wav": "answer-1-followup.wav" }),
        );
        let mut answer = record.start_recording("answer-1.wav").unwrap();
        answer.append(&vec![0.0; 16_000]).unwrap();
        answer.finish().unwrap();
        let words = ["The", "launch", "slipped."]
            .iter()
            .enumerate()
            .map(|(i, text)| Word {
                text: text.to_string(),
                start_s: i as f64 * 0.3,
                end_s: i as f64 * 0.3 + 0.2,
                probability: 0.9,
            })
            .collect();
        let saved = Transcript {
            duration_s: 1.0,
            words,
        };
        record
            .write_json("answer-1.transcript.json", &saved)
            .unwrap();
        let mut followup = record.start_recording("answer-1-followup.wav").unwrap();
        followup.append(&vec![0.0; 8_000]).unwrap();
        std::mem::forget(followup);
        let session = record.dir().to_path_buf();
        drop(record);

        let recovered = recover_session(
            &session,
            &mut OneWord,
            &mut analysis::SameMeaning,
            &AnalysisOptions::default(),
            &Framework::built_in,
        )
        .unwrap();
        assert_eq!(recovered.len(), 2);
        let index = index_json(&session);
        let answer = &index["answers"][0];
        assert_eq!(answer["question"], "Describe a time you failed.");
        // The silent recording would have given no words: the saved transcript was used.
        assert!(answer["report"]["transcript"]
            .as_str()
            .unwrap()
            .contains("launch slipped"));
        assert_eq!(
            answer["followup"]["question"],
            "What would you do differently?"
        );
        assert_eq!(answer["report"]["framework"], "star");
        assert!(session.join("answer-1-followup.transcript.json").is_file());
        // The summary is the one a session writes: timing table, findings, transcript, follow-up.
        let md = std::fs::read_to_string(session.join("session.md")).unwrap();
        for section in [
            "_rehearse stopped unexpectedly",
            "## 1. Describe a time you failed.",
            "| part | time | budget | verdict |",
            "**Transcript.**",
            "**Follow-up:** What would you do differently?",
        ] {
            assert!(md.contains(section), "{section:?} missing from\n{md}");
        }
    }
}
