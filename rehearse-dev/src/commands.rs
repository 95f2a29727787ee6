//! `rehearse-dev eval` and `rehearse-dev train`: the judge's development commands, over the
//! labelled corpus.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::cli::{EvalArgs, TrainArgs};
use crate::{eval as corpus_eval, spoken};
use crate::{CorpusAnswer, Split};
use rehearse::app::cli::WhisperArgs;
use rehearse::models::sentence::{self, WordPieces};
use rehearse::models::{self};
use rehearse::outln;
use rehearse::paths;
use rehearse::speech::transcribe::WhisperTuning;

use rehearse::app::{load_config, load_sentence_model, load_whisper_tuned};

pub fn eval(args: &EvalArgs) -> Result<()> {
    let (dir, split) = (args.dir.as_path(), args.split);
    let mut answers = corpus_eval::load_answers(dir, split)?;
    let mut heard_by = None;
    if let Some(n) = args.sample {
        answers = spread_sample(answers, n);
    }
    if args.through_audio {
        // The voices take turns, so any sample is read by all three.
        let voices: Vec<usize> = (0..answers.len())
            .map(|i| i % spoken::VOICES.len())
            .collect();
        let (heard, description) = hear_answers(
            &answers,
            &voices,
            &args.whisper,
            WhisperTuning::from_env(),
            args.audio_cache.as_deref(),
        )?;
        answers = heard;
        heard_by = Some(description);
    }
    let mut encoder = load_sentence_model()?;
    let summaries = corpus_eval::evaluate_all(&answers, &mut encoder)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summaries)?)?;
    } else {
        let authors: std::collections::BTreeSet<&str> =
            answers.iter().map(|a| a.author.as_str()).collect();
        outln!(
            "{} answers by {} ({} split)",
            answers.len(),
            authors.into_iter().collect::<Vec<_>>().join(", "),
            split.name()
        )?;
        if let Some(description) = heard_by {
            outln!("{description}")?;
        }
        outln!()?;
        for summary in summaries {
            outln!("{summary}")?;
        }
        let second = crate::load_second_labels(dir)?;
        if !second.is_empty() {
            let first = crate::load_split(dir, Split::All)?;
            outln!("{}", corpus_eval::agreement(&first, &second))?;
        }
    }
    Ok(())
}

/// The chosen Whisper model's file name: what heard transcripts are kept under.
fn model_name(whisper: &WhisperArgs) -> Result<String> {
    let config = load_config()?;
    let (model, _) = models::choose_model(whisper.model.as_deref(), config.model.as_deref())?;
    Ok(model.file_name().map_or_else(
        || model.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    ))
}

/// `n` answers spread evenly over `answers` (all of them when there are no more than `n`): a
/// fixed subset, the same on every run.
fn spread_sample(answers: Vec<CorpusAnswer>, n: usize) -> Vec<CorpusAnswer> {
    let total = answers.len();
    if n >= total {
        return answers;
    }
    answers
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (i * n) % total < n)
        .map(|(_, a)| a)
        .collect()
}

/// Every answer read aloud by its espeak-ng voice (`voices[i]` indexes `spoken::VOICES`)
/// and transcribed by the chosen Whisper model, with its labels carried onto the heard words;
/// and a line saying how, with the word error rate.
fn hear_answers(
    answers: &[CorpusAnswer],
    voices: &[usize],
    whisper: &WhisperArgs,
    tuning: WhisperTuning,
    audio_cache: Option<&Path>,
) -> Result<(Vec<CorpusAnswer>, String)> {
    let model_id = model_name(whisper)?;
    let cache = match audio_cache {
        Some(dir) => dir.to_path_buf(),
        None => paths::cache_dir()?.join("spoken-corpus"),
    };
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the transcript cache {}", cache.display()))?;
    let mut stt = load_whisper_tuned(whisper, tuning)?;
    let decoding = stt.decoding();
    let mut heard = Vec::with_capacity(answers.len());
    // Word errors and written words for each voice.
    let mut by_voice = [(0usize, 0usize); spoken::VOICES.len()];
    for (i, answer) in answers.iter().enumerate() {
        let voice = voices[i];
        let answer = spoken::hear(
            answer,
            spoken::VOICES[voice],
            &mut stt,
            &model_id,
            &decoding,
            &cache,
        )?;
        let (errors, words) = spoken::word_errors(
            &answers[i]
                .transcript
                .words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            &answer
                .transcript
                .words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
        );
        by_voice[voice].0 += errors;
        by_voice[voice].1 += words;
        heard.push(answer);
        if (i + 1) % 10 == 0 {
            eprintln!("heard {} of {} answers", i + 1, answers.len());
        }
    }
    let rate = |(errors, words): (usize, usize)| 100.0 * errors as f64 / words.max(1) as f64;
    let (errors, words) = by_voice
        .iter()
        .fold((0, 0), |(e, n), &(de, dn)| (e + de, n + dn));
    let voices: Vec<String> = spoken::VOICES
        .iter()
        .zip(by_voice)
        .map(|(voice, counts)| format!("{voice} {:.1} %", rate(counts)))
        .collect();
    let description = format!(
        "read aloud by espeak-ng and transcribed by {model_id}: word error rate {:.1} % over {words} words ({})",
        rate((errors, words)),
        voices.join(", ")
    );
    Ok((heard, description))
}

pub fn train(args: &TrainArgs) -> Result<()> {
    let mut answers = crate::load_split(&args.corpus, Split::Train)?;
    let heard_model = format!("ggml-{}.bin", crate::train::HEARD_MODEL);
    if model_name(&args.whisper)? != heard_model {
        bail!(
            "rehearse-dev train hears its training answers with {} (train::HEARD_MODEL), which the \
             recorded settings name; drop --model and $REHEARSE_MODEL, or change that constant",
            crate::train::HEARD_MODEL
        );
    }
    let (sample, voices): (Vec<CorpusAnswer>, Vec<usize>) = answers
        .iter()
        .filter_map(|a| crate::train::heard_voice(&a.id).map(|v| (a.clone(), v)))
        .unzip();
    let (heard, description) = hear_answers(
        &sample,
        &voices,
        &args.whisper,
        crate::train::HEARD_DECODING,
        args.audio_cache.as_deref(),
    )?;
    outln!("{} training answers also {description}", heard.len())?;
    answers.extend(heard);
    if let Some(file) = &args.export_sentences {
        let pieces = WordPieces::load(&sentence::sentence_model_dir()?)?;
        return crate::train::export_sentences(&answers, file, &|text| pieces.of(text));
    }
    let mut encoder = load_sentence_model()?;
    crate::train::run(&args.corpus, &answers, &args.out, &mut encoder)
}
