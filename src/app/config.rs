//! The user's config file (TOML). Every key is optional; command-line flags override it, and
//! built-in defaults fill in the rest. A bad value is one error line that names its key.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::analysis::{
    check_budget, check_seconds, toml_error_place, Budget, Framework, Level, DEFAULT_FRAMEWORK,
};
use crate::session::endpoint::EndpointRules;
use crate::session::nudge::NudgeMode;

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Whisper model: a name `models list` shows (base-q8_0, tiny.en) or a path to a ggml file.
    pub model: Option<String>,
    /// Text-to-speech voice, by (part of) its name.
    pub voice: Option<String>,
    /// 0 (slowest) to 1 (fastest); 0.5 is the voice's normal rate.
    pub speaking_rate: Option<f32>,
    /// Microphone: part of its name as `rehearse devices` lists it.
    pub input_device: Option<String>,
    /// Speaker for the questions, by part of its name; unset, the speech service speaks.
    pub output_device: Option<String>,
    /// Seconds of silence that end an answer.
    pub end_silence_s: Option<f64>,
    /// Longest answer, in seconds.
    pub max_answer_s: Option<f64>,
    pub level: Option<Level>,
    /// The framework answers are measured against when a question names none.
    pub framework: Option<String>,
    /// Whether the live view cues a part that runs past its budget.
    pub nudge: Option<NudgeMode>,
    /// `[budgets]`: any part's range, by part id, or the whole answer's (`total`); they apply to
    /// every framework with a part of that id.
    pub budgets: Option<BTreeMap<String, BudgetConfig>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    pub min_s: f64,
    pub max_s: f64,
}

/// A `[budgets]` entry is checked and applied as the budget it sets.
impl From<BudgetConfig> for Budget {
    fn from(b: BudgetConfig) -> Budget {
        Budget {
            min_s: b.min_s,
            max_s: b.max_s,
        }
    }
}

/// Part ids the built-in frameworks define, and `total`: what `[budgets]` keys may name.
/// Budgets of a user's own framework go in its own file.
fn budget_keys() -> Vec<String> {
    let mut keys: Vec<String> = Framework::built_in_names()
        .iter()
        .filter_map(|name| Framework::built_in(name))
        .flat_map(|f| {
            f.parts
                .iter()
                .map(|p| p.id.name().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    keys.push("total".to_string());
    keys
}

/// What a session or an analysis runs with once flags, the file and defaults are combined.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub voice: Option<String>,
    pub speaking_rate: Option<f32>,
    pub input_device: Option<String>,
    pub output_device: Option<String>,
    pub end_silence_s: f64,
    pub max_answer_s: f64,
    pub level: Level,
    pub framework: String,
    pub nudge: NudgeMode,
    /// Budget overrides by part id, and `total`.
    pub budgets: BTreeMap<String, Budget>,
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
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a config file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "the config file {origin}{}: {}",
                toml_error_place(text, &e),
                e.message().trim()
            )
        })?;
        config
            .check()
            .map_err(|problem| anyhow::anyhow!("the config file {origin}: {problem}"))?;
        Ok(config)
    }

    /// The first value out of range, as "`key` must be ...".
    fn check(&self) -> std::result::Result<(), String> {
        if let Some(rate) = self.speaking_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!(
                    "`speaking_rate` must be between 0 and 1 (it is {rate})"
                ));
            }
        }
        for (key, value) in [
            ("end_silence_s", self.end_silence_s),
            ("max_answer_s", self.max_answer_s),
        ] {
            if let Some(v) = value {
                check_seconds(key, v, false)?;
            }
        }
        if let (Some(silence), Some(max)) = (self.end_silence_s, self.max_answer_s) {
            if max <= silence {
                return Err(format!(
                    "`max_answer_s` ({max}) must be more than `end_silence_s` ({silence})"
                ));
            }
        }
        for (key, value) in [
            ("voice", &self.voice),
            ("input_device", &self.input_device),
            ("output_device", &self.output_device),
            ("model", &self.model),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(format!(
                    "`{key}` is empty; remove the line to use the default"
                ));
            }
        }
        if self
            .framework
            .as_deref()
            .is_some_and(|v| v.trim().is_empty())
        {
            return Err("`framework` is empty; remove the line to use the default".to_string());
        }
        if let Some(budgets) = &self.budgets {
            let known = budget_keys();
            for (part, b) in budgets {
                if !known.contains(part) {
                    return Err(format!(
                        "`budgets.{part}` is not a part of a built-in framework ({}); budgets of your own framework's parts go in its file",
                        known.join(", ")
                    ));
                }
                check_budget(&format!("budgets.{part}"), (*b).into())?;
            }
        }
        Ok(())
    }

    /// The settings: each value from `flags` if given there, else from this file, else the
    /// built-in default.
    pub fn settings(&self, flags: &Config) -> Settings {
        let endpoint = EndpointRules::default();
        let mut budgets: BTreeMap<String, Budget> = BTreeMap::new();
        for source in [&self.budgets, &flags.budgets].into_iter().flatten() {
            for (part, b) in source {
                budgets.insert(part.clone(), (*b).into());
            }
        }
        Settings {
            voice: flags.voice.clone().or_else(|| self.voice.clone()),
            speaking_rate: flags.speaking_rate.or(self.speaking_rate),
            input_device: flags
                .input_device
                .clone()
                .or_else(|| self.input_device.clone()),
            output_device: flags
                .output_device
                .clone()
                .or_else(|| self.output_device.clone()),
            end_silence_s: flags
                .end_silence_s
                .or(self.end_silence_s)
                .unwrap_or(endpoint.end_silence_s),
            max_answer_s: flags
                .max_answer_s
                .or(self.max_answer_s)
                .unwrap_or(endpoint.max_answer_s),
            level: flags.level.or(self.level).unwrap_or_default(),
            framework: flags
                .framework
                .clone()
                .or_else(|| self.framework.clone())
                .unwrap_or_else(|| DEFAULT_FRAMEWORK.to_string()),
            nudge: flags.nudge.or(self.nudge).unwrap_or_default(),
            budgets,
        }
    }

    /// The effective configuration as TOML, each line marked with where its value came from.
    pub fn show(&self, model_from_env: Option<&str>) -> String {
        let settings = self.settings(&Config::default());
        let from = |set: bool| if set { "config file" } else { "default" };
        let text_value = |value: &Option<String>, default: &str| match value {
            Some(v) => format!("{v:?}"),
            None => default.to_string(),
        };
        let model = match model_from_env {
            Some(model) => (
                format!("{model:?}"),
                "$REHEARSE_MODEL, over the config file",
            ),
            None => (
                text_value(&self.model, &format!("{:?}", crate::models::DEFAULT_MODEL)),
                from(self.model.is_some()),
            ),
        };
        let mut lines = vec![
            ("model".to_string(), model.0, model.1),
            (
                "voice".to_string(),
                text_value(&self.voice, "(the speech service's default)"),
                from(self.voice.is_some()),
            ),
            (
                "speaking_rate".to_string(),
                self.speaking_rate
                    .map_or("(the voice's normal rate)".to_string(), |r| r.to_string()),
                from(self.speaking_rate.is_some()),
            ),
            (
                "input_device".to_string(),
                text_value(&self.input_device, "(the default microphone)"),
                from(self.input_device.is_some()),
            ),
            (
                "output_device".to_string(),
                text_value(&self.output_device, "(the speech service's output)"),
                from(self.output_device.is_some()),
            ),
            (
                "end_silence_s".to_string(),
                format!("{:?}", settings.end_silence_s),
                from(self.end_silence_s.is_some()),
            ),
            (
                "max_answer_s".to_string(),
                format!("{:?}", settings.max_answer_s),
                from(self.max_answer_s.is_some()),
            ),
            (
                "level".to_string(),
                format!("\"{}\"", settings.level.name()),
                from(self.level.is_some()),
            ),
        ];
        lines.push((
            "framework".to_string(),
            format!("{:?}", settings.framework),
            from(self.framework.is_some()),
        ));
        lines.push((
            "nudge".to_string(),
            format!("{:?}", settings.nudge.name()),
            from(self.nudge.is_some()),
        ));
        lines.extend(self.budget_lines(&settings));
        let width = lines
            .iter()
            .map(|(k, v, _)| k.len() + v.len() + 3)
            .max()
            .unwrap_or(0);
        lines
            .iter()
            .map(|(key, value, source)| {
                let setting = format!("{key} = {value}");
                format!("{setting:<width$}  # {source}\n")
            })
            .collect()
    }

    /// `config show`'s budget lines: the budgets of the framework in effect when it is a
    /// built-in one (a user's own framework keeps its budgets in its file), then any other part
    /// set here; each with where its value came from.
    fn budget_lines(&self, settings: &Settings) -> Vec<(String, String, &'static str)> {
        let file_budgets = self.budgets.clone().unwrap_or_default();
        let from = |set: bool| if set { "config file" } else { "default" };
        let mut lines = Vec::new();
        let mut shown: Vec<(String, Budget)> = Framework::built_in(&settings.framework)
            .map(|f| {
                f.parts
                    .iter()
                    .map(|p| (p.id.name().to_string(), p.budget))
                    .chain(std::iter::once(("total".to_string(), f.total)))
                    .collect()
            })
            .unwrap_or_default();
        for part in file_budgets.keys() {
            if !shown.iter().any(|(k, _)| k == part) {
                shown.push((
                    part.clone(),
                    Budget {
                        min_s: 0.0,
                        max_s: 0.0,
                    },
                ));
            }
        }
        for (part, default) in shown {
            let budget = settings.budgets.get(&part).copied().unwrap_or(default);
            lines.push((
                format!("budgets.{part}"),
                format!(
                    "{{ min_s = {:?}, max_s = {:?} }}",
                    budget.min_s, budget.max_s
                ),
                from(file_budgets.contains_key(&part)),
            ));
        }
        lines
    }
}

/// What `rehearse config init` writes: every key, commented out at its default.
pub const TEMPLATE: &str = r##"# rehearse configuration. Every key is optional: remove the leading "#" to set one.
# Command-line flags override these; `rehearse config show` prints what is in effect.

# Whisper model: a name `rehearse models list` shows (base-q8_0, tiny.en-q8_0, tiny.en, base.en,
# small.en) or a path to a ggml file. tiny.en-q8_0 is faster on a slow machine.
#model = "base-q8_0"

# Text-to-speech voice of the speech service, by (part of) its name; unset, the service picks
# one. With `output_device`, espeak-ng's default voice speaks instead.
#voice = "english"

# How fast questions are spoken: 0 (slowest) to 1 (fastest); 0.5 is the voice's normal rate.
#speaking_rate = 0.5

# Microphone, and the speaker for the questions, by (part of) their names as `rehearse devices`
# lists them; unset, the system's defaults.
#input_device = "USB"
#output_device = "pulse"

# Seconds of silence that end an answer, and the longest answer in seconds.
#end_silence_s = 3.0
#max_answer_s = 360.0

# Your career level: early, mid or senior.
#level = "mid"

# The framework answers are measured against when a question names none: a built-in one
# (failure, star) or your own, as `rehearse frameworks list` shows.
#framework = "failure"

# While you answer, a short cue in the live line when a part runs past its budget ("describe
# past 75 s: move on") or the answer past its longest; at most one every 20 s, never spoken.
# "text", "tone" (the cue and a soft tone on the output device) or "off".
#nudge = "text"

# Time budgets in seconds, per part of the failure framework and for the whole answer. Parts of
# the other built-in framework can be set the same way (e.g. [budgets.action]); budgets of your
# own framework go in its file.
#[budgets.choose]
#min_s = 20.0
#max_s = 40.0
#[budgets.describe]
#min_s = 45.0
#max_s = 75.0
#[budgets.own]
#min_s = 20.0
#max_s = 40.0
#[budgets.learn]
#min_s = 60.0
#max_s = 90.0
#[budgets.total]
#min_s = 180.0
#max_s = 210.0
"##;

/// Writes the template to `path`; an existing file is kept unless `force`.
pub fn init(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        anyhow::bail!(
            "{} already exists; pass --force to replace it with the template",
            path.display()
        );
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    crate::files::write_atomic(path, TEMPLATE.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_an_empty_config() {
        let config = Config::load(Path::new("/nonexistent/rehearse/config.toml")).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn unknown_key_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "modle = \"tiny.en\"\n").unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(error.contains("modle"), "{error}");
    }

    fn problem(text: &str) -> String {
        Config::parse(text, "c.toml").unwrap_err().to_string()
    }

    #[test]
    fn each_bad_value_is_one_line_naming_its_key() {
        for (text, expected) in [
            (
                "speaking_rate = 1.5",
                "the config file c.toml: `speaking_rate` must be between 0 and 1 (it is 1.5)",
            ),
            (
                "end_silence_s = 0",
                "the config file c.toml: `end_silence_s` must be a number of seconds more than 0 and up to 3600 (an hour); it is 0",
            ),
            (
                "end_silence_s = -1.0",
                "the config file c.toml: `end_silence_s` must be a number of seconds more than 0 and up to 3600 (an hour); it is -1",
            ),
            (
                "end_silence_s = inf",
                "the config file c.toml: `end_silence_s` must be a number of seconds more than 0 and up to 3600 (an hour); it is inf",
            ),
            (
                "max_answer_s = 1e308",
                "the config file c.toml: `max_answer_s` must be a number of seconds more than 0 and up to 3600 (an hour); it is 1e308",
            ),
            (
                "[budgets.learn]\nmin_s = 60.0\nmax_s = nan",
                "the config file c.toml: `budgets.learn.max_s` must be a number of seconds from 0 up to 3600 (an hour); it is NaN",
            ),
            (
                "end_silence_s = 5.0\nmax_answer_s = 4.0",
                "the config file c.toml: `max_answer_s` (4) must be more than `end_silence_s` (5)",
            ),
            (
                "[budgets.learn]\nmin_s = 90.0\nmax_s = 60.0",
                "the config file c.toml: `budgets.learn.max_s` (60) must be at least `budgets.learn.min_s` (90)",
            ),
            (
                "level = \"junior\"",
                "the config file c.toml, line 1 (`level = \"junior\"`): unknown variant `junior`, expected one of `early`, `mid`, `senior`",
            ),
            (
                "voice = \" \"",
                "the config file c.toml: `voice` is empty; remove the line to use the default",
            ),
            (
                "[budgets]\nchose = { min_s = 1.0, max_s = 2.0 }",
                "the config file c.toml: `budgets.chose` is not a part of a built-in framework (choose, describe, own, learn, situation, task, action, result, total); budgets of your own framework's parts go in its file",
            ),
            (
                "framework = \"\"",
                "the config file c.toml: `framework` is empty; remove the line to use the default",
            ),
        ] {
            let error = problem(text);
            assert_eq!(error, expected);
            assert_eq!(error.lines().count(), 1);
        }
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file = Config::parse(
            "level = \"senior\"\nend_silence_s = 2.5\nvoice = \"english\"\n[budgets.learn]\nmin_s = 50.0\nmax_s = 70.0\n",
            "c.toml",
        )
        .unwrap();
        let flags = Config {
            level: Some(Level::Early),
            ..Config::default()
        };
        let settings = file.settings(&flags);
        assert_eq!(settings.level, Level::Early);
        assert_eq!(settings.end_silence_s, 2.5);
        assert_eq!(settings.max_answer_s, EndpointRules::default().max_answer_s);
        assert_eq!(settings.voice.as_deref(), Some("english"));
        assert_eq!(settings.speaking_rate, None);
        assert_eq!(
            settings.budgets.get("learn"),
            Some(&Budget {
                min_s: 50.0,
                max_s: 70.0
            })
        );
        assert_eq!(settings.budgets.get("choose"), None);
        assert_eq!(settings.framework, "failure");
        assert_eq!(
            Config::default().settings(&Config::default()).level,
            Level::Mid
        );
    }

    #[test]
    fn the_template_uncommented_is_exactly_the_defaults() {
        let uncommented: String = TEMPLATE
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .filter(|l| !l.starts_with(' ') && !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(uncommented.contains("[budgets.total]"), "{uncommented}");
        let mut config = Config::parse(&uncommented, "template").unwrap();
        let settings = config.settings(&Config::default());
        let failure = Framework::failure();
        let defaults = failure.with_budgets(&settings.budgets);
        for (part, default) in defaults.parts.iter().zip(&failure.parts) {
            assert_eq!(part.budget, default.budget, "{}", part.id);
        }
        assert_eq!(defaults.total, failure.total);
        assert_eq!(settings.framework, DEFAULT_FRAMEWORK);
        assert_eq!(
            settings.end_silence_s,
            EndpointRules::default().end_silence_s
        );
        assert_eq!(settings.max_answer_s, EndpointRules::default().max_answer_s);
        assert_eq!(settings.level, Level::default());
        // The commented template itself sets nothing.
        config = Config::parse(TEMPLATE, "template").unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn show_marks_where_each_value_comes_from() {
        let config = Config::parse(
            "level = \"senior\"\n[budgets.own]\nmin_s = 10.0\nmax_s = 30.0\n",
            "c.toml",
        )
        .unwrap();
        let shown = config.show(None);
        let line = |key: &str| {
            shown
                .lines()
                .find(|l| l.starts_with(&format!("{key} = ")))
                .unwrap_or_else(|| panic!("no {key} in {shown}"))
                .to_string()
        };
        assert!(line("level").starts_with("level = \"senior\""));
        assert!(line("level").ends_with("# config file"));
        assert!(line("budgets.own").contains("{ min_s = 10.0, max_s = 30.0 }"));
        assert!(line("budgets.own").ends_with("# config file"));
        assert!(line("budgets.learn").contains("{ min_s = 60.0, max_s = 90.0 }"));
        assert!(line("budgets.learn").ends_with("# default"));
        assert!(line("end_silence_s").starts_with("end_silence_s = 3.0 "));
        assert!(line("end_silence_s").ends_with("# default"));
        assert!(line("model").ends_with("# default"));
        let overridden = config.show(Some("/models/ggml-base.en.bin"));
        let model = overridden.lines().next().unwrap();
        assert!(
            model.starts_with("model = \"/models/ggml-base.en.bin\"")
                && model.ends_with("# $REHEARSE_MODEL, over the config file"),
            "{model}"
        );
    }
}
