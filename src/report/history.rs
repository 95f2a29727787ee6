//! `rehearse history`: every answer so far, with its timing verdicts and findings, and whether
//! answers are getting closer to the budget and raising fewer findings.

use serde::Serialize;

use crate::analysis::{AnswerPart, AnswerReport, Verdict};
use crate::store::saved::SavedSession;
use crate::store::SessionEnd;

/// Levels of a terminal sparkline, lowest first.
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

#[derive(Debug, Serialize)]
pub struct History {
    pub sessions: Vec<SessionHistory>,
    /// Analysed answers, oldest first: the series the trend is drawn from.
    pub trend: Trend,
    /// Each question answered and then tried again: its attempts, in order, as one question's
    /// progress.
    pub tries: Vec<Tries>,
}

/// One question's attempts, linked by "try again" (`retry_of`), oldest first.
#[derive(Debug, Serialize)]
pub struct Tries {
    pub question: String,
    /// Each attempt as `SESSION:N`.
    pub answers: Vec<String>,
    #[serde(flatten)]
    pub progress: Progress,
    pub seconds_off_budget: Vec<f64>,
}

/// Per answer, oldest first: how many findings it raised and how many of its framework's parts
/// were within budget. The trend and each question's tries are told in these same figures, so
/// they are counted in one place.
#[derive(Debug, Default, Serialize)]
pub struct Progress {
    pub findings: Vec<usize>,
    pub parts_within: Vec<usize>,
    /// How many parts each answer's framework has, so "3/4" and "2/4" compare like with like.
    pub parts_counted: Vec<usize>,
}

impl Progress {
    fn push(&mut self, answer: &AnswerHistory) {
        self.findings.push(answer.finding_codes.len());
        self.parts_within.push(
            answer
                .parts
                .iter()
                .filter(|p| p.verdict == Verdict::Within)
                .count(),
        );
        self.parts_counted.push(answer.parts.len());
    }
}

#[derive(Debug, Serialize)]
pub struct SessionHistory {
    pub id: String,
    pub started: String,
    pub end: Option<SessionEnd>,
    pub answers: Vec<AnswerHistory>,
}

#[derive(Debug, Serialize)]
pub struct AnswerHistory {
    pub number: usize,
    pub question: String,
    /// First word to last; None when nothing was heard.
    pub duration_s: Option<f64>,
    pub parts: Vec<PartVerdict>,
    pub finding_codes: Vec<String>,
    /// How far the parts fall outside their budgets, summed: 0 when every part is within.
    pub seconds_off_budget: Option<f64>,
    /// Whether the reply to the follow-up filled the gap it asked about.
    pub followup: Option<FollowupVerdict>,
    /// The earlier answer to the same question this one tried again (`SESSION:N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FollowupVerdict {
    pub gap: String,
    pub filled: bool,
}

#[derive(Debug, Serialize)]
pub struct PartVerdict {
    pub part: AnswerPart,
    pub duration_s: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Default, Serialize)]
pub struct Trend {
    /// One entry per analysed answer, oldest first.
    pub seconds_off_budget: Vec<f64>,
    #[serde(flatten)]
    pub progress: Progress,
}

/// Seconds each of the framework's parts falls short of or runs over its budget, summed; a
/// missing part counts as short by its whole minimum.
pub fn seconds_off_budget(report: &AnswerReport) -> f64 {
    report
        .parts
        .iter()
        .map(|p| (p.budget_min_s - p.duration_s).max(p.duration_s - p.budget_max_s))
        .map(|off| off.max(0.0))
        .sum()
}

/// Builds the history of `sessions` (oldest first).
pub fn build(sessions: &[SavedSession]) -> History {
    let sessions: Vec<SessionHistory> = sessions
        .iter()
        .map(|session| SessionHistory {
            id: session.id.clone(),
            started: session.started.clone(),
            end: session.end,
            answers: session
                .answers
                .iter()
                .map(|answer| {
                    let report = answer.report.as_ref();
                    AnswerHistory {
                        number: answer.number,
                        question: answer.question.clone(),
                        duration_s: report.map(AnswerReport::answer_s),
                        parts: report
                            .map(|r| {
                                r.parts
                                    .iter()
                                    .map(|p| PartVerdict {
                                        part: p.part,
                                        duration_s: p.duration_s,
                                        verdict: p.verdict,
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        finding_codes: report
                            .map(|r| r.findings.iter().map(|f| f.code.clone()).collect())
                            .unwrap_or_default(),
                        seconds_off_budget: report.map(seconds_off_budget),
                        followup: answer
                            .followup
                            .as_ref()
                            .and_then(|f| f.verdict.as_ref())
                            .map(|v| FollowupVerdict {
                                gap: v.gap.clone(),
                                filled: v.filled,
                            }),
                        retry_of: answer.retry_of.clone(),
                    }
                })
                .collect(),
        })
        .collect();
    let mut trend = Trend::default();
    for answer in sessions.iter().flat_map(|s| &s.answers) {
        if let Some(off) = answer.seconds_off_budget {
            trend.seconds_off_budget.push(off);
            trend.progress.push(answer);
        }
    }
    let tries = tries(&sessions);
    History {
        sessions,
        trend,
        tries,
    }
}

/// The chains of attempts at one question: an answer with a report that another answer tried
/// again starts one, and each retry joins the chain of the answer it tried again.
fn tries(sessions: &[SessionHistory]) -> Vec<Tries> {
    let mut chains: Vec<Tries> = Vec::new();
    // Which chain each answer (`SESSION:N`) is in, once it is in one.
    let mut chain_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut earlier: std::collections::HashMap<String, &AnswerHistory> =
        std::collections::HashMap::new();
    for session in sessions {
        for answer in &session.answers {
            let id = format!("{}:{}", session.id, answer.number);
            let retried = answer.retry_of.as_ref().and_then(|of| {
                let first = earlier.get(of)?;
                let chain = match chain_of.get(of) {
                    Some(&chain) => chain,
                    None => {
                        chains.push(Tries {
                            question: first.question.clone(),
                            answers: Vec::new(),
                            progress: Progress::default(),
                            seconds_off_budget: Vec::new(),
                        });
                        let chain = chains.len() - 1;
                        push_try(&mut chains[chain], of, first);
                        chain_of.insert(of.clone(), chain);
                        chain
                    }
                };
                Some(chain)
            });
            if let Some(chain) = retried {
                push_try(&mut chains[chain], &id, answer);
                chain_of.insert(id.clone(), chain);
            }
            if answer.seconds_off_budget.is_some() {
                earlier.insert(id, answer);
            }
        }
    }
    chains
}

fn push_try(tries: &mut Tries, id: &str, answer: &AnswerHistory) {
    tries.answers.push(id.to_string());
    tries.progress.push(answer);
    tries
        .seconds_off_budget
        .push(answer.seconds_off_budget.unwrap_or_default());
}

/// `values` as "a -> b -> c".
fn steps<T: std::fmt::Display>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// A one-line chart of `values`, scaled between their minimum and maximum.
pub fn sparkline(values: &[f64]) -> String {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|&v| {
            if high - low < 1e-9 {
                SPARKS[SPARKS.len() / 2 - 1]
            } else {
                let level = ((v - low) / (high - low) * (SPARKS.len() - 1) as f64).round();
                SPARKS[level as usize]
            }
        })
        .collect()
}

fn minutes(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Missing => "missing",
        Verdict::Under => "under",
        Verdict::Within => "ok",
        Verdict::Over => "over",
    }
}

/// `values` in at most `columns` values, each the mean of a run of neighbours, so that a long
/// history still fits on one line; the runs differ in length by at most one.
fn squeeze(values: &[f64], columns: usize) -> Vec<f64> {
    let columns = columns.max(1);
    if values.len() <= columns {
        return values.to_vec();
    }
    (0..columns)
        .map(|c| {
            let run = &values[c * values.len() / columns..(c + 1) * values.len() / columns];
            run.iter().sum::<f64>() / run.len() as f64
        })
        .collect()
}

/// Width of a trend line's label ("  seconds off budget  ") and the room left after the chart
/// for its figures ("  130 -> 0, falling").
const TREND_LABEL: usize = 22;
const TREND_FIGURES: usize = 24;
/// Fewest marks a trend chart is drawn with, however narrow the terminal.
const TREND_MIN_MARKS: usize = 8;

/// Cuts `text` to `width` characters, marking the cut.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// "falling", "rising" or "steady": the mean of the newer half against the older half.
fn direction(values: &[f64]) -> &'static str {
    let half = values.len() / 2;
    if half == 0 {
        return "steady";
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let older = mean(&values[..half]);
    let newer = mean(&values[values.len() - half..]);
    let tolerance = 0.05 * older.abs().max(newer.abs()).max(1.0);
    if newer < older - tolerance {
        "falling"
    } else if newer > older + tolerance {
        "rising"
    } else {
        "steady"
    }
}

/// The history for a terminal `width` columns wide: one block per session, one line per answer,
/// then the trend, whose charts fit the width however many answers there are.
pub fn render_terminal(history: &History, width: usize) -> String {
    let mut out = String::new();
    if history.sessions.is_empty() {
        out.push_str("No sessions yet: run `rehearse session` to record one.\n");
        return out;
    }
    for session in &history.sessions {
        session_lines(&mut out, session);
    }
    for tries in &history.tries {
        tries_lines(&mut out, tries);
    }
    trend_lines(&mut out, &history.trend, width);
    out
}

/// A session's line, then two lines an answer: its question, then its length, each part's
/// verdict, how many findings and how the follow-up went.
fn session_lines(out: &mut String, session: &SessionHistory) {
    let end = match session.end {
        Some(SessionEnd::Completed) | None => String::new(),
        Some(other) => format!(" ({})", other.words()),
    };
    out.push_str(&format!("{}  {}{end}\n", session.started, session.id));
    if session.answers.is_empty() {
        out.push_str("  no answers\n");
    }
    for answer in &session.answers {
        let again = match &answer.retry_of {
            Some(of) => format!(" (again, after {of})"),
            None => String::new(),
        };
        out.push_str(&format!(
            "  {}. {}{again}\n",
            answer.number,
            clip(&answer.question, 72)
        ));
        let Some(duration) = answer.duration_s else {
            out.push_str("     no answer heard\n");
            continue;
        };
        let verdicts: Vec<String> = answer
            .parts
            .iter()
            .map(|p| format!("{} {}", p.part.name(), verdict_word(p.verdict)))
            .collect();
        let findings = match answer.finding_codes.len() {
            0 => "no findings".to_string(),
            1 => "1 finding".to_string(),
            n => format!("{n} findings"),
        };
        let followup = match &answer.followup {
            Some(f) if f.filled => format!("  follow-up filled {}", f.gap),
            Some(f) => format!("  follow-up left {}", f.gap),
            None => String::new(),
        };
        out.push_str(&format!(
            "     {}  {}  {findings}{followup}\n",
            minutes(duration),
            verdicts.join(", ")
        ));
    }
}

/// The tries at one question, step by step: findings, parts within budget, seconds off budget.
fn tries_lines(out: &mut String, tries: &Tries) {
    out.push_str(&format!(
        "\nTries at \"{}\" ({}): {} tries\n",
        clip(&tries.question, 48),
        tries.answers.join(", "),
        tries.answers.len()
    ));
    let progress = &tries.progress;
    let within: Vec<String> = progress
        .parts_within
        .iter()
        .zip(&progress.parts_counted)
        .map(|(w, n)| format!("{w}/{n}"))
        .collect();
    let off: Vec<String> = tries
        .seconds_off_budget
        .iter()
        .map(|s| format!("{s:.0}"))
        .collect();
    out.push_str(&format!(
        "  findings {}; parts within budget {}; seconds off budget {}\n",
        steps(&progress.findings),
        steps(&within),
        steps(&off)
    ));
}

/// Sparklines of the whole history, oldest to newest, squeezed to the terminal's `width`; none
/// for fewer than two answers.
fn trend_lines(out: &mut String, trend: &Trend, width: usize) {
    let progress = &trend.progress;
    let n = progress.findings.len();
    if n < 2 {
        return;
    }
    let off = &trend.seconds_off_budget;
    let findings: Vec<f64> = progress.findings.iter().map(|&f| f as f64).collect();
    let within: Vec<f64> = progress.parts_within.iter().map(|&w| w as f64).collect();
    let marks = width
        .saturating_sub(TREND_LABEL + TREND_FIGURES)
        .max(TREND_MIN_MARKS);
    let chart = |values: &[f64]| sparkline(&squeeze(values, marks));
    if n > marks {
        out.push_str(&format!(
            "\nTrend over {n} answers (oldest to newest, each mark about {} answers)\n",
            n.div_ceil(marks)
        ));
    } else {
        out.push_str(&format!("\nTrend over {n} answers (oldest to newest)\n"));
    }
    out.push_str(&format!(
        "  seconds off budget  {}  {:.0} -> {:.0}, {}\n",
        chart(off),
        off[0],
        off[n - 1],
        direction(off)
    ));
    out.push_str(&format!(
        "  findings            {}  {} -> {}, {}\n",
        chart(&findings),
        progress.findings[0],
        progress.findings[n - 1],
        direction(&findings)
    ));
    out.push_str(&format!(
        "  parts within budget {}  {}/{} -> {}/{}, {}\n",
        chart(&within),
        progress.parts_within[0],
        progress.parts_counted[0],
        progress.parts_within[n - 1],
        progress.parts_counted[n - 1],
        direction(&within)
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze_by_cues, AnalysisOptions};
    use crate::store::saved::SavedAnswer;
    use crate::transcript::paced::timed_transcript;

    fn answer(number: usize, text: &str, words_per_minute: f64) -> SavedAnswer {
        SavedAnswer {
            number,
            question: "Describe a time you failed.".into(),
            wav: None,
            report: Some(analyze_by_cues(
                &timed_transcript(text, words_per_minute),
                &AnalysisOptions::default(),
            )),
            followup: None,
            note: None,
            retry_of: None,
        }
    }

    /// A session as `SavedSession::read` gives it back, started at `started`.
    fn session(
        id: &str,
        started: &str,
        end: SessionEnd,
        answers: Vec<SavedAnswer>,
    ) -> SavedSession {
        SavedSession {
            id: id.into(),
            dir: id.into(),
            started: started.into(),
            end: Some(end),
            answers,
        }
    }

    /// Answer `number`, at 150 words a minute, as a try again at the answer `of` (`SESSION:N`).
    fn retry(number: usize, text: &str, of: &str) -> SavedAnswer {
        SavedAnswer {
            retry_of: Some(of.into()),
            ..answer(number, text, 150.0)
        }
    }

    const SHORT: &str = "I broke the build once. It was bad.";
    const FULL: &str = "The failure I'd pick is a payroll run I got wrong last year. I was \
        running payroll for a team of sixty at a small charity. I uploaded the wrong hours file, \
        so twelve people were underpaid for a month. That's on me: I didn't compare the totals \
        with the previous month before I approved it. Now I check the totals against the last \
        run every month before approval, and in the eight months since we have not had a single \
        pay error.";

    #[test]
    fn off_budget_sums_how_far_each_part_falls_outside_its_budget() {
        let short = answer(1, SHORT, 150.0);
        let report = short.report.as_ref().unwrap();
        let expected: f64 = report
            .parts
            .iter()
            .map(|p| {
                (p.budget_min_s - p.duration_s)
                    .max(p.duration_s - p.budget_max_s)
                    .max(0.0)
            })
            .sum();
        // A two-sentence answer is far under the 145 s the four minimums add up to.
        assert!(expected > 100.0, "{expected}");
        assert!((seconds_off_budget(report) - expected).abs() < 1e-9);
    }

    #[test]
    fn the_history_lists_every_answer_and_the_trend_follows_them_in_order() {
        let sessions = vec![
            session(
                "2026-11-24_09-00-00",
                "2026-11-24 09:00",
                SessionEnd::Completed,
                vec![answer(1, SHORT, 150.0)],
            ),
            session(
                "2026-11-25_09-00-00",
                "2026-11-25 09:00",
                SessionEnd::Interrupted,
                vec![
                    answer(1, FULL, 20.0),
                    SavedAnswer {
                        report: None,
                        ..answer(2, SHORT, 150.0)
                    },
                ],
            ),
        ];
        let history = build(&sessions);
        assert_eq!(
            history.trend.progress.findings.len(),
            2,
            "unheard answers are not in the trend"
        );
        assert!(history.trend.seconds_off_budget[1] < history.trend.seconds_off_budget[0]);
        let text = render_terminal(&history, 80);
        assert!(text.contains("2026-11-25 09:00  2026-11-25_09-00-00 (interrupted)"));
        assert!(text.contains("no answer heard"));
        assert!(text.contains("Trend over 2 answers"));
        let off_line = text
            .lines()
            .find(|l| l.contains("seconds off budget"))
            .unwrap();
        assert!(off_line.contains("█▁"), "{off_line}");
        assert!(off_line.ends_with("falling"), "{off_line}");
        let json = serde_json::to_value(&history).unwrap();
        assert_eq!(
            json["sessions"][1]["answers"][1]["duration_s"],
            serde_json::Value::Null
        );
        assert_eq!(
            json["sessions"][0]["answers"][0]["parts"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
    }

    #[test]
    fn a_second_try_is_listed_with_the_answer_it_tried_again() {
        let sessions = vec![session(
            "2026-12-06_09-00-00",
            "2026-12-06 09:00",
            SessionEnd::Completed,
            vec![
                answer(1, SHORT, 150.0),
                retry(2, FULL, "2026-12-06_09-00-00:1"),
            ],
        )];
        let history = build(&sessions);
        let text = render_terminal(&history, 80);
        assert!(
            text.contains("  2. Describe a time you failed. (again, after 2026-12-06_09-00-00:1)"),
            "{text}"
        );
        let json = serde_json::to_value(&history).unwrap();
        assert_eq!(
            json["sessions"][0]["answers"][1]["retry_of"],
            "2026-12-06_09-00-00:1"
        );
        assert!(json["sessions"][0]["answers"][0].get("retry_of").is_none());
    }

    #[test]
    fn tries_at_one_question_are_counted_as_its_progress_across_sessions() {
        let first = "2026-12-06_09-00-00";
        let second = "2026-12-07_09-00-00";
        let sessions = vec![
            session(
                first,
                "2026-12-06 09:00",
                SessionEnd::Completed,
                vec![
                    answer(1, SHORT, 150.0),
                    retry(2, SHORT, &format!("{first}:1")),
                ],
            ),
            session(
                second,
                "2026-12-07 09:00",
                SessionEnd::Completed,
                vec![
                    retry(1, FULL, &format!("{first}:2")),
                    // Not linked to anything known: no chain.
                    retry(2, FULL, "1999-01-01_00-00-00:1"),
                ],
            ),
        ];
        let history = build(&sessions);
        assert_eq!(history.tries.len(), 1);
        let tries = &history.tries[0];
        assert_eq!(
            tries.answers,
            vec![
                format!("{first}:1"),
                format!("{first}:2"),
                format!("{second}:1")
            ]
        );
        assert!(tries.seconds_off_budget[2] < tries.seconds_off_budget[0]);
        let text = render_terminal(&history, 80);
        assert!(
            text.contains(&format!(
                "Tries at \"Describe a time you failed.\" ({first}:1, {first}:2, {second}:1): 3 tries"
            )),
            "{text}"
        );
        let line = text
            .lines()
            .find(|l| l.starts_with("  findings "))
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(line.matches(" -> ").count(), 6, "{line}");
    }

    #[test]
    fn a_long_history_is_squeezed_to_fit_the_terminal() {
        // Five hundred answers, improving: each mark of the chart is the mean of a run.
        let sessions: Vec<SavedSession> = (0..500)
            .map(|i| {
                session(
                    &format!("s{i}"),
                    "2026-11-24 09:00",
                    SessionEnd::Completed,
                    vec![answer(1, if i < 250 { SHORT } else { FULL }, 150.0)],
                )
            })
            .collect();
        let history = build(&sessions);
        for width in [40, 80, 200] {
            let text = render_terminal(&history, width);
            assert!(
                text.contains("Trend over 500 answers (oldest to newest, each mark about"),
                "{text}"
            );
            for line in text.lines().filter(|l| l.contains(" -> ")) {
                let chars = line.chars().count();
                assert!(chars <= width.max(TREND_LABEL + TREND_MIN_MARKS + TREND_FIGURES));
            }
            let off = text
                .lines()
                .find(|l| l.contains("seconds off budget"))
                .unwrap();
            assert!(off.contains("█") && off.contains("▁"), "{off}");
        }
    }

    #[test]
    fn squeezing_averages_runs_and_keeps_short_series() {
        assert_eq!(squeeze(&[1.0, 2.0], 8), vec![1.0, 2.0]);
        assert_eq!(squeeze(&[1.0, 3.0, 5.0, 7.0], 2), vec![2.0, 6.0]);
        assert_eq!(squeeze(&[0.0; 10], 3).len(), 3);
    }

    #[test]
    fn a_sparkline_spans_lowest_to_highest() {
        assert_eq!(sparkline(&[0.0, 7.0, 3.5]), "▁█▅");
        assert_eq!(sparkline(&[2.0, 2.0]), "▄▄");
    }
}
