//! Listening to one answer: audio in, voice activity, end-of-answer decision, and transcription
//! of each stretch of speech while the candidate is still talking (as whisper.cpp's `stream`
//! example does, but cut at pauses rather than fixed windows), so that when the answer ends only
//! the last stretch is left to transcribe.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::audio::capture::AudioSource;
use crate::audio::vad::{frames_to_spans, SpanRules, VoiceActivity, FRAME_S, FRAME_SAMPLES};
use crate::audio::SAMPLE_RATE;
use crate::files;
use crate::session::endpoint::{
    ends_with_done_phrase, EndOfAnswerDetector, EndpointEvent, EndpointRules,
};
use crate::session::live::{LiveStatus, LiveView};
use crate::session::live_part::LivePart;
use crate::speech::transcribe::{fit_words_to_spans, SpeechToText, TranscribeError};
use crate::store::{AnswerEnd, WavRecorder};
use crate::transcript::{Transcript, Word};

/// How long one read from the audio source may wait: the live view's refresh period.
const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// Stretches with less voice than this are coughs or clicks; whisper would invent words for them.
const MIN_STRETCH_VOICE_S: f64 = 0.25;

struct Job {
    offset_s: f64,
    audio: Vec<f32>,
}

/// Words of one stretch, on the answer's clock, and how long whisper took on it.
struct StretchWords {
    words: Result<Vec<Word>, TranscribeError>,
    busy: Duration,
}

/// Transcribes stretches on its own thread, in the order they were sent, so capture never waits
/// for whisper.
pub struct TranscriptionWorker {
    jobs: Option<mpsc::Sender<Job>>,
    results: mpsc::Receiver<StretchWords>,
    thread: Option<JoinHandle<()>>,
    in_flight: usize,
}

impl TranscriptionWorker {
    pub fn start(mut stt: Box<dyn SpeechToText + Send>) -> TranscriptionWorker {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (result_tx, results) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rehearse-whisper".into())
            .spawn(move || {
                for job in job_rx {
                    let started = Instant::now();
                    let words = stt.words(&job.audio).map(|words| {
                        words
                            .into_iter()
                            .map(|mut w| {
                                w.start_s += job.offset_s;
                                w.end_s += job.offset_s;
                                w
                            })
                            .collect()
                    });
                    let busy = started.elapsed();
                    if result_tx.send(StretchWords { words, busy }).is_err() {
                        break;
                    }
                }
            })
            .ok();
        TranscriptionWorker {
            jobs: Some(job_tx),
            results,
            thread,
            in_flight: 0,
        }
    }

    fn send(&mut self, job: Job) -> Result<()> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| anyhow::anyhow!("the transcription thread stopped"))?;
        self.in_flight += 1;
        Ok(())
    }

    fn try_result(&mut self) -> Option<StretchWords> {
        let result = self.results.try_recv().ok()?;
        self.in_flight -= 1;
        Some(result)
    }

    fn wait_result(&mut self) -> Option<StretchWords> {
        if self.in_flight == 0 {
            return None;
        }
        let result = self.results.recv().ok()?;
        self.in_flight -= 1;
        Some(result)
    }
}

impl Drop for TranscriptionWorker {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One listened answer.
pub struct HeardAnswer {
    pub transcript: Transcript,
    pub end: AnswerEnd,
    /// When the end of the answer was decided.
    pub ended_at: Instant,
    /// Seconds whisper still had to work after the end was decided.
    pub transcribe_after_end_s: f64,
    /// A device fault that ended the answer early, if any.
    pub fault: Option<String>,
    /// Seconds of audio the device delivered but rehearse could not take in time (the machine
    /// was too busy): the recording and the transcript have a gap.
    pub lost_s: f64,
    /// Whether the audio source has ended for good.
    pub input_over: bool,
}

/// Everything `listen` needs besides the audio.
pub struct Listener<'a> {
    pub input: &'a mut dyn AudioSource,
    pub worker: &'a mut TranscriptionWorker,
    pub vad: Box<dyn VoiceActivity>,
    pub rules: EndpointRules,
    pub live: &'a mut LiveView,
    pub stop: &'a AtomicBool,
    /// Set when the candidate presses `r` to try the question again: the listening ends at
    /// once. `None` where a key press does not end this listening (the answer itself).
    pub retry_key: Option<&'a AtomicBool>,
    /// Called with the words heard so far whenever they change (for the live part estimate).
    pub on_words: &'a mut dyn FnMut(&Transcript) -> LivePart,
}

/// The answer's audio as it arrives: the samples, each frame's voice decision, and what went
/// wrong with the input or the disk on the way.
#[derive(Default)]
struct Captured {
    audio: Vec<f32>,
    voiced: Vec<bool>,
    /// The latest read, for the level meter.
    chunk: Vec<f32>,
    /// Voiced frames since the last stretch ended: too few, and the stretch is a cough.
    stretch_voice_frames: usize,
    fault: Option<String>,
    input_over: bool,
    disk_full: bool,
}

impl Captured {
    fn seconds(&self) -> f64 {
        self.audio.len() as f64 / f64::from(SAMPLE_RATE)
    }

    /// Reads what the source has (waiting at most `READ_TIMEOUT`), appends it to the recording
    /// and scores its frames; returns what the end-of-answer detector made of them. A full disk
    /// or a lost device ends the answer: what is on disk stays, and the audio held here is still
    /// transcribed and analysed.
    fn pull(
        &mut self,
        input: &mut dyn AudioSource,
        recorder: &mut WavRecorder,
        vad: &mut dyn VoiceActivity,
        detector: &mut EndOfAnswerDetector,
    ) -> Vec<EndpointEvent> {
        let mut events = Vec::new();
        self.chunk.clear();
        match input.read(&mut self.chunk, READ_TIMEOUT) {
            Ok(open) => self.input_over = !open,
            Err(e) => {
                self.fault = Some(e.to_string());
                self.input_over = true;
            }
        }
        if let Err(e) = recorder.append(&self.chunk) {
            self.disk_full |= files::is_disk_full(&e);
            self.fault.get_or_insert(format!(
                "{e:#}; the recording on disk stops at {:.1} s",
                recorder.seconds()
            ));
            self.input_over = true;
        }
        self.audio.extend_from_slice(&self.chunk);
        while (self.voiced.len() + 1) * FRAME_SAMPLES <= self.audio.len() {
            let start = self.voiced.len() * FRAME_SAMPLES;
            let is_voice = vad.is_voice(&self.audio[start..start + FRAME_SAMPLES]);
            self.voiced.push(is_voice);
            self.stretch_voice_frames += usize::from(is_voice);
            events.extend(detector.push_frame(is_voice));
        }
        if self.disk_full {
            events.extend(detector.disk_full());
        } else if self.input_over {
            events.extend(detector.input_ended());
        }
        events
    }

    /// The audio of a stretch that ended, if it holds enough voice to be worth transcribing.
    fn stretch(&mut self, start: usize, end: usize) -> Option<Job> {
        let enough_voice = self.stretch_voice_frames as f64 * FRAME_S >= MIN_STRETCH_VOICE_S;
        self.stretch_voice_frames = 0;
        enough_voice.then(|| {
            let from = start * FRAME_SAMPLES;
            let to = (end * FRAME_SAMPLES).min(self.audio.len());
            Job {
                offset_s: from as f64 / f64::from(SAMPLE_RATE),
                audio: self.audio[from..to].to_vec(),
            }
        })
    }

    /// The stretches of speech, in seconds, that the words are fitted to.
    fn speech_spans_s(&self) -> Vec<(f64, f64)> {
        let rate = f64::from(SAMPLE_RATE);
        frames_to_spans(&self.voiced, SpanRules::default(), self.audio.len())
            .into_iter()
            .map(|s| (s.start as f64 / rate, s.end as f64 / rate))
            .collect()
    }
}

impl Listener<'_> {
    /// Listens until the answer ends, writing audio to `recorder` as it arrives.
    pub fn listen(&mut self, recorder: &mut WavRecorder) -> Result<HeardAnswer> {
        let mut detector = EndOfAnswerDetector::new(self.rules);
        let lost_before = self.input.lost_seconds();
        let mut captured = Captured::default();
        let mut words: Vec<Word> = Vec::new();
        let mut live_part = LivePart::default();
        let mut end: Option<(AnswerEnd, Instant)> = None;
        let mut whisper_error = None;
        let (end, ended_at) = loop {
            let mut events = Vec::new();
            if self.stop.load(Ordering::Relaxed) {
                events.extend(detector.input_ended());
                captured.input_over = true;
            } else {
                events =
                    captured.pull(&mut *self.input, recorder, self.vad.as_mut(), &mut detector);
            }
            while let Some(result) = self.worker.try_result() {
                let done = self.take_words(result, &mut words, &mut whisper_error);
                live_part = (self.on_words)(&Transcript {
                    duration_s: captured.seconds(),
                    words: words.clone(),
                });
                if done {
                    events.extend(detector.phrase_heard());
                }
            }
            for event in events {
                match event {
                    EndpointEvent::SpeechStarted => {}
                    EndpointEvent::StretchEnded { start, end } => {
                        if let Some(job) = captured.stretch(start, end) {
                            self.worker.send(job)?;
                        }
                    }
                    EndpointEvent::AnswerEnded(reason) => {
                        end.get_or_insert((reason, Instant::now()));
                    }
                }
            }
            if self
                .retry_key
                .is_some_and(|key| key.load(Ordering::Relaxed))
            {
                end.get_or_insert((AnswerEnd::RetryKey, Instant::now()));
            }
            self.live.update(&LiveStatus {
                elapsed_s: captured.seconds(),
                speaking: detector.speech_started(),
                part: live_part.clone(),
                level: level_of(&captured.chunk),
            })?;
            if let Some(end) = end {
                break end;
            }
        };
        let mut after_end = Duration::ZERO;
        while let Some(result) = self.worker.wait_result() {
            after_end += result.busy;
            self.take_words(result, &mut words, &mut whisper_error);
        }
        self.live.finish()?;
        if let Some(error) = whisper_error {
            return Err(error.into());
        }
        words.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        fit_words_to_spans(&mut words, &captured.speech_spans_s());
        Ok(HeardAnswer {
            transcript: Transcript {
                duration_s: captured.seconds(),
                words,
            },
            end,
            ended_at,
            transcribe_after_end_s: after_end.as_secs_f64(),
            fault: captured.fault,
            lost_s: self.input.lost_seconds() - lost_before,
            input_over: captured.input_over,
        })
    }

    /// Adds a stretch's words; returns whether they end with the candidate saying they are done.
    fn take_words(
        &mut self,
        result: StretchWords,
        words: &mut Vec<Word>,
        error: &mut Option<TranscribeError>,
    ) -> bool {
        match result.words {
            Ok(new_words) => {
                let text: Vec<&str> = new_words.iter().map(|w| w.text.as_str()).collect();
                let done = ends_with_done_phrase(&text.join(" "));
                words.extend(new_words);
                done
            }
            Err(e) => {
                error.get_or_insert(e);
                false
            }
        }
    }
}

/// Input level of the latest audio, 0..=1 on a -60..0 dBFS scale, for the meter.
fn level_of(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt();
    let db = 20.0 * rms.max(1e-6).log10();
    ((db + 60.0) / 60.0).clamp(0.0, 1.0)
}
