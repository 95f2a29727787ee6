//! `rehearse models convert` on the real faster-whisper tiny.en, and what happens when a model
//! is the wrong kind of thing.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::assert::OutputAssertExt;
use support::run::{fail, rehearse_binary, stdout_text};
use support::speech;

/// The unpacked CTranslate2 tiny.en that `scripts/setup.sh` keeps. Missing is a failure.
fn ct2_dir() -> PathBuf {
    let dir = std::env::var_os("REHEARSE_TEST_CT2_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/cache/tiny.en-ct2")
        });
    assert!(
        dir.join("model.bin").is_file(),
        "{} is missing: run scripts/setup.sh",
        dir.display()
    );
    dir
}

fn rehearse(data: &Path) -> Command {
    let mut cmd = rehearse_binary();
    cmd.env("REHEARSE_DATA_DIR", data)
        .env("REHEARSE_CONFIG", "/nonexistent/rehearse-config.toml")
        .env(
            "REHEARSE_SENTENCE_MODEL",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models/all-MiniLM-L6-v2"),
        )
        .env_remove("REHEARSE_MODEL");
    cmd
}

const SENTENCE: &str =
    "I missed the deadline for the quarterly report because I never asked for help.";

#[test]
fn converts_the_real_model_into_a_file_whisper_loads() {
    let data = tempfile::tempdir().unwrap();
    rehearse(data.path())
        .args(["models", "convert"])
        .arg(ct2_dir())
        .assert()
        .success();
    // Named after the model it holds, in the models directory, where its known name finds it.
    let converted = data.path().join("models/ggml-tiny.en.bin");
    assert_eq!(std::fs::metadata(&converted).unwrap().len(), 77_704_698);
    rehearse(data.path())
        .args(["models", "check", "--model", "tiny.en"])
        .assert()
        .success();
    // The 8-bit conversion is named like the official file, and its name finds it.
    rehearse(data.path())
        .args(["models", "check", "--model", "tiny.en-q8_0"])
        .assert()
        .failure();
    rehearse(data.path())
        .args(["models", "convert", "--quantize", "q8_0"])
        .arg(ct2_dir())
        .assert()
        .success();
    assert!(data.path().join("models/ggml-tiny.en-q8_0.bin").is_file());
    rehearse(data.path())
        .args(["models", "check", "--model", "tiny.en-q8_0"])
        .assert()
        .success();
    // The default (base) is provisioned by setup.sh, and the error says so.
    let missing = one_line_error(rehearse(data.path()).args(["models", "check"]));
    assert!(
        missing.contains("ggml-base-q8_0.bin") && missing.contains("scripts/setup.sh"),
        "{missing}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(data.path().join("models"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_q8_0_model_is_smaller_and_still_transcribes() {
    let data = tempfile::tempdir().unwrap();
    let out = data.path().join("tiny-q8.bin");
    rehearse(data.path())
        .args(["models", "convert", "--quantize", "q8_0", "--out"])
        .arg(&out)
        .arg(ct2_dir())
        .assert()
        .success();
    assert!(std::fs::metadata(&out).unwrap().len() < 50_000_000);
    let wav = data.path().join("s.wav");
    speech::espeak(SENTENCE, &wav);
    let text = stdout_text(
        rehearse(data.path())
            .args(["transcribe", "--model"])
            .arg(&out)
            .arg(&wav),
    );
    assert!(speech::word_error_rate(SENTENCE, &text) <= 0.15, "{text:?}");
}

/// The stderr of a command that must fail with one line and no panic.
fn one_line_error(cmd: &mut Command) -> String {
    let stderr = fail(cmd);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn wrong_models_are_one_clear_line() {
    let data = tempfile::tempdir().unwrap();
    let wav = data.path().join("s.wav");
    speech::espeak(SENTENCE, &wav);

    let stderr = one_line_error(
        rehearse(data.path())
            .args(["transcribe", "--model"])
            .arg(ct2_dir())
            .arg(&wav),
    );
    assert!(stderr.contains("rehearse models convert"), "{stderr}");

    let truncated = data.path().join("truncated.bin");
    let real = std::fs::read(speech::model_path()).unwrap();
    std::fs::write(&truncated, &real[..real.len() / 2]).unwrap();
    let stderr = one_line_error(
        rehearse(data.path())
            .args(["transcribe", "--model"])
            .arg(&truncated)
            .arg(&wav),
    );
    assert!(
        stderr.contains("truncated") && stderr.contains("rehearse models fetch"),
        "{stderr}"
    );

    let garbage = data.path().join("garbage.bin");
    std::fs::write(&garbage, b"definitely not a whisper model").unwrap();
    let stderr = one_line_error(
        rehearse(data.path())
            .args(["transcribe", "--model"])
            .arg(&garbage)
            .arg(&wav),
    );
    assert!(stderr.contains("garbage.bin"), "{stderr}");

    let not_a_dir = data.path().join("nowhere");
    let stderr = one_line_error(
        rehearse(data.path())
            .args(["models", "convert"])
            .arg(&not_a_dir),
    );
    assert!(stderr.contains("nowhere"), "{stderr}");
}
