//! Answer frameworks: the parts an answer should have, in order, with their time budgets, the
//! cues that recognise each part, and the content checks that apply.
//!
//! A framework is a TOML file. The built-in ones (`failure`, the guide's four parts, and `star`)
//! are such files compiled in and read exactly like a user's own from the config directory's
//! `frameworks/` folder, so nothing about the failure question is special-cased in the analysis.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::checks::ContentCheck;
use super::meaning::{Judge, JUDGE_PARTS, SHIPPED_JUDGES};
use super::part::{AnswerPart, Role};
use super::text::Phrase;
use super::{Budget, Level};

/// The built-in frameworks, by name; the first is the default.
const BUILT_IN: [(&str, &str); 2] = [
    ("failure", include_str!("../frameworks/failure.toml")),
    ("star", include_str!("../frameworks/star.toml")),
];

/// The framework used when neither the question, the command line nor the config names one.
pub const DEFAULT_FRAMEWORK: &str = "failure";

/// Most parts a framework may have: more would not fit a spoken answer or the report.
const MAX_PARTS: usize = 8;

/// A weight per occurrence, with a ceiling on the sum.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Capped {
    pub weight: f64,
    pub cap: f64,
}

/// Evidence for a part beyond its cue phrases: grammar that tells a story from a habit.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PartScore {
    /// Score of every sentence before any cue: where a sentence with no cue leans.
    pub base: f64,
    /// Per past-tense verb ("was", "missed").
    pub past_tense: Option<Capped>,
    /// A four-digit year anchors a story in time.
    pub calendar_year: Option<f64>,
    /// Per present-tense habit ("I ask", "we always run") or present marker ("now", "anymore").
    pub present: Option<Capped>,
    /// "I have set up", "we've caught".
    pub present_perfect: Option<f64>,
}

/// A group of cue phrases that vote for a part with one weight.
#[derive(Debug, Clone)]
pub(crate) struct CueGroup {
    /// How `why` names a cue of the group ("ownership cue").
    pub name: String,
    pub weight: f64,
    /// Counts only in a sentence with the speaker in it ("I", "we") and no deflection.
    pub needs_speaker: bool,
    /// Names the example outright: what comes before it may be warming up.
    pub names_story: bool,
    pub phrases: Vec<Phrase>,
}

/// One part of a framework.
#[derive(Debug, Clone)]
pub struct PartSpec {
    pub id: AnswerPart,
    /// Short label for the terminal report ("Learn").
    pub label: String,
    /// What the part is, in words for findings and the spoken summary ("owning your part").
    pub title: String,
    pub budget: Budget,
    pub role: Option<Role>,
    /// The share of the answer the part should take, when the framework says so.
    pub aim_share: Option<f64>,
    /// Asked when the part is missing or short and no content finding already asks about it.
    pub followup: Option<String>,
    /// What `rehearse hint` says about the part before an answer, when the framework says.
    pub hint: Option<PartHint>,
    pub score: PartScore,
    pub(crate) cues: Vec<CueGroup>,
}

/// Guidance on one part, given before answering (`rehearse hint`, "hint" in a session): what
/// the part should contain, what matters more at a level, and one example sentence per level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartHint {
    /// What the part should contain, at any level.
    pub contains: String,
    /// What matters more at a level, said after `contains`.
    #[serde(default)]
    pub level: LevelNotes,
    /// Example sentences, each from a story in a line of work of its own, so that it reads as
    /// a model of the part and not as a script for the candidate's own answer.
    #[serde(default)]
    pub examples: Vec<HintExample>,
}

/// A note for each career level, any of them absent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelNotes {
    pub early: Option<String>,
    pub mid: Option<String>,
    pub senior: Option<String>,
}

impl LevelNotes {
    pub fn at(&self, level: Level) -> Option<&str> {
        match level {
            Level::Early => self.early.as_deref(),
            Level::Mid => self.mid.as_deref(),
            Level::Senior => self.senior.as_deref(),
        }
    }
}

/// One example sentence for a part: who says it and at which level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HintExample {
    pub level: Level,
    /// The speaker's line of work, e.g. "a trainee accountant".
    pub who: String,
    pub says: String,
}

impl PartHint {
    /// The example for `level`, if the framework gives one.
    pub fn example(&self, level: Level) -> Option<&HintExample> {
        self.examples.iter().find(|e| e.level == level)
    }
}

/// Scores of moving between parts, rows "from", columns "to", both in part order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub start: Vec<f64>,
    pub from: Vec<Vec<f64>>,
    /// For a part said before any other, its own row: (part index, row).
    pub opening: Vec<(usize, Vec<f64>)>,
}

/// An answer framework, read and checked.
#[derive(Debug, Clone)]
pub struct Framework {
    pub name: String,
    pub title: String,
    pub description: String,
    pub parts: Vec<PartSpec>,
    pub total: Budget,
    /// The part that should get the most time.
    pub largest: Option<AnswerPart>,
    /// Content checks that apply, by code.
    pub checks: Vec<ContentCheck>,
    probes: Probes,
    pub(crate) order: Order,
    /// The trained classifier that reads this framework's answers, if it names one.
    pub(crate) judge: Option<&'static Judge>,
    /// The TOML it was read from, for `rehearse frameworks show`.
    pub source: String,
}

/// Questions for an answer with no gaps, by level.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Probes {
    early: Vec<String>,
    mid: Vec<String>,
    senior: Vec<String>,
}

/// Why a framework file cannot be used: one line naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum FrameworkError {
    #[error("cannot read the framework file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the framework file {origin} is not valid TOML or has an unknown key{place}: {detail}"
    )]
    Syntax {
        origin: String,
        place: String,
        detail: String,
    },
    #[error("the framework file {origin}: {detail}")]
    Invalid { origin: String, detail: String },
    #[error("no framework named '{name}'; known: {known} (add your own as {dir}/{name}.toml)")]
    Unknown {
        name: String,
        known: String,
        dir: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkFile {
    name: String,
    title: String,
    #[serde(default)]
    description: String,
    total: Budget,
    largest: Option<String>,
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    probes: Probes,
    /// A trained classifier shipped with rehearse (`meaning::SHIPPED_JUDGES`) that labels the
    /// parts and reads the sentence properties; without one, the cues below do.
    classifier: Option<String>,
    order: Option<OrderFile>,
    parts: Vec<PartFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderFile {
    start: Vec<f64>,
    from: BTreeMap<String, Vec<f64>>,
    #[serde(default)]
    opening: BTreeMap<String, Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartFile {
    id: String,
    label: Option<String>,
    title: Option<String>,
    budget: Budget,
    role: Option<Role>,
    aim_share: Option<f64>,
    followup: Option<String>,
    hint: Option<PartHint>,
    #[serde(default)]
    score: PartScore,
    #[serde(default)]
    cues: Vec<CueFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CueFile {
    name: String,
    weight: f64,
    #[serde(default)]
    needs_speaker: bool,
    #[serde(default)]
    names_story: bool,
    phrases: Vec<String>,
}

/// A part's hint is printed and spoken as it is: it must say something, give at most one
/// example per level, and carry no control characters (an escape sequence would reach the
/// terminal raw).
fn check_hint(part: &str, hint: &PartHint) -> Result<(), String> {
    let texts = std::iter::once(("contains", hint.contains.as_str()))
        .chain(
            [&hint.level.early, &hint.level.mid, &hint.level.senior]
                .into_iter()
                .flatten()
                .map(|note| ("level", note.as_str())),
        )
        .chain(
            hint.examples
                .iter()
                .flat_map(|e| [("who", e.who.as_str()), ("says", e.says.as_str())]),
        );
    for (key, text) in texts {
        if text.trim().is_empty() {
            return Err(format!(
                "part \"{part}\": `hint.{key}` is empty; write it or leave it out"
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(format!(
                "part \"{part}\": `hint.{key}` holds a control character; write plain text"
            ));
        }
    }
    for level in [Level::Early, Level::Mid, Level::Senior] {
        if hint.examples.iter().filter(|e| e.level == level).count() > 1 {
            return Err(format!(
                "part \"{part}\": `hint.examples` gives two for the {} level; keep one",
                level.name()
            ));
        }
    }
    Ok(())
}

/// Whether `id` is a usable part or framework name: lowercase letters, digits, `_` and `-`.
fn is_plain_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The longest time a budget, a setting or a saved answer may name: an hour. An interview
/// answer is minutes long, so more is a typo or a damaged file, and a chart drawn to it would
/// not fit in memory.
pub const LONGEST_S: f64 = 3600.0;

/// Checks a number of seconds a file gives: finite, from 0 (or above 0) to `LONGEST_S`.
pub fn check_seconds(key: &str, value: f64, zero_allowed: bool) -> Result<(), String> {
    let low_ok = if zero_allowed {
        value >= 0.0
    } else {
        value > 0.0
    };
    if value.is_finite() && low_ok && value <= LONGEST_S {
        return Ok(());
    }
    let low = if zero_allowed {
        "from 0"
    } else {
        "more than 0 and"
    };
    // 1e308 in full is 309 digits.
    let shown = if value.abs() >= 1e6 {
        format!("{value:e}")
    } else {
        value.to_string()
    };
    Err(format!(
        "`{key}` must be a number of seconds {low} up to {LONGEST_S} (an hour); it is {shown}"
    ))
}

/// Checks every part of a framework file (ids, budgets, roles, score weights, cues) and returns
/// their ids and the roles they play, in order.
fn check_parts(parts: &[PartFile]) -> Result<(Vec<String>, Vec<Role>), String> {
    let mut ids: Vec<String> = Vec::new();
    let mut roles: Vec<Role> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let key = format!("parts[{i}]");
        if !is_plain_id(&part.id) || part.id == AnswerPart::OTHER.name() {
            return Err(format!(
                "`{key}.id` \"{}\" must be lowercase letters, digits, '_' or '-', and not \"other\"",
                part.id
            ));
        }
        if ids.contains(&part.id) {
            return Err(format!("`{key}.id` \"{}\" is used twice", part.id));
        }
        ids.push(part.id.clone());
        check_budget(&format!("{key}.budget"), part.budget)?;
        if let Some(role) = part.role {
            if roles.contains(&role) {
                return Err(format!(
                    "`{key}.role` {role:?} is given to two parts; each role names one part"
                ));
            }
            roles.push(role);
        }
        if let Some(share) = part.aim_share {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!(
                    "`{key}.aim_share` must be from 0 to 1 (it is {share})"
                ));
            }
        }
        let s = part.score;
        check_weight(&format!("{key}.score.base"), s.base)?;
        for (name, capped) in [("past_tense", s.past_tense), ("present", s.present)] {
            if let Some(c) = capped {
                check_weight(&format!("{key}.score.{name}.weight"), c.weight)?;
                check_weight(&format!("{key}.score.{name}.cap"), c.cap)?;
            }
        }
        for (name, w) in [
            ("calendar_year", s.calendar_year),
            ("present_perfect", s.present_perfect),
        ] {
            if let Some(w) = w {
                check_weight(&format!("{key}.score.{name}"), w)?;
            }
        }
        for (k, cue) in part.cues.iter().enumerate() {
            let cue_key = format!("{key}.cues[{k}]");
            check_weight(&format!("{cue_key}.weight"), cue.weight)?;
            if cue
                .phrases
                .iter()
                .any(|p| p.split_whitespace().next().is_none())
            {
                return Err(format!("`{cue_key}.phrases` has an empty phrase"));
            }
        }
    }
    Ok((ids, roles))
}

/// The content checks a framework lists, each known and with the roles it reads among `roles`.
fn resolve_checks(codes: &[String], roles: &[Role]) -> Result<Vec<ContentCheck>, String> {
    let mut checks = Vec::new();
    for code in codes {
        let Some(check) = ContentCheck::from_name(code) else {
            let known: Vec<&str> = ContentCheck::ALL.iter().map(|c| c.name()).collect();
            return Err(format!(
                "`checks` has \"{code}\", which is not a known check ({})",
                known.join(", ")
            ));
        };
        checks.push(check);
        if let Some(missing) = check.needs().iter().find(|r| !roles.contains(r)) {
            return Err(format!(
                "check \"{code}\" needs a part with role \"{}\"",
                format!("{missing:?}").to_lowercase()
            ));
        }
    }
    Ok(checks)
}

/// The trained classifier a framework names, if any, which must label exactly its parts.
fn resolve_judge(
    classifier: Option<&str>,
    ids: &[String],
) -> Result<Option<&'static Judge>, String> {
    let Some(name) = classifier else {
        return Ok(None);
    };
    let judge = Judge::shipped(name).ok_or_else(|| {
        format!(
            "`classifier` is \"{name}\", which is not a classifier rehearse ships ({})",
            SHIPPED_JUDGES.join(", ")
        )
    })?;
    let parts: Vec<&str> = JUDGE_PARTS
        .iter()
        .copied()
        .filter(|p| *p != "other")
        .collect();
    if ids != parts.as_slice() {
        return Err(format!(
            "`classifier` \"{name}\" labels the parts {}; this framework's parts are {}",
            parts.join(", "),
            ids.join(", ")
        ));
    }
    Ok(Some(judge))
}

/// A framework's `[order]`: every row the length of the parts, a row from every part, and
/// openings only of known parts.
fn resolve_order(order: &OrderFile, ids: &[String]) -> Result<Order, String> {
    let index_of = |id: &str| ids.iter().position(|known| known == id);
    check_row("order.start", &order.start, ids.len())?;
    let mut from = Vec::new();
    for id in ids {
        let row = order
            .from
            .get(id)
            .ok_or_else(|| format!("`order.from` has no row for part \"{id}\""))?;
        check_row(&format!("order.from.{id}"), row, ids.len())?;
        from.push(row.clone());
    }
    if let Some(extra) = order.from.keys().find(|k| index_of(k).is_none()) {
        return Err(format!("`order.from.{extra}` is not one of the parts"));
    }
    let mut opening = Vec::new();
    for (id, row) in &order.opening {
        let i =
            index_of(id).ok_or_else(|| format!("`order.opening.{id}` is not one of the parts"))?;
        check_row(&format!("order.opening.{id}"), row, ids.len())?;
        opening.push((i, row.clone()));
    }
    Ok(Order {
        start: order.start.clone(),
        from,
        opening,
    })
}

/// A checked part file as the analysis reads it: a label and title by default, cue phrases
/// compiled.
fn part_spec(p: PartFile) -> PartSpec {
    PartSpec {
        id: AnswerPart::new(&p.id),
        label: p.label.unwrap_or_else(|| capitalised(&p.id)),
        title: p.title.unwrap_or_else(|| p.id.clone()),
        budget: p.budget,
        role: p.role,
        aim_share: p.aim_share,
        followup: p.followup,
        hint: p.hint,
        score: p.score,
        cues: p
            .cues
            .into_iter()
            .map(|c| CueGroup {
                name: c.name,
                weight: c.weight,
                needs_speaker: c.needs_speaker,
                names_story: c.names_story,
                phrases: c.phrases.iter().map(|s| Phrase::new(s)).collect(),
            })
            .collect(),
    }
}

/// Checks a budget's bounds under `key` (`total`, `parts[0].budget`, `budgets.own`): each a
/// number of seconds, the maximum no less than the minimum. Framework files and the config file
/// both set budgets, so both refuse a bad one in the same words.
pub(crate) fn check_budget(key: &str, b: Budget) -> Result<(), String> {
    check_seconds(&format!("{key}.min_s"), b.min_s, true)?;
    check_seconds(&format!("{key}.max_s"), b.max_s, true)?;
    if b.max_s < b.min_s {
        return Err(format!(
            "`{key}.max_s` ({}) must be at least `{key}.min_s` ({})",
            b.max_s, b.min_s
        ));
    }
    Ok(())
}

fn check_weight(key: &str, w: f64) -> Result<(), String> {
    if w.is_finite() && (0.0..=100.0).contains(&w) {
        Ok(())
    } else {
        Err(format!(
            "`{key}` must be a number from 0 to 100 (it is {w})"
        ))
    }
}

/// A row of the order table: one finite score per part, none positive.
fn check_row(key: &str, row: &[f64], parts: usize) -> Result<(), String> {
    if row.len() != parts {
        return Err(format!(
            "`{key}` has {} scores; it needs one per part ({parts})",
            row.len()
        ));
    }
    if let Some(bad) = row
        .iter()
        .find(|v| !v.is_finite() || **v > 0.0 || **v < -100.0)
    {
        return Err(format!(
            "`{key}` holds {bad}; scores are costs from 0 down to -100"
        ));
    }
    Ok(())
}

/// The order a framework gets when its file has no `[order]`: the parts in sequence, each step
/// forward cheap, skipping ahead dearer, going back dearest, any part may open at a cost.
/// Where a TOML error is, as ", line N (`text`)" so the key shows (empty when it has no place).
/// Shared by every TOML file rehearse reads: config, frameworks, questions.
pub fn toml_error_place(text: &str, error: &toml::de::Error) -> String {
    let Some(span) = error.span() else {
        return String::new();
    };
    let line_no = text[..span.start.min(text.len())].matches('\n').count();
    match text.lines().nth(line_no) {
        Some(line) => format!(", line {} (`{}`)", line_no + 1, line.trim()),
        None => String::new(),
    }
}

fn default_order(parts: usize) -> Order {
    let score = |from: usize, to: usize| -> f64 {
        if to == from {
            0.0
        } else if to == from + 1 {
            -0.3
        } else if to > from {
            -0.8 * (to - from - 1) as f64
        } else if from - to == 1 {
            -1.5
        } else {
            -3.0
        }
    };
    Order {
        start: (0..parts)
            .map(|to| if to == 0 { 0.0 } else { -1.5 })
            .collect(),
        from: (0..parts)
            .map(|from| (0..parts).map(|to| score(from, to)).collect())
            .collect(),
        opening: Vec::new(),
    }
}

impl Framework {
    /// The trained classifier that reads this framework's answers, if it names one.
    pub fn judge(&self) -> Option<&'static Judge> {
        self.judge
    }

    /// Reads and checks a framework from TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Framework, FrameworkError> {
        let file: FrameworkFile = toml::from_str(text).map_err(|e| FrameworkError::Syntax {
            origin: origin.to_string(),
            place: toml_error_place(text, &e),
            detail: e.message().trim().to_string(),
        })?;
        let invalid = |detail: String| FrameworkError::Invalid {
            origin: origin.to_string(),
            detail,
        };
        Framework::build(file, text).map_err(invalid)
    }

    fn build(file: FrameworkFile, text: &str) -> Result<Framework, String> {
        if !is_plain_id(&file.name) {
            return Err(format!(
                "`name` \"{}\" must be lowercase letters, digits, '_' or '-'",
                file.name
            ));
        }
        if file.parts.is_empty() || file.parts.len() > MAX_PARTS {
            return Err(format!(
                "`parts` has {} entries; a framework needs 1 to {MAX_PARTS}",
                file.parts.len()
            ));
        }
        check_budget("total", file.total)?;
        let (ids, roles) = check_parts(&file.parts)?;
        let largest = match &file.largest {
            Some(id) => Some(ids.iter().position(|known| known == id).ok_or_else(|| {
                format!(
                    "`largest` names \"{id}\", which is not one of the parts ({})",
                    ids.join(", ")
                )
            })?),
            None => None,
        };
        let checks = resolve_checks(&file.checks, &roles)?;
        let judge = resolve_judge(file.classifier.as_deref(), &ids)?;
        let order = match &file.order {
            None => default_order(ids.len()),
            Some(order) => resolve_order(order, &ids)?,
        };
        for part in &file.parts {
            if let Some(hint) = &part.hint {
                check_hint(&part.id, hint)?;
            }
        }
        let parts: Vec<PartSpec> = file.parts.into_iter().map(part_spec).collect();
        Ok(Framework {
            largest: largest.map(|i| parts[i].id),
            name: file.name,
            title: file.title,
            description: file.description,
            parts,
            total: file.total,
            checks,
            probes: file.probes,
            order,
            judge,
            source: text.to_string(),
        })
    }

    /// The built-in four-part failure framework, read once.
    pub fn failure() -> Arc<Framework> {
        static FAILURE: OnceLock<Arc<Framework>> = OnceLock::new();
        FAILURE
            .get_or_init(|| match parse_built_in(DEFAULT_FRAMEWORK) {
                Some(Ok(framework)) => Arc::new(framework),
                // The file is compiled in and parsed by the tests: this cannot fail at run time.
                _ => unreachable!("the built-in failure framework is checked by the tests"),
            })
            .clone()
    }

    /// The built-in failure framework read without its classifier: its cues and checks only.
    /// The trainer runs the checks with this, so training never depends on the weights it is
    /// about to replace (after a change to the model's shape, those no longer read).
    pub fn failure_checks() -> Framework {
        let text = BUILT_IN
            .iter()
            .find(|(n, _)| *n == DEFAULT_FRAMEWORK)
            .map_or("", |(_, text)| text);
        let built = toml::from_str::<FrameworkFile>(text)
            .map_err(|e| e.to_string())
            .and_then(|file| {
                Framework::build(
                    FrameworkFile {
                        classifier: None,
                        ..file
                    },
                    text,
                )
            });
        match built {
            Ok(framework) => framework,
            // The file is compiled in and parsed by the tests: this cannot fail at run time.
            Err(e) => unreachable!("the built-in failure framework is checked by the tests: {e}"),
        }
    }

    /// A built-in framework by name.
    pub fn built_in(name: &str) -> Option<Arc<Framework>> {
        if name == DEFAULT_FRAMEWORK {
            return Some(Framework::failure());
        }
        parse_built_in(name).and_then(Result::ok).map(Arc::new)
    }

    /// The names of the built-in frameworks, the default first.
    pub fn built_in_names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(name, _)| *name).collect()
    }

    /// The same framework read by its cues alone, without a trained classifier: the phrase
    /// engine the evaluation compares the classifier with.
    pub fn cues_only(&self) -> Framework {
        Framework {
            judge: None,
            ..self.clone()
        }
    }

    /// The part with this id.
    pub fn part(&self, id: AnswerPart) -> Option<&PartSpec> {
        self.parts.iter().find(|p| p.id == id)
    }

    /// The part that plays `role`, if any.
    pub fn part_with_role(&self, role: Role) -> Option<&PartSpec> {
        self.parts.iter().find(|p| p.role == Some(role))
    }

    /// The role of a part, `None` for small talk or a part without one.
    pub fn role_of(&self, id: AnswerPart) -> Option<Role> {
        self.part(id).and_then(|p| p.role)
    }

    /// Whether a content check applies.
    pub fn checks(&self, code: &str) -> bool {
        self.checks.iter().any(|c| c.name() == code)
    }

    /// Probes for an answer with no gaps.
    pub fn probes(&self, level: Level) -> &[String] {
        match level {
            Level::Early => &self.probes.early,
            Level::Mid => &self.probes.mid,
            Level::Senior => &self.probes.senior,
        }
    }

    /// The same framework with some budgets replaced: by part id, and `total`.
    pub fn with_budgets(&self, budgets: &BTreeMap<String, Budget>) -> Framework {
        let mut framework = self.clone();
        for part in &mut framework.parts {
            if let Some(b) = budgets.get(part.id.name()) {
                part.budget = *b;
            }
        }
        if let Some(total) = budgets.get("total") {
            framework.total = *total;
        }
        framework
    }
}

/// `text` with its first letter in capitals: a part's label from its id, a title that starts
/// a spoken sentence.
pub(crate) fn capitalised(id: &str) -> String {
    let mut chars = id.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A built-in framework by name, parsed.
pub(crate) fn parse_built_in(name: &str) -> Option<Result<Framework, FrameworkError>> {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Framework::parse(text, &format!("(built-in {n})")))
}

/// A framework file of two parts and nothing optional, named "two": for the tests of parsing
/// here and of the framework library, which reads one from the user's directory.
#[cfg(test)]
pub(crate) const MINIMAL_FRAMEWORK: &str = r#"
name = "two"
title = "Two parts"
total = { min_s = 60.0, max_s = 120.0 }
[[parts]]
id = "before"
budget = { min_s = 20.0, max_s = 40.0 }
[[parts]]
id = "after"
budget = { min_s = 30.0, max_s = 60.0 }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_frameworks_parse() {
        for (name, _) in BUILT_IN {
            let framework = parse_built_in(name).expect("listed").expect("parses");
            assert_eq!(framework.name, name);
        }
        let failure = Framework::failure();
        let ids: Vec<&str> = failure.parts.iter().map(|p| p.id.name()).collect();
        assert_eq!(ids, ["choose", "describe", "own", "learn"]);
        assert_eq!(failure.largest, Some(AnswerPart::new("learn")));
    }

    #[test]
    fn parts_are_interned_and_compare_by_name() {
        let a = AnswerPart::new("situation");
        let b: AnswerPart = serde_json::from_str("\"situation\"").expect("reads");
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).expect("writes"), "\"situation\"");
        assert_ne!(a, AnswerPart::OTHER);
    }

    #[test]
    fn a_minimal_framework_gets_labels_and_an_order() {
        let f = Framework::parse(MINIMAL_FRAMEWORK, "two.toml").expect("parses");
        assert_eq!(f.parts[0].label, "Before");
        assert_eq!(f.order.start, [0.0, -1.5]);
        assert_eq!(f.order.from[1], [-1.5, 0.0]);
    }

    fn problem(text: &str) -> String {
        Framework::parse(text, "mine.toml")
            .expect_err("must be refused")
            .to_string()
    }

    #[test]
    fn each_bad_definition_is_one_line_naming_the_key() {
        let cases = [
            (
                MINIMAL_FRAMEWORK.replace("id = \"after\"", "id = \"before\""),
                "`parts[1].id` \"before\" is used twice",
            ),
            (
                MINIMAL_FRAMEWORK.replace("min_s = 30.0, max_s = 60.0", "min_s = 30.0, max_s = 6.0"),
                "`parts[1].budget.max_s` (6) must be at least `parts[1].budget.min_s` (30)",
            ),
            (
                MINIMAL_FRAMEWORK.replace("min_s = 30.0, max_s = 60.0", "min_s = 30.0, max_s = inf"),
                "`parts[1].budget.max_s` must be a number of seconds from 0 up to 3600 (an hour); it is inf",
            ),
            (
                MINIMAL_FRAMEWORK.replace("min_s = 30.0, max_s = 60.0", "min_s = 30.0, max_s = 1e12"),
                "`parts[1].budget.max_s` must be a number of seconds from 0 up to 3600",
            ),
            (
                MINIMAL_FRAMEWORK.replace("min_s = 60.0, max_s = 120.0", "min_s = 60.0, max_s = 1e9"),
                "`total.max_s` must be a number of seconds from 0 up to 3600",
            ),
            (
                format!("largest = \"middle\"\n{MINIMAL_FRAMEWORK}"),
                "`largest` names \"middle\", which is not one of the parts (before, after)",
            ),
            (
                format!("checks = [\"no_evidence\"]\n{MINIMAL_FRAMEWORK}"),
                "check \"no_evidence\" needs a part with role \"change\"",
            ),
            (
                format!("checks = [\"be_nice\"]\n{MINIMAL_FRAMEWORK}"),
                "`checks` has \"be_nice\", which is not a known check",
            ),
            (
                MINIMAL_FRAMEWORK.replace("id = \"after\"", "id = \"other\""),
                "`parts[1].id` \"other\" must be",
            ),
            (
                format!("{MINIMAL_FRAMEWORK}\n[order]\nstart = [0.0]\nfrom = {{}}\n"),
                "`order.start` has 1 scores; it needs one per part (2)",
            ),
        ];
        for (text, expected) in cases {
            let message = problem(&text);
            assert!(
                message.starts_with("the framework file mine.toml"),
                "{message}"
            );
            assert!(message.contains(expected), "{message}\nwanted: {expected}");
            assert_eq!(message.lines().count(), 1, "{message}");
        }
        let typo = MINIMAL_FRAMEWORK.replacen("title =", "titel =", 1);
        let unknown_key = problem(&typo);
        let typo_line = typo
            .lines()
            .position(|l| l.trim_start().starts_with("titel ="))
            .expect("the typo is on a line")
            + 1;
        assert!(
            unknown_key.contains(&format!(", line {typo_line} (`titel =")),
            "{unknown_key}"
        );
        assert_eq!(unknown_key.lines().count(), 1, "{unknown_key}");
    }
}
