//! `rehearse history`, `report` and `hint`: looking back at saved answers, and a hint before
//! the next one.

use anyhow::{bail, Result};

use crate::analysis::Level;
use crate::app::cli::{HintArgs, ReportArgs};
use crate::app::config::Config;
use crate::library::questions;
use crate::paths;
use crate::report::terminal;
use crate::report::{history as answer_history, html as report_html};
use crate::store::saved;
use crate::{out, outln};

use super::{load_config, load_framework, stdout_color, terminal_width};

pub fn history(json: bool) -> Result<()> {
    let list = saved::read_all(&paths::sessions_dir()?)?;
    for problem in &list.unreadable {
        eprintln!("skipped: {problem}");
    }
    let history = answer_history::build(&list.sessions);
    if json {
        outln!("{}", serde_json::to_string_pretty(&history)?)?;
    } else {
        out!(
            "{}",
            answer_history::render_terminal(&history, terminal_width())
        )?;
    }
    Ok(())
}

pub fn report(args: &ReportArgs) -> Result<()> {
    let selection = saved::select(&args.selection, &paths::sessions_dir()?)?;
    if selection.answers().next().is_none() {
        bail!(
            "session {} has no answers: it ended before a question was answered",
            selection.session.id
        );
    }
    match &args.html {
        Some(file) => {
            let page = report_html::render(&selection)?;
            report_html::save(&page, file, &paths::data_dir()?, args.force)?;
            outln!("{}", file.display())?;
        }
        None => {
            let color = stdout_color();
            for answer in selection.answers() {
                outln!("{}. {}\n", answer.number, answer.question)?;
                match &answer.report {
                    Some(report) => out!("{}", terminal::render_terminal(report, color))?,
                    None => outln!("No answer was heard.")?,
                }
                if let Some(followup) = &answer.followup {
                    outln!("\nFollow-up: {}\n> {}", followup.question, followup.answer)?;
                }
                outln!()?;
            }
        }
    }
    Ok(())
}

pub fn hint(args: &HintArgs) -> Result<()> {
    let flags = Config {
        level: args.level.map(Level::from),
        framework: args.framework.clone(),
        ..Config::default()
    };
    let settings = load_config()?.settings(&flags);
    let bank = questions::load_bank(args.questions.as_deref())?;
    let question = match &args.question {
        Some(id) => bank.iter().find(|q| &q.id == id).cloned().ok_or_else(|| {
            let known: Vec<&str> = bank.iter().map(|q| q.id.as_str()).collect();
            anyhow::anyhow!(
                "no question with the id '{id}'; known: {} (`rehearse questions list`)",
                known.join(", ")
            )
        })?,
        None => questions::for_level(&bank, settings.level)
            .into_iter()
            .next()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no question in the bank suits the {} level; name one",
                    settings.level.name()
                )
            })?,
    };
    let framework = load_framework(
        question.framework.as_deref().unwrap_or(&settings.framework),
        &settings,
    )?;
    out!(
        "{}",
        crate::report::hint::printed(&question.text, &framework, settings.level)
    )?;
    Ok(())
}
