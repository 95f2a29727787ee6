//! Scores the analysis engine against the labelled corpus, next to a positional baseline that
//! knows nothing but the budget's proportions, so a number means something.
//!
//! Time accounting (shared with the engine so durations compare like for like): a word's slot runs
//! from its start to the next word's start (the last word: its start to its end); a part's
//! duration is the sum of the slots of its words.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::{load_dir, load_split, parts, CorpusAnswer, Split, CORPUS_YEAR, SPLIT_FILE};
use rehearse::analysis::{
    analyze_with, judge_reply_with, AnalysisOptions, AnswerPart, AnswerReport, ContentCheck,
    Framework, SentenceEncoder,
};
use rehearse::transcript::paced::timed_transcript;
use rehearse::transcript::Transcript;

/// The four budgeted parts and the middle of each one's budget in the failure framework
/// (30, 60, 30 and 75 s): where the positional baseline cuts the answer.
fn budget() -> [(AnswerPart, f64); 4] {
    let failure = Framework::failure();
    let [choose, describe, own, learn, _] = parts();
    [choose, describe, own, learn].map(|part| {
        let middle = failure
            .part(part)
            .map_or(0.0, |p| (p.budget.min_s + p.budget.max_s) / 2.0);
        (part, middle)
    })
}

/// Slack for matching word starts to sentence bounds that went through float arithmetic.
const TIME_EPS: f64 = 1e-6;

/// What one predictor says about one answer, reduced to what is scored.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Predicted part per word; `None` where no sentence of the report contains the word's start.
    pub word_parts: Vec<Option<AnswerPart>>,
    /// The report's sentence each word is in, parallel to `word_parts`; empty for a predictor
    /// that reads no sentences.
    pub word_sentences: Vec<Option<usize>>,
    /// Predicted durations of choose, describe, own, learn in seconds.
    pub part_durations: [f64; 4],
    /// Finding codes raised (any codes; only content codes are scored).
    pub findings: Vec<String>,
    /// The content gap each follow-up question asks about (questions about none left out).
    pub followup_gaps: Vec<String>,
}

/// Each word's time slot: start to next start, the last word start to end.
pub fn word_slots(transcript: &Transcript) -> Vec<f64> {
    let words = &transcript.words;
    words
        .iter()
        .enumerate()
        .map(|(i, w)| match words.get(i + 1) {
            Some(next) => (next.start_s - w.start_s).max(0.0),
            None => (w.end_s - w.start_s).max(0.0),
        })
        .collect()
}

/// Durations of choose, describe, own, learn from per-word labels under the slot accounting.
pub fn part_durations(slots: &[f64], parts: &[Option<AnswerPart>]) -> [f64; 4] {
    let mut out = [0.0; 4];
    for (slot, part) in slots.iter().zip(parts) {
        if let Some(i) = part.and_then(budget_index) {
            out[i] += slot;
        }
    }
    out
}

fn budget_index(part: AnswerPart) -> Option<usize> {
    budget().iter().position(|(p, _)| *p == part)
}

fn part_index(part: AnswerPart) -> usize {
    parts()
        .iter()
        .position(|p| *p == part)
        .unwrap_or(parts().len() - 1)
}

/// Reads the engine's report as a prediction: each word takes the part of the sentence whose
/// `start_s..=end_s` holds the word's start (the first such sentence); part durations come from
/// `report.parts`.
pub fn prediction_from_report(transcript: &Transcript, report: &AnswerReport) -> Prediction {
    let word_sentences: Vec<Option<usize>> = transcript
        .words
        .iter()
        .map(|w| {
            report
                .sentences
                .iter()
                .position(|s| s.start_s - TIME_EPS <= w.start_s && w.start_s <= s.end_s + TIME_EPS)
        })
        .collect();
    let word_parts = word_sentences
        .iter()
        .map(|s| s.map(|s| report.sentences[s].part))
        .collect();
    let mut part_durations = [0.0; 4];
    for p in &report.parts {
        if let Some(i) = budget_index(p.part) {
            part_durations[i] += p.duration_s;
        }
    }
    Prediction {
        word_parts,
        word_sentences,
        part_durations,
        findings: report.findings.iter().map(|f| f.code.clone()).collect(),
        followup_gaps: report
            .followups
            .iter()
            .filter_map(|f| f.gap.clone())
            .collect(),
    }
}

/// The positional baseline: speech time (first word's start to last word's end) cut in the
/// budget's proportions 30:60:30:75; each word takes the part its start falls in. No findings.
pub fn positional_prediction(transcript: &Transcript) -> Prediction {
    let words = &transcript.words;
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return Prediction {
            word_parts: Vec::new(),
            word_sentences: Vec::new(),
            part_durations: [0.0; 4],
            findings: Vec::new(),
            followup_gaps: Vec::new(),
        };
    };
    let span = (last.end_s - first.start_s).max(TIME_EPS);
    let budget = budget();
    let total: f64 = budget.iter().map(|(_, s)| s).sum();
    let mut bounds = Vec::with_capacity(budget.len());
    let mut acc = 0.0;
    for (part, seconds) in budget {
        acc += seconds / total;
        bounds.push((acc, part));
    }
    let word_parts: Vec<Option<AnswerPart>> = words
        .iter()
        .map(|w| {
            let at = (w.start_s - first.start_s) / span;
            Some(
                bounds
                    .iter()
                    .find(|(bound, _)| at < *bound)
                    .map_or(budget[3].0, |(_, p)| *p),
            )
        })
        .collect();
    let part_durations = part_durations(&word_slots(transcript), &word_parts);
    Prediction {
        word_parts,
        word_sentences: Vec::new(),
        part_durations,
        findings: Vec::new(),
        followup_gaps: Vec::new(),
    }
}

/// Time-weighted scores for one part.
#[derive(Debug, Clone, Serialize)]
pub struct PartScore {
    pub part: AnswerPart,
    pub gold_s: f64,
    pub predicted_s: f64,
    /// Correct time over predicted time; `None` when the part was never predicted.
    pub precision: Option<f64>,
    /// Correct time over gold time; `None` when the part never occurs in the gold labels.
    pub recall: Option<f64>,
}

/// Mean absolute error of one part's duration across answers.
#[derive(Debug, Clone, Serialize)]
pub struct DurationError {
    pub part: AnswerPart,
    pub mean_abs_error_s: f64,
}

/// The single worst duration error, so a developer can look at that answer first.
#[derive(Debug, Clone, Serialize)]
pub struct WorstDuration {
    pub id: String,
    pub part: AnswerPart,
    pub error_s: f64,
}

/// Counts for one content finding code.
#[derive(Debug, Clone, Serialize)]
pub struct CodeCount {
    pub code: String,
    pub expected: usize,
    pub predicted: usize,
    pub correct: usize,
}

/// An answer whose content findings differ from the labels.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    pub id: String,
    pub missed: Vec<String>,
    pub spurious: Vec<String>,
}

/// How well replies to follow-ups are judged: did the reply fill the gap it was asked about,
/// against the corpus's labels.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplyScore {
    pub judged: usize,
    pub correct: usize,
    /// Replies called filled that the label says left the gap open.
    pub wrongly_filled: usize,
    /// Replies called unfilled that the label says filled it.
    pub wrongly_unfilled: usize,
    pub per_gap: Vec<GapReplies>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapReplies {
    pub gap: String,
    pub judged: usize,
    pub correct: usize,
}

/// The evaluation of one predictor over a set of answers.
#[derive(Debug, Clone, Serialize)]
pub struct EvalSummary {
    pub name: String,
    pub answers: usize,
    /// Total slot time scored, seconds.
    pub total_s: f64,
    /// Share of slot time whose predicted part equals the gold part.
    pub part_accuracy: f64,
    /// Slot time of words no predicted sentence contains.
    pub unassigned_s: f64,
    /// The best part accuracy any labelling of the report's sentences could reach: each
    /// sentence given the gold part of most of its time. Below 1 where a sentence the analysis
    /// found runs across a part boundary (a recogniser's run-on); `None` for a predictor that
    /// reads no sentences.
    pub sentence_ceiling: Option<f64>,
    pub per_part: Vec<PartScore>,
    /// Seconds, rows gold part and columns predicted part in `parts()` order, plus a last column
    /// for unassigned words.
    pub confusion_s: Vec<Vec<f64>>,
    pub duration_errors: Vec<DurationError>,
    pub worst_duration: Option<WorstDuration>,
    pub finding_true_positives: usize,
    pub finding_false_positives: usize,
    pub finding_false_negatives: usize,
    /// Micro-averaged over content codes; `None` when nothing was predicted.
    pub finding_precision: Option<f64>,
    /// Micro-averaged over content codes; `None` when nothing was expected.
    pub finding_recall: Option<f64>,
    pub per_code: Vec<CodeCount>,
    /// Answers labelled with no content finding.
    pub strong_answers: usize,
    /// Of those, how many the predictor left without a content finding.
    pub strong_clean: usize,
    pub mismatches: Vec<Mismatch>,
    /// Follow-up questions about a content gap.
    pub followups_asked: usize,
    /// Of those, how many ask for something the answer gave (a gap it is not labelled with).
    pub followups_asking_given: usize,
    /// The answers such a question was asked of.
    pub asked_for_given: Vec<String>,
    /// None for a predictor that cannot judge replies.
    pub replies: Option<ReplyScore>,
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

fn content_codes(codes: &[String]) -> BTreeSet<String> {
    codes
        .iter()
        .filter(|c| ContentCheck::is_content(c))
        .cloned()
        .collect()
}

/// Slot time of `answer` that labelling each of the prediction's sentences with its commonest
/// gold part (by time) would get right.
fn sentence_ceiling_s(answer: &CorpusAnswer, prediction: &Prediction, slots: &[f64]) -> f64 {
    let mut by_sentence: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for (i, slot) in slots.iter().enumerate() {
        // A word in no sentence is unassigned: no labelling of the sentences gets it right.
        if let Some(sentence) = prediction.word_sentences.get(i).copied().flatten() {
            by_sentence
                .entry(sentence)
                .or_insert_with(|| vec![0.0; parts().len()])[part_index(answer.word_parts[i])] +=
                slot;
        }
    }
    by_sentence
        .values()
        .map(|times| times.iter().copied().fold(0.0, f64::max))
        .sum()
}

/// Scores predictions against gold labels. `predictions` is parallel to `answers`.
pub fn summarize(name: &str, answers: &[CorpusAnswer], predictions: &[Prediction]) -> EvalSummary {
    let mut time = TimeTally::new();
    let mut findings = FindingTally::new();
    for (answer, prediction) in answers.iter().zip(predictions) {
        time.add(answer, prediction);
        findings.add(answer, prediction);
    }
    let n_parts = parts().len();
    let confusion = time.confusion;
    let total_s: f64 = confusion.iter().flatten().sum();
    let correct_s: f64 = (0..n_parts).map(|i| confusion[i][i]).sum();
    let unassigned_s: f64 = confusion.iter().map(|row| row[n_parts]).sum();
    let per_part = parts()
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let gold_s: f64 = confusion[i].iter().sum();
            let predicted_s: f64 = confusion.iter().map(|row| row[i]).sum();
            PartScore {
                part: *part,
                gold_s,
                predicted_s,
                precision: ratio(confusion[i][i], predicted_s),
                recall: ratio(confusion[i][i], gold_s),
            }
        })
        .collect();
    let count = answers.len().max(1) as f64;
    let duration_errors = budget()
        .iter()
        .enumerate()
        .map(|(i, (part, _))| DurationError {
            part: *part,
            mean_abs_error_s: time.abs_errors[i] / count,
        })
        .collect();
    let (tp, fp, fneg) = (findings.tp, findings.fp, findings.fneg);

    EvalSummary {
        name: name.to_string(),
        answers: answers.len(),
        total_s,
        part_accuracy: ratio(correct_s, total_s).unwrap_or(0.0),
        unassigned_s,
        sentence_ceiling: time.ceiling_s.and_then(|c| ratio(c, total_s)),
        per_part,
        confusion_s: confusion,
        duration_errors,
        worst_duration: time.worst,
        finding_true_positives: tp,
        finding_false_positives: fp,
        finding_false_negatives: fneg,
        finding_precision: ratio(tp as f64, (tp + fp) as f64),
        finding_recall: ratio(tp as f64, (tp + fneg) as f64),
        per_code: findings.per_code,
        strong_answers: findings.strong,
        strong_clean: findings.strong_clean,
        mismatches: findings.mismatches,
        followups_asked: findings.followups_asked,
        followups_asking_given: findings.followups_asking_given,
        asked_for_given: findings.asked_for_given,
        replies: None,
    }
}

/// Where the time went, summed over answers: seconds of each gold part given to each predicted
/// part (the last column: to none), each part's duration error, the worst one, and the time a
/// sentence-by-sentence labeller could get right at best.
struct TimeTally {
    confusion: Vec<Vec<f64>>,
    abs_errors: [f64; 4],
    worst: Option<WorstDuration>,
    ceiling_s: Option<f64>,
}

impl TimeTally {
    fn new() -> TimeTally {
        let n_parts = parts().len();
        TimeTally {
            confusion: vec![vec![0.0; n_parts + 1]; n_parts],
            abs_errors: [0.0; 4],
            worst: None,
            ceiling_s: None,
        }
    }

    fn add(&mut self, answer: &CorpusAnswer, prediction: &Prediction) {
        let n_parts = parts().len();
        let slots = word_slots(&answer.transcript);
        for (i, slot) in slots.iter().enumerate() {
            let gold = part_index(answer.word_parts[i]);
            let predicted = prediction
                .word_parts
                .get(i)
                .copied()
                .flatten()
                .map_or(n_parts, part_index);
            self.confusion[gold][predicted] += slot;
        }
        if !prediction.word_sentences.is_empty() {
            let ceiling = sentence_ceiling_s(answer, prediction, &slots);
            *self.ceiling_s.get_or_insert(0.0) += ceiling;
        }
        let gold_parts: Vec<Option<AnswerPart>> =
            answer.word_parts.iter().copied().map(Some).collect();
        let gold_durations = part_durations(&slots, &gold_parts);
        for (i, (part, _)) in budget().iter().enumerate() {
            let error = (prediction.part_durations[i] - gold_durations[i]).abs();
            self.abs_errors[i] += error;
            if self.worst.as_ref().is_none_or(|w| error > w.error_s) {
                self.worst = Some(WorstDuration {
                    id: answer.id.clone(),
                    part: *part,
                    error_s: error,
                });
            }
        }
    }
}

/// The findings against the labels, summed over answers: per code, in all, on strong answers,
/// the answers that differ, and follow-ups that ask for what the answer gave.
struct FindingTally {
    per_code: Vec<CodeCount>,
    tp: usize,
    fp: usize,
    fneg: usize,
    strong: usize,
    strong_clean: usize,
    mismatches: Vec<Mismatch>,
    followups_asked: usize,
    followups_asking_given: usize,
    asked_for_given: Vec<String>,
}

impl FindingTally {
    fn new() -> FindingTally {
        FindingTally {
            per_code: ContentCheck::ALL
                .iter()
                .map(|c| CodeCount {
                    code: c.name().to_string(),
                    expected: 0,
                    predicted: 0,
                    correct: 0,
                })
                .collect(),
            tp: 0,
            fp: 0,
            fneg: 0,
            strong: 0,
            strong_clean: 0,
            mismatches: Vec::new(),
            followups_asked: 0,
            followups_asking_given: 0,
            asked_for_given: Vec::new(),
        }
    }

    fn add(&mut self, answer: &CorpusAnswer, prediction: &Prediction) {
        let expected = content_codes(&answer.expected_findings);
        let predicted = content_codes(&prediction.findings);
        for count in &mut self.per_code {
            let e = expected.contains(&count.code);
            let p = predicted.contains(&count.code);
            count.expected += usize::from(e);
            count.predicted += usize::from(p);
            count.correct += usize::from(e && p);
        }
        let missed: Vec<String> = expected.difference(&predicted).cloned().collect();
        let spurious: Vec<String> = predicted.difference(&expected).cloned().collect();
        self.tp += expected.intersection(&predicted).count();
        self.fneg += missed.len();
        self.fp += spurious.len();
        if expected.is_empty() {
            self.strong += 1;
            self.strong_clean += usize::from(predicted.is_empty());
        }
        let given = prediction
            .followup_gaps
            .iter()
            .filter(|gap| !expected.contains(*gap))
            .count();
        self.followups_asked += prediction.followup_gaps.len();
        self.followups_asking_given += given;
        if given > 0 {
            self.asked_for_given.push(answer.id.clone());
        }
        if !missed.is_empty() || !spurious.is_empty() {
            self.mismatches.push(Mismatch {
                id: answer.id.clone(),
                missed,
                spurious,
            });
        }
    }
}

/// Judges every labelled follow-up reply of `answers` under `framework` and scores the
/// verdicts; None when the framework cannot judge replies.
pub fn evaluate_replies(
    answers: &[CorpusAnswer],
    framework: &Framework,
    encoder: &mut dyn SentenceEncoder,
) -> anyhow::Result<Option<ReplyScore>> {
    if framework.judge().is_none() {
        return Ok(None);
    }
    let mut score = ReplyScore::default();
    for (answer, followup) in answers
        .iter()
        .flat_map(|a| a.followups.iter().map(move |f| (a, f)))
    {
        let reply = timed_transcript(&followup.reply, REPLY_WORDS_PER_MINUTE);
        let Some(verdict) = judge_reply_with(
            encoder,
            &followup.gap,
            &answer.transcript,
            &reply,
            framework,
        )?
        else {
            continue;
        };
        let right = verdict.filled == followup.fills;
        score.judged += 1;
        score.correct += usize::from(right);
        score.wrongly_filled += usize::from(verdict.filled && !followup.fills);
        score.wrongly_unfilled += usize::from(!verdict.filled && followup.fills);
        match score.per_gap.iter_mut().find(|g| g.gap == followup.gap) {
            Some(gap) => {
                gap.judged += 1;
                gap.correct += usize::from(right);
            }
            None => score.per_gap.push(GapReplies {
                gap: followup.gap.clone(),
                judged: 1,
                correct: usize::from(right),
            }),
        }
    }
    score.per_gap.sort_by(|a, b| a.gap.cmp(&b.gap));
    Ok(Some(score))
}

/// The pace replies are timed at: they are scored on their text, not their timing.
const REPLY_WORDS_PER_MINUTE: f64 = 150.0;

/// Runs the analysis under `framework` on every answer at the answer's level and scores it.
pub fn evaluate(
    name: &str,
    answers: &[CorpusAnswer],
    framework: &Arc<Framework>,
    encoder: &mut dyn SentenceEncoder,
) -> anyhow::Result<EvalSummary> {
    let mut predictions = Vec::with_capacity(answers.len());
    for a in answers {
        let options = AnalysisOptions {
            level: a.level,
            framework: framework.clone(),
            reference_year: Some(CORPUS_YEAR),
        };
        let report = analyze_with(encoder, &a.transcript, &options)?;
        predictions.push(prediction_from_report(&a.transcript, &report));
    }
    let mut summary = summarize(name, answers, &predictions);
    summary.replies = evaluate_replies(answers, framework, encoder)?;
    Ok(summary)
}

/// Scores the positional baseline: what you get from the budget's proportions alone.
pub fn evaluate_positional_baseline(answers: &[CorpusAnswer]) -> EvalSummary {
    let predictions: Vec<Prediction> = answers
        .iter()
        .map(|a| positional_prediction(&a.transcript))
        .collect();
    summarize("positional baseline", answers, &predictions)
}

/// The answers to score: a corpus root (with `split.toml`) gives the split's authors, any
/// other folder all its answers.
pub fn load_answers(dir: &Path, split: Split) -> anyhow::Result<Vec<CorpusAnswer>> {
    let answers = if dir.join(SPLIT_FILE).is_file() {
        load_split(dir, split)?
    } else {
        load_dir(dir)?
    };
    anyhow::ensure!(
        !answers.is_empty(),
        "no *.toml answers in {}",
        dir.display()
    );
    Ok(answers)
}

/// Scores the trained classifier, the phrase engine it replaced and the positional baseline on
/// the same answers.
pub fn evaluate_all(
    answers: &[CorpusAnswer],
    encoder: &mut dyn SentenceEncoder,
) -> anyhow::Result<Vec<EvalSummary>> {
    let failure = Framework::failure();
    let phrases = Arc::new(failure.cues_only());
    Ok(vec![
        evaluate("classifier", answers, &failure, encoder)?,
        evaluate("phrase engine", answers, &phrases, encoder)?,
        evaluate_positional_baseline(answers),
    ])
}

/// How far two labellers agree on the answers both labelled: the ceiling a model is measured
/// against. `first` are the corpus's labels, `second` another labeller's of some of the same
/// answers (matched by id; answers only one of them has are left out).
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub answers: usize,
    /// Share of words both give the same part.
    pub part_agreement: f64,
    /// The second labeller's findings scored against the first's.
    pub finding_precision: Option<f64>,
    pub finding_recall: Option<f64>,
    /// Answers with exactly the same findings.
    pub same_findings: usize,
}

pub fn agreement(first: &[CorpusAnswer], second: &[CorpusAnswer]) -> Agreement {
    let (mut same_words, mut words, mut answers, mut same_findings) = (0usize, 0usize, 0, 0);
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    for b in second {
        let Some(a) = first.iter().find(|a| a.id == b.id) else {
            continue;
        };
        if a.word_parts.len() != b.word_parts.len() {
            continue;
        }
        answers += 1;
        words += a.word_parts.len();
        same_words += a
            .word_parts
            .iter()
            .zip(&b.word_parts)
            .filter(|(x, y)| x == y)
            .count();
        let given = |x: &CorpusAnswer, code: &String| x.expected_findings.contains(code);
        tp += b.expected_findings.iter().filter(|c| given(a, c)).count();
        fp += b.expected_findings.iter().filter(|c| !given(a, c)).count();
        fneg += a.expected_findings.iter().filter(|c| !given(b, c)).count();
        let mut x = a.expected_findings.clone();
        let mut y = b.expected_findings.clone();
        x.sort();
        y.sort();
        same_findings += usize::from(x == y);
    }
    Agreement {
        answers,
        part_agreement: ratio(same_words as f64, words as f64).unwrap_or(0.0),
        finding_precision: ratio(tp as f64, (tp + fp) as f64),
        finding_recall: ratio(tp as f64, (tp + fneg) as f64),
        same_findings,
    }
}

impl fmt::Display for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "labellers' agreement (the ceiling), on {} answers labelled twice: parts {:.3} of the words, findings precision {} / recall {}, the same findings on {}",
            self.answers,
            self.part_agreement,
            show(self.finding_precision),
            show(self.finding_recall),
            self.same_findings
        )
    }
}

fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "  n/a".to_string(), |v| format!("{v:5.3}"))
}

impl fmt::Display for EvalSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} answers, {:.0} s of speech",
            self.name, self.answers, self.total_s
        )?;
        writeln!(
            f,
            "part accuracy (time-weighted): {:.3}   unassigned: {:.1} s",
            self.part_accuracy, self.unassigned_s
        )?;
        if let Some(ceiling) = self.sentence_ceiling {
            writeln!(
                f,
                "sentence ceiling: {ceiling:.3} (each sentence found given its commonest gold part)"
            )?;
        }
        self.write_parts(f)?;
        self.write_findings(f)
    }
}

impl EvalSummary {
    /// Each part's time, precision, recall and duration error; the worst duration; the confusion.
    fn write_parts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<9} {:>8} {:>8} {:>9} {:>7} {:>10}",
            "part", "gold s", "pred s", "precision", "recall", "dur MAE s"
        )?;
        for score in &self.per_part {
            let mae = self
                .duration_errors
                .iter()
                .find(|d| d.part == score.part)
                .map_or_else(|| "-".to_string(), |d| format!("{:.1}", d.mean_abs_error_s));
            writeln!(
                f,
                "{:<9} {:>8.0} {:>8.0} {:>9} {:>7} {:>10}",
                score.part.name(),
                score.gold_s,
                score.predicted_s,
                show(score.precision),
                show(score.recall),
                mae
            )?;
        }
        if let Some(w) = &self.worst_duration {
            writeln!(
                f,
                "max duration error: {:.1} s ({} in {})",
                w.error_s,
                w.part.name(),
                w.id
            )?;
        }
        writeln!(f, "confusion (seconds; rows gold, columns predicted):")?;
        write!(f, "  {:<9}", "")?;
        for part in parts() {
            write!(f, " {:>8}", part.name())?;
        }
        writeln!(f, " {:>8}", "none")?;
        for (i, row) in self.confusion_s.iter().enumerate() {
            write!(f, "  {:<9}", parts()[i].name())?;
            for cell in row {
                write!(f, " {cell:>8.0}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }

    /// The content findings overall and per code, strong answers left clean, the follow-ups
    /// and replies, and which answers' findings differ from the labels.
    fn write_findings(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "content findings: precision {} recall {} (tp {}, fp {}, fn {})",
            show(self.finding_precision),
            show(self.finding_recall),
            self.finding_true_positives,
            self.finding_false_positives,
            self.finding_false_negatives
        )?;
        writeln!(
            f,
            "  {:<20} {:>8} {:>9} {:>7}",
            "code", "expected", "predicted", "correct"
        )?;
        for c in &self.per_code {
            writeln!(
                f,
                "  {:<20} {:>8} {:>9} {:>7}",
                c.code, c.expected, c.predicted, c.correct
            )?;
        }
        writeln!(
            f,
            "strong answers with no content finding: {} of {}",
            self.strong_clean, self.strong_answers
        )?;
        writeln!(
            f,
            "follow-ups asking for what the answer gave: {} of {} ({} answers)",
            self.followups_asking_given,
            self.followups_asked,
            self.asked_for_given.len()
        )?;
        if let Some(replies) = &self.replies {
            writeln!(
                f,
                "follow-up replies judged right: {} of {} (called filled wrongly {}, unfilled wrongly {})",
                replies.correct, replies.judged, replies.wrongly_filled, replies.wrongly_unfilled
            )?;
            for gap in &replies.per_gap {
                writeln!(
                    f,
                    "  {:<20} {:>3} of {:>3}",
                    gap.gap, gap.correct, gap.judged
                )?;
            }
        }
        if !self.mismatches.is_empty() {
            writeln!(f, "finding mismatches:")?;
            for m in &self.mismatches {
                writeln!(
                    f,
                    "  {:<40} missed [{}] spurious [{}]",
                    m.id,
                    m.missed.join(", "),
                    m.spurious.join(", ")
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rehearse::analysis::Level;
    use rehearse::transcript::Word;

    /// Four words of one second each, back to back, so every slot is exactly 1 s.
    fn answer(parts: &[AnswerPart], findings: &[&str]) -> CorpusAnswer {
        let words = parts
            .iter()
            .enumerate()
            .map(|(i, _)| Word {
                text: format!("w{i}"),
                start_s: i as f64,
                end_s: i as f64 + 1.0,
                probability: 1.0,
            })
            .collect();
        CorpusAnswer {
            id: "tiny".into(),
            author: "t1".into(),
            level: Level::Mid,
            profession: "tester".into(),
            shape: "budget".into(),
            expected_findings: findings.iter().map(|s| s.to_string()).collect(),
            transcript: Transcript {
                duration_s: parts.len() as f64,
                words,
            },
            said: String::new(),
            word_parts: parts.to_vec(),
            word_properties: None,
            followups: Vec::new(),
        }
    }

    fn predict(a: &CorpusAnswer, parts: &[AnswerPart], findings: &[&str]) -> Prediction {
        let word_parts: Vec<_> = parts.iter().copied().map(Some).collect();
        Prediction {
            part_durations: part_durations(&word_slots(&a.transcript), &word_parts),
            word_parts,
            word_sentences: Vec::new(),
            findings: findings.iter().map(|s| s.to_string()).collect(),
            followup_gaps: Vec::new(),
        }
    }

    const CHOOSE: AnswerPart = AnswerPart::named("choose");
    const DESCRIBE: AnswerPart = AnswerPart::named("describe");
    const OWN: AnswerPart = AnswerPart::named("own");
    const LEARN: AnswerPart = AnswerPart::named("learn");

    #[test]
    fn slots_run_to_the_next_start_and_the_last_to_its_end() {
        let t = Transcript {
            duration_s: 5.0,
            words: vec![
                Word {
                    text: "a".into(),
                    start_s: 0.0,
                    end_s: 0.5,
                    probability: 1.0,
                },
                Word {
                    text: "b".into(),
                    start_s: 2.0,
                    end_s: 2.5,
                    probability: 1.0,
                },
                Word {
                    text: "c".into(),
                    start_s: 3.0,
                    end_s: 3.25,
                    probability: 1.0,
                },
            ],
        };
        assert_eq!(word_slots(&t), vec![2.0, 1.0, 0.25]);
    }

    #[test]
    fn perfect_prediction_scores_one() {
        let gold = [CHOOSE, DESCRIBE, OWN, LEARN];
        let a = answer(&gold, &["no_evidence"]);
        let p = predict(&a, &gold, &["no_evidence", "too_fast"]);
        let s = summarize("t", &[a], &[p]);
        assert_eq!(s.part_accuracy, 1.0);
        assert_eq!(
            s.finding_precision,
            Some(1.0),
            "delivery codes are not scored"
        );
        assert_eq!(s.finding_recall, Some(1.0));
        assert!(s.duration_errors.iter().all(|d| d.mean_abs_error_s == 0.0));
        assert!(s.mismatches.is_empty());
        assert_eq!(s.per_part[0].precision, Some(1.0));
    }

    #[test]
    fn one_mislabelled_word_costs_its_slot() {
        let gold = [CHOOSE, DESCRIBE, OWN, LEARN];
        let a = answer(&gold, &[]);
        let p = predict(&a, &[CHOOSE, DESCRIBE, DESCRIBE, LEARN], &["blame"]);
        let s = summarize("t", &[a], &[p]);
        assert!((s.part_accuracy - 0.75).abs() < 1e-9);
        assert_eq!(s.confusion_s[2][1], 1.0, "gold own predicted describe");
        assert_eq!(s.per_part[1].precision, Some(0.5));
        assert_eq!(s.per_part[2].recall, Some(0.0));
        assert_eq!(s.per_part[2].precision, None);
        // describe is 1 s long, own 1 s short.
        assert_eq!(s.duration_errors[1].mean_abs_error_s, 1.0);
        assert_eq!(s.duration_errors[2].mean_abs_error_s, 1.0);
        assert_eq!(s.finding_precision, Some(0.0));
        assert_eq!(s.finding_recall, None);
        assert_eq!((s.strong_answers, s.strong_clean), (1, 0));
        assert_eq!(s.mismatches[0].spurious, vec!["blame".to_string()]);
    }

    #[test]
    fn findings_are_micro_averaged() {
        let a = answer(&[CHOOSE, LEARN], &["blame", "no_ownership"]);
        let b = answer(&[CHOOSE, LEARN], &["no_evidence"]);
        let pa = predict(&a, &[CHOOSE, LEARN], &["blame"]);
        let pb = predict(&b, &[CHOOSE, LEARN], &["no_evidence", "old_failure"]);
        let s = summarize("t", &[a, b], &[pa, pb]);
        assert_eq!(
            (
                s.finding_true_positives,
                s.finding_false_positives,
                s.finding_false_negatives
            ),
            (2, 1, 1)
        );
        assert_eq!(s.finding_precision, Some(2.0 / 3.0));
        assert_eq!(s.finding_recall, Some(2.0 / 3.0));
        let blame = s
            .per_code
            .iter()
            .find(|c| c.code == "blame")
            .expect("blame counted");
        assert_eq!((blame.expected, blame.predicted, blame.correct), (1, 1, 1));
        assert_eq!(s.mismatches.len(), 2);
    }

    #[test]
    fn report_sentences_label_words_by_start_time() {
        use rehearse::analysis::{Delivery, PartReport, SentenceReport, Verdict};
        let a = answer(&[CHOOSE, CHOOSE, LEARN, LEARN], &[]);
        let sentence = |start_s: f64, end_s: f64, part| SentenceReport {
            start_s,
            end_s,
            text: String::new(),
            part,
            why: String::new(),
        };
        let part = |part, duration_s| PartReport {
            part,
            label: String::new(),
            title: String::new(),
            duration_s,
            budget_min_s: 0.0,
            budget_max_s: 0.0,
            share: 0.0,
            aim_share: None,
            largest: false,
            verdict: Verdict::Within,
        };
        let report = AnswerReport {
            framework: "failure".to_string(),
            total_budget: Framework::failure().total,
            duration_s: 4.0,
            speech_s: 4.0,
            transcript: String::new(),
            // Word 2 starts at 2.0, the end of the first sentence and the start of the second.
            sentences: vec![sentence(0.0, 2.0, CHOOSE), sentence(2.0, 3.0, LEARN)],
            parts: vec![part(CHOOSE, 2.0), part(LEARN, 2.0)],
            findings: Vec::new(),
            strengths: Vec::new(),
            followups: Vec::new(),
            delivery: Delivery {
                words_per_minute: 60.0,
                filler_words: Vec::new(),
                longest_pause_s: 0.0,
            },
        };
        let p = prediction_from_report(&a.transcript, &report);
        assert_eq!(
            p.word_parts,
            vec![Some(CHOOSE), Some(CHOOSE), Some(CHOOSE), Some(LEARN)]
        );
        assert_eq!(p.part_durations, [2.0, 0.0, 0.0, 2.0]);
        // Inside both sentences, word 2 takes the first one's part.
        let s = summarize("t", &[a], &[p]);
        assert!((s.part_accuracy - 0.75).abs() < 1e-9);
    }

    #[test]
    fn positional_baseline_cuts_speech_in_budget_proportions() {
        let parts = vec![CHOOSE; 195];
        let a = answer(&parts, &[]);
        let p = positional_prediction(&a.transcript);
        let d = p.part_durations;
        assert_eq!(d, [30.0, 60.0, 30.0, 75.0]);
        assert!(p.findings.is_empty());
    }

    #[test]
    fn display_shows_table_and_mismatches() {
        let a = answer(&[CHOOSE, LEARN], &["no_evidence"]);
        let p = predict(&a, &[CHOOSE, LEARN], &[]);
        let text = summarize("engine", &[a], &[p]).to_string();
        assert!(
            text.contains("part accuracy (time-weighted): 1.000"),
            "{text}"
        );
        assert!(text.contains("missed [no_evidence]"), "{text}");
        let json = serde_json::to_string(&evaluate_positional_baseline(&[])).expect("serializes");
        assert!(json.contains("\"part_accuracy\""));
    }
}
