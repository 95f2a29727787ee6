//! Trains the failure framework's classifiers from the labelled corpus (`rehearse-dev train`): the
//! weights the binary ships in `models/judge-failure.safetensors`.
//!
//! Only the training split's authors are read. Each answer is split into sentences exactly as
//! the analysis splits a transcript; each sentence takes the gold part most of its words carry
//! and the properties at least half of its words carry. The context model (a bidirectional GRU
//! over the answer's sentences, `analysis::context`) is fitted with candle-nn's AdamW on
//! mini-batches of answers, from a seeded initialisation in a seeded order, so a run is
//! reproducible. How long to train is chosen by cross-validation inside the training split,
//! each fold holding out whole authors, and the answer-level finding models are fitted on those out-of-fold
//! readings (so they learn how far to trust the sentence readings on new writers).
//!
//! The weights record the SHA-256 of the training answers and the settings that made them, so
//! the suite can tell stale weights without paying for a retrain.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use sha2::{Digest, Sha256};

use crate::eval::word_slots;
use crate::{split_authors, unit, CorpusAnswer, Split, CORPUS_YEAR};
use rehearse::analysis::{
    answer_features, checked_codes, forward, logistic, part_shares, sentence_inputs,
    sentence_texts, sentence_word_ranges, settled_part, understand, AnalysisOptions, AnswerPart,
    Batch, Framework, Judge, Params, Property, Provenance, SentenceEncoder, ANSWER_FEATURES,
    JUDGED_CHECKS, JUDGE_PARTS,
};
use rehearse::outln;
use rehearse::speech::transcribe::WhisperTuning;

/// How the context model is trained. Recorded with the weights (`Provenance::settings`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Epochs at which the cross-validation reads the held-out authors; the best is trained.
    pub checkpoints: [usize; 5],
    /// Answers per optimiser step.
    pub batch: usize,
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// How much the property loss counts beside the part loss.
    pub property_weight: f64,
    /// Seeds the initial weights and the order answers are visited in.
    pub seed: u64,
    /// Cross-validation folds: the training authors, in name order, are dealt round-robin into
    /// this many groups and each group is held out in turn. At least as many folds as authors
    /// is leave-one-author-out; fewer keeps a large training split's cross-validation within
    /// minutes while every fold still holds out whole authors.
    pub folds: usize,
}

/// The settings `rehearse-dev train` uses.
pub const SETTINGS: Settings = Settings {
    checkpoints: [8, 12, 16, 24, 32],
    batch: 16,
    learning_rate: 2e-3,
    weight_decay: 1e-2,
    property_weight: 2.0,
    seed: 21,
    folds: 6,
};

/// One training answer in this many is also trained on as Whisper hears it: read aloud by the
/// espeak-ng voices, transcribed by `HEARD_MODEL`, labels carried onto the heard words
/// (`spoken`), so misheard words and run-on sentences are seen in training. Which answers
/// are heard, and by which voice, follows from each answer's id alone (`heard_voice`), so adding
/// answers to the corpus leaves the transcripts already heard (and cached) as they were.
pub const HEARD_ONE_IN: u64 = 6;

/// The Whisper model that hears the training answers: the default one, whose mistakes are the
/// ones a candidate's answer meets.
pub const HEARD_MODEL: &str = rehearse::models::DEFAULT_MODEL;

/// Which voice (an index into `spoken::VOICES`) reads the training answer `id`, or `None`
/// when it is trained on as text only.
pub fn heard_voice(id: &str) -> Option<usize> {
    let hash = crate::fnv1a(id);
    hash.is_multiple_of(HEARD_ONE_IN)
        .then(|| ((hash / HEARD_ONE_IN) % crate::spoken::VOICES.len() as u64) as usize)
}

/// How Whisper decodes the heard training answers, fixed here so that a variable set for a
/// benchmark (`REHEARSE_WHISPER_TUNING`) cannot change what training hears: the default's
/// settings, without the disfluent prompt.
pub const HEARD_DECODING: WhisperTuning = WhisperTuning {
    flash_attn: false,
    fit_audio_ctx: true,
    temperature_fallback: false,
    disfluent_prompt: false,
};

/// L2 penalty of the answer-level models, which see a few hundred answers.
const FINDING_L2: f64 = 2e-3;
/// Full-batch steps for the answer-level models (convex: this is about convergence).
const FINDING_STEPS: usize = 200;
const FINDING_LEARNING_RATE: f64 = 0.05;
/// A positive sentence counts at most this many times a negative one, so rare properties are
/// learned without flooding every answer with them.
const MAX_POSITIVE_WEIGHT: f64 = 8.0;

/// One training answer as the context model sees it.
struct Sequence {
    /// Each sentence's input row.
    inputs: Vec<Vec<f32>>,
    /// Gold part of each sentence (index into `JUDGE_PARTS`).
    parts: Vec<usize>,
    /// Seconds each sentence takes: the part loss weighs sentences by time, as the accuracy does.
    seconds: Vec<f32>,
    /// Gold properties of each sentence, for answers whose sentences are tagged.
    properties: Option<Vec<Vec<bool>>>,
}

/// The training answers, encoded and labelled.
pub struct TrainingSet {
    sequences: Vec<Sequence>,
    authors: Vec<String>,
    /// Author of each answer.
    answer_authors: Vec<String>,
    /// The answers themselves: the checks read them when the answer-level models are fitted.
    answers: Vec<CorpusAnswer>,
}

impl TrainingSet {
    pub fn sentences(&self) -> usize {
        self.sequences.iter().map(|s| s.parts.len()).sum()
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
    let mut sequences = Vec::new();
    for answer in answers {
        let meaning = understand(encoder, &answer.transcript)?;
        let slots = word_slots(&answer.transcript);
        let ranges = sentence_word_ranges(&answer.transcript);
        let (parts, properties) = sentence_labels(answer);
        sequences.push(Sequence {
            inputs: sentence_inputs(&answer.transcript, &meaning),
            parts,
            seconds: ranges
                .iter()
                .map(|r| slots[r.clone()].iter().sum::<f64>() as f32)
                .collect(),
            properties,
        });
    }
    let authors: BTreeSet<String> = answers.iter().map(|a| a.author.clone()).collect();
    Ok(TrainingSet {
        sequences,
        authors: authors.into_iter().collect(),
        answer_authors: answers.iter().map(|a| a.author.clone()).collect(),
        answers: answers.to_vec(),
    })
}

/// Each sentence's gold part (index into `JUDGE_PARTS`: the part most of its words carry) and,
/// where the answer's sentences are tagged, its properties (those at least half its words carry).
fn sentence_labels(answer: &CorpusAnswer) -> (Vec<usize>, Option<Vec<Vec<bool>>>) {
    let ranges = sentence_word_ranges(&answer.transcript);
    let parts = ranges
        .iter()
        .map(|range| {
            let mut votes = [0usize; JUDGE_PARTS.len()];
            for part in &answer.word_parts[range.clone()] {
                if let Some(k) = JUDGE_PARTS.iter().position(|p| *p == part.name()) {
                    votes[k] += 1;
                }
            }
            (0..votes.len())
                .max_by_key(|&k| (votes[k], usize::MAX - k))
                .unwrap_or_default()
        })
        .collect();
    let properties = answer.word_properties.as_ref().map(|words| {
        ranges
            .iter()
            .map(|range| {
                let words = &words[range.clone()];
                Property::ALL
                    .into_iter()
                    .map(|p| 2 * words.iter().filter(|w| w.contains(p)).count() >= words.len())
                    .collect()
            })
            .collect()
    });
    (parts, properties)
}

/// `rehearse-dev train --export-sentences`: writes the training split's sentences, one JSON line
/// each (author, answer, text, word pieces, part, properties) in answer order, for the sentence
/// adapter's fine-tune
/// (`scripts/train/finetune_adapter.py`). Only training authors: the adapter never sees a test
/// answer.
pub fn export_sentences(
    answers: &[CorpusAnswer],
    out: &Path,
    word_pieces: &dyn Fn(&str) -> Result<Vec<u32>>,
) -> Result<()> {
    let mut text = String::new();
    let mut count = 0;
    for (index, answer) in answers.iter().enumerate() {
        let (parts, properties) = sentence_labels(answer);
        for (i, sentence) in sentence_texts(&answer.transcript).iter().enumerate() {
            let line = serde_json::json!({
                "author": answer.author,
                "answer": index,
                "text": sentence,
                "word_pieces": word_pieces(sentence)?,
                "part": parts[i],
                "properties": properties.as_ref().map(|p| &p[i]),
            });
            text.push_str(&line.to_string());
            text.push('\n');
            count += 1;
        }
    }
    rehearse::files::write_atomic(out, text.as_bytes())
        .with_context(|| format!("cannot write the sentences to {}", out.display()))?;
    outln!(
        "wrote {count} sentences of {} training answers to {}",
        answers.len(),
        out.display()
    )?;
    Ok(())
}

/// Seeded uniform initial values in `[-bound, bound]`, the same on every machine.
fn uniform(seed: u64, len: usize, bound: f64) -> Vec<f32> {
    (0..len)
        .map(|i| ((unit(seed, i as u64) * 2.0 - 1.0) * bound) as f32)
        .collect()
}

/// The context model's parameters as trainable variables, initialised as PyTorch initialises a
/// GRU (uniform in 1/sqrt(hidden)) and a linear layer (uniform in 1/sqrt(inputs)), biases zero.
fn initial_vars(settings: &Settings, device: &Device) -> Result<Vec<Var>> {
    let shape = Judge::shape();
    shape
        .parameters()
        .into_iter()
        .enumerate()
        .map(|(i, (name, dims))| {
            let len: usize = dims.iter().product();
            let values = if dims.len() == 1 {
                vec![0.0; len]
            } else {
                let fan_in = if name.starts_with("gru") {
                    shape.hidden
                } else {
                    dims[1]
                };
                uniform(settings.seed + i as u64, len, 1.0 / (fan_in as f64).sqrt())
            };
            Ok(Var::from_tensor(&Tensor::from_vec(values, dims, device)?)?)
        })
        .collect()
}

fn params_of(vars: &[Var]) -> Result<Params> {
    let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    Ok(Params::from_tensors(&tensors)?)
}

/// softplus(t) = max(t, 0) + ln(1 + e^-|t|): the logistic loss's term without overflow.
fn softplus(t: &Tensor) -> candle_core::Result<Tensor> {
    t.relu()? + ((t.abs()?.neg()?.exp()? + 1.0)?.log()?)
}

/// The logistic loss of logits `z` against 0/1 `target`, summed and divided by `n`; positives
/// weighted per column by `positive_weight` and rows by `mask` when given.
fn logistic_loss(
    z: &Tensor,
    target: &Tensor,
    positive_weight: Option<&Tensor>,
    mask: Option<&Tensor>,
    n: f64,
) -> candle_core::Result<Tensor> {
    let mut positive = target.mul(&softplus(&z.neg()?)?)?;
    if let Some(weight) = positive_weight {
        positive = positive.broadcast_mul(weight)?;
    }
    let negative = (target.ones_like()? - target)?.mul(&softplus(z)?)?;
    let mut loss = (positive + negative)?;
    if let Some(mask) = mask {
        loss = loss.broadcast_mul(mask)?;
    }
    loss.sum_all()? / n
}

/// How much a positive sentence of each property counts against a negative one.
fn positive_weights(sequences: &[&Sequence]) -> Vec<f32> {
    let rows: Vec<&Vec<bool>> = sequences
        .iter()
        .filter_map(|s| s.properties.as_ref())
        .flatten()
        .collect();
    let n = rows.len() as f64;
    (0..Property::ALL.len())
        .map(|j| {
            let positives = rows.iter().filter(|r| r[j]).count() as f64;
            ((n - positives) / positives.max(1.0)).clamp(1.0, MAX_POSITIVE_WEIGHT) as f32
        })
        .collect()
}

/// The loss of one batch: time-weighted part cross-entropy plus the properties' logistic loss
/// on tagged sentences.
fn batch_loss(
    params: &Params,
    sequences: &[&Sequence],
    positive_weight: &Tensor,
    settings: &Settings,
) -> Result<Tensor> {
    let device = positive_weight.device();
    let inputs: Vec<&[Vec<f32>]> = sequences.iter().map(|s| s.inputs.as_slice()).collect();
    let batch = Batch::new(&inputs, Judge::shape().inputs, device)?;
    let longest = batch.inputs.dim(1)?;
    let rows = sequences.len() * longest;
    let p = Property::ALL.len();
    let mut gold = vec![0u32; rows];
    let mut seconds = vec![0.0f32; rows];
    let mut tagged = vec![0.0f32; rows];
    let mut target = vec![0.0f32; rows * p];
    for (b, s) in sequences.iter().enumerate() {
        for t in 0..s.parts.len() {
            let row = b * longest + t;
            gold[row] = s.parts[t] as u32;
            seconds[row] = s.seconds[t];
            if let Some(properties) = &s.properties {
                tagged[row] = 1.0;
                for (j, has) in properties[t].iter().enumerate() {
                    target[row * p + j] = f32::from(u8::from(*has));
                }
            }
        }
    }
    let total_seconds = f64::from(seconds.iter().sum::<f32>()).max(1e-6);
    let tagged_rows = f64::from(tagged.iter().sum::<f32>()).max(1.0);
    let gold = Tensor::from_vec(gold, (rows, 1), device)?;
    let seconds = Tensor::from_vec(seconds, rows, device)?;
    let tagged = Tensor::from_vec(tagged, (rows, 1), device)?;
    let target = Tensor::from_vec(target, (rows, p), device)?;
    let (part_logits, property_logits) = forward(params, &batch)?;
    let picked = candle_nn::ops::log_softmax(&part_logits, 1)?
        .gather(&gold, 1)?
        .squeeze(1)?;
    let part_loss = (picked.mul(&seconds)?.sum_all()?.neg()? / total_seconds)?;
    let property_loss = logistic_loss(
        &property_logits,
        &target,
        Some(positive_weight),
        Some(&tagged),
        tagged_rows,
    )?;
    Ok((part_loss + (property_loss * settings.property_weight)?)?)
}

/// Fits the context model on `sequences`, calling `checkpoint(epoch, params)` after each epoch
/// in `settings.checkpoints` up to `epochs`.
fn fit_context(
    sequences: &[&Sequence],
    settings: &Settings,
    epochs: usize,
    mut checkpoint: impl FnMut(usize, &Params) -> Result<()>,
) -> Result<Vec<Var>> {
    let device = Device::Cpu;
    let vars = initial_vars(settings, &device)?;
    let params = params_of(&vars)?;
    let positive_weight = Tensor::from_vec(
        positive_weights(sequences),
        (1, Property::ALL.len()),
        &device,
    )?;
    let mut optimiser = AdamW::new(
        vars.clone(),
        ParamsAdamW {
            lr: settings.learning_rate,
            weight_decay: settings.weight_decay,
            ..ParamsAdamW::default()
        },
    )?;
    for epoch in 1..=epochs {
        // A seeded order each epoch; batches of similar length would train faster but see the
        // same neighbours every epoch.
        let mut order: Vec<usize> = (0..sequences.len()).collect();
        order.sort_by(|&a, &b| {
            unit(settings.seed ^ epoch as u64, a as u64)
                .total_cmp(&unit(settings.seed ^ epoch as u64, b as u64))
        });
        for chunk in order.chunks(settings.batch) {
            let batch: Vec<&Sequence> = chunk.iter().map(|&i| sequences[i]).collect();
            let loss = batch_loss(&params, &batch, &positive_weight, settings)?;
            optimiser.backward_step(&loss)?;
        }
        if settings.checkpoints.contains(&epoch) {
            checkpoint(epoch, &params)?;
        }
    }
    Ok(vars)
}

/// How `params` read each of `answers` (indices into `set.sequences`).
fn read_all(params: &Params, set: &TrainingSet, answers: &[usize]) -> Result<Vec<HeldReading>> {
    let mut out = Vec::with_capacity(answers.len());
    for &answer in answers {
        let inputs = set.sequences[answer].inputs.as_slice();
        let batch = Batch::new(&[inputs], Judge::shape().inputs, &Device::Cpu)?;
        let (parts, properties) = forward(params, &batch)?;
        let parts: Vec<u32> = parts.argmax(1)?.to_vec1()?;
        let properties: Vec<Vec<f64>> = rehearse::analysis::sigmoid(&properties)?
            .to_dtype(DType::F64)?
            .to_vec2()?;
        out.push(HeldReading {
            answer,
            parts: parts
                .into_iter()
                .zip(&properties)
                .map(|(k, row)| settled_part(k as usize, row))
                .collect(),
            properties,
        });
    }
    Ok(out)
}

/// A held-out answer as a model that never saw its author reads it, at one checkpoint.
#[derive(Clone)]
struct HeldReading {
    answer: usize,
    parts: Vec<usize>,
    properties: Vec<Vec<f64>>,
}

/// Time-weighted part accuracy of `readings` against the gold parts.
fn part_accuracy_of(set: &TrainingSet, readings: &[HeldReading]) -> f64 {
    let (mut correct, mut total) = (0.0, 0.0);
    for r in readings {
        let s = &set.sequences[r.answer];
        for (t, &part) in r.parts.iter().enumerate() {
            total += f64::from(s.seconds[t]);
            if part == s.parts[t] {
                correct += f64::from(s.seconds[t]);
            }
        }
    }
    if total > 0.0 {
        correct / total
    } else {
        0.0
    }
}

/// Cross-validated part accuracies closer than this are the same: on a few hundred held-out
/// answers a difference of a fifth of a point is well inside what another seed or another
/// split of the authors moves.
const CV_SAME: f64 = 0.002;

/// Which checkpoint to train to: the fewest epochs whose cross-validated part accuracy is as
/// good as the best's (within `CV_SAME`), since among equals the shorter training has had less
/// time to learn the training authors' wording. `part_accuracy` is in checkpoint order.
fn fewest_epochs_as_good(part_accuracy: &[(usize, f64)]) -> usize {
    let best = part_accuracy
        .iter()
        .map(|(_, a)| *a)
        .fold(f64::NEG_INFINITY, f64::max);
    (0..part_accuracy.len())
        .filter(|&i| part_accuracy[i].1 >= best - CV_SAME)
        .min_by_key(|&i| part_accuracy[i].0)
        .unwrap_or_default()
}

/// The cross-validated choices and what they scored.
pub struct Choices {
    /// Epochs to train for: the fewest as good as the best out-of-fold part accuracy.
    pub epochs: usize,
    /// How many folds the cross-validation held out in turn.
    pub folds: usize,
    /// Out-of-fold time-weighted part accuracy at each checkpoint.
    pub part_accuracy: Vec<(usize, f64)>,
    /// Out-of-fold F1 of "some sentence of the answer has it" (probability >= 0.5), per
    /// property, at the chosen checkpoint.
    pub property_f1: Vec<f64>,
    /// The answer-level models, fitted on the out-of-fold readings.
    pub finding_weights: Vec<f32>,
    pub finding_bias: Vec<f32>,
    /// How the answer-level models did on authors they were not fitted on, per finding.
    pub finding_cv: Vec<FindingCv>,
}

/// Found, wrongly raised and missed: one finding over held-out answers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub right: usize,
    pub wrong: usize,
    pub missed: usize,
}

impl Counts {
    /// A finding raised where its probability is at least one half, as analysis raises it.
    fn of(probabilities: &[f64], expected: &[bool]) -> Counts {
        let mut counts = Counts::default();
        for (&p, &e) in probabilities.iter().zip(expected) {
            match (p >= 0.5, e) {
                (true, true) => counts.right += 1,
                (true, false) => counts.wrong += 1,
                (false, true) => counts.missed += 1,
                (false, false) => {}
            }
        }
        counts
    }

    fn add(self, other: Counts) -> Counts {
        Counts {
            right: self.right + other.right,
            wrong: self.wrong + other.wrong,
            missed: self.missed + other.missed,
        }
    }

    fn f1(self) -> f64 {
        let denominator = 2 * self.right + self.wrong + self.missed;
        if denominator == 0 {
            0.0
        } else {
            2.0 * self.right as f64 / denominator as f64
        }
    }

    pub fn precision(self) -> f64 {
        self.right as f64 / (self.right + self.wrong).max(1) as f64
    }

    pub fn recall(self) -> f64 {
        self.right as f64 / (self.right + self.missed).max(1) as f64
    }
}

/// One finding's answer-level model on held-out authors (folds of whole authors over the
/// cross-validation's own held-out readings).
#[derive(Debug, Clone, Copy)]
pub struct FindingCv {
    pub code: &'static str,
    pub held_out: Counts,
}

/// Cross-validation over the training split in `settings.folds` folds of whole authors: for
/// each fold, trains on the other authors and reads the fold's answers at every checkpoint.
pub fn cross_validate(set: &TrainingSet, settings: &Settings) -> Result<Choices> {
    let checkpoints = settings.checkpoints;
    let mut readings: Vec<Vec<HeldReading>> = vec![Vec::new(); checkpoints.len()];
    let folds = settings.folds.clamp(1, set.authors.len().max(1));
    for fold in 0..folds {
        let held_authors: Vec<&str> = set
            .authors
            .iter()
            .enumerate()
            .filter(|(k, _)| k % folds == fold)
            .map(|(_, a)| a.as_str())
            .collect();
        let (train, held): (Vec<usize>, Vec<usize>) = (0..set.sequences.len())
            .partition(|&i| !held_authors.contains(&set.answer_authors[i].as_str()));
        let train: Vec<&Sequence> = train.iter().map(|&i| &set.sequences[i]).collect();
        let started = std::time::Instant::now();
        let last = checkpoints.iter().copied().max().unwrap_or(0);
        fit_context(&train, settings, last, |epoch, params| {
            let at = checkpoints.iter().position(|&c| c == epoch).unwrap_or(0);
            readings[at].extend(read_all(params, set, &held)?);
            Ok(())
        })?;
        eprintln!(
            "  held out {}: {} answers, trained in {:.0} s",
            held_authors.join(", "),
            held.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let part_accuracy: Vec<(usize, f64)> = checkpoints
        .iter()
        .zip(&readings)
        .map(|(&epoch, r)| (epoch, part_accuracy_of(set, r)))
        .collect();
    let best = fewest_epochs_as_good(&part_accuracy);
    let mut chosen = readings.swap_remove(best);
    chosen.sort_by_key(|r| r.answer);
    let property_f1 = (0..Property::ALL.len())
        .map(|j| presence_f1(set, &chosen, j))
        .collect();
    let findings = fit_findings(set, &chosen, folds)?;
    Ok(Choices {
        epochs: checkpoints[best],
        folds,
        part_accuracy,
        property_f1,
        finding_weights: findings.weights,
        finding_bias: findings.bias,
        finding_cv: findings.cv,
    })
}

/// F1 of answer-level presence (any sentence at 0.5 or over) for one property, over the
/// answers whose sentences are tagged.
fn presence_f1(set: &TrainingSet, readings: &[HeldReading], j: usize) -> f64 {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for r in readings {
        let Some(gold) = &set.sequences[r.answer].properties else {
            continue;
        };
        let g = gold.iter().any(|s| s[j]);
        let p = r.properties.iter().any(|s| s[j] >= 0.5);
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

/// The answer-level finding models and how they did out of fold.
struct FindingModels {
    weights: Vec<f32>,
    bias: Vec<f32>,
    cv: Vec<FindingCv>,
}

/// One logistic model per content finding over `answer_features`: the held-out readings'
/// properties and what the checks raise on the held-out part labels, against the answer's
/// expected findings. How far they carry to new writers is measured the same way: models
/// fitted without an author's readings read that author's answers (the cross-validation's
/// folds).
fn fit_findings(
    set: &TrainingSet,
    readings: &[HeldReading],
    folds: usize,
) -> Result<FindingModels> {
    let failure = std::sync::Arc::new(Framework::failure_checks());
    let mut checked = Vec::with_capacity(readings.len());
    for reading in readings {
        let a = &set.answers[reading.answer];
        let labels: Vec<AnswerPart> = reading
            .parts
            .iter()
            .map(|&k| match JUDGE_PARTS[k] {
                "other" => AnswerPart::OTHER,
                name => AnswerPart::new(name),
            })
            .collect();
        let options = AnalysisOptions {
            level: a.level,
            framework: failure.clone(),
            reference_year: Some(CORPUS_YEAR),
        };
        checked.push(checked_codes(&a.transcript, &labels, &options));
    }
    let fold_of: Vec<usize> = readings
        .iter()
        .map(|r| {
            let author = &set.answer_authors[r.answer];
            set.authors.iter().position(|a| a == author).unwrap_or(0) % folds
        })
        .collect();
    let mut models = FindingModels {
        weights: Vec::new(),
        bias: Vec::new(),
        cv: Vec::new(),
    };
    for check in JUDGED_CHECKS {
        let code = check.name();
        let mut rows = Vec::with_capacity(readings.len());
        let mut expected = Vec::with_capacity(readings.len());
        for (reading, codes) in readings.iter().zip(&checked) {
            let a = &set.answers[reading.answer];
            let names: Vec<&str> = reading.parts.iter().map(|&k| JUDGE_PARTS[k]).collect();
            let seconds: Vec<f64> = set.sequences[reading.answer]
                .seconds
                .iter()
                .map(|&s| f64::from(s))
                .collect();
            rows.push(answer_features(
                &reading.properties,
                &part_shares(&names, &seconds),
                a.level,
                codes.iter().any(|c| c == code),
            ));
            expected.push(a.expected_findings.iter().any(|c| c == code));
        }
        let mut held_out = vec![0.0; rows.len()];
        for fold in 0..folds {
            let fitted: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[i] != fold).collect();
            let (w, b) = fit_logistic(&rows, &expected, &fitted)?;
            for i in (0..rows.len()).filter(|&i| fold_of[i] == fold) {
                held_out[i] = logistic(&w, b, &rows[i]);
            }
        }
        let all: Vec<usize> = (0..rows.len()).collect();
        let (w, b) = fit_logistic(&rows, &expected, &all)?;
        models.weights.extend(w);
        models.bias.push(b);
        models.cv.push(FindingCv {
            code,
            held_out: Counts::of(&held_out, &expected),
        });
    }
    Ok(models)
}

/// A logistic model fitted by full-batch AdamW on the rows `fitted` of `rows`: weights, bias.
fn fit_logistic(rows: &[Vec<f32>], expected: &[bool], fitted: &[usize]) -> Result<(Vec<f32>, f32)> {
    let device = Device::Cpu;
    let n = fitted.len().max(1);
    let x: Vec<f32> = fitted
        .iter()
        .flat_map(|&i| rows[i].iter().copied())
        .collect();
    let y: Vec<f32> = fitted
        .iter()
        .map(|&i| f32::from(u8::from(expected[i])))
        .collect();
    let x = Tensor::from_vec(x, (fitted.len(), ANSWER_FEATURES), &device)?;
    let y = Tensor::from_vec(y, (fitted.len(), 1), &device)?;
    let w = Var::zeros((1, ANSWER_FEATURES), DType::F32, &device)?;
    let b = Var::zeros(1, DType::F32, &device)?;
    let mut optimiser = AdamW::new(
        vec![w.clone(), b.clone()],
        ParamsAdamW {
            lr: FINDING_LEARNING_RATE,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    for _ in 0..FINDING_STEPS {
        let z = x
            .matmul(&w.as_tensor().t()?)?
            .broadcast_add(b.as_tensor())?;
        let penalty = (w.as_tensor().sqr()?.sum_all()? * FINDING_L2)?;
        let total = (logistic_loss(&z, &y, None, None, n as f64)? + penalty)?;
        optimiser.backward_step(&total)?;
    }
    let bias = b
        .as_tensor()
        .to_vec1::<f32>()?
        .first()
        .copied()
        .unwrap_or(0.0);
    Ok((w.as_tensor().flatten_all()?.to_vec1::<f32>()?, bias))
}

/// Trains on the whole training split with the cross-validated choices.
pub fn train(
    set: &TrainingSet,
    choices: &Choices,
    settings: &Settings,
    provenance: Provenance,
) -> Result<Judge> {
    let sequences: Vec<&Sequence> = set.sequences.iter().collect();
    let vars = fit_context(&sequences, settings, choices.epochs, |_, _| Ok(()))?;
    let context = vars
        .iter()
        .map(|v| Ok(v.as_tensor().flatten_all()?.to_vec1::<f32>()?))
        .collect::<Result<_>>()?;
    Ok(Judge {
        context,
        finding_weights: choices.finding_weights.clone(),
        finding_bias: choices.finding_bias.clone(),
        provenance,
    })
}

/// The SHA-256 of the training split: the training authors and every training answer file, by
/// name, in a fixed order. What the shipped weights record they were trained on; adding test
/// authors leaves it as it is.
pub fn corpus_sha256(root: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    let authors = split_authors(root, Split::Train)?;
    hasher.update(format!("train = {authors:?}\n"));
    for author in authors {
        let dir = root.join(&author);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            hasher.update(format!("{author}/{}\n", name.unwrap_or_default()));
            hasher.update(
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?,
            );
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// The settings as recorded with the weights: the model's shape and how it was trained.
pub fn settings_record(settings: &Settings) -> String {
    let record = format!(
        "{:?} {settings:?} answer features {ANSWER_FEATURES} sentence adapter {}",
        Judge::shape(),
        rehearse::models::sentence::adapter_sha256()
    );
    // What Whisper was prompted with changes what the heard answers say.
    let prompted = if HEARD_DECODING.disfluent_prompt {
        " after the disfluent prompt"
    } else {
        ""
    };
    format!(
        "{record} heard one answer in {HEARD_ONE_IN} (by id) read by {:?}, transcribed by \
         {HEARD_MODEL}{prompted}",
        crate::spoken::VOICES
    )
}

/// `rehearse-dev train`: on the training split of the corpus at `root` (`answers`, with the heard
/// copies of the answers `heard_voice` picks), cross-validates, trains and writes the weights to `out`;
/// prints what it did.
pub fn run(
    root: &Path,
    answers: &[CorpusAnswer],
    out: &Path,
    encoder: &mut dyn SentenceEncoder,
) -> Result<()> {
    let started = std::time::Instant::now();
    let set = training_set(answers, encoder)?;
    outln!(
        "training split: {} answers by {} authors ({}), {} sentences, encoded in {:.1} s",
        set.answers(),
        set.authors.len(),
        set.authors.join(", "),
        set.sentences(),
        started.elapsed().as_secs_f64()
    )?;
    let settings = SETTINGS;
    let choices = cross_validate(&set, &settings)?;
    for (epoch, accuracy) in &choices.part_accuracy {
        outln!(
            "cross-validation ({} folds of whole authors): part accuracy {accuracy:.3} after {epoch} epochs",
            choices.folds
        )?;
    }
    outln!("training for {} epochs", choices.epochs)?;
    for (j, property) in Property::ALL.iter().enumerate() {
        outln!(
            "  {:<11} answer-level F1 {:.3}",
            property.name(),
            choices.property_f1[j]
        )?;
    }
    let mut total = Counts::default();
    for cv in &choices.finding_cv {
        outln!(
            "  {:<19} finding out of fold: P {:.3} R {:.3}",
            cv.code,
            cv.held_out.precision(),
            cv.held_out.recall()
        )?;
        total = total.add(cv.held_out);
    }
    outln!(
        "findings out of fold (answer-level models alone): P {:.3} R {:.3} F1 {:.3}",
        total.precision(),
        total.recall(),
        total.f1()
    )?;
    let provenance = Provenance {
        corpus_sha256: corpus_sha256(root)?,
        settings: settings_record(&settings),
    };
    let judge = train(&set, &choices, &settings, provenance)?;
    let bytes = judge.to_bytes().map_err(anyhow::Error::msg)?;
    rehearse::files::write_atomic(out, &bytes)
        .with_context(|| format!("cannot write the weights to {}", out.display()))?;
    outln!(
        "wrote {} ({} bytes) in {:.0} s",
        out.display(),
        bytes.len(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{fewest_epochs_as_good, Counts};

    #[test]
    fn held_out_findings_are_counted_right_wrong_and_missed_at_one_half() {
        let expected = [true, true, true, false, false];
        let probabilities = [0.9, 0.35, 0.5, 0.6, 0.1];
        let counts = Counts::of(&probabilities, &expected);
        assert_eq!(
            counts,
            Counts {
                right: 2,
                wrong: 1,
                missed: 1
            }
        );
        assert!((counts.recall() - 2.0 / 3.0).abs() < 1e-9);
        assert!((counts.precision() - 2.0 / 3.0).abs() < 1e-9);
        assert!((counts.f1() - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn training_stops_at_the_fewest_epochs_that_are_as_good_as_the_best() {
        let tied = [
            (8, 0.864),
            (12, 0.869),
            (16, 0.8731),
            (24, 0.871),
            (32, 0.8734),
        ];
        assert_eq!(fewest_epochs_as_good(&tied), 2);
        let clear = [(8, 0.85), (16, 0.86), (32, 0.87)];
        assert_eq!(fewest_epochs_as_good(&clear), 2);
        assert_eq!(fewest_epochs_as_good(&[(8, 0.5)]), 0);
    }
}
