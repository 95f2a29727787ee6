//! The questions a session asks: a built-in bank for the failure question and its variants, and
//! the user's own TOML file, which extends or replaces it.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::analysis::Level;

const BUILT_IN: &str = include_str!("questions.toml");

/// One interview question with the follow-ups an interviewer might ask after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// Levels the question suits; empty means all.
    #[serde(default)]
    pub levels: Vec<Level>,
    /// Asked after the answer when the analysis has no sharper follow-up of its own.
    #[serde(default)]
    pub followups: Vec<String>,
    /// The framework the answer is measured against (`rehearse frameworks list`); unset, the
    /// default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Extend,
    Replace,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    question: Vec<Question>,
}

fn parse(text: &str, origin: &str) -> Result<QuestionFile> {
    let file: QuestionFile = toml::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{origin} is not a valid question file{}: {}",
            crate::analysis::toml_error_place(text, &e),
            e.message().trim()
        )
    })?;
    let mut file = file;
    let mut seen = std::collections::HashSet::new();
    for q in &mut file.question {
        if q.id.trim().is_empty() {
            bail!("{origin}: a question has an empty `id`; give each a short name, e.g. id = \"missed-deadline\"");
        }
        if !seen.insert(q.id.clone()) {
            bail!(
                "{origin}: question id {:?} is used twice; each id names one question",
                q.id
            );
        }
        if q.text.trim().is_empty() {
            bail!("{origin}: question {:?} has no text", q.id);
        }
        if q.followups.iter().any(|f| f.trim().is_empty()) {
            bail!(
                "{origin}: question {:?} has an empty follow-up; remove it or write the question",
                q.id
            );
        }
        // Escape sequences in a question would reach the terminal raw (`questions list`,
        // `report`, the live view): the text is printed and spoken as plain text.
        q.id = plain(&q.id);
        q.text = plain(&q.text);
        for followup in &mut q.followups {
            *followup = plain(followup);
        }
    }
    Ok(file)
}

/// `text` without control characters (an ANSI escape loses its ESC and cannot act).
fn plain(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Parses a question file's text (the shape `--questions` reads); `origin` names it in errors.
pub fn parse_questions(text: &str, origin: &str) -> Result<Vec<Question>> {
    parse(text, origin).map(|f| f.question)
}

/// The built-in questions.
pub fn built_in() -> Vec<Question> {
    parse_questions(BUILT_IN, "the built-in question bank").unwrap_or_default()
}

/// The bank for a session: built-in questions, extended or replaced by the user's file.
pub fn load_bank(user_file: Option<&Path>) -> Result<Vec<Question>> {
    let mut bank = built_in();
    if let Some(path) = user_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the question file {}", path.display()))?;
        let file = parse(&text, &path.display().to_string())?;
        if file.question.is_empty() {
            bail!("{} has no [[question]] entries", path.display());
        }
        match file.mode {
            Mode::Replace => bank = file.question,
            Mode::Extend => {
                if let Some(q) = file
                    .question
                    .iter()
                    .find(|q| bank.iter().any(|b| b.id == q.id))
                {
                    bail!(
                        "{}: question id {:?} is a built-in question's; choose another id, or put mode = \"replace\" at the top to use only your questions",
                        path.display(),
                        q.id
                    );
                }
                bank.extend(file.question)
            }
        }
    }
    Ok(bank)
}

/// Questions that suit `level`, in bank order.
pub fn for_level(bank: &[Question], level: Level) -> Vec<Question> {
    bank.iter()
        .filter(|q| q.levels.is_empty() || q.levels.contains(&level))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_bank_parses_and_covers_every_level() {
        let bank = built_in();
        assert!(bank.len() >= 14);
        for level in [Level::Early, Level::Mid, Level::Senior] {
            assert!(for_level(&bank, level).len() >= 6, "{level:?}");
        }
        let mut ids: Vec<&str> = bank.iter().map(|q| q.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), bank.len(), "question ids are unique");
        assert!(bank.iter().all(|q| !q.followups.is_empty()));
    }

    #[test]
    fn a_user_file_extends_or_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.toml");
        std::fs::write(
            &path,
            "[[question]]\nid = \"mine\"\ntext = \"Tell me about a failed launch.\"\n",
        )
        .unwrap();
        let extended = load_bank(Some(&path)).unwrap();
        assert_eq!(extended.len(), built_in().len() + 1);
        std::fs::write(
            &path,
            "mode = \"replace\"\n[[question]]\nid = \"mine\"\ntext = \"Tell me about a failed launch.\"\n",
        )
        .unwrap();
        let replaced = load_bank(Some(&path)).unwrap();
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].id, "mine");
    }

    #[test]
    fn ids_are_unique_and_nothing_is_empty_or_an_escape_sequence() {
        let question = |id: &str, text: &str, followup: &str| {
            format!("[[question]]\nid = {id:?}\ntext = {text:?}\nfollowups = [{followup:?}]\n")
        };
        let good = question("a", "Tell me about a slip.", "Who noticed?");
        for (file, expected) in [
            (question("", "Tell me.", "Why?"), "empty `id`"),
            (format!("{good}{good}"), "question id \"a\" is used twice"),
            (question("a", "Tell me.", " "), "has an empty follow-up"),
        ] {
            let error = parse_questions(&file, "q.toml").unwrap_err().to_string();
            assert!(
                error.starts_with("q.toml: ") && error.contains(expected),
                "{error}"
            );
            assert_eq!(error.lines().count(), 1, "{error}");
        }
        // TOML's own escapes: ESC and BEL.
        let escaped = parse_questions(
            "[[question]]\nid = \"a\"\ntext = \"\\u001b[2J\\u001b[31mTell me about a slip.\"\n\
             followups = [\"Who\\u0007?\"]\n",
            "q.toml",
        )
        .unwrap();
        assert!(escaped[0].text.ends_with("Tell me about a slip."));
        assert!(!escaped[0].text.contains('\u{1b}') && escaped[0].followups[0] == "Who?");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.toml");
        std::fs::write(&path, question("failed", "Tell me about a slip.", "Why?")).unwrap();
        let error = load_bank(Some(&path)).unwrap_err().to_string();
        assert!(
            error.contains("\"failed\" is a built-in question's"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_file_names_itself_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.toml");
        std::fs::write(&path, "[[question]]\nid = \"x\"\ntxt = \"typo\"\n").unwrap();
        let error = load_bank(Some(&path)).unwrap_err().to_string();
        assert!(error.contains("q.toml") && error.contains("txt"), "{error}");
        assert!(error.contains(", line 3 (`txt = \"typo\"`)"), "{error}");
    }
}
