//! Checks the labelled corpus itself and prints the evaluation figures.

use std::path::Path;

use rehearse::corpus::{load_dir, CorpusAnswer, CONTENT_CODES};
use rehearse::eval::{evaluate_dir, evaluate_positional_baseline};

fn corpus_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus"))
}

fn holdout_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus-holdout"))
}

fn speech_s(a: &CorpusAnswer) -> f64 {
    match (a.transcript.words.first(), a.transcript.words.last()) {
        (Some(first), Some(last)) => last.end_s - first.start_s,
        _ => 0.0,
    }
}

fn check_answers(answers: &[CorpusAnswer]) {
    for a in answers {
        let s = speech_s(a);
        assert!(
            (120.0..=240.0).contains(&s),
            "{}: {s:.0} s of speech, expected 2-4 min",
            a.id
        );
        assert_eq!(
            a.word_parts.len(),
            a.transcript.words.len(),
            "{}: gold labels must cover every word",
            a.id
        );
        let words = a.transcript.words.len();
        assert!((300..=560).contains(&words), "{}: {words} words", a.id);
        for code in &a.expected_findings {
            assert!(CONTENT_CODES.contains(&code.as_str()));
        }
    }
}

#[test]
fn corpus_loads_and_is_well_formed() {
    let answers = load_dir(corpus_dir()).expect("corpus loads");
    check_answers(&answers);
    for a in &answers {
        println!(
            "{:40} {:5.0} s {:4} words",
            a.id,
            speech_s(a),
            a.transcript.words.len()
        );
    }
}

#[test]
fn corpus_has_enough_realistic_deviations() {
    let answers = load_dir(corpus_dir()).expect("corpus loads");
    let deviating = answers.iter().filter(|a| a.shape != "budget").count();
    assert!(
        deviating * 3 >= answers.len(),
        "{deviating} of {} answers deviate from the budget; need at least a third",
        answers.len()
    );
}

#[test]
fn holdout_loads_and_is_well_formed() {
    let answers = load_dir(holdout_dir()).expect("holdout loads");
    check_answers(&answers);
}

/// `cargo test --test corpus_eval -- --nocapture evaluation` prints both tables.
#[test]
fn evaluation_prints_engine_and_baseline() {
    for dir in [corpus_dir(), holdout_dir()] {
        let answers = load_dir(dir).expect("corpus loads");
        let baseline = evaluate_positional_baseline(&answers);
        println!("== {} ==\n{baseline}", dir.display());
        assert!(baseline.part_accuracy > 0.0);
        match evaluate_dir(dir) {
            Ok((engine, _)) => println!("{engine}"),
            Err(e) => println!("engine not evaluated: {e:#}\n"),
        }
    }
}

#[test]
fn corpus_covers_every_finding_and_enough_strong_answers() {
    let answers = load_dir(corpus_dir()).expect("corpus loads");
    assert!(answers.len() >= 32, "{} answers", answers.len());
    for code in CONTENT_CODES {
        let n = answers
            .iter()
            .filter(|a| a.expected_findings.iter().any(|c| c == code))
            .count();
        assert!(n >= 2, "{code} is expected in only {n} answers");
    }
    let strong = answers
        .iter()
        .filter(|a| a.expected_findings.is_empty())
        .count();
    assert!(strong >= 8, "{strong} strong answers");
    let holdout = load_dir(holdout_dir()).expect("holdout loads");
    assert_eq!(holdout.len(), 8);
    for h in &holdout {
        assert!(
            answers.iter().all(|a| a.id != h.id),
            "{} is in both sets",
            h.id
        );
    }
}

/// Timings must not be uniform, or an engine could segment on a fixed rhythm: some answers carry
/// hesitations inside sentences, and the pace differs between sentences.
#[test]
fn corpus_timings_vary() {
    let answers = load_dir(corpus_dir()).expect("corpus loads");
    let mut mid_sentence_pauses = 0;
    // Only punctuated answers: there a pause after a word without . ? ! is inside a sentence.
    let punctuated = answers
        .iter()
        .filter(|a| a.transcript.words.iter().any(|w| w.text.ends_with('.')));
    for a in punctuated {
        for pair in a.transcript.words.windows(2) {
            let gap = pair[1].start_s - pair[0].end_s;
            let ends_sentence = pair[0].text.ends_with(['.', '?', '!']);
            if gap >= 0.8 && !ends_sentence && pair[0].text.ends_with(|c: char| c.is_alphanumeric())
            {
                mid_sentence_pauses += 1;
            }
        }
    }
    println!("mid-sentence pauses of 0.8 s or more: {mid_sentence_pauses}");
    assert!(mid_sentence_pauses >= 10, "{mid_sentence_pauses}");
}

/// A regression gate on the tuning corpus only (never the holdout, so its figures are not tuned
/// against): the engine must beat a labeller that knows nothing but the budget's proportions.
#[test]
fn engine_beats_positional_baseline_on_corpus() {
    let (engine, baseline) = evaluate_dir(corpus_dir()).expect("engine runs on every answer");
    assert!(
        engine.part_accuracy > baseline.part_accuracy,
        "engine part accuracy {:.3} is not above the positional baseline's {:.3}",
        engine.part_accuracy,
        baseline.part_accuracy
    );
    assert_eq!(engine.unassigned_s, 0.0, "every word must be in a sentence");
    assert!(engine.finding_recall.unwrap_or(0.0) > 0.0);
}
