//! Answer analysis: a timed-word `Transcript` in, an `AnswerReport` out. Pure: no audio, no model, no clock.
//!
//! The pipeline: `sentences` splits the words (punctuation, or pauses where it is missing);
//! `parts` labels each sentence choose / describe / own / learn / other from the cues in `cues`,
//! decoded jointly with a Viterbi pass; `timing` measures parts against `Budgets`; `findings`
//! raises content, timing and delivery codes; `followups` picks the next questions; `delivery`
//! measures pace and fillers; `render` prints the report for a terminal.

mod cues;
mod delivery;
mod findings;
mod followups;
mod parts;
mod render;
mod sentences;
mod text;
mod timing;

use serde::{Deserialize, Serialize};

use crate::transcript::Transcript;
use delivery::{measure, speech_seconds};
use parts::{label_sentences, last_part};
use sentences::split_sentences;
use timing::{part_reports, sentence_durations, word_slots};

pub use render::render_terminal;

/// The four parts of a failure answer (plus small talk), in the guide's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerPart {
    Choose,
    Describe,
    Own,
    Learn,
    Other,
}

impl AnswerPart {
    /// The part's name as the JSON and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            AnswerPart::Choose => "choose",
            AnswerPart::Describe => "describe",
            AnswerPart::Own => "own",
            AnswerPart::Learn => "learn",
            AnswerPart::Other => "other",
        }
    }
}

/// Career level of the candidate; changes stakes expectations and follow-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Early,
    #[default]
    Mid,
    Senior,
}

/// A time range in seconds a part (or the whole answer) should take.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub min_s: f64,
    pub max_s: f64,
}

/// Time budgets per part and for the whole answer, from the guide: about 30 s to choose, 60 s to
/// describe, 30 s to own it, 60-90 s on learning, 3 to 3.5 minutes in all. A config file can
/// override any of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Budgets {
    pub choose: Budget,
    pub describe: Budget,
    pub own: Budget,
    pub learn: Budget,
    pub total: Budget,
}

impl Default for Budgets {
    fn default() -> Budgets {
        let budget = |min_s, max_s| Budget { min_s, max_s };
        Budgets {
            choose: budget(20.0, 40.0),
            describe: budget(45.0, 75.0),
            own: budget(20.0, 40.0),
            learn: budget(60.0, 90.0),
            total: budget(180.0, 210.0),
        }
    }
}

impl Budgets {
    /// The budget of a part; small talk has none, so it gets an empty range.
    pub fn for_part(&self, part: AnswerPart) -> Budget {
        match part {
            AnswerPart::Choose => self.choose,
            AnswerPart::Describe => self.describe,
            AnswerPart::Own => self.own,
            AnswerPart::Learn => self.learn,
            AnswerPart::Other => Budget {
                min_s: 0.0,
                max_s: 0.0,
            },
        }
    }
}

/// What the analysis is measured against. `Default` is the guide's four-part budget at mid level.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisOptions {
    pub level: Level,
    pub budgets: Budgets,
    /// The year the answer is given in, so "back in 2015" can be dated. The analysis has no
    /// clock: without it, only spoken ages ("six years ago", "in college") date a story.
    pub reference_year: Option<i32>,
}

/// Analyses one answer: sentences and their parts, timing against the budget, content and
/// delivery findings, and the follow-up questions an interviewer would ask next.
pub fn analyze(transcript: &Transcript, options: &AnalysisOptions) -> AnswerReport {
    let words = &transcript.words;
    let sentences = split_sentences(words);
    let labelled = label_sentences(&sentences);
    let slots = word_slots(words);
    let durations = sentence_durations(&sentences, &slots);
    let labels: Vec<AnswerPart> = labelled.iter().map(|l| l.part).collect();
    let parts = part_reports(&labels, &durations, &options.budgets);
    let answer_s: f64 = slots.iter().sum();
    let delivery = measure(words);
    let answer = findings::Answer {
        words,
        sentences: &sentences,
        labels: &labels,
        durations: &durations,
    };
    let findings = findings::find_all(&answer, &parts, answer_s, &delivery, options);
    let followups = followups::choose(&findings, options.level);
    AnswerReport {
        duration_s: transcript.duration_s,
        speech_s: speech_seconds(words),
        transcript: transcript.text(),
        sentences: sentences
            .iter()
            .zip(labelled)
            .map(|(s, l)| SentenceReport {
                start_s: s.start_s,
                end_s: s.end_s,
                text: s.text.clone(),
                part: l.part,
                why: l.why,
            })
            .collect(),
        parts,
        findings,
        followups,
        delivery,
    }
}

/// The part the speaker is in at the end of what they have said so far, for a live view. Cheap:
/// no timing, findings or delivery, just the labelling.
pub fn live_part(transcript_so_far: &Transcript) -> Option<AnswerPart> {
    last_part(&split_sentences(&transcript_so_far.words))
}

/// The analysis of one answer. Its JSON also carries `answer_s`, `description_share` and
/// `learning_largest`, derived from the fields below.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "ReportJson")]
pub struct AnswerReport {
    pub duration_s: f64,
    pub speech_s: f64,
    pub transcript: String,
    pub sentences: Vec<SentenceReport>,
    pub parts: Vec<PartReport>,
    pub findings: Vec<Finding>,
    pub followups: Vec<String>,
    pub delivery: Delivery,
}

impl AnswerReport {
    /// Seconds from the first word to the last: what the total budget is measured against.
    pub fn answer_s(&self) -> f64 {
        match (self.sentences.first(), self.sentences.last()) {
            (Some(first), Some(last)) => last.end_s - first.start_s,
            _ => 0.0,
        }
    }

    /// Share of the four parts' time spent describing; the guide wants about a quarter.
    pub fn description_share(&self) -> f64 {
        self.parts
            .iter()
            .find(|p| p.part == AnswerPart::Describe)
            .map_or(0.0, |p| p.share)
    }

    /// Whether learning got more time than each other part, as the guide recommends.
    pub fn learning_largest(&self) -> bool {
        let learn = self
            .parts
            .iter()
            .find(|p| p.part == AnswerPart::Learn)
            .map_or(0.0, |p| p.duration_s);
        learn > 0.0
            && self
                .parts
                .iter()
                .filter(|p| p.part != AnswerPart::Learn)
                .all(|p| p.duration_s < learn)
    }
}

/// The JSON shape of a report: its fields plus the derived figures.
#[derive(Serialize)]
struct ReportJson {
    duration_s: f64,
    speech_s: f64,
    answer_s: f64,
    description_share: f64,
    learning_largest: bool,
    transcript: String,
    sentences: Vec<SentenceReport>,
    parts: Vec<PartReport>,
    findings: Vec<Finding>,
    followups: Vec<String>,
    delivery: Delivery,
}

impl From<AnswerReport> for ReportJson {
    fn from(r: AnswerReport) -> ReportJson {
        ReportJson {
            answer_s: r.answer_s(),
            description_share: r.description_share(),
            learning_largest: r.learning_largest(),
            duration_s: r.duration_s,
            speech_s: r.speech_s,
            transcript: r.transcript,
            sentences: r.sentences,
            parts: r.parts,
            findings: r.findings,
            followups: r.followups,
            delivery: r.delivery,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentenceReport {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub part: AnswerPart,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartReport {
    pub part: AnswerPart,
    pub duration_s: f64,
    pub budget_min_s: f64,
    pub budget_max_s: f64,
    pub share: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Missing,
    Under,
    Within,
    Over,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Major,
}

/// One thing a coach would point out. `code` is stable; `message` quotes the evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// The part a timing finding is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<AnswerPart>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub words_per_minute: f64,
    pub filler_words: Vec<FillerCount>,
    pub longest_pause_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FillerCount {
    pub word: String,
    pub count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::timed_transcript;
    use crate::transcript::Word;
    use proptest::prelude::*;

    const ANSWER: &str = "Good question. The failure I'd pick is a payroll run I got wrong last \
        year. I was running payroll for a team of sixty at a small charity. Um, I uploaded the \
        wrong hours file, so twelve people were underpaid for a month. That's on me: I didn't \
        compare the totals with the previous month before I approved it. Now I check the totals \
        against the last run every month before approval, and in the eight months since we have \
        not had a single pay error.";

    #[test]
    fn report_json_keeps_the_stable_field_names() {
        let report = analyze(
            &timed_transcript(ANSWER, 150.0),
            &AnalysisOptions::default(),
        );
        let json = serde_json::to_value(&report).expect("serializes");
        for key in [
            "duration_s",
            "speech_s",
            "transcript",
            "sentences",
            "parts",
            "findings",
            "followups",
            "delivery",
            "answer_s",
            "description_share",
            "learning_largest",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        for key in ["start_s", "end_s", "text", "part", "why"] {
            assert!(
                json["sentences"][0].get(key).is_some(),
                "sentence missing {key}"
            );
        }
        for key in [
            "part",
            "duration_s",
            "budget_min_s",
            "budget_max_s",
            "share",
            "verdict",
        ] {
            assert!(json["parts"][0].get(key).is_some(), "part missing {key}");
        }
        for key in ["words_per_minute", "filler_words", "longest_pause_s"] {
            assert!(
                json["delivery"].get(key).is_some(),
                "delivery missing {key}"
            );
        }
        assert_eq!(json["sentences"][0]["part"], "other");
        let back: AnswerReport = serde_json::from_value(json).expect("reads back");
        assert_eq!(back.sentences.len(), report.sentences.len());
    }

    #[test]
    fn analyze_labels_parts_times_them_and_counts_fillers() {
        let report = analyze(
            &timed_transcript(ANSWER, 150.0),
            &AnalysisOptions::default(),
        );
        let parts: Vec<AnswerPart> = report.sentences.iter().map(|s| s.part).collect();
        use AnswerPart::*;
        assert_eq!(parts, [Other, Choose, Describe, Describe, Own, Learn]);
        let shares: f64 = report.parts.iter().map(|p| p.share).sum();
        assert!((shares - 1.0).abs() < 1e-9);
        // A 40-second answer: every part is short and the whole is too short.
        assert!(report.findings.iter().any(|f| f.code == "answer_too_short"));
        assert!(report.parts.iter().all(|p| p.verdict == Verdict::Under));
        assert_eq!(report.delivery.filler_words.len(), 1);
        assert_eq!(report.delivery.filler_words[0].word, "um");
        assert!((report.delivery.words_per_minute - 150.0).abs() < 10.0);
        assert!((1..=3).contains(&report.followups.len()));
    }

    #[test]
    fn missing_parts_and_pace_are_reported() {
        let story =
            "I ran the payroll for a charity and uploaded the wrong hours file. Twelve people \
            were underpaid for a month and two of them missed their rent.";
        let report = analyze(&timed_transcript(story, 200.0), &AnalysisOptions::default());
        let codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
        assert!(codes.contains(&"part_missing"), "{codes:?}");
        assert!(codes.contains(&"pace_fast"), "{codes:?}");
        let learn = report.parts.iter().find(|p| p.part == AnswerPart::Learn);
        assert_eq!(learn.map(|p| p.verdict), Some(Verdict::Missing));
    }

    #[test]
    fn budgets_can_be_overridden_in_part() {
        let options: AnalysisOptions =
            toml::from_str("level = \"senior\"\n[budgets.learn]\nmin_s = 50.0\nmax_s = 80.0\n")
                .expect("parses");
        assert_eq!(options.level, Level::Senior);
        assert_eq!(options.budgets.learn.min_s, 50.0);
        assert_eq!(options.budgets.own, Budgets::default().own);
    }

    #[test]
    fn live_part_follows_the_speaker() {
        let so_far = |text: &str| live_part(&timed_transcript(text, 150.0));
        assert_eq!(so_far(""), None);
        assert_eq!(
            so_far("The failure I'd pick is a payroll run I got wrong."),
            Some(AnswerPart::Choose)
        );
        assert_eq!(
            so_far("The failure I'd pick is a payroll run I got wrong. I uploaded the wrong file. That's on me, I didn't check the totals."),
            Some(AnswerPart::Own)
        );
    }

    #[test]
    fn an_empty_transcript_gives_an_empty_report() {
        let empty = Transcript {
            duration_s: 0.0,
            words: Vec::new(),
        };
        let report = analyze(&empty, &AnalysisOptions::default());
        assert!(report.sentences.is_empty());
        assert!(report.parts.iter().all(|p| p.verdict == Verdict::Missing));
        assert!(!render_terminal(&report, false).is_empty());
    }

    fn arbitrary_transcript() -> impl Strategy<Value = Transcript> {
        let word = prop_oneof![
            Just("I".to_string()),
            Just("didn't.".to_string()),
            Just("since".to_string()),
            Just("then,".to_string()),
            Just("um".to_string()),
            Just("like,".to_string()),
            Just("we".to_string()),
            Just("failed?".to_string()),
            Just("2015".to_string()),
            Just("'".to_string()),
            Just("".to_string()),
            "\\PC{0,8}",
        ];
        proptest::collection::vec((word, 0.0f64..3.0, 0.0f64..1.0), 0..80).prop_map(|items| {
            let mut t = 0.0;
            let words: Vec<Word> = items
                .into_iter()
                .map(|(text, gap, length)| {
                    t += gap;
                    let word = Word {
                        text,
                        start_s: t,
                        end_s: t + length,
                        probability: 0.9,
                    };
                    t += length;
                    word
                })
                .collect();
            Transcript {
                duration_s: t,
                words,
            }
        })
    }

    proptest! {
        #[test]
        fn analyze_never_panics_and_keeps_every_word_once(transcript in arbitrary_transcript()) {
            let report = analyze(&transcript, &AnalysisOptions::default());
            let sentences = split_sentences(&transcript.words);
            let covered: Vec<usize> = sentences.iter().flat_map(|s| s.first_word..s.end_word).collect();
            prop_assert_eq!(covered, (0..transcript.words.len()).collect::<Vec<_>>());
            prop_assert_eq!(report.sentences.len(), sentences.len());
            for (s, r) in sentences.iter().zip(&report.sentences) {
                prop_assert_eq!(s.start_s, r.start_s);
                prop_assert!(r.start_s <= r.end_s);
            }
            let total: f64 = report.parts.iter().map(|p| p.duration_s).sum();
            prop_assert!(total <= report.answer_s() + 1e-6);
            let rendered = render_terminal(&report, false);
            prop_assert!(rendered.lines().all(|l| l.chars().count() <= 80));
        }
    }
}
