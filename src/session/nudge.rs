//! A live nudge: a short cue in the live line when the part the candidate is in runs past its
//! budget, or the whole answer past its longest, as a coach across the table would glance at
//! the clock. Never speech, which would talk over the candidate: a cue in the line, and with
//! `--nudge tone` a soft tone as well, for a candidate who is not looking at the screen.

use serde::Deserialize;

use crate::session::live_part::LivePart;

/// Whether the live view nudges (`--nudge`, config `nudge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NudgeMode {
    /// A short cue in the live line.
    #[default]
    Text,
    /// The cue, and a soft tone through the output device.
    Tone,
    /// No cues.
    Off,
}

impl NudgeMode {
    pub fn name(self) -> &'static str {
        match self {
            NudgeMode::Text => "text",
            NudgeMode::Tone => "tone",
            NudgeMode::Off => "off",
        }
    }
}

/// At most one new cue this often (seconds of the answer): a nudge, not a nag.
const MIN_GAP_S: f64 = 20.0;
/// How long a cue stays in the live line.
const SHOWN_S: f64 = 8.0;

/// Decides the cues of one answer on the answer's own clock (seconds of audio heard), so it
/// can be tested without waiting.
#[derive(Debug, Default)]
pub struct Nudger {
    /// When the last cue was given.
    last_s: Option<f64>,
    /// Parts already cued, each at most once; and whether the whole answer was.
    parts_cued: Vec<String>,
    answer_cued: bool,
    shown: Option<(String, f64)>,
}

impl Nudger {
    /// The cue to show `elapsed_s` into the answer, given the live part estimate; `None` when
    /// there is nothing to say.
    pub fn cue(&mut self, elapsed_s: f64, part: &LivePart) -> Option<&str> {
        let due = self.last_s.is_none_or(|last| elapsed_s - last >= MIN_GAP_S);
        if due {
            if let Some(cue) = self.next_cue(elapsed_s, part) {
                self.last_s = Some(elapsed_s);
                self.shown = Some((cue, elapsed_s));
            }
        }
        match &self.shown {
            Some((cue, at)) if elapsed_s - at < SHOWN_S => Some(cue.as_str()),
            _ => None,
        }
    }

    fn next_cue(&mut self, elapsed_s: f64, part: &LivePart) -> Option<String> {
        if let Some(longest) = part.answer_max_s {
            if elapsed_s > longest && !self.answer_cued {
                self.answer_cued = true;
                return Some(format!("past {longest:.0} s: time to wrap up"));
            }
        }
        let label = part.label.as_ref()?;
        let (_, max) = part.budget?;
        if part.seconds > max && !self.parts_cued.contains(label) {
            self.parts_cued.push(label.clone());
            return Some(format!("{label} past {max:.0} s: move on"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(label: &str, seconds: f64, max: f64) -> LivePart {
        LivePart {
            label: Some(label.into()),
            seconds,
            budget: Some((max / 2.0, max)),
            answer_max_s: Some(210.0),
        }
    }

    #[test]
    fn a_part_past_its_budget_is_cued_once_and_the_cue_fades() {
        let mut nudger = Nudger::default();
        assert_eq!(nudger.cue(60.0, &part("describe", 70.0, 75.0)), None);
        assert_eq!(
            nudger.cue(66.0, &part("describe", 76.0, 75.0)),
            Some("describe past 75 s: move on")
        );
        assert!(nudger.cue(70.0, &part("describe", 80.0, 75.0)).is_some());
        // Gone after a few seconds, and the same part is not cued again.
        assert_eq!(nudger.cue(75.0, &part("describe", 85.0, 75.0)), None);
        assert_eq!(nudger.cue(120.0, &part("describe", 130.0, 75.0)), None);
    }

    #[test]
    fn never_more_than_one_cue_per_20_seconds() {
        let mut nudger = Nudger::default();
        assert!(nudger.cue(100.0, &part("describe", 80.0, 75.0)).is_some());
        // Another part runs long 5 s later: held back until 20 s have passed, then given.
        assert_eq!(nudger.cue(110.0, &part("own", 45.0, 40.0)), None);
        assert_eq!(
            nudger.cue(120.0, &part("own", 55.0, 40.0)),
            Some("own past 40 s: move on")
        );
        // The whole answer past its longest: its own cue, once, after the gap.
        assert_eq!(
            nudger.cue(215.0, &part("learn", 30.0, 90.0)),
            Some("past 210 s: time to wrap up")
        );
        assert_eq!(nudger.cue(240.0, &part("learn", 55.0, 90.0)), None);
    }

    #[test]
    fn nothing_is_cued_within_budget_or_without_an_estimate() {
        let mut nudger = Nudger::default();
        for t in 0..200 {
            let t = f64::from(t);
            assert_eq!(nudger.cue(t, &part("learn", t / 3.0, 90.0)), None);
        }
        assert_eq!(nudger.cue(300.0, &LivePart::default()), None);
    }
}
