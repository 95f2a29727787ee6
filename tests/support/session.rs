//! A session as the end-to-end tests drive it: the answer they speak, and the session directory
//! and its events.jsonl, polled while `rehearse session` runs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::audio_server::{AudioServer, Microphone};

/// A complete answer to "Describe a time you failed.", one sentence an element, with all four
/// parts (choose, describe, own, learn) in it.
pub const ANSWER: &[&str] = &[
    "The failure I want to talk about is a product launch I delayed by three weeks last year.",
    "I was the lead engineer on a new billing page for about two thousand customers.",
    "We promised the sales team a date in March, and two days before the launch the payment tests failed, so we had to pull the release.",
    "That was my fault.",
    "I did not run the payment tests early because I assumed they would pass, and I should have raised the risk with my manager weeks before.",
    "Since then I run the riskiest tests in the first week of every project, and I send my manager a short risk note every Friday.",
    "On the next two launches we found the problems early, and both shipped on the planned date.",
];

/// An answer to the follow-up question that ANSWER draws.
pub const FOLLOWUP_ANSWER: &str =
    "I would tell the sales team about the risk on the very first day.";

/// `rehearse session --count 1` as `speech::rehearse` sets it up (its own data folder, the test
/// models, no config file), its output piped for the assertions; the caller points it at the
/// audio server.
pub fn session_command(data: &Path) -> Command {
    let mut cmd = super::speech::rehearse(data);
    cmd.args(["session", "--count", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts `session_command` on the audio server, as every hands-free test starts its session.
pub fn spawn_on(server: &AudioServer, data: &Path) -> Child {
    let mut cmd = session_command(data);
    server.apply(&mut cmd);
    cmd.spawn().unwrap()
}

/// Answers the session's `n`th listening as a speaker would: waits until it listens, then plays
/// `samples` into the microphone after `lead_s` of silence, then 5 s of silence so the session
/// hears the answer end. Returns the session's directory. The hands-free tests answer every
/// question this way.
pub fn answer_when_listening(
    data: &Path,
    n: usize,
    child: &mut Child,
    mic: &mut Microphone,
    lead_s: f64,
    samples: &[i16],
) -> PathBuf {
    let dir = wait_until_listening(data, n, child, || {
        std::thread::sleep(Duration::from_millis(100))
    });
    mic.silence(lead_s);
    mic.play(samples);
    mic.silence(5.0);
    dir
}

/// Checks what a retried answer prints: it is compared with the earlier answer `earlier`
/// (`SESSION:N`), and its learning row went from nothing to something. Both retry tests start
/// with an answer that stops before its learning.
pub fn assert_learning_compared(stdout: &str, earlier: &str) {
    assert!(
        stdout.contains(&format!("Compared with your earlier answer ({earlier})")),
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
}

/// Asserts that the speaker's recording `speaker_wav` holds the first question, spoken aloud:
/// transcribed back by `speech::rehearse(data)`, it asks to describe a time you failed. The
/// panic shows what the transcription said on stderr and `printed`, what the session printed.
pub fn assert_question_spoken(data: &Path, speaker_wav: &Path, printed: &str) {
    let heard = super::speech::rehearse(data)
        .arg("transcribe")
        .arg(speaker_wav)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&heard.stdout).to_lowercase();
    assert!(
        said.contains("describe a time") && said.contains("failed"),
        "speaker said {said:?} ({}); the session printed {printed}",
        String::from_utf8_lossy(&heard.stderr)
    );
}

/// Waits for the session to end by itself, calling `between` meanwhile (a real microphone keeps
/// delivering silence), and returns what it printed; kills it and panics after two minutes.
pub fn wait_for_exit(mut child: Child, mut between: impl FnMut()) -> Output {
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rehearse session did not finish");
        }
        between();
    }
    child.wait_with_output().unwrap()
}

/// The session's directory under the data directory, once it exists.
pub fn session_dir(data: &Path) -> Option<PathBuf> {
    std::fs::read_dir(data.join("sessions"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.is_dir())
}

/// The events logged so far (a line still being written is left out).
pub fn events(session_dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(session_dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn count_events(session_dir: &Path, name: &str) -> usize {
    events(session_dir)
        .iter()
        .filter(|e| e["event"] == name)
        .count()
}

/// Waits until the session is listening for the `n`th time and returns its directory, calling
/// `between` between checks (to sleep, or to keep a microphone fed). Panics with the session's
/// output if it exits first, or with its log if it is not listening within 90 s.
pub fn wait_until_listening(
    data: &Path,
    n: usize,
    child: &mut Child,
    mut between: impl FnMut(),
) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(dir) = session_dir(data) {
            if count_events(&dir, "listening") >= n {
                return dir;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "rehearse session exited early with {status}:\n{}",
                output_of(child)
            );
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let log = session_dir(data)
                .and_then(|dir| std::fs::read_to_string(dir.join("events.jsonl")).ok())
                .unwrap_or_default();
            panic!(
                "rehearse never started listening ({n}):\n{}\n{log}",
                output_of(child)
            );
        }
        between();
    }
}

/// What an ended child printed, where its output was piped.
fn output_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(out) = child.stdout.as_mut() {
        let _ = out.read_to_string(&mut text);
    }
    if let Some(err) = child.stderr.as_mut() {
        let _ = err.read_to_string(&mut text);
    }
    text
}
