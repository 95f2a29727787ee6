//! Follow-up questions an interviewer would ask next, chosen from what the answer lacks.
//!
//! Each content gap has one question; a strong answer gets a deeper probe instead, varied by
//! level. Questions only come from findings, so nothing the answer covered well is asked about.

use super::{AnswerPart, Finding, Level};

/// At most this many questions: an interviewer asks one or two, rarely three.
const MAX_FOLLOWUPS: usize = 3;

/// Gaps in priority order, each with the question that probes it.
const GAP_QUESTIONS: &[(&str, &str)] = &[
    (
        "non_failure",
        "That sounds more like a strength. Tell me about a time something actually went wrong because of a decision you made.",
    ),
    (
        "blame",
        "Looking back, what was within your control, and what would you do differently?",
    ),
    (
        "no_ownership",
        "What specifically did you do, or not do, that contributed to the outcome?",
    ),
    (
        "team_only",
        "Which of the team's decisions were yours, and what was your personal part in the failure?",
    ),
    (
        "turned_out_fine",
        "It sounds like it was recovered in time. What did the failure actually cost before it was fixed?",
    ),
    (
        "old_failure",
        "That was a while ago. Can you give me a more recent example, from the last two or three years?",
    ),
    (
        "no_concrete_change",
        "What exactly do you do differently now? Walk me through the last time you did it.",
    ),
    (
        "no_evidence",
        "How do you know the change worked? Tell me about a later situation where you did it differently.",
    ),
    (
        "context_heavy",
        "Leaving the background aside, what was the one thing you would do differently?",
    ),
];

/// Asked when the learning part is short or missing and no content finding already covers it.
const LEARNING_QUESTION: &str = "What changed in how you work after this?";

/// Probes for an answer with no content gaps, by level.
fn probes(level: Level) -> [&'static str; 2] {
    match level {
        Level::Early => [
            "What would you do if the same situation happened tomorrow with a tighter deadline?",
            "Who did you go to for help at the time, and would you ask sooner now?",
        ],
        Level::Mid => [
            "What would you do if the same situation happened tomorrow with a tighter deadline?",
            "Did anyone else on the team change how they work because of what you learned?",
        ],
        Level::Senior => [
            "How would you spot the early signs of this failure in someone on your team, and what would you do?",
            "What did this change in how your organisation plans or reviews similar work?",
        ],
    }
}

fn has(findings: &[Finding], code: &str) -> bool {
    findings.iter().any(|f| f.code == code)
}

/// One to three follow-up questions for the answer, deterministic for the same findings.
pub(crate) fn choose(findings: &[Finding], level: Level) -> Vec<String> {
    let mut questions: Vec<&str> = GAP_QUESTIONS
        .iter()
        .filter(|(code, _)| has(findings, code))
        .map(|(_, question)| *question)
        .collect();
    // "What did you do" already asks for ownership; no need to ask it twice for blame.
    if has(findings, "blame") {
        questions.retain(|q| !q.starts_with("What specifically"));
    }
    let learning_thin = findings.iter().any(|f| {
        matches!(f.code.as_str(), "part_missing" | "part_under")
            && f.part == Some(AnswerPart::Learn)
    });
    let learning_covered = has(findings, "no_concrete_change") || has(findings, "no_evidence");
    if learning_thin && !learning_covered {
        questions.push(LEARNING_QUESTION);
    }
    if questions.is_empty() {
        let [first, second] = probes(level);
        questions = vec![first, second];
    }
    questions
        .into_iter()
        .take(MAX_FOLLOWUPS)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Severity;

    fn findings(codes: &[&str]) -> Vec<Finding> {
        codes
            .iter()
            .map(|c| Finding {
                code: c.to_string(),
                severity: Severity::Warning,
                message: String::new(),
                part: None,
            })
            .collect()
    }

    #[test]
    fn asks_about_each_gap_in_priority_order_up_to_three() {
        let q = choose(
            &findings(&[
                "no_evidence",
                "old_failure",
                "no_concrete_change",
                "context_heavy",
            ]),
            Level::Mid,
        );
        assert_eq!(q.len(), 3);
        assert!(q[0].contains("more recent example"));
        assert!(q[1].contains("differently now"));
        assert!(q[2].contains("How do you know the change worked"));
    }

    #[test]
    fn never_asks_about_what_the_answer_covered() {
        let q = choose(&findings(&["no_evidence"]), Level::Mid);
        assert_eq!(q.len(), 1);
        assert!(!q[0].contains("within your control"));
        assert!(!q[0].contains("differently now"));
    }

    #[test]
    fn blame_asks_about_control_not_twice_about_ownership() {
        let q = choose(&findings(&["blame", "no_ownership"]), Level::Mid);
        assert_eq!(
            q,
            ["Looking back, what was within your control, and what would you do differently?"]
        );
    }

    #[test]
    fn thin_learning_without_a_content_gap_asks_what_changed() {
        let mut f = findings(&["part_under"]);
        f[0].part = Some(AnswerPart::Learn);
        assert_eq!(choose(&f, Level::Mid), [LEARNING_QUESTION]);
    }

    #[test]
    fn strong_answers_get_a_deeper_probe_by_level() {
        let early = choose(&[], Level::Early);
        let senior = choose(&[], Level::Senior);
        assert!(early[0].contains("tighter deadline"));
        assert_ne!(early, senior);
        assert_eq!(choose(&findings(&["pace_fast"]), Level::Senior), senior);
    }
}
