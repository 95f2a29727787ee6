//! Guidance before an answer (`rehearse hint`, or "hint" said when a question is asked): the
//! framework's parts in order, each with its time budget, what it should contain at the
//! candidate's level and one example sentence from another line of work. Guidance, not a
//! script: the examples are whole other stories, so there is nothing to read out.

use crate::analysis::{capitalised, Budget, Framework, Level};
use crate::report::terminal::wrap;

/// The hint as printed on the command line.
pub fn printed(question: &str, framework: &Framework, level: Level) -> String {
    let count = framework.parts.len();
    let mut text = format!(
        "{question}\n\nA strong answer at the {} level has {count} {}, {} in all:\n",
        level.name(),
        if count == 1 { "part" } else { "parts" },
        seconds_range(&framework.total)
    );
    for part in &framework.parts {
        text.push_str(&format!(
            "\n{}  {}  {}\n",
            part.label,
            seconds_range(&part.budget),
            part.title
        ));
        let Some(hint) = &part.hint else { continue };
        let mut lines = wrap(&hint.contains, "  ", 2);
        if let Some(note) = hint.level.at(level) {
            lines.extend(wrap(note, "  ", 2));
        }
        if let Some(example) = hint.example(level) {
            let said = format!("e.g. {}: \"{}\"", example.who, example.says);
            lines.extend(wrap(&said, "  ", 4));
        }
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text.push_str("\nThis is guidance, not a script: tell your own story in your own words.\n");
    text
}

/// The hint as the session says it: each part with its budget and what it should contain (the
/// examples are for reading; said aloud they would be heard as an answer to copy).
pub fn spoken(framework: &Framework, level: Level) -> String {
    let count = framework.parts.len();
    let mut text = format!(
        "Here is a shape for your answer, in {count} {}, about {} in all.",
        if count == 1 { "part" } else { "parts" },
        spoken_seconds_range(&framework.total)
    );
    for part in &framework.parts {
        text.push_str(&format!(
            " {}, {}.",
            capitalised(&part.title),
            spoken_seconds_range(&part.budget)
        ));
        if let Some(hint) = &part.hint {
            text.push(' ');
            text.push_str(&hint.contains);
            if let Some(note) = hint.level.at(level) {
                text.push(' ');
                text.push_str(note);
            }
        }
    }
    text
}

/// "20-40 s", or "3-3.5 min" from three minutes up.
fn seconds_range(budget: &Budget) -> String {
    range(budget, "-", " s", " min")
}

/// "20 to 40 seconds", or "3 to 3.5 minutes": as text-to-speech reads it well.
fn spoken_seconds_range(budget: &Budget) -> String {
    range(budget, " to ", " seconds", " minutes")
}

fn range(budget: &Budget, to: &str, seconds: &str, minutes_unit: &str) -> String {
    if budget.min_s >= 180.0 {
        let (min, max) = (minutes(budget.min_s), minutes(budget.max_s));
        format!("{min}{to}{max}{minutes_unit}")
    } else {
        format!("{:.0}{to}{:.0}{seconds}", budget.min_s, budget.max_s)
    }
}

/// Minutes to the half: 3, 3.5.
fn minutes(seconds: f64) -> String {
    let halves = (seconds / 30.0).round() / 2.0;
    if halves.fract() == 0.0 {
        format!("{halves:.0}")
    } else {
        format!("{halves:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_hint_gives_every_part_its_budget_guidance_and_an_example_for_the_level() {
        let framework = Framework::failure();
        let text = printed("Describe a time you failed.", &framework, Level::Senior);
        assert!(text.starts_with("Describe a time you failed.\n"));
        assert!(
            text.contains("A strong answer at the senior level has 4 parts, 3-3.5 min in all:"),
            "{text}"
        );
        for (label, budget) in [
            ("Choose", "20-40 s"),
            ("Describe", "45-75 s"),
            ("Own", "20-40 s"),
            ("Learn", "60-90 s"),
        ] {
            assert!(
                text.contains(&format!("\n{label}  {budget}  ")),
                "{label}: {text}"
            );
        }
        // One example per part, all from the senior story, none from another level's.
        assert_eq!(
            text.matches("e.g. a hospital ward manager:").count(),
            4,
            "{text}"
        );
        assert!(!text.contains("trainee accountant") && !text.contains("teacher"));
        // The senior note on the learning part.
        assert!(text.contains("reaching past\n  you") || text.contains("reaching past you"));
        assert!(text.contains("guidance, not a script"));
    }

    #[test]
    fn each_level_gets_its_own_story() {
        let framework = Framework::failure();
        let early = printed("Q", &framework, Level::Early);
        let mid = printed("Q", &framework, Level::Mid);
        assert_eq!(early.matches("e.g. a trainee accountant:").count(), 4);
        assert_eq!(mid.matches("e.g. a secondary-school teacher:").count(), 4);
        assert!(early.contains("first job"), "the early note: {early}");
        assert!(!mid.contains("first job") && !mid.contains("reaching past you"));
    }

    #[test]
    fn a_framework_without_hints_still_gives_its_parts_and_budgets() {
        let framework = Framework::parse(
            "name = \"plain\"\ntitle = \"Plain\"\ntotal = { min_s = 60.0, max_s = 120.0 }\n\
             [[parts]]\nid = \"story\"\nbudget = { min_s = 60.0, max_s = 120.0 }\n",
            "test",
        )
        .unwrap();
        let text = printed("Q", &framework, Level::Mid);
        assert!(
            text.contains("at the mid level has 1 part, 60-120 s in all:"),
            "{text}"
        );
        assert!(text.contains("\nStory  60-120 s  story\n"), "{text}");
        assert_eq!(
            spoken(&framework, Level::Mid),
            "Here is a shape for your answer, in 1 part, about 60 to 120 seconds in all. \
             Story, 60 to 120 seconds."
        );
    }

    #[test]
    fn the_spoken_hint_says_the_parts_and_their_guidance_without_the_examples() {
        let text = spoken(&Framework::failure(), Level::Mid);
        assert!(text.starts_with(
            "Here is a shape for your answer, in 4 parts, about 3 to 3.5 minutes in all. \
             Choosing the failure, 20 to 40 seconds."
        ));
        assert!(text.contains("What you learned and changed, 60 to 90 seconds. The longest part"));
        assert!(!text.contains("teacher") && !text.contains("e.g."));
    }

    #[test]
    fn a_hint_with_a_control_character_or_two_examples_for_a_level_is_refused() {
        let base = "name = \"plain\"\ntitle = \"Plain\"\ntotal = { min_s = 60.0, max_s = 120.0 }\n\
                    [[parts]]\nid = \"story\"\nbudget = { min_s = 60.0, max_s = 120.0 }\n\
                    [parts.hint]\n";
        let escape = format!("{base}contains = \"red \\u001b[31m text\"\n");
        let error = Framework::parse(&escape, "mine.toml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`hint.contains` holds a control character"),
            "{error}"
        );
        let twice = format!(
            "{base}contains = \"Tell it.\"\n\
             [[parts.hint.examples]]\nlevel = \"mid\"\nwho = \"a chef\"\nsays = \"One.\"\n\
             [[parts.hint.examples]]\nlevel = \"mid\"\nwho = \"a chef\"\nsays = \"Two.\"\n"
        );
        let error = Framework::parse(&twice, "mine.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("two for the mid level"), "{error}");
    }
}
