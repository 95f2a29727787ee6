//! `rehearse-dev eval` run as a developer runs it: the real binary, the real models.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A model `scripts/setup.sh` provisions under the repository's `models/`. Missing is a
/// failure, not a skip.
fn provisioned(name: &str) -> PathBuf {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../models")).join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

/// The `rehearse-dev` binary with the real tiny.en and sentence model, reading no config file.
fn rehearse_dev() -> Command {
    let data = std::env::temp_dir().join("rehearse-dev-test-data");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rehearse-dev"));
    cmd.env("REHEARSE_DATA_DIR", &data)
        .env("REHEARSE_MODEL", provisioned("ggml-tiny.en-q8_0.bin"))
        .env("REHEARSE_SENTENCE_MODEL", provisioned("all-MiniLM-L6-v2"))
        .env("REHEARSE_CONFIG", data.join("no-config.toml"))
        .env("NO_COLOR", "1");
    cmd
}

/// What a command that must succeed printed on stdout.
fn stdout_text(cmd: &mut Command) -> String {
    let output = cmd.output().expect("rehearse-dev runs");
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The first number after `label` in `text`.
fn number_after(text: &str, label: &str) -> f64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
        + label.len();
    text[at..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in:\n{text}"))
}

/// The judge scored on what Whisper hears: a fixed dozen answers of the test split read aloud by
/// the three espeak-ng voices, transcribed by the real tiny.en, labels carried onto the heard
/// words. The floors sit far under the figures this gives (README), to catch a broken path
/// (labels carried wrong, transcripts lost) rather than pin a number; `--nocapture` prints them.
#[test]
fn eval_through_audio_scores_the_judge_on_what_whisper_heard() {
    let cache = tempfile::tempdir().unwrap();
    let corpus = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus"));
    let stdout = stdout_text(
        rehearse_dev()
            .arg("eval")
            .arg(corpus)
            .args(["--through-audio", "--sample", "12", "--audio-cache"])
            .arg(cache.path()),
    );
    println!("{stdout}");
    assert!(stdout.starts_with("12 answers by "), "{stdout}");
    let word_error_rate = number_after(&stdout, "word error rate ");
    assert!(
        (1.0..40.0).contains(&word_error_rate),
        "a real transcript mishears some words, and not most: {word_error_rate} %"
    );
    let parts = number_after(&stdout, "part accuracy (time-weighted): ");
    assert!(parts > 0.7, "part accuracy through audio {parts}");
    let kept = std::fs::read_dir(cache.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(
        kept, 12,
        "one transcript kept per answer, no recordings left"
    );
    let files = std::fs::read_dir(cache.path()).unwrap().count();
    assert_eq!(files, 12, "no recordings left behind");
}
