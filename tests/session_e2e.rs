//! The hands-free session end to end, through a real audio server: PulseAudio with a virtual
//! microphone and speaker, ALSA routed to it (what cpal uses), speech-dispatcher + espeak-ng
//! speaking the questions, and the real tiny.en model.

#[path = "support/audio_server.rs"]
mod audio_server;
#[allow(dead_code)]
#[path = "support/speech.rs"]
mod speech;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const ANSWER: &[&str] = &[
    "The failure I want to talk about is a product launch I delayed by three weeks last year.",
    "I was the lead engineer on a new billing page for about two thousand customers.",
    "We promised the sales team a date in March, and two days before the launch the payment tests failed, so we had to pull the release.",
    "That was my fault.",
    "I did not run the payment tests early because I assumed they would pass, and I should have raised the risk with my manager weeks before.",
    "Since then I run the riskiest tests in the first week of every project, and I send my manager a short risk note every Friday.",
    "On the next two launches we found the problems early, and both shipped on the planned date.",
];

const FOLLOWUP_ANSWER: &str = "I would tell the sales team about the risk on the very first day.";

/// Speech at 16 kHz mono, sentences separated by short pauses, as the microphone delivers it.
fn spoken(dir: &Path, sentences: &[&str]) -> Vec<i16> {
    let mut samples = Vec::new();
    for (i, sentence) in sentences.iter().enumerate() {
        let raw = dir.join(format!("s{i}.wav"));
        let converted = dir.join(format!("s{i}-16k.wav"));
        speech::espeak(sentence, &raw);
        let status = Command::new("sox")
            .arg(&raw)
            .args(["-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer"])
            .arg(&converted)
            .status()
            .unwrap();
        assert!(status.success());
        samples.extend(speech::read_wav(&converted).1);
        samples.extend(std::iter::repeat_n(0, 8_000));
    }
    samples
}

fn events(session_dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(session_dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn count_events(session_dir: &Path, name: &str) -> usize {
    events(session_dir)
        .iter()
        .filter(|e| e["event"] == name)
        .count()
}

fn session_dir(data: &Path) -> Option<PathBuf> {
    std::fs::read_dir(data.join("sessions"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.is_dir())
}

/// Waits until the session is listening for the `n`th time.
fn wait_until_listening(data: &Path, n: usize, child: &mut std::process::Child) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(dir) = session_dir(data) {
            if count_events(&dir, "listening") >= n {
                return dir;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("rehearse session exited early with {status}");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let mut stdout = String::new();
            if let Some(out) = child.stdout.as_mut() {
                let _ = std::io::Read::read_to_string(out, &mut stdout);
            }
            let log = session_dir(data)
                .and_then(|dir| std::fs::read_to_string(dir.join("events.jsonl")).ok())
                .unwrap_or_default();
            panic!("rehearse never started listening ({n}):\n{stdout}\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_whole_answer_and_followup_hands_free_through_a_real_audio_server() {
    let server = audio_server::AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let answer = spoken(work.path(), ANSWER);
    let followup = spoken(work.path(), &[FOLLOWUP_ANSWER]);
    let speaker_wav = work.path().join("speaker.wav");
    let mut speaker = server.record_speaker(&speaker_wav);
    // parecord needs a moment to connect before the first question is spoken.
    std::thread::sleep(Duration::from_secs(1));
    let mut mic = server.microphone();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rehearse"));
    cmd.args(["session", "--count", "1"])
        .env("REHEARSE_DATA_DIR", &data)
        .env("REHEARSE_MODEL", speech::model_path())
        .env("REHEARSE_CONFIG", work.path().join("no-config.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    server.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();

    let dir = wait_until_listening(&data, 1, &mut child);
    mic.silence(1.0);
    mic.play(&answer);
    mic.silence(5.0);
    wait_until_listening(&data, 2, &mut child);
    mic.silence(0.5);
    mic.play(&followup);
    mic.silence(5.0);

    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rehearse session did not finish");
        }
        // Keep the microphone fed with silence, as a real one would be.
        mic.silence(0.5);
    };
    let output = child.wait_with_output().unwrap();
    // SIGTERM, not SIGKILL: parecord then completes the WAV header.
    let _ = Command::new("kill")
        .args(["-TERM", &speaker.id().to_string()])
        .status();
    let _ = speaker.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(status.success(), "session failed:\n{stdout}\n{stderr}");

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
