//! The terminal report: something a person takes in within ten seconds. Plain text, aligned,
//! at most 80 columns; colour only when asked for.

use crate::analysis::{AnswerReport, Comparison, PartReport, Severity, Verdict};

/// Page width the report stays within.
const WIDTH: usize = 80;
/// Cells of a part's bar that stand for its budget's maximum.
const BAR_CELLS: usize = 20;
/// Cells after the budget mark that show an overrun.
const OVERRUN_CELLS: usize = 5;
/// How far above its aimed share a part may go before the report says "too much".
const SHARE_SLACK: f64 = 0.15;

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Wraps `text` in an ANSI colour when colour is on.
fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn verdict_color(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Within => GREEN,
        Verdict::Under | Verdict::Over => YELLOW,
        Verdict::Missing => RED,
    }
}

/// "3:05" for 185 s.
fn minutes(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// A part's time as a bar against its budget: filled up to the time, shaded up to the budget's
/// maximum, a `|` at the maximum and any overrun after it.
fn bar(part: &PartReport, color: bool) -> String {
    let scale = if part.budget_max_s > 0.0 {
        BAR_CELLS as f64 / part.budget_max_s
    } else {
        0.0
    };
    let cells = (part.duration_s * scale).round() as usize;
    let filled = cells.min(BAR_CELLS);
    let over = cells.saturating_sub(BAR_CELLS).min(OVERRUN_CELLS);
    let inside = format!("{}{}", "█".repeat(filled), "░".repeat(BAR_CELLS - filled));
    let overrun = format!("{:<width$}", "█".repeat(over), width = OVERRUN_CELLS);
    let code = verdict_color(part.verdict);
    format!(
        "{}|{}",
        paint(&inside, code, color),
        paint(&overrun, code, color)
    )
}

fn part_line(part: &PartReport, color: bool) -> String {
    format!(
        // Labels longer than the column are cut, so the line stays within the page.
        "{:<9.9} {} {:>4.0} s / {:.0}-{:.0} s  {}",
        part.label(),
        bar(part, color),
        // Never "-0 s" for an empty part.
        part.duration_s.max(0.0).abs(),
        part.budget_min_s,
        part.budget_max_s,
        paint(part.verdict.name(), verdict_color(part.verdict), color)
    )
}

/// A second attempt against the first (`session --retry`): each part's seconds before and
/// after against its budget, then the gaps filled, the new ones and the strengths gained.
pub fn render_comparison(comparison: &Comparison, of: &str, color: bool) -> String {
    let mut lines = vec![paint(
        &format!("Compared with your earlier answer ({of})"),
        BOLD,
        color,
    )];
    for part in &comparison.parts {
        let change = if part.before == part.after {
            String::new()
        } else {
            format!(
                "  {} -> {}",
                part.before.name(),
                paint(part.after.name(), verdict_color(part.after), color)
            )
        };
        lines.push(format!(
            "  {:<10} {:>4.0} s -> {:>4.0} s  (aim {:.0}-{:.0} s){change}",
            part.label, part.before_s, part.after_s, part.budget_min_s, part.budget_max_s
        ));
    }
    let groups = [
        ("Fixed", &comparison.fixed, GREEN),
        ("New", &comparison.new, YELLOW),
    ];
    for (name, findings, code) in groups {
        for finding in findings {
            let first = format!("  {} ", paint(&format!("{name}:"), code, color));
            lines.extend(wrap(&finding.message, &first, 4));
        }
    }
    for strength in &comparison.gained {
        let first = format!("  {} ", paint("Gained:", GREEN, color));
        lines.extend(wrap(
            &format!("\"{}\" - {}.", strength.quote, strength.what),
            &first,
            4,
        ));
    }
    lines.join("\n") + "\n"
}

/// Splits text into lines of at most `WIDTH` characters, each after the first indented.
pub(crate) fn wrap(text: &str, first_prefix: &str, indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first_prefix.to_string();
    let mut line_has_word = false;
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(line_has_word) + word.chars().count();
        if line_has_word && needed > WIDTH {
            lines.push(line);
            line = " ".repeat(indent);
            line_has_word = false;
        }
        if line_has_word {
            line.push(' ');
        }
        // A single word longer than the page is cut rather than overflowing it.
        let room = WIDTH.saturating_sub(line.chars().count());
        line.extend(word.chars().take(room));
        line_has_word = true;
    }
    lines.push(line);
    lines
}

fn severity_marker(severity: Severity, color: bool) -> String {
    match severity {
        Severity::Major => paint("[!]", RED, color),
        Severity::Warning => paint("[~]", YELLOW, color),
        Severity::Info => "[i]".to_string(),
    }
}

/// The header: total time against the framework's budget for the whole answer.
fn header(report: &AnswerReport, color: bool) -> String {
    let aim = report.total_budget;
    let verdict = if report.findings.iter().any(|f| f.code == "answer_too_short") {
        ("too short", YELLOW)
    } else if report.findings.iter().any(|f| f.code == "answer_too_long") {
        ("too long", YELLOW)
    } else {
        ("on time", GREEN)
    };
    format!(
        "{}  {} (aim {}-{})  {}",
        paint("Answer", BOLD, color),
        minutes(report.answer_s()),
        minutes(aim.min_s),
        minutes(aim.max_s),
        paint(verdict.0, verdict.1, color)
    )
}

/// The report as terminal text, at most 80 columns wide. With `color` false it has no escape
/// codes, so it can go to a file or a pipe.
pub fn render_terminal(report: &AnswerReport, color: bool) -> String {
    let mut lines = vec![header(report, color), String::new()];
    lines.extend(report.parts.iter().map(|p| part_line(p, color)));
    lines.push(String::new());
    for part in &report.parts {
        let Some(aim) = part.aim_share else {
            continue;
        };
        let note = if part.verdict == Verdict::Missing {
            paint("missing", YELLOW, color)
        } else if part.share > aim + SHARE_SLACK {
            paint("too much", YELLOW, color)
        } else {
            "ok".to_string()
        };
        lines.push(format!(
            "{}: {:.0}% of the answer (aim ~{:.0}%), {note}",
            part.label(),
            part.share * 100.0,
            aim * 100.0
        ));
    }
    if let Some(largest) = report.parts.iter().find(|p| p.largest) {
        let verdict = if report.largest_part_ok() {
            paint("yes", GREEN, color)
        } else {
            paint("no", YELLOW, color)
        };
        lines.push(format!(
            "{} is the largest part: {verdict}",
            largest.label()
        ));
    }
    if !report.strengths.is_empty() {
        lines.push(String::new());
        lines.push(paint("Keep", BOLD, color));
        for s in &report.strengths {
            // Wrapped with a plain marker: the painted one's escape codes take no columns.
            let mut wrapped = wrap(&format!("\"{}\" - {}.", s.quote, s.what), "+ ", 2);
            if let Some(first) = wrapped.first_mut() {
                *first = format!("{} {}", paint("+", GREEN, color), &first[2..]);
            }
            lines.extend(wrapped);
        }
    }
    if !report.findings.is_empty() {
        lines.push(String::new());
        lines.push(paint("Findings", BOLD, color));
        for f in &report.findings {
            let marker = severity_marker(f.severity, color);
            // The marker is three visible characters whatever its colour.
            let mut wrapped = wrap(&f.message, "    ", 4);
            if let Some(first) = wrapped.first_mut() {
                *first = format!("{marker} {}", first.trim_start());
            }
            lines.extend(wrapped);
        }
    }
    if !report.followups.is_empty() {
        lines.push(String::new());
        lines.push(paint("Next question", BOLD, color));
        for (i, q) in report.followups.iter().enumerate() {
            lines.extend(wrap(&q.question, &format!("{}. ", i + 1), 3));
        }
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze_by_cues, AnalysisOptions};
    use crate::transcript::paced::timed_transcript;

    fn report() -> AnswerReport {
        let text = "Good question. The failure I'd pick is a supplier order I placed with the wrong \
                    quantity. We ran out of flour during the busiest week of the year and lost sales. \
                    I didn't double check the order form, and that's on me. Since then I read every \
                    order back to the supplier before I send it, and in the six months since we have \
                    not had a single wrong delivery.";
        analyze_by_cues(&timed_transcript(text, 150.0), &AnalysisOptions::default())
    }

    #[test]
    fn shows_every_part_and_the_findings_without_colour() {
        let text = render_terminal(&report(), false);
        for label in [
            "Choose",
            "Describe",
            "Own",
            "Learn",
            "Answer",
            "Findings",
            "Next question",
        ] {
            assert!(text.contains(label), "{label} missing in\n{text}");
        }
        assert!(!text.contains('\x1b'), "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line:?}");
        }
    }

    #[test]
    fn colours_only_when_asked() {
        let text = render_terminal(&report(), true);
        assert!(text.contains(RED) || text.contains(YELLOW) || text.contains(GREEN));
    }

    #[test]
    fn bar_marks_budget_and_overrun() {
        let part = PartReport {
            part: crate::analysis::AnswerPart::new("own"),
            label: "Own".to_string(),
            title: "owning your part".to_string(),
            duration_s: 60.0,
            budget_min_s: 20.0,
            budget_max_s: 40.0,
            share: 0.5,
            aim_share: None,
            largest: false,
            verdict: Verdict::Over,
        };
        let line = part_line(&part, false);
        assert!(
            line.starts_with("Own       ████████████████████|█████"),
            "{line}"
        );
        assert!(line.ends_with("60 s / 20-40 s  over"), "{line}");
        let short = PartReport {
            duration_s: 10.0,
            verdict: Verdict::Under,
            ..part.clone()
        };
        assert!(part_line(&short, false).contains("█████░░░░░░░░░░░░░░░|      "));
    }

    #[test]
    fn a_part_never_said_reads_missing_never_minus_zero_or_ok() {
        let text = "What I learned is to test the payment path before anything else. Since then \
                    I run the riskiest checks in the first week of every project, and I now ask \
                    for a second reviewer on every pricing change.";
        let report = analyze_by_cues(&timed_transcript(text, 150.0), &AnalysisOptions::default());
        let shown = render_terminal(&report, false);
        assert!(!shown.contains("-0"), "{shown}");
        let missing: Vec<&str> = shown
            .lines()
            .filter(|l| l.starts_with("Describe: "))
            .collect();
        assert!(
            missing.len() == 1 && missing[0].ends_with("missing"),
            "{shown}"
        );
    }

    #[test]
    fn wraps_long_text_within_the_page() {
        let long = "word ".repeat(60);
        for line in wrap(&long, "1. ", 3) {
            assert!(line.chars().count() <= WIDTH);
        }
        assert_eq!(minutes(185.0), "3:05");
    }
}
