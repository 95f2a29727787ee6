//! "Try again" end to end, through the real audio server: an answer without its learning, the
//! words "try again" in place of the follow-up's answer, then the whole answer. Its own test
//! binary, so its transcriptions never share the two cores with the other hands-free test's.

mod support;

use support::audio_server::{spoken, AudioServer};
use support::json::read_json;
use support::run::{assert_success, rehearse_binary, stdout_text};
use support::session::{
    answer_when_listening, assert_learning_compared, spawn_on, wait_for_exit, ANSWER,
};

#[test]
fn saying_try_again_asks_the_question_again_and_compares_the_two_answers() {
    let server = AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // The first attempt stops before the learning: its choose, describe and own sentences.
    let first = spoken(work.path(), "first", &ANSWER[..5]);
    let request = spoken(work.path(), "request", &["Try again."]);
    let second = spoken(work.path(), "second", ANSWER);
    let mut mic = server.microphone();
    let mut child = spawn_on(&server, &data);

    // Listening 1: the answer; 2: the follow-up's answer; 3: the question asked again.
    let dir = answer_when_listening(&data, 1, &mut child, &mut mic, 1.0, &first);
    answer_when_listening(&data, 2, &mut child, &mut mic, 0.5, &request);
    answer_when_listening(&data, 3, &mut child, &mut mic, 1.0, &second);

    let output = wait_for_exit(child, || mic.silence(0.5));
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);

    // The second report compares the attempts: the learning went from nothing to something.
    assert!(
        stdout.contains("The same question again: Describe a time you failed."),
        "{stdout}"
    );
    let session = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert_learning_compared(&stdout, &format!("{session}:1"));

    // Both attempts are kept, the second linked to the first, in the index and the history.
    let index = read_json(&dir.join("session.json"));
    let answers = index["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 2, "{index}");
    assert_eq!(answers[1]["retry_of"], format!("{session}:1"));
    for file in ["answer-1.wav", "answer-2.wav", "answer-2.report.json"] {
        assert!(
            dir.join(file).is_file(),
            "{file} missing; stdout:\n{stdout}"
        );
    }
    let listed = stdout_text(
        rehearse_binary()
            .arg("history")
            .env("REHEARSE_DATA_DIR", &data)
            .env("REHEARSE_CONFIG", work.path().join("no-config.toml")),
    );
    assert!(
        listed.contains(&format!("(again, after {session}:1)")),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("({session}:1, {session}:2): 2 tries")),
        "{listed}"
    );
}
