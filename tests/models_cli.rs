//! `rehearse models ...` through the binary, against a local HTTP server on 127.0.0.1.

#[allow(dead_code)]
mod support;

use assert_cmd::Command;
use sha1::{Digest, Sha1};
use support::http_server::TestServer;

fn rehearse(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("rehearse").unwrap();
    cmd.env("REHEARSE_DATA_DIR", data_dir)
        .env("REHEARSE_CONFIG", "/nonexistent/rehearse-config.toml")
        .env_remove("REHEARSE_MODEL")
        .env_remove("REHEARSE_SENTENCE_MODEL");
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
    rehearse(data.path())
        .args([
            "models",
            "fetch",
            "tiny.en",
            "--url",
            &server.base_url(),
            "--sha1",
            &sha1_hex(&body),
        ])
        .assert()
        .success();
    let installed = data.path().join("models/ggml-tiny.en.bin");
    assert_eq!(std::fs::read(&installed).unwrap(), body);
    let list = rehearse(data.path())
        .args(["models", "list", "--json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let tiny = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "tiny.en")
        .unwrap();
    assert_eq!(tiny["installed"], true);
    let base = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "base.en")
        .unwrap();
    assert_eq!(base["installed"], false);
}

#[test]
fn fetch_rejects_a_file_whose_checksum_differs() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::builder("/ggml-tiny.en.bin", fake_model()).start();
    let output = rehearse(data.path())
        .args(["models", "fetch", "tiny.en", "--url", &server.base_url()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("c78c86eb1a8faa21b369bcd33207cc90d64ae9df"),
        "{stderr}"
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
    let args = [
        "models",
        "fetch",
        "tiny.en",
        "--url",
        &server.base_url(),
        "--sha1",
        &sha1_hex(&body),
    ];
    let first = rehearse(data.path()).args(args).output().unwrap();
    assert!(!first.status.success());
    assert!(String::from_utf8_lossy(&first.stderr).contains("run the same command again"));
    assert!(!data.path().join("models/ggml-tiny.en.bin").exists());
    rehearse(data.path()).args(args).assert().success();
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
    let output = rehearse(data.path())
        .args(["models", "fetch", "huge.xx"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tiny.en") && stderr.contains("small.en"),
        "{stderr}"
    );
}

#[test]
fn a_missing_model_suggests_fetching_the_one_asked_for() {
    let data = tempfile::tempdir().unwrap();
    for (model, fetch) in [("base.en", "base.en"), ("tiny.en", "tiny.en")] {
        let output = rehearse(data.path())
            .args(["models", "check", "--model", model])
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("run `rehearse models fetch {fetch}`")),
            "{stderr}"
        );
    }
}

#[test]
fn list_and_check_know_the_sentence_model() {
    let data = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sentence = |cmd: &mut Command| -> serde_json::Value {
        let out = cmd.args(["models", "list", "--json"]).output().unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "sentence")
            .cloned()
            .expect("the sentence model is listed")
    };
    let missing = sentence(&mut rehearse(data.path()));
    assert_eq!(missing["name"], "all-MiniLM-L6-v2");
    assert_eq!(missing["installed"], false);
    let provisioned = repo.join("models/all-MiniLM-L6-v2");
    let present = sentence(rehearse(data.path()).env("REHEARSE_SENTENCE_MODEL", &provisioned));
    assert_eq!(present["installed"], true);

    let whisper = repo.join("models/ggml-tiny.en-q8_0.bin");
    let checked = rehearse(data.path())
        .env("REHEARSE_MODEL", &whisper)
        .env("REHEARSE_SENTENCE_MODEL", &provisioned)
        .args(["models", "check"])
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(String::from_utf8_lossy(&checked.stdout).contains("pinned SHA-256"));

    // A copy with one byte changed is damaged, and `models check` says what fixes it.
    let damaged = data.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    for name in ["model.safetensors", "tokenizer.json", "config.json"] {
        std::fs::copy(provisioned.join(name), damaged.join(name)).unwrap();
    }
    let mut config = std::fs::read(damaged.join("config.json")).unwrap();
    config[0] ^= 1;
    std::fs::write(damaged.join("config.json"), config).unwrap();
    let failed = rehearse(data.path())
        .env("REHEARSE_MODEL", &whisper)
        .env("REHEARSE_SENTENCE_MODEL", &damaged)
        .args(["models", "check"])
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("damaged") && stderr.contains("scripts/setup.sh"),
        "{stderr}"
    );
}

#[test]
fn a_converted_model_is_chosen_by_the_name_list_gives_it() {
    let data = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = data.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    // Any valid ggml file stands in for a conversion that setup.sh made.
    let converted = models.join("ggml-base-q8_0.bin");
    std::fs::copy(repo.join("models/ggml-tiny.en-q8_0.bin"), &converted).unwrap();
    let out = rehearse(data.path())
        .args(["models", "list", "--json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "base-q8_0")
        .cloned()
        .expect("the converted model is listed by its name");
    assert_eq!(listed["installed"], true);
    let checked = rehearse(data.path())
        .env(
            "REHEARSE_SENTENCE_MODEL",
            repo.join("models/all-MiniLM-L6-v2"),
        )
        .args(["models", "check", "--model", "base-q8_0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && stdout.contains(&converted.display().to_string()),
        "{stdout}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // A name nothing answers to is still read as a path, and the error says so.
    let missing = rehearse(data.path())
        .args(["models", "check", "--model", "base-q5_1"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
}
