//! Finds frameworks: the built-in ones, then `<dir>/<name>.toml` for the user's own (which may
//! replace a built-in one of the same name). The analysis parses and checks a framework's text;
//! reading the user's files is this module's job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::analysis::{parse_built_in, Framework, FrameworkError, DEFAULT_FRAMEWORK};

/// Where a framework comes from, for `rehearse frameworks list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameworkOrigin {
    BuiltIn,
    User(PathBuf),
}

/// Finds frameworks: the built-in ones, then `<dir>/<name>.toml` for the user's own (which may
/// replace a built-in one of the same name).
#[derive(Debug, Clone)]
pub struct FrameworkLibrary {
    dir: PathBuf,
}

impl FrameworkLibrary {
    pub fn new(dir: impl Into<PathBuf>) -> FrameworkLibrary {
        FrameworkLibrary { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A framework by name, or by the path of a `.toml` file.
    pub fn load(&self, name_or_path: &str) -> Result<Arc<Framework>, FrameworkError> {
        let as_path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || name_or_path.contains(std::path::MAIN_SEPARATOR) {
            return read_file(as_path).map(Arc::new);
        }
        let user = self.dir.join(format!("{name_or_path}.toml"));
        if user.is_file() {
            return read_file(&user).map(Arc::new);
        }
        if name_or_path == DEFAULT_FRAMEWORK {
            return Ok(Framework::failure());
        }
        match parse_built_in(name_or_path) {
            Some(framework) => framework.map(Arc::new),
            None => Err(FrameworkError::Unknown {
                name: name_or_path.to_string(),
                known: self
                    .names()
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>()
                    .join(", "),
                dir: self.dir.display().to_string(),
            }),
        }
    }

    /// Every framework name with where it comes from, built-in first.
    pub fn names(&self) -> Vec<(String, FrameworkOrigin)> {
        let mut user: Vec<(String, FrameworkOrigin)> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .filter_map(|p| {
                        let name = p.file_stem()?.to_str()?.to_string();
                        Some((name, FrameworkOrigin::User(p)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        user.sort_by(|a, b| a.0.cmp(&b.0));
        let mut all: Vec<(String, FrameworkOrigin)> = Framework::built_in_names()
            .into_iter()
            .filter(|n| !user.iter().any(|(u, _)| u == n))
            .map(|n| (n.to_string(), FrameworkOrigin::BuiltIn))
            .collect();
        all.extend(user);
        all
    }
}

fn read_file(path: &Path) -> Result<Framework, FrameworkError> {
    let text = std::fs::read_to_string(path).map_err(|source| FrameworkError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Framework::parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::MINIMAL_FRAMEWORK;

    #[test]
    fn user_frameworks_replace_and_extend_the_built_in_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("two.toml"), MINIMAL_FRAMEWORK).expect("writes");
        let library = FrameworkLibrary::new(dir.path());
        let names: Vec<String> = library.names().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["failure", "star", "two"]);
        assert_eq!(library.load("two").expect("loads").parts.len(), 2);
        assert_eq!(library.load("star").expect("loads").name, "star");
        let missing = library.load("soar").expect_err("unknown").to_string();
        assert!(missing.contains("known: failure, star, two"), "{missing}");
    }
}
