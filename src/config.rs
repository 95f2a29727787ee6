//! The user's config file (TOML). Every key is optional; command-line flags override it.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Whisper model: a known name (tiny.en) or a path to a ggml file.
    pub model: Option<String>,
}

impl Config {
    /// Reads the config file; a missing file is an empty config, a bad one is an error naming it.
    pub fn load(path: &Path) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read the config file {}", path.display()))
            }
        };
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "the config file {} is invalid: {}",
                path.display(),
                e.message()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_an_empty_config() {
        let config = Config::load(Path::new("/nonexistent/rehearse/config.toml")).unwrap();
        assert!(config.model.is_none());
    }

    #[test]
    fn unknown_key_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "modle = \"tiny.en\"\n").unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(error.contains("modle"), "{error}");
    }
}
