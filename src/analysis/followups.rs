//! Follow-up questions an interviewer would ask next, chosen from what the answer lacks.
//!
//! Each content gap has one question; a part of the framework that is missing or short asks its
//! own; a strong answer gets one of the framework's deeper probes instead, varied by level.
//! Questions only come from findings, so nothing the answer covered well is asked about.

use super::framework::{Framework, Role};
use super::{Finding, Level};

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

/// Content gaps whose question already asks about a part playing this role: a short part with
/// that role needs no question of its own.
fn covers(code: &str, role: Role) -> bool {
    match role {
        Role::Change => matches!(code, "no_concrete_change" | "no_evidence"),
        Role::Ownership => matches!(code, "no_ownership" | "blame" | "team_only"),
        Role::Choice | Role::Story => false,
    }
}

fn has(findings: &[Finding], code: &str) -> bool {
    findings.iter().any(|f| f.code == code)
}

/// One to three follow-up questions for the answer, deterministic for the same findings.
pub(crate) fn choose(findings: &[Finding], framework: &Framework, level: Level) -> Vec<String> {
    let mut questions: Vec<&str> = GAP_QUESTIONS
        .iter()
        .filter(|(code, _)| has(findings, code))
        .map(|(_, question)| *question)
        .collect();
    // "What did you do" already asks for ownership; no need to ask it twice for blame.
    if has(findings, "blame") {
        questions.retain(|q| !q.starts_with("What specifically"));
    }
    for part in &framework.parts {
        let Some(question) = &part.followup else {
            continue;
        };
        let thin = findings.iter().any(|f| {
            matches!(f.code.as_str(), "part_missing" | "part_under") && f.part == Some(part.id)
        });
        let covered = part
            .role
            .is_some_and(|role| findings.iter().any(|f| covers(&f.code, role)));
        if thin && !covered {
            questions.push(question);
        }
    }
    if questions.is_empty() {
        questions = framework.probes(level).iter().map(String::as_str).collect();
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
    use crate::analysis::{AnswerPart, Severity};

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
            &Framework::failure(),
            Level::Mid,
        );
        assert_eq!(q.len(), 3);
        assert!(q[0].contains("more recent example"));
        assert!(q[1].contains("differently now"));
        assert!(q[2].contains("How do you know the change worked"));
    }

    #[test]
    fn never_asks_about_what_the_answer_covered() {
        let q = choose(
            &findings(&["no_evidence"]),
            &Framework::failure(),
            Level::Mid,
        );
        assert_eq!(q.len(), 1);
        assert!(!q[0].contains("within your control"));
        assert!(!q[0].contains("differently now"));
    }

    #[test]
    fn blame_asks_about_control_not_twice_about_ownership() {
        let q = choose(
            &findings(&["blame", "no_ownership"]),
            &Framework::failure(),
            Level::Mid,
        );
        assert_eq!(
            q,
            ["Looking back, what was within your control, and what would you do differently?"]
        );
    }

    #[test]
    fn thin_learning_without_a_content_gap_asks_what_changed() {
        let mut f = findings(&["part_under"]);
        f[0].part = Some(AnswerPart::new("learn"));
        assert_eq!(
            choose(&f, &Framework::failure(), Level::Mid),
            ["What changed in how you work after this?"]
        );
    }

    #[test]
    fn strong_answers_get_a_deeper_probe_by_level() {
        let early = choose(&[], &Framework::failure(), Level::Early);
        let senior = choose(&[], &Framework::failure(), Level::Senior);
        assert!(early[0].contains("tighter deadline"));
        assert_ne!(early, senior);
        assert_eq!(
            choose(
                &findings(&["pace_fast"]),
                &Framework::failure(),
                Level::Senior
            ),
            senior
        );
    }
}
