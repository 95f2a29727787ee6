//! Real speech for tests: the binary with the real models, espeak-ng voices, WAV plumbing,
//! word error rate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The real sentence model (all-MiniLM-L6-v2) that `scripts/setup.sh` provisions, for every
/// command that analyses. Missing is a failure, not a skip.
pub fn sentence_model_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
    assert!(
        path.join("model.safetensors").is_file(),
        "the sentence model {} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

/// The real tiny.en that `scripts/setup.sh` provisions. Missing is a failure, not a skip.
pub fn model_path() -> PathBuf {
    let path = std::env::var_os("REHEARSE_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ggml-tiny.en-q8_0.bin")
        });
    assert!(
        path.is_file(),
        "the test model {} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

/// The real Whisper base (q8_0, the default model) that `scripts/setup.sh` provisions. Missing
/// is a failure, not a skip.
pub fn base_model_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ggml-base-q8_0.bin");
    assert!(
        path.is_file(),
        "the base model {} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

/// The rehearse binary with the real models, keeping its saved sessions in `data` and reading
/// no config file (there is none at `data/no-config.toml`), so no test touches the user's own.
pub fn rehearse(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rehearse"));
    cmd.env("REHEARSE_DATA_DIR", data)
        .env("REHEARSE_MODEL", model_path())
        .env("REHEARSE_SENTENCE_MODEL", sentence_model_path())
        .env("REHEARSE_CONFIG", data.join("no-config.toml"));
    cmd
}

/// 16 kHz mono 16-bit PCM, the format the recogniser takes, for WAVs a test writes itself.
pub const PCM16: hound::WavSpec = hound::WavSpec {
    channels: 1,
    sample_rate: 16_000,
    bits_per_sample: 16,
    sample_format: hound::SampleFormat::Int,
};

/// Speaks `text` with espeak-ng into a 22.05 kHz mono 16-bit WAV.
pub fn espeak(text: &str, out: &Path) {
    let status = Command::new("espeak-ng")
        .args(["-s", "150", "-w"])
        .arg(out)
        .arg(text)
        .status()
        .expect("espeak-ng must be installed (scripts/setup.sh installs it)");
    assert!(status.success(), "espeak-ng failed");
}

pub fn read_wav(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec, samples)
}

pub fn write_wav(path: &Path, spec: hound::WavSpec, samples: &[i16]) {
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
}

/// Lower-case words without punctuation, the way WER is usually scored.
pub fn normalise_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance over the reference length.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let r = normalise_words(reference);
    let h = normalise_words(hypothesis);
    let mut row: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, hw) in h.iter().enumerate() {
            let substitution = previous + usize::from(rw != hw);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[h.len()] as f64 / r.len().max(1) as f64
}
