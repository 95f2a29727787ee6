//! Answer frameworks through the binary: the built-in ones listed and shown, a user's own read
//! from the frameworks folder and used by `analyze`, the config's default, and a bad framework
//! refused with one line before a session records anything.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::json::strings;
use support::run::{fail, rehearse_binary, stdout_json, stdout_text};

/// A STAR-shaped answer, written for this test.
const STAR_ANSWER: &str = "At the time I was working at a regional bus company and the team \
    was two months behind on a timetable rewrite. My job was to get the new timetables to every \
    depot before the winter schedule started. First I split the routes between three planners, \
    then I wrote a checklist for each depot and I met with every depot manager on Mondays. As a \
    result we delivered all the timetables a week early and the complaints went down by half.";

/// `rehearse` with the config file (and so the frameworks folder) in `config_dir`.
fn rehearse(config_dir: &Path) -> Command {
    let mut cmd = rehearse_binary();
    cmd.env("REHEARSE_CONFIG", config_dir.join("config.toml"))
        .env("REHEARSE_DATA_DIR", config_dir.join("data"))
        .env(
            "REHEARSE_SENTENCE_MODEL",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models/all-MiniLM-L6-v2"),
        )
        .env("NO_COLOR", "1");
    cmd
}

/// The stdout of a command that must succeed.
fn printed(config_dir: &Path, args: &[&str]) -> String {
    stdout_text(rehearse(config_dir).args(args))
}

/// The JSON output of a command that must succeed (an `analyze --json` report).
fn json(config_dir: &Path, args: &[&str]) -> Value {
    stdout_json(rehearse(config_dir).args(args))
}

fn transcript_file(dir: &Path, text: &str) -> String {
    let transcript = rehearse::transcript::paced::timed_transcript(text, 150.0);
    let path = dir.join("answer.json");
    std::fs::write(&path, serde_json::to_vec(&transcript).unwrap()).unwrap();
    path.to_string_lossy().into_owned()
}

fn part_ids(report: &Value) -> Vec<&str> {
    strings(&report["parts"], "part")
}

#[test]
fn built_in_frameworks_are_listed_and_shown_as_toml() {
    let home = tempfile::tempdir().unwrap();
    let listed = printed(home.path(), &["frameworks", "list"]);
    assert!(listed.starts_with("failure  Describe a time you failed  (built in)\n  Choose a real failure, describe it honestly, own your part, then spend the most time on what you learned and changed, with evidence.\n  choose 20-40 s, describe 45-75 s, own 20-40 s, learn 60-90 s; whole answer 180-210 s\n"), "{listed}");
    assert!(
        listed.contains("star  Situation, task, action, result  (built in)"),
        "{listed}"
    );
    let shown = printed(home.path(), &["frameworks", "show", "failure"]);
    assert!(shown.contains("name = \"failure\""), "{shown}");
    assert!(shown.contains("[[parts]]\nid = \"learn\""), "{shown}");
    let dir = printed(home.path(), &["frameworks", "dir"]);
    assert_eq!(dir.trim(), home.path().join("frameworks").to_string_lossy());
}

#[test]
fn a_users_framework_is_read_from_the_folder_and_used_by_analyze() {
    let home = tempfile::tempdir().unwrap();
    let answer = transcript_file(home.path(), STAR_ANSWER);
    // The built-in STAR file, copied under another name with a longer action budget.
    let star = printed(home.path(), &["frameworks", "show", "star"]);
    let mine = star.replace("name = \"star\"", "name = \"mine\"").replace(
        "budget = { min_s = 45.0, max_s = 75.0 }",
        "budget = { min_s = 50.0, max_s = 95.0 }",
    );
    std::fs::create_dir_all(home.path().join("frameworks")).unwrap();
    std::fs::write(home.path().join("frameworks/mine.toml"), mine).unwrap();

    let listed = printed(home.path(), &["frameworks", "list"]);
    assert!(
        listed.contains("mine  Situation, task, action, result  ("),
        "{listed}"
    );
    assert!(listed.contains("action 50-95 s"), "{listed}");

    let report = json(
        home.path(),
        &["analyze", &answer, "--framework", "mine", "--json"],
    );
    assert_eq!(report["framework"], "mine");
    assert_eq!(part_ids(&report), ["situation", "task", "action", "result"]);
    assert_eq!(
        strings(&report["sentences"], "part"),
        ["situation", "task", "action", "result"]
    );
    assert_eq!(report["parts"][2]["budget_max_s"], 95.0);

    // The terminal report uses the framework's labels and its emphasis.
    let text = printed(home.path(), &["analyze", &answer, "--framework", "mine"]);
    assert!(text.contains("\nSituation "), "{text}");
    assert!(text.contains("Action is the largest part"), "{text}");
}

#[test]
fn the_config_chooses_the_default_framework_and_flags_override_it() {
    let home = tempfile::tempdir().unwrap();
    let answer = transcript_file(home.path(), STAR_ANSWER);
    std::fs::write(
        home.path().join("config.toml"),
        "framework = \"star\"\n[budgets.result]\nmin_s = 5.0\nmax_s = 15.0\n",
    )
    .unwrap();
    let report = json(home.path(), &["analyze", &answer, "--json"]);
    assert_eq!(part_ids(&report), ["situation", "task", "action", "result"]);
    assert_eq!(report["parts"][3]["budget_min_s"], 5.0);
    let report = json(
        home.path(),
        &["analyze", &answer, "--framework", "failure", "--json"],
    );
    assert_eq!(part_ids(&report), ["choose", "describe", "own", "learn"]);
}

#[test]
fn a_bad_framework_is_one_line_and_stops_a_session_before_it_records() {
    let home = tempfile::tempdir().unwrap();
    let answer = transcript_file(home.path(), STAR_ANSWER);
    std::fs::create_dir_all(home.path().join("frameworks")).unwrap();
    let bad = home.path().join("frameworks/broken.toml");
    std::fs::write(
        &bad,
        "name = \"broken\"\ntitle = \"Broken\"\ntotal = { min_s = 60.0, max_s = 90.0 }\n\
         checks = [\"no_evidence\"]\n[[parts]]\nid = \"only\"\nbudget = { min_s = 10.0, max_s = 20.0 }\n",
    )
    .unwrap();
    let stderr = fail(rehearse(home.path()).args(["analyze", &answer, "--framework", "broken"]));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("broken.toml"), "{stderr}");
    assert!(
        stderr.contains("check \"no_evidence\" needs a part with role \"change\""),
        "{stderr}"
    );

    let stderr = fail(rehearse(home.path()).args(["analyze", &answer, "--framework", "soar"]));
    assert!(
        stderr.contains("no framework named 'soar'; known: failure, star, broken"),
        "{stderr}"
    );

    // A question naming an unknown framework: refused before the model, devices or recording.
    let questions = home.path().join("questions.toml");
    std::fs::write(
        &questions,
        "mode = \"replace\"\n[[question]]\nid = \"bus\"\ntext = \"Tell me about a deadline you met.\"\nframework = \"soar\"\n",
    )
    .unwrap();
    let stderr = fail(rehearse(home.path()).args([
        "session",
        "--questions",
        questions.to_str().unwrap(),
        "--silent",
        "--input",
        "/nonexistent.wav",
    ]));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("question \"bus\" names the framework 'soar'"),
        "{stderr}"
    );
    assert!(!home.path().join("data/sessions").exists());
}
