//! The session record on disk: one private directory per session holding each answer's WAV
//! (written as it is recorded), transcript and report JSON, an event log, and a Markdown summary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::audio::repair::repair_wav_header;
use crate::audio::SAMPLE_RATE;
use crate::files;

/// Seconds of audio between header updates: a crash loses at most this much of a recording.
const FLUSH_EVERY_S: usize = 1;

/// A session directory and its event log.
pub struct SessionRecord {
    dir: PathBuf,
    events: BufWriter<File>,
}

impl SessionRecord {
    /// The event log, which also carries the running session's lock.
    pub const EVENTS: &'static str = "events.jsonl";
    /// The session's index: its answers, their reports and how the session ended.
    pub const INDEX: &'static str = "session.json";

    /// The Markdown summary of the session.
    pub const SUMMARY: &'static str = "session.md";

    /// The recording of answer `number` (`followup`: of the reply to its follow-up).
    pub fn wav_name(number: usize, followup: bool) -> String {
        format!("answer-{number}{}.wav", Self::followup_suffix(followup))
    }

    /// The transcript of answer `number` (`followup`: of the reply to its follow-up).
    pub fn transcript_name(number: usize, followup: bool) -> String {
        format!(
            "answer-{number}{}.transcript.json",
            Self::followup_suffix(followup)
        )
    }

    /// The report of answer `number`.
    pub fn report_name(number: usize) -> String {
        format!("answer-{number}.report.json")
    }

    /// The answer number a recording's file name stands for, and whether it is the follow-up's
    /// reply: `wav_name` read backwards, for recovery to find what a session left behind.
    pub fn recording_of(name: &str) -> Option<(usize, bool)> {
        let stem = name.strip_prefix("answer-")?.strip_suffix(".wav")?;
        match stem.strip_suffix("-followup") {
            Some(number) => Some((number.parse().ok()?, true)),
            None => Some((stem.parse().ok()?, false)),
        }
    }

    fn followup_suffix(followup: bool) -> &'static str {
        if followup {
            "-followup"
        } else {
            ""
        }
    }

    /// Creates `sessions_dir/<local date and time>/`, private to the user.
    pub fn create(sessions_dir: &Path) -> Result<SessionRecord> {
        files::create_private_dir(sessions_dir)?;
        let stamp = jiff::Zoned::now().strftime("%Y-%m-%d_%H-%M-%S").to_string();
        let mut dir = sessions_dir.join(&stamp);
        let mut n = 1;
        while dir.exists() {
            n += 1;
            dir = sessions_dir.join(format!("{stamp}_{n}"));
        }
        files::create_private_dir(&dir)?;
        let events = files::create_private_file(&dir.join(Self::EVENTS))?;
        // Held while the session runs; the kernel releases it if rehearse dies, which is how
        // recovery tells a crashed session from a running one.
        events
            .try_lock()
            .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", dir.display()))?;
        Ok(SessionRecord {
            dir,
            events: BufWriter::new(events),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends a timestamped event (seconds since the Unix epoch) to `events.jsonl`.
    pub fn log_event(&mut self, event: &str, detail: serde_json::Value) -> Result<()> {
        let at_s = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
        let line = serde_json::json!({ "at_s": at_s, "event": event, "detail": detail });
        writeln!(self.events, "{line}")
            .and_then(|()| self.events.flush())
            .context("cannot write the session's event log")
    }

    /// Starts a WAV recording in the session directory.
    pub fn start_recording(&self, name: &str) -> Result<WavRecorder> {
        WavRecorder::create(&self.dir.join(name))
    }

    /// Writes a JSON file atomically.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<PathBuf> {
        write_json(&self.dir, name, value)
    }

    /// Writes a text file atomically.
    pub fn write_text(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.dir.join(name);
        files::write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }
}

/// Writes `name` in the session directory `dir` as pretty JSON, atomically: also for recovery,
/// which works on a directory no running session holds.
pub fn write_json(dir: &Path, name: &str, value: &impl Serialize) -> Result<PathBuf> {
    let path = dir.join(name);
    files::write_atomic(&path, &serde_json::to_vec_pretty(value)?)?;
    Ok(path)
}

/// A 16 kHz mono 16-bit WAV written while the candidate speaks; its header is brought up to date
/// every second, so the file is valid even if rehearse is killed mid-answer.
pub struct WavRecorder {
    path: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
    unflushed: usize,
    samples: usize,
    /// Set once a write failed (a full disk): later audio is not written.
    failed: bool,
}

impl WavRecorder {
    pub fn create(path: &Path) -> Result<WavRecorder> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let file = BufWriter::new(files::create_private_file(path)?);
        let writer = hound::WavWriter::new(file, spec)
            .with_context(|| format!("cannot start the recording {}", path.display()))?;
        Ok(WavRecorder {
            path: path.to_path_buf(),
            writer,
            unflushed: 0,
            samples: 0,
            failed: false,
        })
    }

    /// Seconds recorded so far.
    pub fn seconds(&self) -> f64 {
        self.samples as f64 / f64::from(SAMPLE_RATE)
    }

    pub fn append(&mut self, samples: &[f32]) -> Result<()> {
        if self.failed {
            return Ok(());
        }
        let result = self.write(samples);
        self.failed = result.is_err();
        result
            .map_err(|e| match e {
                // hound hides the I/O error from `source()`; unwrapped, a full disk can be
                // told from other faults (`files::is_disk_full`).
                hound::Error::IoError(io) => anyhow::Error::new(io),
                other => anyhow::Error::new(other),
            })
            .with_context(|| format!("cannot write the recording {}", self.path.display()))
    }

    fn write(&mut self, samples: &[f32]) -> hound::Result<()> {
        for &s in samples {
            let value = (s.clamp(-1.0, 1.0) * 32_767.0).round() as i16;
            self.writer.write_sample(value)?;
            self.samples += 1;
        }
        self.unflushed += samples.len();
        if self.unflushed >= FLUSH_EVERY_S * SAMPLE_RATE as usize {
            self.writer.flush()?;
            self.unflushed = 0;
        }
        Ok(())
    }

    /// Completes the file's header. After a failed write, the header is set from what is on
    /// disk instead, so the file stays a valid WAV of the audio it really holds.
    pub fn finish(self) -> Result<PathBuf> {
        if self.failed {
            // hound's own finalize would flush again into the full disk; its errors are moot.
            let _ = self.writer.finalize();
            repair_wav_header(&self.path)?;
            return Ok(self.path);
        }
        self.writer
            .finalize()
            .with_context(|| format!("cannot finish the recording {}", self.path.display()))?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_name_reads_back_as_its_answer() {
        for (number, followup) in [(1, false), (1, true), (12, false), (12, true)] {
            let name = SessionRecord::wav_name(number, followup);
            assert_eq!(SessionRecord::recording_of(&name), Some((number, followup)));
        }
        for other in [
            "answer-1.transcript.json",
            "answer-x.wav",
            "events.jsonl",
            "answer-.wav",
        ] {
            assert_eq!(SessionRecord::recording_of(other), None, "{other}");
        }
    }

    #[test]
    fn a_recording_is_readable_while_it_is_still_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let record = SessionRecord::create(dir.path()).unwrap();
        let mut wav = record.start_recording("answer-1.wav").unwrap();
        wav.append(&vec![0.25; 16_000 * 2 + 100]).unwrap();
        // Not finished: the header written at the last flush already covers two seconds.
        let reader = hound::WavReader::open(record.dir().join("answer-1.wav")).unwrap();
        assert!(reader.duration() >= 32_000, "{}", reader.duration());
        let path = wav.finish().unwrap();
        assert_eq!(hound::WavReader::open(path).unwrap().duration(), 32_100);
    }

    #[test]
    fn events_are_logged_one_json_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = SessionRecord::create(dir.path()).unwrap();
        record
            .log_event("answer_ended", serde_json::json!({"reason": "silence"}))
            .unwrap();
        record
            .log_event("report_written", serde_json::json!({}))
            .unwrap();
        let text = std::fs::read_to_string(record.dir().join("events.jsonl")).unwrap();
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1]["event"], "report_written");
        assert!(events[1]["at_s"].as_f64().unwrap() >= events[0]["at_s"].as_f64().unwrap());
    }
}
