//! The hands-free mock session: ask a question aloud, listen until the answer is over, show the
//! report, say a short summary, ask a follow-up, listen again, move on.
//!
//! The loop is written against small traits (`AudioSource`, `Voice`, `SpeechToText`), so it runs
//! the same with a microphone, a WAV file, or fakes in unit tests.

pub mod endpoint;
pub mod keys;
pub mod listen;
pub mod live;
pub mod live_part;
pub mod nudge;

pub mod recover;
pub mod requests;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use serde_json::json;

use crate::analysis::{
    self, AnalysisOptions, AnswerReport, Comparison, FollowUp, Framework, SentenceEncoder,
};
use crate::audio::capture::AudioSource;
use crate::audio::vad::VoiceActivity;
use crate::library::questions::Question;
use crate::report::hint;
use crate::report::{summary, terminal};
use crate::speech::speak::Voice;
use crate::store::{AnswerEnd, AnswerRecord, FollowupRecord, LiveIndex, SessionEnd, SessionRecord};
use crate::transcript::Transcript;
use endpoint::EndpointRules;
use listen::{HeardAnswer, Listener, TranscriptionWorker};
use live::LiveView;
use live_part::LivePart;
use requests::Request;

/// How a session runs.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub count: usize,
    /// The level and the default framework; a question may name another framework.
    pub analysis: AnalysisOptions,
    /// The frameworks the questions name, read before the session starts so a bad one stops it
    /// before any answer is recorded.
    pub frameworks: Vec<Arc<Framework>>,
    pub endpoint: EndpointRules,
    /// Colour in the printed report.
    pub color: bool,
    /// `--retry`: the first question was answered before; its report is compared with the new one.
    pub retry: Option<Retry>,
}

/// An earlier answer to the session's first question.
#[derive(Debug, Clone)]
pub struct Retry {
    /// The earlier answer, as `SESSION:N`.
    pub of: String,
    pub report: AnswerReport,
}

/// What rehearse says and prints, and where: the devices and the session record.
pub struct Session<'a> {
    pub input: &'a mut dyn AudioSource,
    pub voice: &'a mut dyn Voice,
    pub worker: TranscriptionWorker,
    /// The sentence model: each sentence is encoded as soon as it is heard (for the live
    /// view), so the analysis after the answer only encodes the last one.
    pub encoder: &'a mut dyn SentenceEncoder,
    pub record: SessionRecord,
    pub settings: SessionSettings,
    pub out: &'a mut dyn Write,
    pub live: LiveView,
    pub stop: &'a AtomicBool,
    /// Set when the candidate presses `r` at a terminal (`keys::RetryKeyWatcher`); `None`
    /// where there is no keyboard to watch.
    pub retry_key: Option<&'a AtomicBool>,
    /// Makes a fresh voice-activity detector for each answer.
    pub new_vad: fn() -> Box<dyn VoiceActivity>,
}

impl Session<'_> {
    /// Runs the session over `questions` (at most `settings.count`) and writes the summary.
    pub fn run(&mut self, questions: &[Question]) -> Result<(SessionEnd, Vec<AnswerRecord>)> {
        let mut answers = Vec::new();
        let mut how = SessionEnd::Completed;
        let count = self.settings.count.min(questions.len());
        let plural = if count == 1 { "question" } else { "questions" };
        self.say(&format!(
            "Welcome to your mock interview. I will ask {count} {plural}. Take your time, and say, that's my answer, when you are done. Before you answer you can say, hint, and after the report, try again."
        ))?;
        for (asked, question) in questions.iter().take(self.settings.count).enumerate() {
            let (records, next) = self.ask(asked + 1, answers.len() + 1, question)?;
            answers.extend(records);
            self.save_index(&answers, None)?;
            if let Some(end) = next {
                how = end;
                break;
            }
        }
        self.save_index(&answers, Some(how))?;
        let summary = summary::markdown(&answers, how);
        self.record.write_text(SessionRecord::SUMMARY, &summary)?;
        if how == SessionEnd::Completed {
            self.say("That's the end of the session. Well done for practising.")?;
        }
        writeln!(
            self.out,
            "\nSession saved in {}",
            self.record.dir().display()
        )?;
        Ok((how, answers))
    }

    /// Asks one question (again once if nobody answers), reports, and asks a follow-up; a
    /// candidate who says "try again" instead of answering it answers the question once more.
    /// The question is the session's `asked`th; its answers are numbered from `number` (a
    /// question tried again has two).
    fn ask(
        &mut self,
        asked: usize,
        number: usize,
        question: &Question,
    ) -> Result<(Vec<AnswerRecord>, Option<SessionEnd>)> {
        writeln!(self.out, "\nQuestion {asked}: {}", question.text)?;
        self.say_and_log(&question.text, "question_asked")?;
        let options = self.options_for(question);
        let wav_name = SessionRecord::wav_name(number, false);
        let heard = self.hear_answer(question, &wav_name, &options)?;
        let mut record = self.unreported(number, question, &wav_name, &heard);
        if let Some(fault) = &heard.fault {
            writeln!(
                self.out,
                "Recording stopped: {fault}. The answer so far is kept and analysed."
            )?;
        }
        if let Some(gap) = lost_audio(&heard) {
            writeln!(self.out, "{gap}")?;
        }
        if heard.transcript.words.is_empty() {
            writeln!(self.out, "No answer heard; moving on.")?;
            let next = self.session_end(&heard);
            if next.is_none() {
                self.say("Let's move on.")?;
            }
            return Ok((vec![record], next));
        }
        let report = self.report(number, &heard, &options)?;
        if let Some(key) = self.retry_key {
            // A press before this report was not about it.
            key.store(false, Ordering::Relaxed);
            writeln!(self.out, "(Press r to try this question again.)")?;
        }
        let mut summary = summary::spoken(&report);
        if let Some(retry) = self.settings.retry.clone().filter(|_| number == 1) {
            summary = self.compare(&mut record, &retry.report, retry.of, &report)?;
        }
        let followup = report.followups.first().cloned().or_else(|| {
            question.followups.first().map(|q| FollowUp {
                question: q.clone(),
                gap: None,
            })
        });
        record.report = Some(report);
        if let Some(next) = self.session_end(&heard) {
            return Ok((vec![record], Some(next)));
        }
        self.say(&summary)?;
        if self.retry_key_pressed() {
            return self.retry_requested(number, question, &options, record, "key");
        }
        match followup {
            Some(followup) => self.follow_up(number, question, &options, &heard, record, followup),
            None => Ok((vec![record], None)),
        }
    }

    /// Listens for the answer to `question`: asked again once if nobody spoke, and again after a
    /// hint if the candidate asked for one (its recording is then replaced by the answer's).
    fn hear_answer(
        &mut self,
        question: &Question,
        wav_name: &str,
        options: &AnalysisOptions,
    ) -> Result<HeardAnswer> {
        let mut heard = self.listen(wav_name, "answer", options)?;
        if heard.end == AnswerEnd::NoSpeech && !heard.input_over && !self.stopped() {
            let again = format!("Take your time. {}", question.text);
            writeln!(self.out, "No answer heard. Asking again.")?;
            self.say_and_log(&again, "question_repeated")?;
            heard = self.listen(wav_name, "answer", options)?;
        }
        if requests::heard(&heard.transcript.text()) == Some(Request::Hint)
            && self.session_end(&heard).is_none()
        {
            // A request, not an answer: its recording is replaced by the answer's.
            self.record
                .log_event("hint_given", json!({ "heard": heard.transcript.text() }))?;
            writeln!(
                self.out,
                "\n{}",
                hint::printed(&question.text, &options.framework, options.level)
            )?;
            self.say(&hint::spoken(&options.framework, options.level))?;
            let again = format!("When you are ready. {}", question.text);
            self.say_and_log(&again, "question_repeated")?;
            heard = self.listen(wav_name, "answer", options)?;
        }
        Ok(heard)
    }

    /// Asks the follow-up about the answer `heard`, listens, and judges the reply against the gap
    /// it asked about; "try again" (said, or `r`) answers the question once more instead.
    fn follow_up(
        &mut self,
        number: usize,
        question: &Question,
        options: &AnalysisOptions,
        heard: &HeardAnswer,
        mut record: AnswerRecord,
        followup: FollowUp,
    ) -> Result<(Vec<AnswerRecord>, Option<SessionEnd>)> {
        writeln!(self.out, "\nFollow-up: {}", followup.question)?;
        self.say_and_log(&followup.question, "followup_asked")?;
        let wav_name = SessionRecord::wav_name(number, true);
        let reply = self.listen(&wav_name, "followup", options)?;
        self.record.write_json(
            &SessionRecord::transcript_name(number, true),
            &reply.transcript,
        )?;
        if !reply.transcript.words.is_empty() {
            writeln!(self.out, "You said: {}", reply.transcript.text())?;
        }
        let asked = if reply.end == AnswerEnd::RetryKey {
            Some("key")
        } else {
            (requests::heard(&reply.transcript.text()) == Some(Request::TryAgain))
                .then_some("voice")
        };
        if let Some(by) = asked.filter(|_| self.session_end(&reply).is_none()) {
            return self.retry_requested(number, question, options, record, by);
        }
        let verdict = match &followup.gap {
            Some(gap) => analysis::judge_reply_with(
                &mut *self.encoder,
                gap,
                &heard.transcript,
                &reply.transcript,
                &options.framework,
            )?,
            None => None,
        };
        record.followup = Some(FollowupRecord {
            question: followup.question,
            gap: followup.gap,
            wav: self.record.dir().join(&wav_name),
            transcript: reply.transcript.clone(),
            verdict: verdict.clone(),
        });
        if let Some(next) = self.session_end(&reply) {
            return Ok((vec![record], Some(next)));
        }
        if let Some(verdict) = verdict {
            writeln!(self.out, "{}", verdict.message)?;
            self.say(&verdict.message)?;
        }
        Ok((vec![record], None))
    }

    /// Whether `r` was pressed since the last report.
    fn retry_key_pressed(&self) -> bool {
        self.retry_key
            .is_some_and(|key| key.load(Ordering::Relaxed))
    }

    /// The candidate asked to try the question again (`by` voice or key): logs it, asks the
    /// question once more and returns both attempts.
    fn retry_requested(
        &mut self,
        number: usize,
        question: &Question,
        options: &AnalysisOptions,
        record: AnswerRecord,
        by: &str,
    ) -> Result<(Vec<AnswerRecord>, Option<SessionEnd>)> {
        self.record
            .log_event("retry_requested", json!({ "answer": number, "by": by }))?;
        let (again, next) = self.try_again(number + 1, question, options, &record)?;
        Ok((vec![record, again], next))
    }

    /// "Try again" after a follow-up: the same question once more, as answer `number`, reported
    /// and compared with the earlier answer; then the session moves on.
    fn try_again(
        &mut self,
        number: usize,
        question: &Question,
        options: &AnalysisOptions,
        earlier: &AnswerRecord,
    ) -> Result<(AnswerRecord, Option<SessionEnd>)> {
        writeln!(self.out, "\nThe same question again: {}", question.text)?;
        self.say_and_log(
            &format!("Let's try that again. {}", question.text),
            "question_asked",
        )?;
        let wav_name = SessionRecord::wav_name(number, false);
        let heard = self.listen(&wav_name, "answer", options)?;
        let session = self
            .record
            .dir()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut record = self.unreported(number, question, &wav_name, &heard);
        let next = self.session_end(&heard);
        if heard.transcript.words.is_empty() {
            writeln!(self.out, "No answer heard; moving on.")?;
            return Ok((record, next));
        }
        let report = self.report(number, &heard, options)?;
        let mut summary = summary::spoken(&report);
        if let Some(before) = &earlier.report {
            let of = format!("{session}:{}", earlier.number);
            summary = self.compare(&mut record, before, of, &report)?;
        }
        record.report = Some(report);
        if next.is_none() {
            self.say(&summary)?;
        }
        Ok((record, next))
    }

    /// Prints how `report` compares with the earlier answer `of`, links the record to it, and
    /// returns the biggest change to say aloud.
    fn compare(
        &mut self,
        record: &mut AnswerRecord,
        before: &AnswerReport,
        of: String,
        report: &AnswerReport,
    ) -> Result<String> {
        let comparison = Comparison::between(before, report);
        writeln!(
            self.out,
            "\n{}",
            terminal::render_comparison(&comparison, &of, self.settings.color)
        )?;
        let spoken = comparison.spoken();
        record.retry_of = Some(of);
        record.comparison = Some(comparison);
        Ok(spoken)
    }

    /// The record of an answer just heard, before its report.
    fn unreported(
        &self,
        number: usize,
        question: &Question,
        wav_name: &str,
        heard: &HeardAnswer,
    ) -> AnswerRecord {
        AnswerRecord {
            number,
            question: question.text.clone(),
            wav: self.record.dir().join(wav_name),
            end: heard.end,
            report: None,
            followup: None,
            note: heard_note(heard),
            retry_of: None,
            comparison: None,
        }
    }

    /// The analysis for a question: its own framework if it names one, else the default.
    fn options_for(&self, question: &Question) -> AnalysisOptions {
        let mut options = self.settings.analysis.clone();
        if let Some(name) = &question.framework {
            if let Some(framework) = self.settings.frameworks.iter().find(|f| &f.name == name) {
                options.framework = framework.clone();
            }
        }
        options
    }

    fn stopped(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the session must end after this answer, and why.
    fn session_end(&self, heard: &HeardAnswer) -> Option<SessionEnd> {
        if self.stopped() {
            Some(SessionEnd::Interrupted)
        } else if heard.input_over {
            Some(SessionEnd::InputEnded)
        } else {
            None
        }
    }

    /// Analyses the answer, prints the report and stores transcript and report.
    fn report(
        &mut self,
        number: usize,
        heard: &HeardAnswer,
        options: &AnalysisOptions,
    ) -> Result<AnswerReport> {
        let report = analysis::analyze_with(&mut *self.encoder, &heard.transcript, options)?;
        writeln!(
            self.out,
            "\n{}",
            terminal::render_terminal(&report, self.settings.color)
        )?;
        self.out.flush()?;
        self.record.write_json(
            &SessionRecord::transcript_name(number, false),
            &heard.transcript,
        )?;
        self.record
            .write_json(&SessionRecord::report_name(number), &report)?;
        self.record.log_event(
            "report_written",
            json!({
                "answer": number,
                "after_end_s": heard.ended_at.elapsed().as_secs_f64(),
                "transcribe_after_end_s": heard.transcribe_after_end_s,
            }),
        )?;
        Ok(report)
    }

    fn listen(
        &mut self,
        wav_name: &str,
        what: &str,
        options: &AnalysisOptions,
    ) -> Result<HeardAnswer> {
        self.input.discard_pending();
        self.record.log_event(
            "listening",
            json!({ "for": what, "wav": wav_name, "framework": options.framework.name }),
        )?;
        let mut recorder = self.record.start_recording(wav_name)?;
        let analysis = options.clone();
        let encoder = &mut *self.encoder;
        let mut on_words = move |so_far: &Transcript| live_part(&mut *encoder, so_far, &analysis);
        let result = Listener {
            input: &mut *self.input,
            worker: &mut self.worker,
            vad: (self.new_vad)(),
            rules: self.settings.endpoint,
            live: &mut self.live,
            stop: self.stop,
            // The key tries the question again only once there is a report to try again.
            retry_key: self.retry_key.filter(|_| what == "followup"),
            on_words: &mut on_words,
        }
        .listen(&mut recorder);
        let seconds = recorder.seconds();
        recorder.finish()?;
        let heard = result?;
        self.record.log_event(
            "answer_ended",
            json!({
                "for": what,
                "reason": heard.end,
                "seconds": seconds,
                "lost_s": heard.lost_s,
                "ended_s_ago": heard.ended_at.elapsed().as_secs_f64(),
            }),
        )?;
        Ok(heard)
    }

    fn say_and_log(&mut self, text: &str, event: &str) -> Result<()> {
        self.record.log_event(event, json!({ "text": text }))?;
        self.say(text)
    }

    /// Speaks a line; if speech fails, the line is printed and the session goes on.
    fn say(&mut self, text: &str) -> Result<()> {
        if let Err(e) = self.voice.say(text) {
            writeln!(self.out, "({e}; printing instead) {text}")?;
            self.record
                .log_event("speech_failed", json!({ "error": e.to_string() }))?;
        }
        Ok(())
    }

    fn save_index(&self, answers: &[AnswerRecord], end: Option<SessionEnd>) -> Result<()> {
        LiveIndex { answers, end }.write(self.record.dir())?;
        Ok(())
    }
}

/// The part the candidate is in now, and its time so far against its budget.
fn live_part(
    encoder: &mut dyn SentenceEncoder,
    so_far: &Transcript,
    options: &AnalysisOptions,
) -> LivePart {
    let report = match analysis::analyze_with(encoder, so_far, options) {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!("the live view could not read the answer so far: {e:#}");
            return LivePart::default();
        }
    };
    let Some(last) = report.sentences.last() else {
        return LivePart::default();
    };
    let part = report.parts.iter().find(|p| p.part == last.part);
    LivePart {
        label: Some(last.part.name().to_string()),
        seconds: part.map_or(0.0, |p| p.duration_s),
        budget: part.map(|p| (p.budget_min_s, p.budget_max_s)),
        answer_max_s: Some(report.total_budget.max_s),
    }
}

/// Audio lost this short is a dropped buffer, not a gap a candidate would notice.
const NOTICEABLE_LOSS_S: f64 = 0.05;

/// What to tell the candidate when the device delivered audio rehearse could not take in time.
fn lost_audio(heard: &HeardAnswer) -> Option<String> {
    (heard.lost_s >= NOTICEABLE_LOSS_S).then(|| {
        format!(
            "{:.1} s of the answer were lost: the computer was too busy to take the audio in \
             time, so the recording and the transcript have a gap. Close other busy programs \
             and answer again if it matters.",
            heard.lost_s
        )
    })
}

/// What the answer's record notes about how it was heard: a fault that ended it, audio lost.
fn heard_note(heard: &HeardAnswer) -> Option<String> {
    let notes: Vec<String> = heard
        .fault
        .iter()
        .cloned()
        .chain(lost_audio(heard))
        .collect();
    (!notes.is_empty()).then(|| notes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::capture::CaptureError;
    use crate::speech::speak::SpeakError;
    use crate::speech::transcribe::{SpeechToText, TranscribeError};
    use crate::transcript::Word;
    use std::collections::VecDeque;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// One step of what the candidate does in a scripted session.
    #[derive(Clone, Copy)]
    enum Turn {
        /// Speaks for some seconds; transcribing that stretch gives the sentence.
        Say(f64, &'static str),
        /// Is silent for some seconds.
        Quiet(f64),
    }
    use Turn::{Quiet, Say};

    /// How loud the scripted candidate speaks.
    const SPEECH: f32 = 0.3;

    /// Sentences several scripted answers say.
    const MISSED_LAUNCH: &str =
        "I missed the launch date because I never told my manager the plan was slipping.";
    const WEEKLY_NOTE: &str = "Since then I send a weekly risk note every Friday.";
    const FIRST_WEEK: &str = "I would raise the risk in the first week.";
    const WRONG_BUILD: &str = "I shipped the wrong build to the customer.";

    /// Audio from a script of turns, delivered as fast as it is read, with what each stretch of
    /// speech in it is heard as.
    struct ScriptedAudio {
        samples: Vec<f32>,
        heard: VecDeque<&'static str>,
        position: usize,
        fail_at: Option<usize>,
        /// From this sample on, the source reports this many seconds lost (a busy machine).
        lose_at: Option<(usize, f64)>,
    }

    impl ScriptedAudio {
        fn new(script: &[Turn]) -> Self {
            let samples = script
                .iter()
                .flat_map(|&turn| {
                    let (amp, s) = match turn {
                        Say(s, _) => (SPEECH, s),
                        Quiet(s) => (0.0, s),
                    };
                    (0..(s * 16_000.0) as usize).map(move |i| if i % 2 == 0 { amp } else { -amp })
                })
                .collect();
            let heard = script
                .iter()
                .filter_map(|turn| match turn {
                    Say(_, sentence) => Some(*sentence),
                    Quiet(_) => None,
                })
                .collect();
            ScriptedAudio {
                samples,
                heard,
                position: 0,
                fail_at: None,
                lose_at: None,
            }
        }
    }

    impl AudioSource for ScriptedAudio {
        fn read(&mut self, out: &mut Vec<f32>, _: Duration) -> Result<bool, CaptureError> {
            if self.fail_at.is_some_and(|at| self.position >= at) {
                return Err(CaptureError::Device("headset unplugged".into()));
            }
            // A microphone delivers 0.1 s of audio every 0.1 s; a script with no pacing at all
            // would race the transcription worker (a phrase heard late, under load, would lose
            // to the silence after it). 1 ms per 0.1 s keeps tests fast and the order real.
            std::thread::sleep(Duration::from_millis(1));
            let end = (self.position + 1600).min(self.samples.len());
            out.extend_from_slice(&self.samples[self.position..end]);
            self.position = end;
            Ok(self.position < self.samples.len())
        }
        fn discard_pending(&mut self) {}
        fn lost_seconds(&self) -> f64 {
            match self.lose_at {
                Some((at, seconds)) if self.position >= at => seconds,
                _ => 0.0,
            }
        }
    }

    /// Loud frames are voice.
    struct EnergyVad;
    impl VoiceActivity for EnergyVad {
        fn is_voice(&mut self, frame: &[f32]) -> bool {
            frame.iter().map(|s| s.abs()).sum::<f32>() / frame.len() as f32 > 0.05
        }
    }

    /// Records what it is asked to say; with `broken`, fails like a speech service that died;
    /// with `key`, the candidate presses `r` while it asks a follow-up (a question ending "?").
    #[derive(Clone, Default)]
    struct RecordingVoice(Arc<Mutex<Vec<String>>>, bool, Option<Arc<AtomicBool>>);
    impl RecordingVoice {
        fn pressing_r_at_the_followup() -> RecordingVoice {
            RecordingVoice(Arc::default(), false, Some(Arc::default()))
        }
    }
    impl Voice for RecordingVoice {
        fn say(&mut self, text: &str) -> Result<(), SpeakError> {
            self.0.lock().unwrap().push(text.to_string());
            if let Some(key) = self.2.as_ref().filter(|_| text.ends_with('?')) {
                key.store(true, Ordering::Relaxed);
            }
            if self.1 {
                return Err(SpeakError::Failed("the speaker was unplugged".into()));
            }
            Ok(())
        }
    }

    /// Returns the next scripted sentence for each stretch, spread over its first second.
    struct ScriptedSpeech(VecDeque<&'static str>);
    impl SpeechToText for ScriptedSpeech {
        fn words(&mut self, _audio: &[f32]) -> Result<Vec<Word>, TranscribeError> {
            let text = self.0.pop_front().unwrap_or("");
            let n = text.split_whitespace().count().max(1) as f64;
            Ok(text
                .split_whitespace()
                .enumerate()
                .map(|(i, w)| Word {
                    text: w.to_string(),
                    start_s: i as f64 / n,
                    end_s: (i as f64 + 0.8) / n,
                    probability: 0.9,
                })
                .collect())
        }
    }

    fn question() -> Question {
        Question {
            id: "failed".into(),
            text: "Describe a time you failed.".into(),
            levels: vec![],
            followups: vec!["What would you do differently?".into()],
            framework: None,
        }
    }

    struct Outcome {
        end: SessionEnd,
        answers: Vec<AnswerRecord>,
        said: Vec<String>,
        printed: String,
        dir: PathBuf,
        _data: tempfile::TempDir,
    }

    /// The transcript of an answer the test expects to have been heard and analysed.
    fn transcript(answer: &AnswerRecord) -> &str {
        &answer
            .report
            .as_ref()
            .expect("the answer has a report")
            .transcript
    }

    fn run(script: &[Turn], count: usize) -> Outcome {
        run_with(ScriptedAudio::new(script), count, RecordingVoice::default())
    }

    fn run_with(audio: ScriptedAudio, count: usize, voice: RecordingVoice) -> Outcome {
        let speech = ScriptedSpeech(audio.heard.clone());
        let data = tempfile::tempdir().unwrap();
        let mut input = audio;
        let mut speaker = voice.clone();
        let mut out = Vec::new();
        let stop = AtomicBool::new(false);
        let record = SessionRecord::create(data.path()).unwrap();
        let dir = record.dir().to_path_buf();
        let mut encoder = analysis::SameMeaning;
        let mut session = Session {
            input: &mut input,
            voice: &mut speaker,
            worker: TranscriptionWorker::start(Box::new(speech)),
            encoder: &mut encoder,
            record,
            settings: SessionSettings {
                count,
                analysis: AnalysisOptions::default(),
                frameworks: Vec::new(),
                endpoint: EndpointRules {
                    no_speech_timeout_s: 3.0,
                    ..EndpointRules::default()
                },
                color: false,
                retry: None,
            },
            out: &mut out,
            live: LiveView::new(Box::new(std::io::sink()), false, nudge::NudgeMode::Off),
            stop: &stop,
            retry_key: voice.2.as_deref(),
            new_vad: || Box::new(EnergyVad),
        };
        let (end, answers) = session.run(&[question(), question()]).unwrap();
        let said = voice.0.lock().unwrap().clone();
        Outcome {
            end,
            answers,
            said,
            printed: String::from_utf8(out).unwrap(),
            dir,
            _data: data,
        }
    }

    #[test]
    fn a_thinking_pause_keeps_listening_and_the_answer_gets_a_report_and_a_followup() {
        let outcome = run(
            &[
                Quiet(0.5),
                Say(3.0, MISSED_LAUNCH),
                Quiet(1.8),
                Say(3.0, WEEKLY_NOTE),
                Quiet(3.5),
                Say(2.0, FIRST_WEEK),
                Quiet(3.5),
            ],
            1,
        );
        assert_eq!(outcome.end, SessionEnd::Completed);
        let answer = &outcome.answers[0];
        assert_eq!(answer.end, AnswerEnd::Silence);
        assert!(
            transcript(answer).contains("launch date")
                && transcript(answer).contains("weekly risk note")
        );
        assert!(outcome.said[0].starts_with("Welcome"));
        assert_eq!(outcome.said[1], "Describe a time you failed.");
        let followup = answer.followup.as_ref().unwrap();
        assert!(outcome.said.contains(&followup.question));
        assert!(followup.transcript.text().contains("first week"));
        for file in [
            "answer-1.wav",
            "answer-1.transcript.json",
            "answer-1.report.json",
            "answer-1-followup.wav",
            "answer-1-followup.transcript.json",
            "session.json",
            "session.md",
            "events.jsonl",
        ] {
            assert!(outcome.dir.join(file).is_file(), "{file} missing");
        }
        let wav = hound::WavReader::open(outcome.dir.join("answer-1.wav")).unwrap();
        assert!(wav.duration() as f64 / 16_000.0 >= 8.0);
        let events = std::fs::read_to_string(outcome.dir.join("events.jsonl")).unwrap();
        assert!(events.contains("\"report_written\""));
    }

    #[test]
    fn saying_hint_gets_the_parts_and_the_question_again_and_the_answer_is_judged() {
        let outcome = run(
            &[
                Say(1.0, "Hint, please."),
                Quiet(3.5),
                Say(3.0, MISSED_LAUNCH),
                Quiet(3.5),
                Say(2.0, FIRST_WEEK),
                Quiet(3.5),
            ],
            1,
        );
        assert_eq!(outcome.end, SessionEnd::Completed);
        assert_eq!(outcome.said[1], "Describe a time you failed.");
        assert!(
            outcome.said[2].starts_with("Here is a shape for your answer, in 4 parts"),
            "{:?}",
            outcome.said
        );
        assert_eq!(
            outcome.said[3],
            "When you are ready. Describe a time you failed."
        );
        assert!(outcome
            .printed
            .contains("A strong answer at the mid level has 4 parts"));
        let heard = transcript(&outcome.answers[0]);
        assert!(heard.contains("launch date"));
        assert!(!heard.contains("Hint"));
        let events = std::fs::read_to_string(outcome.dir.join("events.jsonl")).unwrap();
        assert!(events.contains("\"hint_given\""));
    }

    #[test]
    fn saying_try_again_for_the_followup_answers_once_more_and_compares() {
        let outcome = run(
            &[
                Say(3.0, MISSED_LAUNCH),
                Quiet(3.5),
                Say(1.0, "Try again."),
                Quiet(3.5),
                Say(3.0, MISSED_LAUNCH),
                Quiet(1.5),
                Say(3.0, WEEKLY_NOTE),
                Quiet(3.5),
            ],
            1,
        );
        assert_eq!(outcome.end, SessionEnd::Completed);
        assert_eq!(outcome.answers.len(), 2, "{}", outcome.printed);
        let (first, second) = (&outcome.answers[0], &outcome.answers[1]);
        assert!(first.followup.is_none(), "the request is not a reply");
        assert_eq!(second.number, 2);
        assert_eq!(second.question, first.question);
        let session = outcome
            .dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        assert_eq!(
            second.retry_of.as_deref(),
            Some(format!("{session}:1").as_str())
        );
        assert!(second.comparison.is_some());
        assert!(transcript(second).contains("weekly risk note"));
        assert!(outcome
            .said
            .contains(&"Let's try that again. Describe a time you failed.".to_string()));
        assert!(outcome
            .printed
            .contains("Compared with your earlier answer"));
        assert!(outcome.dir.join("answer-2.wav").is_file());
        let md = std::fs::read_to_string(outcome.dir.join("session.md")).unwrap();
        assert!(md.contains("## 2. Describe a time you failed."), "{md}");
    }

    #[test]
    fn pressing_r_at_the_followup_asks_the_question_again_at_once() {
        let outcome = run_with(
            ScriptedAudio::new(&[
                Say(3.0, MISSED_LAUNCH),
                Quiet(3.5),
                Quiet(0.5),
                Say(3.0, WEEKLY_NOTE),
                Quiet(3.5),
            ]),
            1,
            RecordingVoice::pressing_r_at_the_followup(),
        );
        assert_eq!(outcome.end, SessionEnd::Completed);
        assert!(outcome
            .printed
            .contains("(Press r to try this question again.)"));
        let followup = outcome.said.iter().position(|s| s.ends_with('?'));
        let again = outcome
            .said
            .iter()
            .position(|s| s == "Let's try that again. Describe a time you failed.");
        assert!(followup.is_some() && again > followup, "{:?}", outcome.said);
        assert_eq!(outcome.answers.len(), 2, "{}", outcome.printed);
        let (first, second) = (&outcome.answers[0], &outcome.answers[1]);
        assert!(first.followup.is_none(), "the key press is not a reply");
        assert!(second.retry_of.is_some() && second.comparison.is_some());
        assert!(transcript(second).contains("weekly risk note"));
        let events = std::fs::read_to_string(outcome.dir.join("events.jsonl")).unwrap();
        assert!(events.contains(r#""by":"key""#), "{events}");
    }

    #[test]
    fn nobody_answering_repeats_the_question_once_then_moves_on() {
        let outcome = run(&[Quiet(3.5), Quiet(3.5), Quiet(10.0)], 1);
        assert_eq!(outcome.said[1], "Describe a time you failed.");
        assert!(outcome.said[2].starts_with("Take your time."));
        assert!(outcome.said.iter().any(|s| s == "Let's move on."));
        assert!(outcome.answers[0].report.is_none());
        assert_eq!(outcome.answers[0].end, AnswerEnd::NoSpeech);
    }

    #[test]
    fn saying_that_is_my_answer_ends_the_answer_at_once() {
        let outcome = run(
            &[
                Say(2.0, "I broke the build and that's my answer."),
                Quiet(1.5),
                Say(20.0, "more words"),
                Quiet(4.0),
            ],
            1,
        );
        assert_eq!(outcome.answers[0].end, AnswerEnd::Phrase);
    }

    #[test]
    fn a_device_fault_keeps_the_answer_and_ends_the_session() {
        // The second stretch is cut off by the fault before it is heard.
        let mut audio =
            ScriptedAudio::new(&[Say(3.0, WRONG_BUILD), Quiet(1.0), Say(3.0, ""), Quiet(5.0)]);
        audio.fail_at = Some(16_000 * 5);
        let outcome = run_with(audio, 2, RecordingVoice::default());
        assert_eq!(outcome.end, SessionEnd::InputEnded);
        let answer = &outcome.answers[0];
        assert!(answer
            .note
            .as_deref()
            .unwrap()
            .contains("headset unplugged"));
        assert!(transcript(answer).contains("wrong build"));
        assert_eq!(outcome.answers.len(), 1);
    }

    #[test]
    fn audio_lost_to_a_busy_machine_is_told_and_noted_and_the_answer_still_counts() {
        let mut audio = ScriptedAudio::new(&[Say(3.0, WRONG_BUILD), Quiet(5.0)]);
        audio.lose_at = Some((16_000 * 2, 1.5));
        let outcome = run_with(audio, 1, RecordingVoice::default());
        let gap = "1.5 s of the answer were lost";
        assert!(outcome.printed.contains(gap), "{}", outcome.printed);
        let answer = &outcome.answers[0];
        assert!(
            answer.note.as_deref().unwrap_or("").contains(gap),
            "{answer:?}"
        );
        assert!(answer.report.is_some());
        let events = std::fs::read_to_string(outcome.dir.join("events.jsonl")).unwrap();
        assert!(events.contains("\"lost_s\":1.5"), "{events}");
    }

    #[test]
    fn an_answer_heard_whole_has_no_note() {
        let outcome = run(&[Say(3.0, WRONG_BUILD), Quiet(5.0)], 1);
        assert_eq!(outcome.answers[0].note, None);
        assert!(
            !outcome.printed.contains("were lost"),
            "{}",
            outcome.printed
        );
    }

    #[test]
    fn a_failing_speech_service_prints_every_line_and_the_session_goes_on() {
        let audio = ScriptedAudio::new(&[
            Say(3.0, "I shipped the wrong build."),
            Quiet(3.5),
            Say(2.0, "I would test first."),
            Quiet(3.5),
        ]);
        let broken = RecordingVoice(Arc::default(), true, None);
        let outcome = run_with(audio, 1, broken);
        assert_eq!(outcome.end, SessionEnd::Completed);
        assert!(outcome.answers[0].report.is_some());
        for line in &outcome.said {
            assert!(
                outcome.printed.contains(&format!(
                    "(text-to-speech failed: the speaker was unplugged; printing instead) {line}"
                )),
                "{line:?} not printed in {}",
                outcome.printed
            );
        }
        let events = std::fs::read_to_string(outcome.dir.join("events.jsonl")).unwrap();
        assert!(events.contains("\"speech_failed\""));
    }
}
