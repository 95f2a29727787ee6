//! Trains the failure framework's classifiers from the labelled corpus (`rehearse train`): the
//! weights the binary ships in `models/judge-failure.safetensors`.
//!
//! Only the training split's authors are read. Each answer is split into sentences exactly as
//! the analysis splits a transcript, each sentence takes the gold part most of its words carry
//! and the properties at least half of its words carry, and both classifiers are fitted with
//! candle-nn's AdamW on the full batch from zero weights (so a run is reproducible). The
//! choices a trainer makes — how much of the part prior to divide out, each property's
//! threshold — are made by leave-one-author-out cross-validation inside the training split.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use crate::analysis::{
    answer_features, checked_codes, sentence_features, sentence_texts, sentence_word_ranges,
    understand, AnalysisOptions, AnswerPart, Framework, Judge, Property, SentenceEncoder,
    ANSWER_FEATURES, FINDING_CODES, JUDGE_PARTS,
};
use crate::corpus::{load_split, CorpusAnswer, Split};
use crate::eval::word_slots;

/// Full-batch optimiser steps; the losses are convex, so this is about convergence, not luck.
const STEPS: usize = 200;
const LEARNING_RATE: f64 = 0.05;
/// L2 penalties on the weights (not the biases), each chosen by leave-one-author-out on the
/// training split: the parts take a light one, the rarer properties a heavier one.
const PART_L2: f64 = 2e-5;
const PROPERTY_L2: f64 = 2e-4;
/// The answer-level models see 230 answers: a heavier penalty.
const FINDING_L2: f64 = 2e-3;
/// Add-one smoothing of the transition counts, so no move between parts is impossible.
const SMOOTHING: f64 = 1.0;
/// Candidate shares of the part prior divided out of the softmax before decoding.
const PRIOR_WEIGHTS: [f32; 3] = [0.0, 0.5, 1.0];
/// Candidate property thresholds, for the cross-validation's report of how well each
/// property is read (the answer-level models read the probabilities themselves).
const THRESHOLDS: [f32; 14] = [
    0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85,
];
/// A positive sentence counts at most this many times a negative one, so rare properties are
/// learned without flooding every answer with them.
const MAX_POSITIVE_WEIGHT: f64 = 8.0;

/// One sentence of the training set.
struct Row {
    answer: usize,
    features: Vec<f32>,
    part: usize,
    /// Seconds the sentence takes: the part loss weighs sentences by time, as the accuracy does.
    seconds: f32,
    /// Gold properties, for answers whose sentences are tagged.
    properties: Option<Vec<bool>>,
}

/// The sentences of the training answers, with their gold labels.
pub struct TrainingSet {
    rows: Vec<Row>,
    authors: Vec<String>,
    /// Author of each answer.
    answer_authors: Vec<String>,
    /// The answers themselves: the checks read them when the answer-level models are fitted.
    answers: Vec<CorpusAnswer>,
}

impl TrainingSet {
    pub fn sentences(&self) -> usize {
        self.rows.len()
    }

    pub fn answers(&self) -> usize {
        self.answer_authors.len()
    }
}

/// Encodes every training answer and labels its sentences.
pub fn training_set(
    answers: &[CorpusAnswer],
    encoder: &mut dyn SentenceEncoder,
) -> Result<TrainingSet> {
    // Every sentence in one call first: the encoder sorts them by length into batches, far
    // faster than an answer at a time.
    let texts: Vec<String> = answers
        .iter()
        .flat_map(|a| sentence_texts(&a.transcript))
        .collect();
    encoder.encode(&texts.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut rows = Vec::new();
    for (index, answer) in answers.iter().enumerate() {
        let meaning = understand(encoder, &answer.transcript)?;
        let features = sentence_features(&answer.transcript, &meaning);
        let slots = word_slots(&answer.transcript);
        for (range, features) in sentence_word_ranges(&answer.transcript)
            .into_iter()
            .zip(features)
        {
            let mut votes = [0usize; JUDGE_PARTS.len()];
            for part in &answer.word_parts[range.clone()] {
                if let Some(k) = JUDGE_PARTS.iter().position(|p| *p == part.name()) {
                    votes[k] += 1;
                }
            }
            let part = (0..votes.len())
                .max_by_key(|&k| (votes[k], usize::MAX - k))
                .unwrap_or_default();
            let properties = answer.word_properties.as_ref().map(|words| {
                let words = &words[range.clone()];
                Property::ALL
                    .into_iter()
                    .map(|p| 2 * words.iter().filter(|w| w.contains(p)).count() >= words.len())
                    .collect()
            });
            rows.push(Row {
                answer: index,
                features,
                part,
                seconds: slots[range].iter().sum::<f64>() as f32,
                properties,
            });
        }
    }
    let authors: BTreeSet<String> = answers.iter().map(|a| a.author.clone()).collect();
    Ok(TrainingSet {
        rows,
        authors: authors.into_iter().collect(),
        answer_authors: answers.iter().map(|a| a.author.clone()).collect(),
        answers: answers.to_vec(),
    })
}

/// The fitted weights of a softmax (parts) or of independent logistic models (properties).
struct Linear {
    weights: Vec<f32>,
    bias: Vec<f32>,
}

fn matrix(rows: &[&Row], device: &Device) -> Result<Tensor> {
    let width = rows.first().map_or(0, |r| r.features.len());
    let flat: Vec<f32> = rows
        .iter()
        .flat_map(|r| r.features.iter().copied())
        .collect();
    Ok(Tensor::from_vec(flat, (rows.len(), width), device)?)
}

fn fit(
    x: &Tensor,
    outputs: usize,
    l2: f64,
    loss: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
) -> Result<Linear> {
    let device = x.device();
    let width = x.dim(1)?;
    let w = Var::zeros((outputs, width), DType::F32, device)?;
    let b = Var::zeros(outputs, DType::F32, device)?;
    let mut optimiser = AdamW::new(
        vec![w.clone(), b.clone()],
        ParamsAdamW {
            lr: LEARNING_RATE,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    for _ in 0..STEPS {
        let logits = x
            .matmul(&w.as_tensor().t()?)?
            .broadcast_add(b.as_tensor())?;
        let penalty = (w.as_tensor().sqr()?.sum_all()? * l2)?;
        let total = (loss(&logits)? + penalty)?;
        optimiser.backward_step(&total)?;
    }
    Ok(Linear {
        weights: w.as_tensor().flatten_all()?.to_vec1()?,
        bias: b.as_tensor().to_vec1()?,
    })
}

/// Softmax regression over the parts, each sentence weighted by its seconds.
fn fit_parts(rows: &[&Row]) -> Result<Linear> {
    let device = Device::Cpu;
    let x = matrix(rows, &device)?;
    let total: f32 = rows.iter().map(|r| r.seconds).sum::<f32>().max(1e-6);
    let weights: Vec<f32> = rows.iter().map(|r| r.seconds / total).collect();
    let weights = Tensor::from_vec(weights, rows.len(), &device)?;
    let gold: Vec<u32> = rows.iter().map(|r| r.part as u32).collect();
    let gold = Tensor::from_vec(gold, (rows.len(), 1), &device)?;
    fit(&x, JUDGE_PARTS.len(), PART_L2, |logits| {
        let log_p = candle_nn::ops::log_softmax(logits, 1)?;
        let picked = log_p.gather(&gold, 1)?.squeeze(1)?;
        picked.mul(&weights)?.sum_all()?.neg()
    })
}

/// One logistic model per property, on the tagged sentences only, positives weighted up to
/// balance each property's rarity.
fn fit_properties(rows: &[&Row]) -> Result<Linear> {
    let device = Device::Cpu;
    let tagged: Vec<&Row> = rows
        .iter()
        .copied()
        .filter(|r| r.properties.is_some())
        .collect();
    let x = matrix(&tagged, &device)?;
    let n = tagged.len().max(1) as f64;
    let p = Property::ALL.len();
    let mut target = Vec::with_capacity(tagged.len() * p);
    for r in &tagged {
        for has in r.properties.iter().flatten() {
            target.push(if *has { 1.0f32 } else { 0.0 });
        }
    }
    let positive_weight: Vec<f32> = (0..p)
        .map(|j| {
            let positives = target
                .iter()
                .skip(j)
                .step_by(p)
                .filter(|t| **t > 0.5)
                .count() as f64;
            ((n - positives) / positives.max(1.0)).clamp(1.0, MAX_POSITIVE_WEIGHT) as f32
        })
        .collect();
    let target = Tensor::from_vec(target, (tagged.len(), p), &device)?;
    let positive_weight = Tensor::from_vec(positive_weight, (1, p), &device)?;
    fit(&x, p, PROPERTY_L2, |z| {
        logistic_loss(z, &target, Some(&positive_weight), n)
    })
}

/// softplus(t) = max(t, 0) + ln(1 + e^-|t|): the logistic loss's term without overflow.
fn softplus(t: &Tensor) -> candle_core::Result<Tensor> {
    t.relu()? + ((t.abs()?.neg()?.exp()? + 1.0)?.log()?)
}

/// The logistic loss of logits `z` against 0/1 `target`, summed and divided by `n`; positives
/// weighted per column by `positive_weight` when given.
fn logistic_loss(
    z: &Tensor,
    target: &Tensor,
    positive_weight: Option<&Tensor>,
    n: f64,
) -> candle_core::Result<Tensor> {
    let mut positive = target.mul(&softplus(&z.neg()?)?)?;
    if let Some(weight) = positive_weight {
        positive = positive.broadcast_mul(weight)?;
    }
    let negative = (target.ones_like()? - target)?.mul(&softplus(z)?)?;
    (positive + negative)?.sum_all()? / n
}

/// Log-probabilities of the first part and of each move between parts in the training answers.
fn transitions(rows: &[&Row]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let k = JUDGE_PARTS.len();
    let mut start = vec![SMOOTHING; k];
    let mut moves = vec![SMOOTHING; k * k];
    let mut prior = vec![SMOOTHING; k];
    let mut previous: Option<&Row> = None;
    for row in rows {
        prior[row.part] += f64::from(row.seconds);
        match previous {
            Some(p) if p.answer == row.answer => moves[p.part * k + row.part] += 1.0,
            _ => start[row.part] += 1.0,
        }
        previous = Some(row);
    }
    let log_normalised = |v: &[f64]| -> Vec<f32> {
        let sum: f64 = v.iter().sum();
        v.iter().map(|x| (x / sum).ln() as f32).collect()
    };
    let moves = moves
        .chunks(k)
        .flat_map(log_normalised)
        .collect::<Vec<f32>>();
    (log_normalised(&start), moves, log_normalised(&prior))
}

/// Trains the sentence classifiers on `rows` with the given choices; the answer-level models
/// are left empty (`fit_findings` fills them).
fn judge_from(rows: &[&Row], prior_weight: f32) -> Result<Judge> {
    let parts = fit_parts(rows)?;
    let properties = fit_properties(rows)?;
    let (start, transitions, log_prior) = transitions(rows);
    Ok(Judge {
        finding_weights: vec![0.0; FINDING_CODES.len() * ANSWER_FEATURES],
        finding_bias: vec![0.0; FINDING_CODES.len()],
        part_weights: parts.weights,
        part_bias: parts.bias,
        start,
        transitions,
        log_prior,
        prior_weight,
        property_weights: properties.weights,
        property_bias: properties.bias,
    })
}

/// A held-out answer's tagged sentences: their gold properties and predicted probabilities.
struct TaggedAnswer {
    gold: Vec<Vec<bool>>,
    predicted: Vec<Vec<f64>>,
}

/// A held-out answer as a model that never saw its author reads it: its decoded parts at each
/// candidate prior weight, and every sentence's property probabilities.
struct HeldReading {
    answer: usize,
    paths: Vec<Vec<usize>>,
    properties: Vec<Vec<f64>>,
}

/// What one held-out fold tells about the choices.
#[derive(Default)]
struct Held {
    /// Per prior weight: correct and total seconds.
    part_seconds: Vec<(f64, f64)>,
    answers: Vec<TaggedAnswer>,
    readings: Vec<HeldReading>,
}

/// Trains without one author and reads that author's answers.
fn hold_out(set: &TrainingSet, author: &str) -> Result<Held> {
    let (train, test): (Vec<&Row>, Vec<&Row>) = set
        .rows
        .iter()
        .partition(|r| set.answer_authors[r.answer] != author);
    let mut judge = judge_from(&train, 0.0)?;
    let mut held = Held::default();
    let answers: BTreeSet<usize> = test.iter().map(|r| r.answer).collect();
    for &answer in &answers {
        let rows: Vec<&Row> = test
            .iter()
            .copied()
            .filter(|r| r.answer == answer)
            .collect();
        let features: Vec<Vec<f32>> = rows.iter().map(|r| r.features.clone()).collect();
        held.readings.push(HeldReading {
            answer,
            paths: Vec::new(),
            properties: judge.property_probabilities(&features),
        });
    }
    for &weight in &PRIOR_WEIGHTS {
        judge.prior_weight = weight;
        let (mut correct, mut total) = (0.0, 0.0);
        for reading in &mut held.readings {
            let rows: Vec<&Row> = test
                .iter()
                .copied()
                .filter(|r| r.answer == reading.answer)
                .collect();
            let features: Vec<Vec<f32>> = rows.iter().map(|r| r.features.clone()).collect();
            let path = judge.decode(&judge.part_probabilities(&features));
            reading.paths.push(path.clone());
            for (row, part) in rows.iter().zip(path) {
                total += f64::from(row.seconds);
                if part == row.part {
                    correct += f64::from(row.seconds);
                }
            }
        }
        held.part_seconds.push((correct, total));
    }
    for &answer in &answers {
        let rows: Vec<&Row> = test
            .iter()
            .copied()
            .filter(|r| r.answer == answer && r.properties.is_some())
            .collect();
        if rows.is_empty() {
            continue;
        }
        let features: Vec<Vec<f32>> = rows.iter().map(|r| r.features.clone()).collect();
        let gold = rows
            .iter()
            .map(|r| r.properties.clone().unwrap_or_default())
            .collect();
        held.answers.push(TaggedAnswer {
            gold,
            predicted: judge.property_probabilities(&features),
        });
    }
    Ok(held)
}

/// The cross-validated choices and what they scored.
pub struct Choices {
    /// The answer-level models, fitted on readings of each answer by models that never saw
    /// its author (so they learn how far to trust the sentence classifiers on new writers).
    pub finding_weights: Vec<f32>,
    pub finding_bias: Vec<f32>,
    pub prior_weight: f32,
    /// Out-of-fold time-weighted part accuracy at that prior weight.
    pub part_accuracy: f64,
    pub thresholds: Vec<f32>,
    /// Out-of-fold F1 of "some sentence of the answer has it", per property.
    pub property_f1: Vec<f64>,
}

/// F1 of answer-level presence (any sentence at or over the threshold) for one property.
fn presence_f1(answers: &[TaggedAnswer], j: usize, threshold: f32) -> f64 {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for a in answers {
        let g = a.gold.iter().any(|s| s[j]);
        let p = a.predicted.iter().any(|s| s[j] >= f64::from(threshold));
        match (g, p) {
            (true, true) => tp += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fn_ += 1.0,
            (false, false) => {}
        }
    }
    if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (2.0 * tp + fp + fn_)
    }
}

/// Leave-one-author-out over the training split.
pub fn cross_validate(set: &TrainingSet) -> Result<Choices> {
    let mut part_seconds = vec![(0.0, 0.0); PRIOR_WEIGHTS.len()];
    let mut answers = Vec::new();
    let mut readings = Vec::new();
    for author in &set.authors {
        let held = hold_out(set, author)?;
        for (sum, (c, t)) in part_seconds.iter_mut().zip(held.part_seconds) {
            sum.0 += c;
            sum.1 += t;
        }
        answers.extend(held.answers);
        readings.extend(held.readings);
    }
    let accuracy = |(c, t): (f64, f64)| if t > 0.0 { c / t } else { 0.0 };
    let best = (0..PRIOR_WEIGHTS.len())
        .max_by(|&a, &b| accuracy(part_seconds[a]).total_cmp(&accuracy(part_seconds[b])))
        .unwrap_or_default();
    let mut thresholds = Vec::new();
    let mut property_f1 = Vec::new();
    for j in 0..Property::ALL.len() {
        let (threshold, f1) = THRESHOLDS
            .iter()
            .map(|&t| (t, presence_f1(&answers, j, t)))
            .fold((0.5, -1.0), |best, c| if c.1 > best.1 { c } else { best });
        thresholds.push(threshold);
        property_f1.push(f1);
    }
    readings.sort_by_key(|r| r.answer);
    let findings = fit_findings(set, &readings, best)?;
    Ok(Choices {
        finding_weights: findings.weights,
        finding_bias: findings.bias,
        prior_weight: PRIOR_WEIGHTS[best],
        part_accuracy: accuracy(part_seconds[best]),
        thresholds,
        property_f1,
    })
}

/// One logistic model per content finding over `answer_features`: the held-out readings'
/// properties and what the checks raise on the held-out part labels, against the answer's
/// expected findings.
fn fit_findings(set: &TrainingSet, readings: &[HeldReading], prior: usize) -> Result<Linear> {
    let device = Device::Cpu;
    let failure = Framework::failure();
    let mut checked = Vec::with_capacity(readings.len());
    for reading in readings {
        let a = &set.answers[reading.answer];
        let labels: Vec<AnswerPart> = reading.paths[prior]
            .iter()
            .map(|&k| match JUDGE_PARTS[k] {
                "other" => AnswerPart::OTHER,
                name => AnswerPart::new(name),
            })
            .collect();
        let options = AnalysisOptions {
            level: a.level,
            framework: failure.clone(),
            reference_year: None,
        };
        checked.push(checked_codes(&a.transcript, &labels, &options));
    }
    let n = readings.len().max(1) as f64;
    let mut weights = Vec::new();
    let mut bias = Vec::new();
    for code in FINDING_CODES {
        let mut x = Vec::with_capacity(readings.len() * ANSWER_FEATURES);
        let mut y = Vec::with_capacity(readings.len());
        for (reading, codes) in readings.iter().zip(&checked) {
            let a = &set.answers[reading.answer];
            x.extend(answer_features(
                &reading.properties,
                a.level,
                codes.iter().any(|c| c == code),
            ));
            y.push(if a.expected_findings.iter().any(|c| c == code) {
                1.0f32
            } else {
                0.0
            });
        }
        let x = Tensor::from_vec(x, (readings.len(), ANSWER_FEATURES), &device)?;
        let y = Tensor::from_vec(y, (readings.len(), 1), &device)?;
        let fitted = fit(&x, 1, FINDING_L2, |z| logistic_loss(z, &y, None, n))?;
        weights.extend(fitted.weights);
        bias.extend(fitted.bias);
    }
    Ok(Linear { weights, bias })
}

/// Trains on the whole training split with the cross-validated choices.
pub fn train(set: &TrainingSet, choices: &Choices) -> Result<Judge> {
    let rows: Vec<&Row> = set.rows.iter().collect();
    let mut judge = judge_from(&rows, choices.prior_weight)?;
    judge.finding_weights = choices.finding_weights.clone();
    judge.finding_bias = choices.finding_bias.clone();
    Ok(judge)
}

/// `rehearse train`: reads the training split of the corpus at `root`, cross-validates, trains
/// and writes the weights to `out`; prints what it did.
pub fn run(root: &Path, out: &Path, encoder: &mut dyn SentenceEncoder) -> Result<()> {
    let answers = load_split(root, Split::Train)?;
    let started = std::time::Instant::now();
    let set = training_set(&answers, encoder)?;
    println!(
        "training split: {} answers by {} authors ({}), {} sentences, encoded in {:.1} s",
        set.answers(),
        set.authors.len(),
        set.authors.join(", "),
        set.sentences(),
        started.elapsed().as_secs_f64()
    );
    let choices = cross_validate(&set)?;
    println!(
        "leave-one-author-out: part accuracy {:.3} with prior weight {}",
        choices.part_accuracy, choices.prior_weight
    );
    for (j, property) in Property::ALL.iter().enumerate() {
        println!(
            "  {:<11} threshold {:.2}  answer-level F1 {:.3}",
            property.name(),
            choices.thresholds[j],
            choices.property_f1[j]
        );
    }
    let judge = train(&set, &choices)?;
    let bytes = judge.to_bytes().map_err(anyhow::Error::msg)?;
    crate::files::write_atomic(out, &bytes)
        .with_context(|| format!("cannot write the weights to {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}
