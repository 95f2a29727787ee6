//! `rehearse questions list`: the built-in bank, filtered by level, extended by the user's file.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::run::{fail, rehearse_binary, stdout_json, stdout_text};

fn rehearse(args: &[&str]) -> Command {
    let mut cmd = rehearse_binary();
    cmd.args(args)
        .env("REHEARSE_CONFIG", "/nonexistent/rehearse-test/config.toml");
    cmd
}

fn listed(args: &[&str]) -> Vec<Value> {
    stdout_json(&mut rehearse(args)).as_array().unwrap().clone()
}

/// The user's own question file, `mine.toml` in `dir`, holding `toml`; returns its path.
fn questions_file(dir: &Path, toml: &str) -> PathBuf {
    let file = dir.join("mine.toml");
    std::fs::write(&file, toml).unwrap();
    file
}

#[test]
fn a_level_lists_only_the_questions_that_suit_it() {
    let all = listed(&["questions", "list", "--json"]);
    let senior = listed(&["questions", "list", "--level", "senior", "--json"]);
    let early = listed(&["questions", "list", "--level", "early", "--json"]);
    assert!(senior.len() >= 6 && early.len() >= 6);
    assert!(senior.len() < all.len() && early.len() < all.len());
    for question in &senior {
        let levels = question["levels"].as_array().unwrap();
        assert!(
            levels.is_empty() || levels.contains(&Value::from("senior")),
            "{question}"
        );
        assert!(!question["followups"].as_array().unwrap().is_empty());
        assert_eq!(
            question["framework"],
            Value::Null,
            "yours applies: {question}"
        );
    }
    assert!(senior.iter().any(|q| q["id"] == "bet-did-not-pay-off"));
    assert!(!early.iter().any(|q| q["id"] == "bet-did-not-pay-off"));
}

#[test]
fn the_text_listing_shows_levels_and_followups_and_includes_the_users_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = questions_file(
        dir.path(),
        "[[question]]\nid = \"my-launch\"\ntext = \"Tell me about the launch that slipped.\"\n\
         followups = [\"Who did you tell first?\"]\nframework = \"star\"\n",
    );
    let text = stdout_text(&mut rehearse(&[
        "questions",
        "list",
        "--questions",
        file.to_str().unwrap(),
    ]));
    assert!(
        text.starts_with(
            "failed  [early, mid, senior; failure]\n  Describe a time you failed.\n    - "
        ),
        "{text}"
    );
    assert!(text.contains("my-launch  [all levels; star]\n  Tell me about the launch that slipped.\n    - Who did you tell first?\n"), "{text}");

    questions_file(dir.path(), "[[question]]\nid = \"x\"\ntext = \"\"\n");
    let error = fail(&mut rehearse(&[
        "questions",
        "list",
        "--questions",
        file.to_str().unwrap(),
    ]));
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.contains("mine.toml") && error.contains("has no text"),
        "{error}"
    );
}

#[test]
fn a_hint_gives_the_questions_parts_for_the_level_and_its_own_framework() {
    let text = stdout_text(&mut rehearse(&[
        "hint",
        "missed-deadline",
        "--level",
        "senior",
    ]));
    assert!(
        text.starts_with("Tell me about a time you missed a deadline or a commitment.\n"),
        "{text}"
    );
    for label in [
        "\nChoose  20-40 s",
        "\nDescribe  45-75 s",
        "\nOwn  20-40 s",
        "\nLearn  60-90 s",
    ] {
        assert!(text.contains(label), "{label}: {text}");
    }
    assert_eq!(
        text.matches("e.g. a hospital ward manager:").count(),
        4,
        "{text}"
    );

    // A question of the user's naming STAR gets STAR's parts.
    let dir = tempfile::tempdir().unwrap();
    let file = questions_file(
        dir.path(),
        "[[question]]\nid = \"my-launch\"\ntext = \"Tell me about the launch that slipped.\"\n\
         framework = \"star\"\n",
    );
    let text = stdout_text(&mut rehearse(&[
        "hint",
        "my-launch",
        "--questions",
        file.to_str().unwrap(),
    ]));
    assert!(text.contains("\nAction  45-75 s  what you did\n"), "{text}");
    assert!(!text.contains("\nChoose "), "{text}");

    let error = fail(&mut rehearse(&["hint", "no-such-question"]));
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.contains("no question with the id 'no-such-question'")
            && error.contains("missed-deadline"),
        "{error}"
    );
}
