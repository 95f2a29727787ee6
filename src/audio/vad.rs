//! Voice activity: which 16 ms frames hold speech, and where stretches of speech begin and end.
//!
//! earshot is a small pure-Rust neural VAD with its weights compiled in, so it needs no model
//! download and runs at thousands of times real time; whisper only ever sees audio it marked as
//! speech, which is also the main defence against whisper hallucinating text on silence.

use std::ops::Range;

use crate::audio::SAMPLE_RATE;

/// earshot's frame: 256 samples, 16 ms at 16 kHz.
pub const FRAME_SAMPLES: usize = 256;

/// Seconds per VAD frame.
pub const FRAME_S: f64 = FRAME_SAMPLES as f64 / SAMPLE_RATE as f64;

/// Scores at or above this count as voice (earshot's recommended default).
const VOICE_THRESHOLD: f32 = 0.5;

/// Decides whether a 16 ms frame holds voice; a trait so the session loop can run on fakes.
pub trait VoiceActivity {
    fn is_voice(&mut self, frame: &[f32]) -> bool;
}

/// Scores one frame at a time; keeps earshot's streaming state between frames.
pub struct VoiceDetector {
    detector: Box<earshot::Detector>,
}

impl Default for VoiceDetector {
    fn default() -> Self {
        VoiceDetector {
            detector: earshot::Detector::default_boxed(),
        }
    }
}

impl VoiceActivity for VoiceDetector {
    fn is_voice(&mut self, frame: &[f32]) -> bool {
        // earshot asserts samples within -1..1, and resampling a full-scale recording can
        // overshoot that by a little (ringing at sharp edges): clip them here, where the
        // contract is.
        let mut clipped = [0.0f32; FRAME_SAMPLES];
        let n = frame.len().min(FRAME_SAMPLES);
        for (out, sample) in clipped.iter_mut().zip(&frame[..n]) {
            *out = sample.clamp(-1.0, 1.0);
        }
        self.detector.predict_f32(&clipped[..n]) >= VOICE_THRESHOLD
    }
}

/// How frames are grouped into stretches of speech.
#[derive(Debug, Clone, Copy)]
pub struct SpanRules {
    /// Voiced frames in a row needed to start a stretch (ignores clicks).
    pub min_voiced_frames: usize,
    /// Unvoiced frames in a row that end a stretch.
    pub hangover_frames: usize,
    /// Frames of context kept before and after each stretch, so word edges are not clipped.
    pub padding_frames: usize,
}

impl Default for SpanRules {
    fn default() -> Self {
        SpanRules {
            min_voiced_frames: 3,
            hangover_frames: 25,
            padding_frames: 12,
        }
    }
}

/// Voice decisions for audio that arrives in blocks of any size, one per whole 16 ms frame: lets
/// a long file be scanned without holding its audio.
#[derive(Default)]
pub struct FrameClassifier {
    detector: VoiceDetector,
    pending: Vec<f32>,
    voiced: Vec<bool>,
}

impl FrameClassifier {
    pub fn push(&mut self, samples: &[f32]) {
        self.pending.extend_from_slice(samples);
        let whole = self.pending.len() - self.pending.len() % FRAME_SAMPLES;
        for frame in self.pending[..whole].chunks_exact(FRAME_SAMPLES) {
            self.voiced.push(self.detector.is_voice(frame));
        }
        self.pending.drain(..whole);
    }

    /// The decisions so far, one per frame (a trailing partial frame is not scored).
    pub fn into_voiced(self) -> Vec<bool> {
        self.voiced
    }
}

/// Groups per-frame voice decisions into padded sample ranges; pure, so it is tested directly.
pub fn frames_to_spans(
    voiced: &[bool],
    rules: SpanRules,
    total_samples: usize,
) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut run_start = None;
    let mut voiced_run = 0;
    let mut silent_run = 0;
    let mut current: Option<(usize, usize)> = None;
    for (i, &is_voice) in voiced.iter().enumerate() {
        if is_voice {
            silent_run = 0;
            voiced_run += 1;
            if voiced_run == 1 {
                run_start = Some(i);
            }
            match current.as_mut() {
                Some((_, end)) => *end = i + 1,
                None if voiced_run >= rules.min_voiced_frames => {
                    current = Some((run_start.unwrap_or(i), i + 1));
                }
                None => {}
            }
        } else {
            voiced_run = 0;
            silent_run += 1;
            if silent_run >= rules.hangover_frames {
                if let Some(span) = current.take() {
                    spans.push(pad(span, rules, total_samples));
                }
            }
        }
    }
    if let Some(span) = current {
        spans.push(pad(span, rules, total_samples));
    }
    merge_overlaps(spans)
}

fn pad((start, end): (usize, usize), rules: SpanRules, total_samples: usize) -> Range<usize> {
    let start = start.saturating_sub(rules.padding_frames) * FRAME_SAMPLES;
    let end = ((end + rules.padding_frames) * FRAME_SAMPLES).min(total_samples);
    start..end
}

fn merge_overlaps(spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_past_full_scale_are_scored_not_a_panic() {
        let mut vad = VoiceDetector::default();
        let loud: Vec<f32> = (0..FRAME_SAMPLES)
            .map(|i| if i % 2 == 0 { 1.3 } else { -1.2 })
            .collect();
        vad.is_voice(&loud);
    }

    fn frames(pattern: &str) -> Vec<bool> {
        pattern.chars().map(|c| c == '#').collect()
    }

    fn rules() -> SpanRules {
        SpanRules {
            min_voiced_frames: 2,
            hangover_frames: 3,
            padding_frames: 0,
        }
    }

    #[test]
    fn a_single_click_is_not_speech() {
        assert!(frames_to_spans(&frames("..#...#.."), rules(), 9 * FRAME_SAMPLES).is_empty());
    }

    #[test]
    fn short_gaps_stay_inside_one_span_and_long_gaps_split() {
        let spans = frames_to_spans(&frames("##.##.....###"), rules(), 13 * FRAME_SAMPLES);
        assert_eq!(
            spans,
            vec![0..5 * FRAME_SAMPLES, 10 * FRAME_SAMPLES..13 * FRAME_SAMPLES]
        );
    }

    #[test]
    fn padding_is_clamped_to_the_audio() {
        let padded = SpanRules {
            padding_frames: 4,
            ..rules()
        };
        let spans = frames_to_spans(&frames(".###."), padded, 5 * FRAME_SAMPLES);
        assert_eq!(spans, vec![0..5 * FRAME_SAMPLES]);
    }

    #[test]
    fn silence_has_no_speech() {
        let silence = vec![0.0; 16_000 * 3];
        let mut classifier = FrameClassifier::default();
        classifier.push(&silence);
        let spans = frames_to_spans(
            &classifier.into_voiced(),
            SpanRules::default(),
            silence.len(),
        );
        assert!(spans.is_empty());
    }
}
