//! Knowing when an answer is over, from voice-activity frames alone.
//!
//! Candidates pause to think for one or two seconds mid-answer; an interviewer waits. So the
//! answer ends after a longer silence (3 s by default), at once when the candidate says they are
//! done (the session calls [`EndOfAnswerDetector::phrase_heard`]), at a maximum length, or when
//! nobody has spoken at all for a while. Between those, every pause of about half a second closes
//! a *stretch* of speech, which the session transcribes while the candidate goes on talking.

use crate::audio::vad::FRAME_S;
use crate::store::AnswerEnd;

/// Timing rules for one answer, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EndpointRules {
    /// Silence after speech that ends the answer.
    pub end_silence_s: f64,
    /// A pause this long closes a stretch for transcription once it holds `min_stretch_s`:
    /// whisper transcribes a few sentences together better than one phrase at a time.
    pub stretch_pause_s: f64,
    /// The shortest stretch a short pause closes.
    pub min_stretch_s: f64,
    /// A pause this long closes any stretch, so the last words are transcribed well before the
    /// end-of-answer silence runs out.
    pub long_pause_s: f64,
    /// A stretch running this long without a pause is cut anyway (whisper's window is 30 s).
    pub max_stretch_s: f64,
    /// Speech needed before the answer counts as started (coughs and clicks do not).
    pub min_speech_s: f64,
    /// The answer is stopped at this length.
    pub max_answer_s: f64,
    /// With no speech at all for this long, the answer is given up.
    pub no_speech_timeout_s: f64,
}

impl Default for EndpointRules {
    fn default() -> Self {
        EndpointRules {
            end_silence_s: 3.0,
            stretch_pause_s: 0.6,
            min_stretch_s: 8.0,
            long_pause_s: 1.2,
            max_stretch_s: 24.0,
            min_speech_s: 0.2,
            max_answer_s: 360.0,
            no_speech_timeout_s: 15.0,
        }
    }
}

/// What a frame changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointEvent {
    /// Speech has begun (after `min_speech_s` of voice).
    SpeechStarted,
    /// A stretch of speech is over: frames `start..end` (end exclusive) can be transcribed.
    StretchEnded { start: usize, end: usize },
    /// The answer is over.
    AnswerEnded(AnswerEnd),
}

/// Frame-by-frame end-of-answer state; pure, so it is tested on synthetic frames.
#[derive(Debug)]
pub struct EndOfAnswerDetector {
    rules: EndpointRules,
    frames: usize,
    voiced_run: usize,
    silent_run: usize,
    speech_started: bool,
    /// First frame not yet handed out in a stretch.
    stretch_start: usize,
    /// Whether voice was heard since `stretch_start`.
    stretch_has_voice: bool,
    ended: Option<AnswerEnd>,
}

fn frames_for(seconds: f64) -> usize {
    (seconds / FRAME_S).round().max(1.0) as usize
}

impl EndOfAnswerDetector {
    pub fn new(rules: EndpointRules) -> Self {
        EndOfAnswerDetector {
            rules,
            frames: 0,
            voiced_run: 0,
            silent_run: 0,
            speech_started: false,
            stretch_start: 0,
            stretch_has_voice: false,
            ended: None,
        }
    }

    /// Frames seen so far (what the tests time the decision by).
    #[cfg(test)]
    fn frames(&self) -> usize {
        self.frames
    }

    pub fn speech_started(&self) -> bool {
        self.speech_started
    }

    /// Feeds one frame's voice decision; returns what it changed, in order.
    pub fn push_frame(&mut self, voiced: bool) -> Vec<EndpointEvent> {
        let mut events = Vec::new();
        if self.ended.is_some() {
            return events;
        }
        self.frames += 1;
        if voiced {
            self.voiced_run += 1;
            self.silent_run = 0;
            self.stretch_has_voice = true;
            if !self.speech_started && self.voiced_run >= frames_for(self.rules.min_speech_s) {
                self.speech_started = true;
                events.push(EndpointEvent::SpeechStarted);
            }
        } else {
            self.voiced_run = 0;
            self.silent_run += 1;
        }
        let stretch_len = self.frames - self.stretch_start;
        let short_pause = self.silent_run == frames_for(self.rules.stretch_pause_s)
            && stretch_len >= frames_for(self.rules.min_stretch_s);
        let long_pause = self.silent_run == frames_for(self.rules.long_pause_s);
        let pause_closes =
            !voiced && self.stretch_has_voice && self.speech_started && (short_pause || long_pause);
        let too_long =
            stretch_len >= frames_for(self.rules.max_stretch_s) && self.stretch_has_voice;
        if pause_closes || too_long {
            events.push(self.close_stretch());
        }
        let end = if self.frames >= frames_for(self.rules.max_answer_s) {
            Some(AnswerEnd::MaxLength)
        } else if self.speech_started && self.silent_run >= frames_for(self.rules.end_silence_s) {
            Some(AnswerEnd::Silence)
        } else if !self.speech_started && self.frames >= frames_for(self.rules.no_speech_timeout_s)
        {
            Some(AnswerEnd::NoSpeech)
        } else {
            None
        };
        if let Some(end) = end {
            events.extend(self.finish(end));
        }
        events
    }

    /// The candidate said they are done; ends the answer now.
    pub fn phrase_heard(&mut self) -> Vec<EndpointEvent> {
        self.finish(AnswerEnd::Phrase)
    }

    /// The input stopped; ends the answer with what was heard.
    pub fn input_ended(&mut self) -> Vec<EndpointEvent> {
        self.finish(AnswerEnd::InputEnded)
    }

    /// The recording cannot grow; ends the answer with what was heard.
    pub fn disk_full(&mut self) -> Vec<EndpointEvent> {
        self.finish(AnswerEnd::DiskFull)
    }

    fn close_stretch(&mut self) -> EndpointEvent {
        let event = EndpointEvent::StretchEnded {
            start: self.stretch_start,
            end: self.frames,
        };
        self.stretch_start = self.frames;
        self.stretch_has_voice = false;
        event
    }

    /// Ends the answer once; the last stretch with voice is handed out first.
    fn finish(&mut self, end: AnswerEnd) -> Vec<EndpointEvent> {
        if self.ended.is_some() {
            return Vec::new();
        }
        self.ended = Some(end);
        let mut events = Vec::new();
        if self.stretch_has_voice && self.frames > self.stretch_start {
            events.push(self.close_stretch());
        }
        events.push(EndpointEvent::AnswerEnded(end));
        events
    }
}

/// Phrases that end an answer at once when a stretch ends with them.
const DONE_PHRASES: &[&str] = &[
    "that's my answer",
    "that is my answer",
    "that's it",
    "i'm done",
    "i am done",
    "that's all",
    "that is all",
    "end of answer",
];

/// Whether the words just transcribed end with the candidate saying they are done.
pub fn ends_with_done_phrase(text: &str) -> bool {
    let normalised: String = text
        .to_lowercase()
        .replace('’', "'")
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '\'')
        .collect();
    let normalised = normalised.split_whitespace().collect::<Vec<_>>().join(" ");
    DONE_PHRASES.iter().any(|p| normalised.ends_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(detector: &mut EndOfAnswerDetector, voiced: bool, seconds: f64) -> Vec<EndpointEvent> {
        (0..frames_for(seconds))
            .flat_map(|_| detector.push_frame(voiced))
            .collect()
    }

    /// How many stretches the events closed: each is sent to be transcribed.
    fn stretches_ended(events: &[EndpointEvent]) -> usize {
        events
            .iter()
            .filter(|e| matches!(e, EndpointEvent::StretchEnded { .. }))
            .count()
    }

    /// A detector that gives the candidate `no_speech_timeout_s` to start answering.
    fn waiting_for_speech(no_speech_timeout_s: f64) -> EndOfAnswerDetector {
        EndOfAnswerDetector::new(EndpointRules {
            no_speech_timeout_s,
            ..EndpointRules::default()
        })
    }

    fn ended(events: &[EndpointEvent]) -> Option<AnswerEnd> {
        events.iter().find_map(|e| match e {
            EndpointEvent::AnswerEnded(end) => Some(*end),
            _ => None,
        })
    }

    #[test]
    fn a_thinking_pause_does_not_end_the_answer_but_closes_a_stretch() {
        let mut d = EndOfAnswerDetector::new(EndpointRules::default());
        let mut events = run(&mut d, true, 5.0);
        assert!(events.contains(&EndpointEvent::SpeechStarted));
        events.extend(run(&mut d, false, 2.0));
        assert_eq!(ended(&events), None);
        assert_eq!(stretches_ended(&events), 1);
        let more = run(&mut d, true, 3.0);
        assert_eq!(ended(&more), None);
    }

    #[test]
    fn three_seconds_of_silence_after_speech_end_it() {
        let mut d = EndOfAnswerDetector::new(EndpointRules::default());
        run(&mut d, true, 4.0);
        let events = run(&mut d, false, 3.1);
        assert_eq!(ended(&events), Some(AnswerEnd::Silence));
        let frames = d.frames();
        assert!(
            frames as f64 * FRAME_S <= 7.05,
            "ended late: {frames} frames"
        );
    }

    #[test]
    fn stretches_cover_the_answer_without_overlap() {
        let mut d = EndOfAnswerDetector::new(EndpointRules::default());
        let mut events = Vec::new();
        for (voiced, s) in [
            (false, 1.0),
            (true, 3.0),
            (false, 1.5),
            (true, 2.0),
            (false, 4.0),
        ] {
            events.extend(run(&mut d, voiced, s));
        }
        let spans: Vec<(usize, usize)> = events
            .iter()
            .filter_map(|e| match e {
                EndpointEvent::StretchEnded { start, end } => Some((*start, *end)),
                _ => None,
            })
            .collect();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].0, 0);
        assert_eq!(spans[0].1, spans[1].0);
    }

    #[test]
    fn a_short_pause_closes_only_a_long_enough_stretch() {
        let mut d = EndOfAnswerDetector::new(EndpointRules::default());
        let mut events = run(&mut d, true, 3.0);
        events.extend(run(&mut d, false, 0.8));
        assert_eq!(
            stretches_ended(&events),
            0,
            "a phrase of 3 s waits for more"
        );
        events.extend(run(&mut d, true, 6.0));
        events.extend(run(&mut d, false, 0.8));
        assert_eq!(
            stretches_ended(&events),
            1,
            "9.8 s of speech and a short pause make a stretch"
        );
    }

    #[test]
    fn nobody_speaking_ends_with_no_speech() {
        let mut d = waiting_for_speech(5.0);
        let events = run(&mut d, false, 6.0);
        assert_eq!(ended(&events), Some(AnswerEnd::NoSpeech));
        assert!(!d.speech_started());
    }

    #[test]
    fn a_cough_does_not_start_the_answer() {
        let mut d = waiting_for_speech(5.0);
        let mut events = run(&mut d, true, 0.05);
        events.extend(run(&mut d, false, 6.0));
        assert_eq!(ended(&events), Some(AnswerEnd::NoSpeech));
    }

    #[test]
    fn a_runaway_answer_stops_at_the_maximum_and_long_speech_is_cut_into_stretches() {
        let rules = EndpointRules {
            max_answer_s: 60.0,
            ..EndpointRules::default()
        };
        let mut d = EndOfAnswerDetector::new(rules);
        let events = run(&mut d, true, 70.0);
        assert_eq!(ended(&events), Some(AnswerEnd::MaxLength));
        assert_eq!(stretches_ended(&events), 3, "24 s + 24 s + the last 12 s");
        assert!(run(&mut d, true, 1.0).is_empty(), "nothing after the end");
    }

    #[test]
    fn saying_done_ends_at_once_with_the_last_stretch() {
        let mut d = EndOfAnswerDetector::new(EndpointRules::default());
        run(&mut d, true, 2.0);
        let events = d.phrase_heard();
        assert!(matches!(events[0], EndpointEvent::StretchEnded { .. }));
        assert_eq!(ended(&events), Some(AnswerEnd::Phrase));
    }

    #[test]
    fn done_phrases_are_recognised_only_at_the_end() {
        assert!(ends_with_done_phrase("And so, yeah. That's my answer."));
        assert!(ends_with_done_phrase("I think I'm done"));
        assert!(!ends_with_done_phrase(
            "That's it, the deadline slipped by two weeks because of me."
        ));
    }
}
