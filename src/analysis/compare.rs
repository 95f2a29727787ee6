//! Two attempts at the same question, compared: what a coach says after "try again". Per part,
//! the seconds before and after against the budget; the content findings the second attempt
//! fixed and the ones it brought; the strengths it gained; and the biggest change, in one
//! sentence to say aloud.

use serde::{Deserialize, Serialize};

use super::checks::ContentCheck;
use super::{AnswerPart, AnswerReport, Finding, Strength, Verdict};

/// One part's time in both attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartChange {
    pub part: AnswerPart,
    pub label: String,
    pub title: String,
    pub before_s: f64,
    pub after_s: f64,
    pub budget_min_s: f64,
    pub budget_max_s: f64,
    pub before: Verdict,
    pub after: Verdict,
}

impl PartChange {
    /// How far outside its budget the part was before minus after: positive is closer now.
    fn gain_s(&self) -> f64 {
        self.outside(self.before_s) - self.outside(self.after_s)
    }

    fn outside(&self, seconds: f64) -> f64 {
        (self.budget_min_s - seconds)
            .max(seconds - self.budget_max_s)
            .max(0.0)
    }
}

/// What changed from one attempt to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// The later attempt's parts, in its framework's order.
    pub parts: Vec<PartChange>,
    /// Content findings of the first attempt that the second does not have.
    pub fixed: Vec<Finding>,
    /// Content findings the second attempt has and the first did not.
    pub new: Vec<Finding>,
    /// Strengths of the second attempt the first did not show.
    pub gained: Vec<Strength>,
}

impl Comparison {
    pub fn between(before: &AnswerReport, after: &AnswerReport) -> Comparison {
        let parts = after
            .parts
            .iter()
            .map(|now| {
                let then = before.parts.iter().find(|p| p.part == now.part);
                PartChange {
                    part: now.part,
                    label: now.label().to_string(),
                    title: now.title().to_string(),
                    before_s: then.map_or(0.0, |p| p.duration_s),
                    after_s: now.duration_s,
                    budget_min_s: now.budget_min_s,
                    budget_max_s: now.budget_max_s,
                    before: then.map_or(Verdict::Missing, |p| p.verdict),
                    after: now.verdict,
                }
            })
            .collect();
        let content = |report: &AnswerReport| -> Vec<Finding> {
            report
                .findings
                .iter()
                .filter(|f| f.part.is_none() && ContentCheck::is_content(&f.code))
                .cloned()
                .collect()
        };
        let (then, now) = (content(before), content(after));
        let has = |findings: &[Finding], code: &str| findings.iter().any(|f| f.code == code);
        Comparison {
            parts,
            fixed: then
                .iter()
                .filter(|f| !has(&now, &f.code))
                .cloned()
                .collect(),
            new: now
                .iter()
                .filter(|f| !has(&then, &f.code))
                .cloned()
                .collect(),
            gained: after
                .strengths
                .iter()
                .filter(|s| !before.strengths.iter().any(|b| b.code == s.code))
                .cloned()
                .collect(),
        }
    }

    /// The biggest change in one sentence to say aloud: the part whose time moved most towards
    /// its budget (or, if none did, away from it), and the first gap filled.
    pub fn spoken(&self) -> String {
        let moved = self
            .parts
            .iter()
            .filter(|p| p.gain_s() >= MOVED_S)
            .max_by(|a, b| a.gain_s().total_cmp(&b.gain_s()))
            .or_else(|| {
                self.parts
                    .iter()
                    .filter(|p| p.gain_s() <= -MOVED_S)
                    .min_by(|a, b| a.gain_s().total_cmp(&b.gain_s()))
            });
        let filled = self.fixed.first().map(|f| filled_phrase(&f.code));
        let timing = moved.map(|p| {
            let (before, after) = (p.before_s.round(), p.after_s.round());
            let direction = if after > before { "up" } else { "down" };
            format!(
                "You spent {after} seconds on {}, {direction} from {before}",
                p.title
            )
        });
        match (timing, filled) {
            (Some(timing), Some(filled)) => format!("{timing}, and {filled}."),
            (Some(timing), None) => format!("{timing}."),
            (None, Some(filled)) => format!("Your timing is much as before, and {filled}."),
            (None, None) => match self.new.first() {
                Some(_) => "Much as before, with one new gap: see the report.".to_string(),
                None => "Much as before: every part took about the same time.".to_string(),
            },
        }
    }
}

/// A part whose distance from its budget changed by less than this is "much as before".
const MOVED_S: f64 = 5.0;

/// What a fixed finding sounds like, said after "and".
fn filled_phrase(code: &str) -> &'static str {
    match code {
        "no_evidence" => "the evidence is there now",
        "no_concrete_change" => "the change is concrete now",
        "no_ownership" | "team_only" => "your own part is clear now",
        "blame" => "the blame is gone",
        "turned_out_fine" | "non_failure" => "the failure is a real one now",
        "old_failure" => "the story is a recent one now",
        "context_heavy" => "the background is shorter",
        _ => "one gap is filled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Budget, Delivery, PartReport, Severity};

    fn part(id: &'static str, title: &str, seconds: f64, min_s: f64, max_s: f64) -> PartReport {
        let verdict = if seconds == 0.0 {
            Verdict::Missing
        } else if seconds < min_s {
            Verdict::Under
        } else if seconds > max_s {
            Verdict::Over
        } else {
            Verdict::Within
        };
        PartReport {
            part: AnswerPart::named(id),
            label: id.to_string(),
            title: title.to_string(),
            duration_s: seconds,
            budget_min_s: min_s,
            budget_max_s: max_s,
            share: 0.0,
            aim_share: None,
            largest: false,
            verdict,
        }
    }

    fn report(seconds: [f64; 4], findings: &[&str], strengths: &[&str]) -> AnswerReport {
        AnswerReport {
            framework: "failure".into(),
            total_budget: Budget {
                min_s: 180.0,
                max_s: 210.0,
            },
            duration_s: seconds.iter().sum(),
            speech_s: seconds.iter().sum(),
            transcript: String::new(),
            sentences: Vec::new(),
            parts: vec![
                part("choose", "choosing the failure", seconds[0], 20.0, 40.0),
                part(
                    "describe",
                    "describing what happened",
                    seconds[1],
                    45.0,
                    75.0,
                ),
                part("own", "owning your part", seconds[2], 20.0, 40.0),
                part(
                    "learn",
                    "what you learned and changed",
                    seconds[3],
                    60.0,
                    90.0,
                ),
            ],
            findings: findings
                .iter()
                .map(|code| Finding {
                    code: code.to_string(),
                    severity: Severity::Major,
                    message: format!("{code} message"),
                    part: None,
                })
                .collect(),
            strengths: strengths
                .iter()
                .map(|code| Strength {
                    code: code.to_string(),
                    what: format!("{code} what"),
                    quote: format!("{code} quote"),
                })
                .collect(),
            followups: Vec::new(),
            delivery: Delivery {
                words_per_minute: 140.0,
                filler_words: Vec::new(),
                longest_pause_s: 1.0,
            },
        }
    }

    #[test]
    fn the_learning_part_grown_into_its_budget_and_the_evidence_given_are_the_news() {
        let before = report(
            [30.0, 90.0, 25.0, 20.0],
            &["no_evidence", "blame"],
            &["owns"],
        );
        let after = report([30.0, 70.0, 25.0, 70.0], &["blame"], &["owns", "evidence"]);
        let comparison = Comparison::between(&before, &after);
        let learn = &comparison.parts[3];
        assert_eq!((learn.before_s, learn.after_s), (20.0, 70.0));
        assert_eq!(
            (learn.before, learn.after),
            (Verdict::Under, Verdict::Within)
        );
        let codes = |f: &[Finding]| f.iter().map(|f| f.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&comparison.fixed), ["no_evidence"]);
        assert!(comparison.new.is_empty());
        assert_eq!(comparison.gained.len(), 1);
        assert_eq!(comparison.gained[0].code, "evidence");
        assert_eq!(
            comparison.spoken(),
            "You spent 70 seconds on what you learned and changed, up from 20, and the evidence \
             is there now."
        );
    }

    #[test]
    fn a_part_cut_back_into_its_budget_counts_as_a_change_too() {
        let before = report([30.0, 140.0, 25.0, 70.0], &[], &[]);
        let after = report([30.0, 72.0, 25.0, 70.0], &["no_ownership"], &[]);
        let comparison = Comparison::between(&before, &after);
        assert_eq!(
            comparison.spoken(),
            "You spent 72 seconds on describing what happened, down from 140."
        );
        assert_eq!(comparison.new.len(), 1);
        assert!(comparison.fixed.is_empty());
    }

    #[test]
    fn with_no_part_closer_the_one_that_moved_furthest_away_is_said() {
        let before = report([30.0, 60.0, 25.0, 70.0], &[], &[]);
        let after = report([30.0, 60.0, 10.0, 40.0], &[], &[]);
        assert_eq!(
            Comparison::between(&before, &after).spoken(),
            "You spent 40 seconds on what you learned and changed, down from 70."
        );
    }

    #[test]
    fn much_the_same_attempt_says_so_and_timing_findings_are_not_content() {
        let mut before = report([30.0, 60.0, 25.0, 70.0], &["no_concrete_change"], &[]);
        before.findings.push(Finding {
            code: "part_under".into(),
            severity: Severity::Info,
            message: "short".into(),
            part: Some(AnswerPart::named("own")),
        });
        let after = report([32.0, 58.0, 27.0, 68.0], &[], &[]);
        let comparison = Comparison::between(&before, &after);
        assert_eq!(comparison.fixed.len(), 1, "only the content finding");
        assert_eq!(
            comparison.spoken(),
            "Your timing is much as before, and the change is concrete now."
        );
        let same = Comparison::between(&after, &after);
        assert_eq!(
            same.spoken(),
            "Much as before: every part took about the same time."
        );
    }
}
