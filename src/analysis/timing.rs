//! Time accounting: how long each sentence and part took, against the framework's budgets.
//!
//! A word's slot runs from its start to the next word's start (the last word: start to end), so a
//! pause belongs to the sentence before it and the parts add up to the whole answer. The
//! evaluation scores durations with the same rule.

use super::framework::Framework;
use super::part::AnswerPart;
use super::sentences::Sentence;
use super::{Budget, PartReport, Verdict};
use crate::transcript::Word;

/// Below this a part counts as missing rather than short.
const MISSING_BELOW_S: f64 = 1.0;

/// Slot of each word: start to the next word's start, the last word start to end.
pub(crate) fn word_slots(words: &[Word]) -> Vec<f64> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let until = words.get(i + 1).map_or(w.end_s, |next| next.start_s);
            (until - w.start_s).max(0.0)
        })
        .collect()
}

/// Seconds each sentence takes, pauses after it included.
pub(crate) fn sentence_durations(sentences: &[Sentence], slots: &[f64]) -> Vec<f64> {
    sentences
        .iter()
        .map(|s| slots[s.first_word..s.end_word].iter().sum())
        .collect()
}

/// Where a duration falls against a budget.
pub(crate) fn verdict(duration_s: f64, budget: Budget) -> Verdict {
    if duration_s < MISSING_BELOW_S {
        Verdict::Missing
    } else if duration_s < budget.min_s {
        Verdict::Under
    } else if duration_s > budget.max_s {
        Verdict::Over
    } else {
        Verdict::Within
    }
}

/// Per-part durations, budgets, verdicts and shares of the framework's parts, in its order.
pub(crate) fn part_reports(
    labels: &[AnswerPart],
    durations: &[f64],
    framework: &Framework,
) -> Vec<PartReport> {
    let seconds = |part: AnswerPart| -> f64 {
        labels
            .iter()
            .zip(durations)
            .filter(|(p, _)| **p == part)
            // Not `sum()`: an empty float sum is -0.0, printed as "-0 s" and "-0%".
            .fold(0.0, |total, (_, d)| total + d)
    };
    let totals: Vec<f64> = framework.parts.iter().map(|p| seconds(p.id)).collect();
    let content: f64 = totals.iter().sum();
    framework
        .parts
        .iter()
        .zip(totals)
        .map(|(spec, duration_s)| PartReport {
            part: spec.id,
            label: spec.label.clone(),
            title: spec.title.clone(),
            duration_s,
            budget_min_s: spec.budget.min_s,
            budget_max_s: spec.budget.max_s,
            share: if content > 0.0 {
                duration_s / content
            } else {
                0.0
            },
            aim_share: spec.aim_share,
            largest: framework.largest == Some(spec.id),
            verdict: verdict(duration_s, spec.budget),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(start_s: f64, end_s: f64) -> Word {
        Word {
            text: "w".into(),
            start_s,
            end_s,
            probability: 1.0,
        }
    }

    #[test]
    fn slots_run_to_the_next_start_and_sum_to_the_span() {
        let words = [word(1.0, 1.5), word(2.0, 2.2), word(4.0, 4.6)];
        let slots = word_slots(&words);
        for (got, want) in slots.iter().zip([1.0, 2.0, 0.6]) {
            assert!((got - want).abs() < 1e-9, "{slots:?}");
        }
        assert!((slots.iter().sum::<f64>() - 3.6).abs() < 1e-9);
    }

    #[test]
    fn verdicts_against_a_budget() {
        let b = Budget {
            min_s: 20.0,
            max_s: 40.0,
        };
        assert_eq!(verdict(0.2, b), Verdict::Missing);
        assert_eq!(verdict(12.0, b), Verdict::Under);
        assert_eq!(verdict(30.0, b), Verdict::Within);
        assert_eq!(verdict(41.0, b), Verdict::Over);
    }

    #[test]
    fn shares_sum_to_one_and_small_talk_is_left_out() {
        let parts = ["other", "choose", "describe", "own", "learn", "learn"].map(AnswerPart::new);
        let durations = [3.0, 30.0, 60.0, 30.0, 40.0, 40.0];
        let reports = part_reports(&parts, &durations, &Framework::failure());
        assert_eq!(reports.len(), 4);
        let sum: f64 = reports.iter().map(|r| r.share).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        assert_eq!(reports[3].duration_s, 80.0);
        assert_eq!(reports[3].verdict, Verdict::Within);
        assert_eq!(reports[0].verdict, Verdict::Within);
    }

    #[test]
    fn missing_parts_have_zero_share() {
        let reports = part_reports(
            &[AnswerPart::new("describe")],
            &[50.0],
            &Framework::failure(),
        );
        assert_eq!(reports[1].share, 1.0);
        assert_eq!(reports[2].verdict, Verdict::Missing);
        assert_eq!(reports[2].share, 0.0);
        assert!(reports[2].share.is_sign_positive() && reports[2].duration_s.is_sign_positive());
    }
}
