//! `rehearse models`: which Whisper models are installed, fetching, checking and converting
//! them.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result};

use crate::models::sentence::{self};
use crate::models::{self, fetch};
use crate::outln;
use crate::paths;
use ggml_convert as convert;

use super::load_config;

pub fn list(json: bool) -> Result<()> {
    let entries = models::list_models()?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&entries)?)?;
        return Ok(());
    }
    let name_width = entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    outln!(
        "{:<name_width$} {:>8}  {:<40}  STATUS",
        "NAME",
        "SIZE",
        "SHA-1"
    )?;
    for entry in entries {
        let status = if entry.installed {
            format!("installed at {}", entry.path.display())
        } else {
            "not installed".to_string()
        };
        outln!(
            "{:<name_width$} {:>8}  {:<40}  {status}",
            entry.name,
            entry.size,
            entry.sha1
        )?;
    }
    Ok(())
}

pub fn check(model: Option<&str>) -> Result<()> {
    let (path, source) = models::choose_model(model, load_config()?.model.as_deref())?;
    models::check_model(&path, source)?;
    let info = convert::inspect_ggml(&path)?;
    outln!(
        "{} (from {source}) is a valid Whisper model: {} tensors, {} audio layers, {:.1} MiB",
        path.display(),
        info.n_tensors,
        info.hparams.n_audio_layer,
        info.bytes as f64 / (1024.0 * 1024.0)
    )?;
    let sentence_dir = sentence::sentence_model_dir()?;
    sentence::check_sentence_model(&sentence_dir, true)?;
    outln!(
        "{} is a valid sentence model ({}, every file matches its pinned SHA-256)",
        sentence_dir.display(),
        sentence::SENTENCE_MODEL_NAME
    )?;
    Ok(())
}

pub fn dir() -> Result<()> {
    outln!("{}", paths::models_dir()?.display())?;
    Ok(())
}

pub fn fetch(name: &str, url: Option<&str>, sha1: Option<&str>) -> Result<()> {
    let model = fetch::find_known_model(name).with_context(|| {
        let names: Vec<&str> = fetch::KNOWN_MODELS.iter().map(|m| m.name).collect();
        format!("unknown model {name:?}; known models: {}", names.join(", "))
    })?;
    let dest_dir = paths::models_dir()?;
    std::fs::create_dir_all(&dest_dir)
        .with_context(|| format!("cannot create the models directory {}", dest_dir.display()))?;
    let path = fetch::fetch_model(&fetch::FetchRequest {
        model,
        base_url: url.unwrap_or(fetch::DEFAULT_BASE_URL),
        expected_sha1: sha1.unwrap_or(model.sha1),
        dest_dir: &dest_dir,
        show_progress: std::io::stderr().is_terminal(),
    })?;
    outln!("{} is installed at {}", model.name, path.display())?;
    Ok(())
}

pub fn convert(dir: &Path, out: Option<&Path>, quantize: &str) -> Result<()> {
    let quantization: convert::Quantization = quantize.parse()?;
    let summary = match out {
        Some(out) => convert::convert_ctranslate2_dir(dir, out, quantization)?,
        None => {
            let models_dir = paths::models_dir()?;
            std::fs::create_dir_all(&models_dir).with_context(|| {
                format!(
                    "cannot create the models directory {}",
                    models_dir.display()
                )
            })?;
            let staging = models_dir.join(format!(".converting-{}.bin", std::process::id()));
            let summary = convert::convert_ctranslate2_dir(dir, &staging, quantization)?;
            let name = model_file_name(&summary.hparams, quantization);
            let output = models_dir.join(name);
            std::fs::rename(&staging, &output).with_context(|| {
                format!("cannot move the converted model to {}", output.display())
            })?;
            convert::ConvertSummary { output, ..summary }
        }
    };
    outln!(
        "converted {} into {} ({} tensors, {:.1} MiB)",
        dir.display(),
        summary.output.display(),
        summary.n_tensors,
        summary.bytes as f64 / (1024.0 * 1024.0)
    )?;
    Ok(())
}

/// Names a converted model the way the official files are named (ggml-tiny.en.bin).
fn model_file_name(hparams: &convert::Hparams, quantization: convert::Quantization) -> String {
    let size = match (hparams.n_audio_layer, hparams.n_audio_state) {
        (4, 384) => "tiny",
        (6, 512) => "base",
        (12, 768) => "small",
        (24, 1024) => "medium",
        (32, 1280) => "large",
        _ => "custom",
    };
    let english = if hparams.n_vocab == 51864 { ".en" } else { "" };
    let suffix = match quantization {
        convert::Quantization::F16 => String::new(),
        other => format!("-{other}"),
    };
    format!("ggml-{size}{english}{suffix}.bin")
}
