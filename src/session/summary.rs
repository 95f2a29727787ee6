//! What the candidate hears and reads after answers: a one-sentence spoken summary, and the
//! session's Markdown summary.

use crate::analysis::{AnswerPart, AnswerReport, Verdict};
use crate::session::{AnswerRecord, SessionEnd};

fn part_name(part: AnswerPart) -> &'static str {
    match part {
        AnswerPart::Choose => "choosing the failure",
        AnswerPart::Describe => "description",
        AnswerPart::Own => "ownership part",
        AnswerPart::Learn => "learning part",
        AnswerPart::Other => "small talk",
    }
}

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

/// One or two short sentences: the length, then the most important timing problem.
pub fn spoken(report: &AnswerReport) -> String {
    let total: f64 = report.parts.iter().map(|p| p.duration_s).sum();
    let mut text = spoken_length(total);
    let four = [
        AnswerPart::Learn,
        AnswerPart::Own,
        AnswerPart::Describe,
        AnswerPart::Choose,
    ];
    let find = |verdict: Verdict| {
        four.iter()
            .filter_map(|part| report.parts.iter().find(|p| p.part == *part))
            .find(|p| p.verdict == verdict)
    };
    if let Some(p) = find(Verdict::Missing) {
        text.push_str(&format!(" Your answer had no {}.", part_name(p.part)));
    } else if let Some(p) = find(Verdict::Under) {
        text.push_str(&format!(
            " Your {} was only {} seconds.",
            part_name(p.part),
            p.duration_s.round()
        ));
    } else if let Some(p) = find(Verdict::Over) {
        text.push_str(&format!(
            " Your {} ran long, at {} seconds.",
            part_name(p.part),
            p.duration_s.round()
        ));
    } else {
        text.push_str(" Every part was within its budget.");
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
        md.push_str(&format!("## {}. {}\n\n", answer.number, answer.question));
        if let Some(note) = &answer.note {
            md.push_str(&format!("_Note: {note}_\n\n"));
        }
        let Some(report) = &answer.report else {
            md.push_str("No answer was heard.\n\n");
            continue;
        };
        md.push_str(&format!("{}\n\n", spoken(report)));
        md.push_str("| part | time | budget | verdict |\n|---|---:|---:|---|\n");
        for part in &report.parts {
            md.push_str(&format!(
                "| {:?} | {:.0} s | {:.0}-{:.0} s | {:?} |\n",
                part.part, part.duration_s, part.budget_min_s, part.budget_max_s, part.verdict
            ));
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
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_naturally() {
        assert_eq!(spoken_length(160.2), "2 minutes 40.");
        assert_eq!(spoken_length(45.0), "45 seconds.");
        assert_eq!(spoken_length(60.4), "1 minute.");
    }
}
