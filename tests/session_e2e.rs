//! The hands-free session end to end, through a real audio server: PulseAudio with a virtual
//! microphone and speaker, ALSA routed to it (what cpal uses), speech-dispatcher + espeak-ng
//! speaking the questions, and the real tiny.en model.

mod support;

use std::time::Duration;

use support::audio_server::{spoken, AudioServer};
use support::json::{find, read_json};
use support::run::assert_success;
use support::session::{
    answer_when_listening, assert_question_spoken, events, spawn_on, wait_for_exit, ANSWER,
    FOLLOWUP_ANSWER,
};
use support::speech;

#[test]
fn a_whole_answer_and_followup_hands_free_through_a_real_audio_server() {
    let server = AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let answer = spoken(work.path(), "answer", ANSWER);
    let followup = spoken(work.path(), "followup", &[FOLLOWUP_ANSWER]);
    let speaker_wav = work.path().join("speaker.wav");
    let speaker = server.record_speaker(&speaker_wav);
    // parecord needs a moment to connect before the first question is spoken.
    std::thread::sleep(Duration::from_secs(1));
    let mut mic = server.microphone();
    let mut child = spawn_on(&server, &data);

    let dir = answer_when_listening(&data, 1, &mut child, &mut mic, 1.0, &answer);
    answer_when_listening(&data, 2, &mut child, &mut mic, 0.5, &followup);

    // Keep the microphone fed with silence, as a real one would be.
    let output = wait_for_exit(child, || mic.silence(0.5));
    AudioServer::stop_recording(speaker);
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);

    // The answer's recording, transcript and report, with all four parts timed.
    for file in [
        "answer-1.wav",
        "answer-1.transcript.json",
        "answer-1.report.json",
        "session.md",
    ] {
        assert!(
            dir.join(file).is_file(),
            "{file} missing; stdout:\n{stdout}"
        );
    }
    let report = read_json(&dir.join("answer-1.report.json"));
    let transcript = report["transcript"].as_str().unwrap();
    assert!(
        speech::word_error_rate(&ANSWER.join(" "), transcript) <= 0.25,
        "transcript {transcript:?}"
    );
    for part in ["choose", "describe", "own", "learn"] {
        let timed = find(&report["parts"], "part", part);
        assert!(
            timed["duration_s"].as_f64().unwrap() > 1.0,
            "{part} not timed: {timed}"
        );
    }

    // A follow-up was asked and its answer captured.
    let log = events(&dir);
    let asked = log
        .iter()
        .find(|e| e["event"] == "followup_asked")
        .expect("no follow-up asked");
    assert!(!asked["detail"]["text"].as_str().unwrap().is_empty());
    let followup_transcript =
        std::fs::read_to_string(dir.join("answer-1-followup.transcript.json")).unwrap();
    assert!(
        followup_transcript.contains("sales"),
        "{followup_transcript}"
    );

    // The report came within 2 s of the end-of-answer decision.
    let written = log.iter().find(|e| e["event"] == "report_written").unwrap();
    let after_end = written["detail"]["after_end_s"].as_f64().unwrap();
    assert!(
        after_end <= 2.0,
        "report {after_end:.2} s after the end of the answer"
    );

    // The question was spoken aloud: transcribe the speaker's recording back.
    assert_question_spoken(work.path(), &speaker_wav, &stdout);
}
