//! `rehearse models ...` through the binary, against a local HTTP server on 127.0.0.1.

mod support;

use std::path::Path;
use std::process::Command;

use assert_cmd::assert::OutputAssertExt;
use serde_json::Value;
use sha1::{Digest, Sha1};
use support::http_server::TestServer;
use support::json::find;
use support::run::{fail, rehearse_binary, stdout_json, stdout_text};

fn rehearse(data_dir: &Path) -> Command {
    let mut cmd = rehearse_binary();
    cmd.env("REHEARSE_DATA_DIR", data_dir)
        .env("REHEARSE_CONFIG", "/nonexistent/rehearse-config.toml")
        .env_remove("REHEARSE_MODEL")
        .env_remove("REHEARSE_SENTENCE_MODEL");
    cmd
}

/// `models list --json` as `cmd` runs it, parsed: the entry of every model, installed or not.
fn model_list(cmd: &mut Command) -> Value {
    stdout_json(cmd.args(["models", "list", "--json"]))
}

/// `models check` of the provisioned Whisper model and of the sentence model at `sentence`:
/// the sentence model is what each check varies.
fn check_with_sentence_model(data_dir: &Path, sentence: &Path) -> Command {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = rehearse(data_dir);
    cmd.env("REHEARSE_MODEL", repo.join("models/ggml-tiny.en-q8_0.bin"))
        .env("REHEARSE_SENTENCE_MODEL", sentence)
        .args(["models", "check"]);
    cmd
}

/// The stderr of a command that must fail, checked to name each of `words`: what every refusal
/// here is checked for.
fn error_naming(cmd: &mut Command, words: &[&str]) -> String {
    let stderr = fail(cmd);
    for word in words {
        assert!(stderr.contains(word), "{word:?} not in {stderr}");
    }
    stderr
}

/// `models fetch tiny.en` from `server`, checked against the SHA-1 of `body`: how the tests of
/// a good download fetch.
fn fetch_tiny(data_dir: &Path, server: &TestServer, body: &[u8]) -> Command {
    let mut cmd = rehearse(data_dir);
    cmd.args(["models", "fetch", "tiny.en", "--url", &server.base_url()])
        .args(["--sha1", &sha1_hex(body)]);
    cmd
}

fn fake_model() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn fetch_installs_a_verified_file_and_list_shows_it() {
    let data = tempfile::tempdir().unwrap();
    let body = fake_model();
    let server = TestServer::builder("/ggml-tiny.en.bin", body.clone()).start();
    fetch_tiny(data.path(), &server, &body).assert().success();
    let installed = data.path().join("models/ggml-tiny.en.bin");
    assert_eq!(std::fs::read(&installed).unwrap(), body);
    let list = model_list(&mut rehearse(data.path()));
    assert_eq!(find(&list, "name", "tiny.en")["installed"], true);
    assert_eq!(find(&list, "name", "base.en")["installed"], false);
}

#[test]
fn fetch_rejects_a_file_whose_checksum_differs() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::builder("/ggml-tiny.en.bin", fake_model()).start();
    error_naming(
        rehearse(data.path()).args(["models", "fetch", "tiny.en", "--url", &server.base_url()]),
        &["c78c86eb1a8faa21b369bcd33207cc90d64ae9df"],
    );
    let models = data.path().join("models");
    assert!(!models.join("ggml-tiny.en.bin").exists());
    assert!(!models.join("ggml-tiny.en.bin.part").exists());
}

#[test]
fn an_interrupted_fetch_resumes_when_run_again() {
    let data = tempfile::tempdir().unwrap();
    let body = fake_model();
    let server = TestServer::builder("/ggml-tiny.en.bin", body.clone())
        .drop_first_after(100_000)
        .start();
    error_naming(
        &mut fetch_tiny(data.path(), &server, &body),
        &["run the same command again"],
    );
    assert!(!data.path().join("models/ggml-tiny.en.bin").exists());
    fetch_tiny(data.path(), &server, &body).assert().success();
    let requests = server.requests();
    let resumed = requests.last().unwrap();
    assert_eq!(resumed.range.as_deref(), Some("bytes=100000-"));
    assert_eq!(
        std::fs::read(data.path().join("models/ggml-tiny.en.bin")).unwrap(),
        body
    );
}

#[test]
fn an_unknown_model_name_lists_the_known_ones() {
    let data = tempfile::tempdir().unwrap();
    error_naming(
        rehearse(data.path()).args(["models", "fetch", "huge.xx"]),
        &["tiny.en", "small.en"],
    );
}

#[test]
fn a_missing_model_suggests_fetching_the_one_asked_for() {
    let data = tempfile::tempdir().unwrap();
    for (model, fetch) in [("base.en", "base.en"), ("tiny.en", "tiny.en")] {
        error_naming(
            rehearse(data.path()).args(["models", "check", "--model", model]),
            &[&format!("run `rehearse models fetch {fetch}`")],
        );
    }
}

#[test]
fn list_and_check_know_the_sentence_model() {
    let data = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sentence = |cmd: &mut Command| find(&model_list(cmd), "kind", "sentence");
    let missing = sentence(&mut rehearse(data.path()));
    assert_eq!(missing["name"], "all-MiniLM-L6-v2");
    assert_eq!(missing["installed"], false);
    let provisioned = repo.join("models/all-MiniLM-L6-v2");
    let present = sentence(rehearse(data.path()).env("REHEARSE_SENTENCE_MODEL", &provisioned));
    assert_eq!(present["installed"], true);

    let checked = stdout_text(&mut check_with_sentence_model(data.path(), &provisioned));
    assert!(checked.contains("pinned SHA-256"));

    // A copy with one byte changed is damaged, and `models check` says what fixes it.
    let damaged = data.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    for name in ["model.safetensors", "tokenizer.json", "config.json"] {
        std::fs::copy(provisioned.join(name), damaged.join(name)).unwrap();
    }
    let mut config = std::fs::read(damaged.join("config.json")).unwrap();
    config[0] ^= 1;
    std::fs::write(damaged.join("config.json"), config).unwrap();
    let stderr = error_naming(
        &mut check_with_sentence_model(data.path(), &damaged),
        &["damaged", "scripts/setup.sh"],
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_converted_model_is_chosen_by_the_name_list_gives_it() {
    let data = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = data.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    // Any valid ggml file stands in for a conversion that setup.sh made.
    let converted = models.join("ggml-base-q8_0.bin");
    std::fs::copy(repo.join("models/ggml-tiny.en-q8_0.bin"), &converted).unwrap();
    // The converted model is listed by its name.
    let listed = find(&model_list(&mut rehearse(data.path())), "name", "base-q8_0");
    assert_eq!(listed["installed"], true);
    let stdout = stdout_text(
        rehearse(data.path())
            .env(
                "REHEARSE_SENTENCE_MODEL",
                repo.join("models/all-MiniLM-L6-v2"),
            )
            .args(["models", "check", "--model", "base-q8_0"]),
    );
    assert!(
        stdout.contains(&converted.display().to_string()),
        "{stdout}"
    );
    // A name nothing answers to is still read as a path, and the error says so.
    fail(rehearse(data.path()).args(["models", "check", "--model", "base-q5_1"]));
}
