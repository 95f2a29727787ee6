//! The microphone disappearing mid-answer, for real: a PulseAudio source is unloaded while
//! rehearse records from it. The answer so far must be kept, analysed, and the user told.

#[path = "support/audio_server.rs"]
#[allow(dead_code)]
mod audio_server;
#[allow(dead_code)]
#[path = "support/session.rs"]
mod session;
#[allow(dead_code)]
#[path = "support/speech.rs"]
mod speech;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use session::{session_dir, wait_until_listening, ANSWER};

#[test]
fn a_microphone_unplugged_mid_answer_keeps_the_answer_and_says_so() {
    let server = audio_server::AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let raw = work.path().join("raw.wav");
    speech::espeak(&ANSWER[..2].join(" "), &raw);
    let samples = audio_server::microphone_samples(&raw);
    // A source of its own, so other tests' microphone is untouched.
    let source = format!("lost-mic-{}", std::process::id());
    let fifo = work.path().join("mic.fifo");
    let module = server.pactl(&[
        "load-module",
        "module-pipe-source",
        &format!("source_name={source}"),
        &format!("file={}", fifo.display()),
        "format=s16le",
        "rate=16000",
        "channels=1",
    ]);
    let mut mic = audio_server::Microphone::open(&fifo);

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rehearse"));
    cmd.args(["session", "--silent", "--count", "1"])
        .env("REHEARSE_DATA_DIR", &data)
        .env("REHEARSE_MODEL", speech::model_path())
        .env("REHEARSE_SENTENCE_MODEL", speech::sentence_model_path())
        .env("REHEARSE_CONFIG", work.path().join("no-config.toml"))
        .env("PULSE_SOURCE", &source)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    server.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();

    // Feed silence in real time until rehearse listens, then the speech.
    wait_until_listening(&data, 1, &mut child, || mic.silence(0.1));
    mic.play(&samples);
    // The microphone disappears mid-answer, without a word of warning to the reader.
    server.pactl(&["unload-module", &module]);

    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rehearse did not notice the microphone was gone");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Recording stopped: the input device failed")
            && stdout.contains("The answer so far is kept"),
        "{stdout}"
    );
    let dir = session_dir(&data).unwrap();
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("session.json")).unwrap()).unwrap();
    assert_eq!(index["end"], "input_ended", "{index}");
    assert!(index["answers"][0]["note"]
        .as_str()
        .unwrap()
        .contains("unplugged"));
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("answer-1.report.json")).unwrap()).unwrap();
    let transcript = report["transcript"].as_str().unwrap().to_lowercase();
    assert!(
        transcript.contains("launch") && transcript.contains("billing"),
        "{transcript}"
    );
    // Everything the device delivered is on disk; the last fraction of a second fed to the FIFO
    // may still have been in PulseAudio's buffers when the source went.
    let wav = hound::WavReader::open(dir.join("answer-1.wav")).unwrap();
    assert!(
        wav.duration() as usize + 16_000 >= samples.len(),
        "{} of {} samples kept",
        wav.duration(),
        samples.len()
    );
}
