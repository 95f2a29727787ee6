//! `rehearse report --html`: one self-contained HTML file per session or answer, for looking at
//! later or sharing with a coach. No network and no scripts: the styles are inline, the pictures
//! are inline SVG, and each recording is embedded as a base64 data URI (the page grows by about
//! 1.33 times the WAV: a 3-minute answer at 16 kHz 16-bit adds about 7.7 MB).

use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::Engine;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::analysis::{AnswerPart, AnswerReport, PartReport, Severity};
use crate::files;
use crate::store::saved::{SavedAnswer, SavedFollowup, Selection};

/// Width of every SVG picture, in CSS pixels.
const PICTURE_W: f64 = 760.0;
/// Room on the left of a picture for row labels.
const LABEL_W: f64 = 70.0;
/// Room on the right of a picture for the last tick's label.
const RIGHT_W: f64 = 20.0;
/// Time-axis ticks, in seconds, for answers of the usual length.
const TICK_S: f64 = 30.0;
/// At most this many tick intervals on an axis, whatever the data says: longer spans double
/// the spacing, so a damaged file cannot make a page of millions of ticks.
const MOST_TICKS: f64 = 12.0;

/// A time axis: how far it reaches and how far apart its ticks are, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    span: f64,
    step: f64,
}

impl Axis {
    /// An axis reaching past `longest` seconds, in at most `MOST_TICKS` steps.
    fn reaching(longest: f64) -> Axis {
        let longest = if longest.is_finite() {
            longest.max(TICK_S)
        } else {
            TICK_S
        };
        let mut step = TICK_S;
        while longest / step > MOST_TICKS {
            step *= 2.0;
        }
        Axis {
            span: (longest / step).ceil() * step,
            step,
        }
    }
}

/// The page's `generator`: how `save` tells a page rehearse wrote (which it may replace) from
/// anything else.
const GENERATOR: &str = "rehearse";
/// How far into a file `save` looks for the generator: it sits in the page's head.
const HEAD_BYTES: usize = 2048;

/// Part colours in framework order (Tableau 10: distinct for the common colour-vision
/// deficiencies); small talk is grey.
const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
];
const OTHER_COLOR: &str = "#bab0ac";

/// A part's colour: by its place among the report's parts, so any framework gets distinct ones.
pub fn part_color(report: &AnswerReport, part: AnswerPart) -> &'static str {
    report
        .parts
        .iter()
        .position(|p| p.part == part)
        .map_or(OTHER_COLOR, |i| PALETTE[i % PALETTE.len()])
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Major => "major",
    }
}

fn minutes(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// Seconds the time axis spans: the answer or the whole budget, whichever is longer, to the
/// next tick.
fn answer_axis(report: &AnswerReport) -> Axis {
    let budget_end: f64 = report
        .parts
        .iter()
        .map(|p| (p.budget_min_s + p.budget_max_s) / 2.0)
        .sum();
    Axis::reaching(report.answer_s().max(budget_end))
}

fn axis(axis: Axis, scale: f64, y: f64) -> Markup {
    let ticks = (axis.span / axis.step).round() as usize;
    html! {
        @for i in 0..=ticks {
            @let x = LABEL_W + i as f64 * axis.step * scale;
            line x1=(x) x2=(x) y1=(y - 4.0) y2=(y) class="tick" {}
            text x=(x) y=(y + 12.0) text-anchor="middle" class="axis" { (minutes(i as f64 * axis.step)) }
        }
    }
}

/// The answer against the ideal: the top row lays the framework's parts end to end at the middle
/// of their budgets; the bottom row shows each sentence where it was spoken, coloured by its part.
fn timeline(report: &AnswerReport) -> Markup {
    let time = answer_axis(report);
    let scale = (PICTURE_W - LABEL_W - RIGHT_W) / time.span;
    let start = report.sentences.first().map_or(0.0, |s| s.start_s);
    let mut ideal = Vec::new();
    let mut at = 0.0;
    for part in &report.parts {
        let length = (part.budget_min_s + part.budget_max_s) / 2.0;
        ideal.push((part.part, at, length));
        at += length;
    }
    html! {
        svg class="timeline" xmlns="http://www.w3.org/2000/svg" width=(PICTURE_W) height="96"
            viewBox={"0 0 " (PICTURE_W) " 96"} role="img"
            aria-label="Timeline of the answer's parts against the ideal budget" {
            text x="0" y="24" class="row" { "ideal" }
            @for (part, from, length) in &ideal {
                rect class="ideal" data-part=(*part.name()) x=(LABEL_W + from * scale) y="10"
                    width=(length * scale) height="20" fill=(part_color(report, *part)) fill-opacity="0.35" {}
                text x=(LABEL_W + (from + length / 2.0) * scale) y="24" text-anchor="middle"
                    class="span-label" { (*part.name()) }
            }
            text x="0" y="58" class="row" { "yours" }
            @for sentence in &report.sentences {
                rect class="spoken" data-part=(sentence.part.name())
                    x=(LABEL_W + (sentence.start_s - start) * scale) y="44"
                    width=(((sentence.end_s - sentence.start_s) * scale).max(1.0)) height="20"
                    fill=(part_color(report, sentence.part)) {
                    title { (sentence.part.name()) ": " (sentence.text) }
                }
            }
            (axis(time, scale, 80.0))
        }
    }
}

/// The session at a glance: one bar per answer, its parts stacked in order, over the band of
/// the whole answer's budget.
fn session_chart(answers: &[&SavedAnswer]) -> Markup {
    let reports: Vec<(usize, &AnswerReport)> = answers
        .iter()
        .filter_map(|a| a.report.as_ref().map(|r| (a.number, r)))
        .collect();
    if reports.is_empty() {
        return html! {};
    }
    let totals = |r: &AnswerReport| -> f64 { r.parts.iter().map(|p| p.duration_s).sum() };
    // The first answer's budget: a session usually asks one framework's questions.
    let total = reports[0].1.total_budget;
    let (band_min, band_max) = (total.min_s, total.max_s);
    let longest = reports
        .iter()
        .map(|(_, r)| totals(r))
        .fold(band_max, f64::max);
    let time = Axis::reaching(longest);
    let scale = (PICTURE_W - LABEL_W - RIGHT_W) / time.span;
    let row_h = 26.0;
    let top = 16.0;
    let height = top + reports.len() as f64 * row_h + 30.0;
    html! {
        svg class="summary" xmlns="http://www.w3.org/2000/svg" width=(PICTURE_W) height=(height)
            viewBox={"0 0 " (PICTURE_W) " " (height)} role="img"
            aria-label="Each answer's parts stacked against the whole answer's budget" {
            text x=(LABEL_W + band_max * scale) y="11" text-anchor="end" class="axis" {
                "whole answer " (minutes(band_min)) "–" (minutes(band_max))
            }
            rect class="band" x=(LABEL_W + band_min * scale) y=(top) width=((band_max - band_min) * scale)
                height=(reports.len() as f64 * row_h) fill="#e8e8e8" {}
            @for (row, (number, report)) in reports.iter().enumerate() {
                @let y = top + row as f64 * row_h + 4.0;
                text x="0" y=(y + 14.0) class="row" { "answer " (number) }
                @for (part, from) in stacked(report) {
                    rect data-part=(part.part.name()) x=(LABEL_W + from * scale) y=(y)
                        width=(part.duration_s * scale) height=(row_h - 8.0) fill=(part_color(report, part.part)) {
                        title { (part.part.name()) " " (minutes(part.duration_s)) " (" (part.verdict.name()) ")" }
                    }
                }
            }
            (axis(time, scale, top + reports.len() as f64 * row_h + 12.0))
        }
    }
}

/// The four parts end to end: each with the second it starts at.
fn stacked(report: &AnswerReport) -> Vec<(&PartReport, f64)> {
    let mut at = 0.0;
    report
        .parts
        .iter()
        .map(|p| {
            let from = at;
            at += p.duration_s;
            (p, from)
        })
        .collect()
}

fn audio_player(path: &Path) -> Result<Markup> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the recording {}", path.display()))?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(html! {
        audio controls preload="metadata" src={"data:audio/wav;base64," (data)} {}
    })
}

fn answer_section(answer: &SavedAnswer) -> Result<Markup> {
    let player = answer.wav.as_deref().map(audio_player).transpose()?;
    let followup_player = answer
        .followup
        .as_ref()
        .and_then(|f| f.wav.as_deref())
        .map(audio_player)
        .transpose()?;
    Ok(html! {
        section class="answer" id={"answer-" (answer.number)} {
            h2 { (answer.number) ". " (answer.question) }
            @if let Some(note) = &answer.note { p class="note" { "Note: " (note) } }
            @if let Some(player) = player { (player) }
            @else if answer.report.is_some() {
                p class="note" {
                    "The recording answer-" (answer.number) ".wav is not in the session folder; the transcript and report below are what was saved."
                }
            }
            @match &answer.report {
                None => p { "No answer was heard." },
                Some(report) => {
                    p class="length" { "Answer length " (minutes(report.answer_s())) }
                    (timeline(report))
                    (parts_table(report))
                    (transcript_and_findings(report))
                    @if let Some(followup) = &answer.followup {
                        (followup_section(followup, followup_player.as_ref()))
                    }
                    @let asked = answer.followup.as_ref().map(|f| f.question.as_str());
                    @let to_prepare: Vec<&str> = report.followups.iter().map(|f| f.question.as_str()).filter(|q| Some(*q) != asked).collect();
                    @if !to_prepare.is_empty() {
                        div class="prepare" {
                            h3 { "Other follow-ups to prepare for" }
                            ul { @for question in to_prepare { li { (question) } } }
                        }
                    }
                }
            }
        }
    })
}

/// Each part's time against its budget, with its colour in the timeline.
fn parts_table(report: &AnswerReport) -> Markup {
    html! {
        table class="parts" {
            tr { th { "part" } th { "time" } th { "budget" } th { "verdict" } }
            @for part in &report.parts {
                tr {
                    td { span class="swatch" style={"background:" (part_color(report, part.part))} {} (part.label()) }
                    td { (minutes(part.duration_s)) }
                    td { (minutes(part.budget_min_s)) "–" (minutes(part.budget_max_s)) }
                    td class={"verdict " (part.verdict.name())} { (part.verdict.name()) }
                }
            }
        }
    }
}

/// The transcript, each sentence marked with its part, beside what to keep and the findings.
fn transcript_and_findings(report: &AnswerReport) -> Markup {
    html! {
        div class="read" {
            div class="transcript" {
                h3 { "Transcript" }
                p {
                    @for sentence in &report.sentences {
                        span class={"sentence part-" (sentence.part.name())}
                            data-part=(sentence.part.name()) title=(sentence.why) {
                            (sentence.text)
                        }
                        " "
                    }
                }
            }
            aside class="findings" {
                @if !report.strengths.is_empty() {
                    h3 { "Keep" }
                    ul class="strengths" {
                        @for strength in &report.strengths {
                            li { q { (strength.quote) } " - " (strength.what) "." }
                        }
                    }
                }
                h3 { "Findings" }
                @if report.findings.is_empty() { p { "None." } }
                ul {
                    @for finding in &report.findings {
                        li class={"finding " (severity_name(finding.severity))} {
                            code { (finding.code) } " " (finding.message)
                        }
                    }
                }
            }
        }
    }
}

/// The follow-up asked, its recording when there is one, the reply and how it was judged.
fn followup_section(followup: &SavedFollowup, player: Option<&Markup>) -> Markup {
    html! {
        div class="followup" {
            h3 { "Follow-up" }
            p class="asked" { (followup.question) }
            @if let Some(player) = player { (player) }
            blockquote { @if followup.answer.is_empty() { "(no answer heard)" } @else { (followup.answer) } }
            @if let Some(verdict) = &followup.verdict {
                p class={"verdict " @if verdict.filled { "filled" } @else { "unfilled" }} { (verdict.message) }
            }
        }
    }
}

const STYLE: &str = "
body { font: 15px/1.5 system-ui, sans-serif; color: #222; max-width: 820px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-top: 1px solid #ddd; padding-top: 1em; }
h3 { font-size: 1em; margin: 1em 0 0.3em; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
svg text.span-label { fill: #111; font-size: 11px; }
svg .tick { stroke: #888; }
.legend span { display: inline-block; margin-right: 1em; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; vertical-align: baseline; }
table.parts { border-collapse: collapse; margin: 0.8em 0; }
table.parts td, table.parts th { padding: 0.15em 0.8em 0.15em 0; text-align: left; }
.verdict.within { color: #2a7d2a; } .verdict.under, .verdict.over { color: #a86400; } .verdict.missing { color: #b00020; font-weight: bold; }
.read { display: grid; grid-template-columns: 3fr 2fr; gap: 1.5em; }
.sentence { border-radius: 3px; padding: 0 2px; }
.part-choose { background: #4e79a733; border-bottom: 2px solid #4e79a7; }
.part-describe { background: #f28e2b33; border-bottom: 2px solid #f28e2b; }
.part-own { background: #e1575933; border-bottom: 2px solid #e15759; }
.part-learn { background: #59a14f33; border-bottom: 2px solid #59a14f; }
.part-other { background: #bab0ac33; border-bottom: 2px solid #bab0ac; }
.findings ul { padding-left: 1.1em; } .finding.major code { color: #b00020; } .finding.warning code { color: #a86400; }
blockquote { margin: 0.3em 0; padding-left: 0.8em; border-left: 3px solid #ccc; color: #444; }
.verdict.filled { color: #1a6b2a; } .verdict.unfilled { color: #9a4a00; }
audio { display: block; margin: 0.5em 0; width: 100%; }
";

/// The whole page for the selected answers.
pub fn render(selection: &Selection) -> Result<String> {
    let answers: Vec<&SavedAnswer> = selection.answers().collect();
    let sections = answers
        .iter()
        .map(|a| answer_section(a))
        .collect::<Result<Vec<_>>>()?;
    let session = &selection.session;
    let title = match selection.answer {
        Some(n) => format!("rehearse: session {}, answer {n}", session.id),
        None => format!("rehearse: session {}", session.id),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(GENERATOR);
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Mock interview, " (session.started) }
                @if let Some(report) = answers.iter().find_map(|a| a.report.as_ref()) {
                    p class="legend" {
                        @for part in &report.parts {
                            span { span class="swatch" style={"background:" (part_color(report, part.part))} {} (part.label()) }
                        }
                    }
                }
                @if selection.answer.is_none() {
                    h3 { "The session at a glance" }
                    (session_chart(&answers))
                }
                @for section in sections { (section) }
            }
        }
    };
    Ok(page.into_string())
}

/// Saves a rendered page at `path`, never over what the user has: not inside rehearse's data
/// folder (recordings, session indexes), not over a recording, and not over an existing file
/// that is not a page rehearse wrote unless `force`. The page is written beside `path` and
/// renamed into place, so a full disk leaves no partial page, a symlink at `path` is replaced
/// rather than written through, and the page is private (0600) like the recordings it embeds.
pub fn save(page: &str, path: &Path, data_dir: &Path, force: bool) -> Result<()> {
    let shown = path.display();
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let folder = folder
        .canonicalize()
        .with_context(|| format!("cannot write {shown}: no folder {}", folder.display()))?;
    if let Ok(data) = data_dir.canonicalize() {
        if folder.starts_with(&data) {
            bail!(
                "{shown} is inside rehearse's data folder {}, which holds your recordings; write the page somewhere else",
                data.display()
            );
        }
    }
    let is_wav = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if is_wav {
        bail!("{shown} is a recording's name; give the page a name ending in .html");
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            bail!("{shown} is a folder; give a file name for the page, e.g. {}", folder.join("report.html").display())
        }
        Ok(meta) if !(force || meta.is_file() && written_by_rehearse(path)) => bail!(
            "{shown} already exists and is not a page rehearse wrote; choose another name, or add --force to replace it"
        ),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot check {shown}")),
    }
    files::write_atomic(path, page.as_bytes())
}

/// Whether the file starts like a page `render` made.
fn written_by_rehearse(path: &Path) -> bool {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let read = std::fs::File::open(path).and_then(|f| {
        std::io::Read::read_to_end(&mut std::io::Read::take(f, HEAD_BYTES as u64), &mut head)
    });
    read.is_ok()
        && String::from_utf8_lossy(&head)
            .contains(&format!(r#"<meta name="generator" content="{GENERATOR}">"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_keeps_30_s_ticks_for_answers_and_at_most_12_ticks_for_anything() {
        assert_eq!(
            Axis::reaching(200.0),
            Axis {
                span: 210.0,
                step: 30.0
            }
        );
        assert_eq!(Axis::reaching(f64::INFINITY).span, 30.0);
        assert_eq!(Axis::reaching(f64::NAN).span, 30.0);
        for longest in [400.0, 3600.0, 1e7, 1e9, 1e300] {
            let axis = Axis::reaching(longest);
            assert!(axis.span >= longest, "{longest}: {axis:?}");
            assert!(axis.span / axis.step <= MOST_TICKS, "{longest}: {axis:?}");
        }
    }
}
