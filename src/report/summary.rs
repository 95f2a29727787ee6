//! What the candidate hears and reads after answers: a one-sentence spoken summary, and the
//! session's Markdown summary.

use crate::analysis::{spoken_strength, AnswerReport, Comparison, Verdict};
use crate::store::{AnswerRecord, SessionEnd};

/// "2 minutes 40." style length, as text-to-speech reads it well.
fn spoken_length(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s} seconds."),
        (1, 0) => "1 minute.".to_string(),
        (m, 0) => format!("{m} minutes."),
        (1, s) => format!("1 minute {s}."),
        (m, s) => format!("{m} minutes {s}."),
    }
}

/// One or two short sentences: the length, then the most important timing problem. Later parts
/// come first: in most frameworks they carry the lesson or the result, and get cut short.
pub fn spoken(report: &AnswerReport) -> String {
    let total: f64 = report.parts.iter().map(|p| p.duration_s).sum();
    let mut text = spoken_length(total);
    let find = |verdict: Verdict| report.parts.iter().rev().find(|p| p.verdict == verdict);
    if let Some(p) = find(Verdict::Missing) {
        text.push_str(&format!(" Nothing on {}.", p.title()));
    } else if let Some(p) = find(Verdict::Under) {
        text.push_str(&format!(
            " Only {} seconds on {}.",
            p.duration_s.round(),
            p.title()
        ));
    } else if let Some(p) = find(Verdict::Over) {
        text.push_str(&format!(
            " {} seconds on {}: that ran long.",
            p.duration_s.round(),
            p.title()
        ));
    } else {
        text.push_str(" Every part was within its budget.");
    }
    if let Some(keep) = spoken_strength(&report.strengths) {
        text.push(' ');
        text.push_str(keep);
    }
    text
}

/// The session's Markdown summary: per answer, the question, the timing table, the findings and
/// the follow-up with its answer.
pub fn markdown(answers: &[AnswerRecord], end: SessionEnd) -> String {
    let mut md = String::from("# Mock interview session\n\n");
    match end {
        SessionEnd::Completed => {}
        SessionEnd::Interrupted => md.push_str(
            "_The session was stopped early; everything recorded until then is kept._\n\n",
        ),
        SessionEnd::InputEnded => {
            md.push_str("_The audio input ended; the session stopped there._\n\n")
        }
        SessionEnd::Recovered => md.push_str(
            "_rehearse stopped unexpectedly; the answers it had recorded were recovered afterwards._\n\n",
        ),
    }
    for answer in answers {
        answer_section(&mut md, answer);
    }
    md
}

/// One answer's section: its question and note, then (when it was heard) the summary line, the
/// timing table, the comparison with an earlier attempt, what to keep, the findings, the
/// transcript and the follow-up.
fn answer_section(md: &mut String, answer: &AnswerRecord) {
    md.push_str(&format!("## {}. {}\n\n", answer.number, answer.question));
    if let Some(note) = &answer.note {
        md.push_str(&format!("_Note: {note}_\n\n"));
    }
    let Some(report) = &answer.report else {
        md.push_str("No answer was heard.\n\n");
        return;
    };
    md.push_str(&format!("{}\n\n", spoken(report)));
    md.push_str("| part | time | budget | verdict |\n|---|---:|---:|---|\n");
    for part in &report.parts {
        md.push_str(&format!(
            "| {} | {:.0} s | {:.0}-{:.0} s | {} |\n",
            part.label(),
            part.duration_s,
            part.budget_min_s,
            part.budget_max_s,
            part.verdict.name()
        ));
    }
    if let (Some(of), Some(comparison)) = (&answer.retry_of, &answer.comparison) {
        comparison_section(md, of, comparison);
    }
    if !report.strengths.is_empty() {
        md.push_str("\n**Keep**\n\n");
        for strength in &report.strengths {
            md.push_str(&format!("- \"{}\" - {}.\n", strength.quote, strength.what));
        }
    }
    if !report.findings.is_empty() {
        md.push_str("\n**Findings**\n\n");
        for finding in &report.findings {
            md.push_str(&format!("- `{}` {}\n", finding.code, finding.message));
        }
    }
    md.push_str(&format!("\n**Transcript.** {}\n\n", report.transcript));
    if let Some(followup) = &answer.followup {
        md.push_str(&format!(
            "**Follow-up:** {}\n\n> {}\n\n",
            followup.question,
            followup.transcript.text()
        ));
        if let Some(verdict) = &followup.verdict {
            let mark = if verdict.filled {
                "filled"
            } else {
                "not filled"
            };
            md.push_str(&format!(
                "**Reply:** `{}` {mark}. {}\n\n",
                verdict.gap, verdict.message
            ));
        }
    }
}

/// How a second attempt compares with the earlier answer `of`: each part's time before and
/// after, and what was fixed, newly missing or gained.
fn comparison_section(md: &mut String, of: &str, comparison: &Comparison) {
    md.push_str(&format!(
        "\n**Compared with your earlier answer ({of}).** {}\n\n",
        comparison.spoken()
    ));
    md.push_str("| part | before | after | budget |\n|---|---:|---:|---:|\n");
    for part in &comparison.parts {
        md.push_str(&format!(
            "| {} | {:.0} s | {:.0} s | {:.0}-{:.0} s |\n",
            part.label, part.before_s, part.after_s, part.budget_min_s, part.budget_max_s
        ));
    }
    for finding in &comparison.fixed {
        md.push_str(&format!("- Fixed: {}\n", finding.message));
    }
    for finding in &comparison.new {
        md.push_str(&format!("- New: {}\n", finding.message));
    }
    for strength in &comparison.gained {
        md.push_str(&format!(
            "- Gained: \"{}\" - {}.\n",
            strength.quote, strength.what
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What to keep is said once aloud (the strongest) and listed, quoted, in `session.md`.
    #[test]
    fn strengths_are_spoken_once_and_listed_with_their_quotes() {
        let transcript = crate::transcript::paced::timed_transcript(
            "I missed a supplier deadline last year. Since then I read every order back.",
            150.0,
        );
        let mut report = crate::analysis::analyze_by_cues(&transcript, &Default::default());
        report.strengths = vec![crate::analysis::Strength {
            code: "change".into(),
            what: "a specific change".into(),
            quote: "Since then I read every order back.".into(),
        }];
        let said = spoken(&report);
        assert!(
            said.ends_with(" The change you named is specific: keep it."),
            "{said}"
        );
        let record = AnswerRecord {
            number: 1,
            question: "Describe a time you failed.".into(),
            wav: "answer-1.wav".into(),
            end: crate::store::AnswerEnd::Silence,
            report: Some(report),
            followup: None,
            note: None,
            retry_of: None,
            comparison: None,
        };
        let md = markdown(&[record], SessionEnd::Completed);
        assert!(
            md.contains(
                "**Keep**\n\n- \"Since then I read every order back.\" - a specific change."
            ),
            "{md}"
        );
    }

    #[test]
    fn lengths_read_naturally() {
        assert_eq!(spoken_length(160.2), "2 minutes 40.");
        assert_eq!(spoken_length(45.0), "45 seconds.");
        assert_eq!(spoken_length(60.4), "1 minute.");
    }
}
