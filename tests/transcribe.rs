//! `rehearse transcribe` end to end: real espeak-ng speech, the real converted tiny.en model.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::run::{assert_one_clear_line, fail, stdout_json, succeed};
use support::speech;

const FIRST: &str =
    "I missed the deadline for the quarterly report because I never asked for help.";
const SECOND: &str = "Since then I share a written plan with my manager every Monday morning.";
const GAP_S: f64 = 2.5;

fn rehearse() -> Command {
    speech::rehearse(&std::env::temp_dir().join("rehearse-test-data"))
}

/// Two spoken sentences with a known silent gap between them; returns the path and the gap's
/// start and end in seconds.
fn answer_with_gap(dir: &Path) -> (PathBuf, f64, f64) {
    let first = dir.join("first.wav");
    let second = dir.join("second.wav");
    speech::espeak(FIRST, &first);
    speech::espeak(SECOND, &second);
    let (spec, mut samples) = speech::read_wav(&first);
    let (_, tail) = speech::read_wav(&second);
    let rate = f64::from(spec.sample_rate);
    let gap_start = samples.len() as f64 / rate;
    samples.extend(std::iter::repeat_n(0, (GAP_S * rate) as usize));
    samples.extend(tail);
    let path = dir.join("answer.wav");
    speech::write_wav(&path, spec, &samples);
    (path, gap_start, gap_start + GAP_S)
}

fn transcribe_json(path: &Path) -> Value {
    stdout_json(rehearse().args(["transcribe", "--json"]).arg(path))
}

fn words(json: &Value) -> Vec<(String, f64, f64, f64)> {
    json["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["text"].as_str().unwrap().to_string(),
                w["start_s"].as_f64().unwrap(),
                w["end_s"].as_f64().unwrap(),
                w["probability"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn transcribes_speech_with_timed_words_and_keeps_the_pause() {
    let dir = tempfile::tempdir().unwrap();
    let (path, gap_start, gap_end) = answer_with_gap(dir.path());
    let json = transcribe_json(&path);
    let duration = json["duration_s"].as_f64().unwrap();
    let text = json["text"].as_str().unwrap();
    let reference = format!("{FIRST} {SECOND}");
    let wer = speech::word_error_rate(&reference, text);
    assert!(wer <= 0.15, "word error rate {wer:.2} for {text:?}");

    let words = words(&json);
    assert!(!words.is_empty());
    for pair in words.windows(2) {
        assert!(pair[1].1 >= pair[0].1, "start times go backwards: {pair:?}");
    }
    for (text, start, end, p) in &words {
        assert!(
            *start >= 0.0 && end >= start && *end <= duration + 1e-6,
            "{text} {start} {end}"
        );
        assert!((0.0..=1.0).contains(p), "probability {p} of {text}");
    }
    // The silent gap shows up as a gap between consecutive words, where it really is.
    let widest = words
        .windows(2)
        .map(|pair| (pair[0].2, pair[1].1))
        .max_by(|a, b| (a.1 - a.0).partial_cmp(&(b.1 - b.0)).unwrap())
        .unwrap();
    assert!(widest.1 - widest.0 >= 1.5, "widest gap {widest:?}");
    assert!(
        widest.0 <= gap_start + 0.5 && widest.1 >= gap_end - 0.5,
        "gap at {widest:?}, expected {gap_start:.2}..{gap_end:.2}"
    );
}

#[test]
fn plain_output_is_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.wav");
    speech::espeak(SECOND, &path);
    let text = String::from_utf8(succeed(rehearse().arg("transcribe").arg(&path)).stdout).unwrap();
    assert!(speech::word_error_rate(SECOND, &text) <= 0.15, "{text:?}");
}

/// Every supported WAV layout gives the same words as the original.
#[test]
fn every_wav_variant_gives_the_same_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.wav");
    speech::espeak(FIRST, &original);
    let baseline = speech::normalise_words(transcribe_json(&original)["text"].as_str().unwrap());
    assert!(speech::word_error_rate(FIRST, &baseline.join(" ")) <= 0.15);
    let variants: &[(&str, &[&str])] = &[
        ("u8", &["-b", "8", "-e", "unsigned-integer"]),
        ("s16-16k", &["-r", "16000"]),
        ("s24", &["-b", "24", "-e", "signed-integer"]),
        ("s32", &["-b", "32", "-e", "signed-integer"]),
        ("f32", &["-b", "32", "-e", "floating-point"]),
        ("stereo-44k", &["-r", "44100", "-c", "2"]),
        (
            "stereo-48k-f32",
            &["-r", "48000", "-c", "2", "-b", "32", "-e", "floating-point"],
        ),
        ("quad", &["-c", "4"]),
    ];
    for (name, args) in variants {
        let path = dir.path().join(format!("{name}.wav"));
        // -R: sox dithers with a random seed when it drops bits; repeatable mode fixes the seed,
        // so the 8-bit copy is the same audio on every run.
        let status = Command::new("sox")
            .arg("-R")
            .arg(&original)
            .args(*args)
            .arg(&path)
            .status()
            .expect("sox must be installed (scripts/setup.sh installs it)");
        assert!(status.success(), "sox failed for {name}");
        let words = speech::normalise_words(transcribe_json(&path)["text"].as_str().unwrap());
        if *name == "u8" {
            // 8 bits add real quantisation noise (about -48 dB), so the audio is not the same:
            // it must still be heard as well as the original is.
            let wer = speech::word_error_rate(FIRST, &words.join(" "));
            assert!(
                wer <= 0.15,
                "variant u8: word error rate {wer:.2} for {words:?}"
            );
        } else {
            assert_eq!(words, baseline, "variant {name}");
        }
    }
}

/// `transcribe` of `path` failed with one clear line containing `expected`, and printed nothing.
fn assert_clear_failure(path: &Path, expected: &str) {
    let output = rehearse().arg("transcribe").arg(path).output().unwrap();
    assert_one_clear_line(&output, expected, &path.display().to_string());
    assert!(output.stdout.is_empty(), "nothing on stdout on failure");
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.wav");
    std::fs::write(&text, "these are my interview notes, not audio").unwrap();
    let empty = dir.path().join("empty.wav");
    speech::write_wav(&empty, speech::PCM16, &[]);
    let missing = dir.path().join("missing.wav");
    let cases = [
        (text, "is not a WAV file"),
        (empty, "contains no audio"),
        (missing, "cannot open"),
    ];
    for (path, expected) in cases {
        assert_clear_failure(&path, expected);
    }
}

#[test]
fn silence_only_is_no_speech() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silence.wav");
    speech::write_wav(&path, speech::PCM16, &vec![0; 16_000 * 5]);
    assert_clear_failure(&path, "no speech found");
}

#[test]
fn a_missing_model_names_the_command_that_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    speech::espeak("Hello.", &wav);
    let stderr = fail(
        rehearse()
            .env_remove("REHEARSE_MODEL")
            .env("REHEARSE_DATA_DIR", dir.path())
            .arg("transcribe")
            .arg(&wav),
    );
    assert!(stderr.contains("rehearse models fetch tiny.en"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// 16 kHz mono samples of `text` as espeak-ng speaks it.
fn spoken(text: &str, path: &Path) -> Vec<f32> {
    speech::espeak(text, path);
    let mut stream = rehearse::audio::open_wav(path).unwrap();
    let mut samples = Vec::new();
    while stream.read_block(&mut samples).unwrap() {}
    samples
}

/// A decoding state is reused for every chunk of a session. With flash attention, whisper.cpp
/// 1.8.3 pads the encoder's keys to a multiple of 256 without masking them, so a chunk shorter
/// than the one before attended to keys the longer one left behind and came out differently
/// (and differently from run to run). This is why flash attention is off.
#[test]
fn a_chunk_transcribes_the_same_whatever_the_state_heard_before() {
    use rehearse::speech::transcribe::{SpeechToText, WhisperSpeechToText};
    let dir = tempfile::tempdir().unwrap();
    let short = spoken(FIRST, &dir.path().join("short.wav"));
    let long = spoken(
        &[FIRST, SECOND, FIRST, SECOND].join(" "),
        &dir.path().join("long.wav"),
    );
    let mut stt = WhisperSpeechToText::load(&speech::model_path(), Some(2)).unwrap();
    let fresh = stt.words(&short).unwrap();
    assert!(fresh.len() >= 10, "too few words: {fresh:?}");
    let long_words = stt.words(&long).unwrap();
    assert!(long_words.len() > 2 * fresh.len(), "{long_words:?}");
    assert_eq!(stt.words(&short).unwrap(), fresh);
}

/// The disfluent prompt is for the English-only models: after it the multilingual base (the
/// default) invented fillers and lost words (docs/experiments.md), so base decodes without it,
/// tiny.en with it; and base, language fixed to English, transcribes real speech.
#[test]
fn base_decodes_without_the_disfluent_prompt_and_tiny_en_with_it() {
    use rehearse::speech::transcribe::{
        SpeechToText, WhisperSpeechToText, WhisperTuning, DISFLUENT_PROMPT,
    };
    let tuning = WhisperTuning {
        disfluent_prompt: true,
        ..WhisperTuning::default()
    };
    let tiny = WhisperSpeechToText::load_tuned(&speech::model_path(), Some(2), tuning).unwrap();
    assert!(
        tiny.decoding().contains(DISFLUENT_PROMPT),
        "{}",
        tiny.decoding()
    );
    let mut base =
        WhisperSpeechToText::load_tuned(&speech::base_model_path(), Some(2), tuning).unwrap();
    assert!(
        !base.decoding().contains(DISFLUENT_PROMPT),
        "{}",
        base.decoding()
    );
    let dir = tempfile::tempdir().unwrap();
    let said = [FIRST, SECOND].join(" ");
    let words = base
        .words(&spoken(&said, &dir.path().join("base.wav")))
        .unwrap();
    let heard: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    let heard = heard.join(" ");
    assert!(speech::word_error_rate(&said, &heard) <= 0.15, "{heard:?}");
}
