//! The hands-free session end to end, through a real audio server: PulseAudio with a virtual
//! microphone and speaker, ALSA routed to it (what cpal uses), speech-dispatcher + espeak-ng
//! speaking the questions, and the real tiny.en model.

#[allow(dead_code)]
#[path = "support/audio_server.rs"]
mod audio_server;
#[path = "support/session.rs"]
mod session;
#[allow(dead_code)]
#[path = "support/speech.rs"]
mod speech;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use audio_server::spoken;
use session::{
    events, session_command, wait_for_exit, wait_until_listening, ANSWER, FOLLOWUP_ANSWER,
};

#[test]
fn a_whole_answer_and_followup_hands_free_through_a_real_audio_server() {
    let server = audio_server::AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let answer = spoken(work.path(), "answer", ANSWER);
    let followup = spoken(work.path(), "followup", &[FOLLOWUP_ANSWER]);
    let speaker_wav = work.path().join("speaker.wav");
    let mut speaker = server.record_speaker(&speaker_wav);
    // parecord needs a moment to connect before the first question is spoken.
    std::thread::sleep(Duration::from_secs(1));
    let mut mic = server.microphone();

    let mut cmd = session_command(&data);
    server.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();

    let pause = || std::thread::sleep(Duration::from_millis(100));
    let dir = wait_until_listening(&data, 1, &mut child, pause);
    mic.silence(1.0);
    mic.play(&answer);
    mic.silence(5.0);
    wait_until_listening(&data, 2, &mut child, pause);
    mic.silence(0.5);
    mic.play(&followup);
    mic.silence(5.0);

    // Keep the microphone fed with silence, as a real one would be.
    let output = wait_for_exit(child, || mic.silence(0.5));
    // SIGTERM, not SIGKILL: parecord then completes the WAV header.
    let _ = Command::new("kill")
        .args(["-TERM", &speaker.id().to_string()])
        .status();
    let _ = speaker.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "session failed:\n{stdout}\n{stderr}"
    );

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
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("answer-1.report.json")).unwrap())
            .unwrap();
    let transcript = report["transcript"].as_str().unwrap();
    assert!(
        speech::word_error_rate(&ANSWER.join(" "), transcript) <= 0.25,
        "transcript {transcript:?}"
    );
    for part in ["choose", "describe", "own", "learn"] {
        let timed = report["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["part"] == part)
            .unwrap_or_else(|| panic!("no {part} in the report"));
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
    let heard = Command::new(env!("CARGO_BIN_EXE_rehearse"))
        .args(["transcribe"])
        .arg(&speaker_wav)
        .env("REHEARSE_MODEL", speech::model_path())
        .env("REHEARSE_SENTENCE_MODEL", speech::sentence_model_path())
        .env("REHEARSE_CONFIG", work.path().join("no-config.toml"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&heard.stdout).to_lowercase();
    assert!(
        said.contains("describe a time") && said.contains("failed"),
        "speaker said {said:?} ({})",
        String::from_utf8_lossy(&heard.stderr)
    );
}
