//! "Try again" end to end, through the real audio server: an answer without its learning, the
//! words "try again" in place of the follow-up's answer, then the whole answer. Its own test
//! binary, so its transcriptions never share the two cores with the other hands-free test's.

#[allow(dead_code)]
#[path = "support/audio_server.rs"]
mod audio_server;
#[allow(dead_code)]
#[path = "support/session.rs"]
mod session;
#[allow(dead_code)]
#[path = "support/speech.rs"]
mod speech;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use audio_server::spoken;
use session::{session_command, wait_for_exit, wait_until_listening, ANSWER};

#[test]
fn saying_try_again_asks_the_question_again_and_compares_the_two_answers() {
    let server = audio_server::AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // The first attempt stops before the learning: its choose, describe and own sentences.
    let first = spoken(work.path(), "first", &ANSWER[..5]);
    let request = spoken(work.path(), "request", &["Try again."]);
    let second = spoken(work.path(), "second", ANSWER);
    let mut mic = server.microphone();

    let mut cmd = session_command(&data);
    server.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();

    let pause = || std::thread::sleep(Duration::from_millis(100));
    // Listening 1: the answer; 2: the follow-up's answer; 3: the question asked again.
    let dir = wait_until_listening(&data, 1, &mut child, pause);
    mic.silence(1.0);
    mic.play(&first);
    mic.silence(5.0);
    wait_until_listening(&data, 2, &mut child, pause);
    mic.silence(0.5);
    mic.play(&request);
    mic.silence(5.0);
    wait_until_listening(&data, 3, &mut child, pause);
    mic.silence(1.0);
    mic.play(&second);
    mic.silence(5.0);

    let output = wait_for_exit(child, || mic.silence(0.5));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "session failed:\n{stdout}\n{stderr}"
    );

    // The second report compares the attempts: the learning went from nothing to something.
    assert!(
        stdout.contains("The same question again: Describe a time you failed."),
        "{stdout}"
    );
    let session = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stdout.contains(&format!("Compared with your earlier answer ({session}:1)")),
        "{stdout}"
    );
    let compared = stdout
        .split("Compared with your earlier answer")
        .nth(1)
        .unwrap();
    let learn = compared
        .lines()
        .find(|l| l.trim_start().starts_with("Learn "))
        .unwrap_or_else(|| panic!("no learn row: {stdout}"));
    assert!(learn.contains(" 0 s -> "), "{learn}");

    // Both attempts are kept, the second linked to the first, in the index and the history.
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("session.json")).unwrap()).unwrap();
    let answers = index["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 2, "{index}");
    assert_eq!(answers[1]["retry_of"], format!("{session}:1"));
    for file in ["answer-1.wav", "answer-2.wav", "answer-2.report.json"] {
        assert!(
            dir.join(file).is_file(),
            "{file} missing; stdout:\n{stdout}"
        );
    }
    let history = Command::new(env!("CARGO_BIN_EXE_rehearse"))
        .arg("history")
        .env("REHEARSE_DATA_DIR", &data)
        .env("REHEARSE_CONFIG", work.path().join("no-config.toml"))
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&history.stdout);
    assert!(history.status.success(), "{listed}");
    assert!(
        listed.contains(&format!("(again, after {session}:1)")),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("({session}:1, {session}:2): 2 tries")),
        "{listed}"
    );
}
