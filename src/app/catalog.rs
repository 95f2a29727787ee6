//! `rehearse questions`, `frameworks` and `config`: what the user can list, read and set up.

use std::path::Path;

use anyhow::Result;

use crate::analysis;
use crate::app::cli::LevelArg;
use crate::app::config::{self, Config};
use crate::library::questions;
use crate::library::FrameworkOrigin;
use crate::models::{self};
use crate::paths;
use crate::{out, outln};

use super::framework_library;

pub fn questions_list(level: Option<LevelArg>, file: Option<&Path>, json: bool) -> Result<()> {
    let bank = questions::load_bank(file)?;
    let shown = match level {
        Some(level) => questions::for_level(&bank, level.into()),
        None => bank,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&shown)?)?;
        return Ok(());
    }
    for question in &shown {
        let levels = if question.levels.is_empty() {
            "all levels".to_string()
        } else {
            let names: Vec<String> = question
                .levels
                .iter()
                .map(|l| l.name().to_string())
                .collect();
            names.join(", ")
        };
        let framework = question
            .framework
            .as_deref()
            .unwrap_or(analysis::DEFAULT_FRAMEWORK);
        outln!(
            "{}  [{levels}; {framework}]\n  {}",
            question.id,
            question.text
        )?;
        for followup in &question.followups {
            outln!("    - {followup}")?;
        }
    }
    Ok(())
}

pub fn frameworks_list() -> Result<()> {
    let library = framework_library()?;
    for (name, origin) in library.names() {
        let from = match &origin {
            FrameworkOrigin::BuiltIn => "built in".to_string(),
            FrameworkOrigin::User(path) => path.display().to_string(),
        };
        match library.load(&name) {
            Ok(f) => {
                let parts: Vec<String> = f
                    .parts
                    .iter()
                    .map(|p| format!("{} {:.0}-{:.0} s", p.id, p.budget.min_s, p.budget.max_s))
                    .collect();
                outln!("{name}  {}  ({from})", f.title)?;
                if !f.description.is_empty() {
                    outln!("  {}", f.description)?;
                }
                outln!(
                    "  {}; whole answer {:.0}-{:.0} s",
                    parts.join(", "),
                    f.total.min_s,
                    f.total.max_s
                )?;
            }
            Err(e) => outln!("{name}  cannot be used: {e}")?,
        }
    }
    Ok(())
}

pub fn frameworks_show(name: &str) -> Result<()> {
    out!("{}", framework_library()?.load(name)?.source)?;
    Ok(())
}

pub fn frameworks_dir() -> Result<()> {
    outln!("{}", paths::frameworks_dir()?.display())?;
    Ok(())
}

pub fn config_show() -> Result<()> {
    let path = paths::config_file()?;
    let config = Config::load(&path)?;
    let state = if path.is_file() {
        ""
    } else {
        " (not created yet: `rehearse config init`)"
    };
    outln!("# {}{state}", path.display())?;
    let model_from_env = std::env::var(models::MODEL_ENV)
        .ok()
        .filter(|v| !v.is_empty());
    out!("{}", config.show(model_from_env.as_deref()))?;
    Ok(())
}

pub fn config_path() -> Result<()> {
    outln!("{}", paths::config_file()?.display())?;
    Ok(())
}

pub fn config_init(force: bool) -> Result<()> {
    let path = paths::config_file()?;
    config::init(&path, force)?;
    outln!("wrote {}", path.display())?;
    Ok(())
}
