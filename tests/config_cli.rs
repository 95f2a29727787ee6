//! `rehearse config` and the config file's effect on the other commands.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::json::find;
use support::run::{assert_success, rehearse_binary};

fn rehearse(config: &Path, args: &[&str]) -> Output {
    rehearse_binary()
        .args(args)
        .env("REHEARSE_CONFIG", config)
        .env(
            "REHEARSE_SENTENCE_MODEL",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models/all-MiniLM-L6-v2"),
        )
        .env(
            "REHEARSE_DATA_DIR",
            config.parent().expect("the config is in a test directory"),
        )
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn error(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "expected a failure: {}",
        text(output)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn init_writes_a_template_once_and_show_marks_what_the_file_sets() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nested/config.toml");
    assert_eq!(
        text(&rehearse(&config, &["config", "path"])),
        format!("{}\n", config.display())
    );
    let shown = text(&rehearse(&config, &["config", "show"]));
    assert!(
        shown.contains("(not created yet: `rehearse config init`)"),
        "{shown}"
    );

    assert!(rehearse(&config, &["config", "init"]).status.success());
    let template = std::fs::read_to_string(&config).unwrap();
    assert!(template.contains("#end_silence_s = 3.0"));
    let refused = error(&rehearse(&config, &["config", "init"]));
    assert_eq!(
        refused,
        format!(
            "error: {} already exists; pass --force to replace it with the template\n",
            config.display()
        )
    );

    std::fs::write(
        &config,
        template.replace("#level = \"mid\"", "level = \"senior\""),
    )
    .unwrap();
    let shown = text(&rehearse(&config, &["config", "show"]));
    let level = shown.lines().find(|l| l.starts_with("level = ")).unwrap();
    assert!(level.starts_with("level = \"senior\"") && level.ends_with("# config file"));
    let silence = shown
        .lines()
        .find(|l| l.starts_with("end_silence_s = "))
        .unwrap();
    assert!(silence.ends_with("# default"), "{silence}");

    assert!(rehearse(&config, &["config", "init", "--force"])
        .status
        .success());
    assert_eq!(std::fs::read_to_string(&config).unwrap(), template);
}

/// A short answer as `transcribe --json` prints it.
fn transcript(dir: &Path) -> String {
    let words: Vec<Value> = "The failure I pick is a release I broke last year. I should have tested it. Since then I test every release."
        .split(' ')
        .enumerate()
        .map(|(i, w)| {
            serde_json::json!({"text": w, "start_s": 0.5 + i as f64 * 0.4,
                               "end_s": 0.8 + i as f64 * 0.4, "probability": 0.9})
        })
        .collect();
    let path = dir.join("answer.json");
    std::fs::write(
        &path,
        serde_json::json!({"duration_s": 10.0, "words": words}).to_string(),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn budgets_in_the_config_file_are_what_analyze_measures_against() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[budgets.own]\nmin_s = 1.0\nmax_s = 4.0\n").unwrap();
    let input = transcript(dir.path());
    let output = rehearse(&config, &["analyze", &input, "--json"]);
    assert_success(&output);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let part = |name: &str| find(&report["parts"], "part", name);
    assert_eq!(part("own")["budget_min_s"], 1.0);
    assert_eq!(part("own")["budget_max_s"], 4.0);
    assert_eq!(part("learn")["budget_min_s"], 60.0);
}

#[test]
fn a_bad_value_stops_every_command_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let input = transcript(dir.path());
    for (file, key) in [
        (
            "end_silence_s = -2\n",
            "`end_silence_s` must be a number of seconds more than 0",
        ),
        (
            "[budgets.choose]\nmin_s = 50\nmax_s = 10\n",
            "`budgets.choose.max_s` (10) must be at least",
        ),
        (
            "speaking_rate = \"fast\"\n",
            "line 1 (`speaking_rate = \"fast\"`)",
        ),
    ] {
        std::fs::write(&config, file).unwrap();
        for args in [
            vec!["analyze", input.as_str()],
            vec!["config", "show"],
            vec!["session", "--silent"],
        ] {
            let message = error(&rehearse(&config, &args));
            assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
            assert!(
                message.starts_with(&format!("error: the config file {}", config.display()))
                    && message.contains(key),
                "{args:?}: {message}"
            );
        }
    }
}
