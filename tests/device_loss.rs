//! The microphone disappearing mid-answer, for real: a PulseAudio source is unloaded while
//! rehearse records from it. The answer so far must be kept, analysed, and the user told.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::audio_server::{microphone_samples, AudioServer, Microphone};
use support::json::read_json;
use support::run::assert_success;
use support::session::{session_dir, wait_until_listening, ANSWER};
use support::speech;

#[test]
fn a_microphone_unplugged_mid_answer_keeps_the_answer_and_says_so() {
    let server = AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let raw = work.path().join("raw.wav");
    speech::espeak(&ANSWER[..2].join(" "), &raw);
    let samples = microphone_samples(&raw);
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
    let mut mic = Microphone::open(&fifo);

    let mut cmd = speech::rehearse(&data);
    cmd.args(["session", "--silent", "--count", "1"])
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
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Recording stopped: the input device failed")
            && stdout.contains("The answer so far is kept"),
        "{stdout}"
    );
    let dir = session_dir(&data).unwrap();
    let index = read_json(&dir.join("session.json"));
    assert_eq!(index["end"], "input_ended", "{index}");
    assert!(index["answers"][0]["note"]
        .as_str()
        .unwrap()
        .contains("unplugged"));
    let report = read_json(&dir.join("answer-1.report.json"));
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
