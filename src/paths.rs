//! Where rehearse keeps its files: models and sessions under the data directory, the config file
//! under the config directory. Both follow the platform's conventions and can be moved with
//! environment variables (tests and people with unusual setups need that).

use std::path::PathBuf;

use anyhow::{Context, Result};

/// Moves the whole data directory (models, sessions).
pub const DATA_DIR_ENV: &str = "REHEARSE_DATA_DIR";
/// Points at a config file other than the platform default.
pub const CONFIG_ENV: &str = "REHEARSE_CONFIG";

fn project_dirs() -> Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "rehearse").context(
        "cannot find your home directory; set REHEARSE_DATA_DIR to a folder rehearse may use",
    )
}

/// The data directory: `$REHEARSE_DATA_DIR`, else the platform's (e.g. ~/.local/share/rehearse).
pub fn data_dir() -> Result<PathBuf> {
    match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => Ok(project_dirs()?.data_dir().to_path_buf()),
    }
}

/// Where the session directories live, one per session (`store::SessionRecord`).
pub fn sessions_dir() -> Result<PathBuf> {
    Ok(data_dir()?.join("sessions"))
}

/// Where fetched and converted models live.
pub fn models_dir() -> Result<PathBuf> {
    Ok(data_dir()?.join("models"))
}

/// Where rehearse keeps what it can make again (transcripts of the spoken corpus): the
/// platform's cache directory (e.g. ~/.cache/rehearse).
pub fn cache_dir() -> Result<PathBuf> {
    Ok(project_dirs()?.cache_dir().to_path_buf())
}

/// Where the user's own answer frameworks live: a `frameworks` folder beside the config file.
pub fn frameworks_dir() -> Result<PathBuf> {
    let config = config_file()?;
    Ok(config
        .parent()
        .map_or_else(|| PathBuf::from("frameworks"), |dir| dir.join("frameworks")))
}

/// The config file: `$REHEARSE_CONFIG`, else the platform's (e.g. ~/.config/rehearse/config.toml).
pub fn config_file() -> Result<PathBuf> {
    match std::env::var_os(CONFIG_ENV) {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Ok(project_dirs()?.config_dir().join("config.toml")),
    }
}
