//! `rehearse session` without an audio server: a WAV played in place of the microphone, and the
//! errors a session gives before it starts.

mod support;

use std::path::{Path, PathBuf};

use support::audio_server::AudioServer;
use support::json::read_json;
use support::run::{assert_success, fail, stdout_text, succeed};
use support::session::{assert_learning_compared, assert_question_spoken};
use support::speech::{self, rehearse};

const ANSWER: &str = "The failure I chose is a data migration I ran last spring. \
    I moved our customer records without a rollback plan, and two hundred accounts lost their history. \
    That was my mistake, I skipped the dry run because I was in a hurry. \
    Since then I write a rollback plan and do a dry run before every migration, \
    and the three migrations since have gone through cleanly.";

/// `text` spoken into `raw`, then written to `out` with 6 s of silence after it, as the
/// microphone would hear an answer end; the answers of every session here are made this way.
fn spoken_then_silence(text: &str, raw: &Path, out: &Path) {
    speech::espeak(text, raw);
    let (spec, mut samples) = speech::read_wav(raw);
    samples.extend(std::iter::repeat_n(0, spec.sample_rate as usize * 6));
    speech::write_wav(out, spec, &samples);
}

/// The whole answer followed by silence, as the microphone would hear it.
fn answer_wav(dir: &Path) -> PathBuf {
    let path = dir.join("answer.wav");
    spoken_then_silence(ANSWER, &dir.join("spoken.wav"), &path);
    path
}

#[test]
fn a_recording_in_place_of_the_microphone_gets_a_full_report() {
    let work = tempfile::tempdir().unwrap();
    let wav = answer_wav(work.path());
    let stdout = stdout_text(
        rehearse(work.path())
            .args([
                "session",
                "--silent",
                "--count",
                "1",
                "--input-speed",
                "4",
                "--input",
            ])
            .arg(&wav),
    );
    assert!(stdout.contains("Question 1: "), "{stdout}");
    let sessions: Vec<_> = std::fs::read_dir(work.path().join("sessions"))
        .unwrap()
        .collect();
    assert_eq!(sessions.len(), 1);
    let dir = sessions[0].as_ref().unwrap().path();
    let report = read_json(&dir.join("answer-1.report.json"));
    let transcript = report["transcript"].as_str().unwrap();
    assert!(
        speech::word_error_rate(ANSWER, transcript) <= 0.25,
        "{transcript}"
    );
    let md = std::fs::read_to_string(dir.join("session.md")).unwrap();
    assert!(md.contains("Describe a time you failed."), "{md}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("answer-1.wav"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "recordings are private");
}

#[test]
fn the_framework_the_user_chooses_applies_to_the_built_in_questions() {
    let work = tempfile::tempdir().unwrap();
    let wav = answer_wav(work.path());
    let config = work.path().join("config.toml");
    std::fs::write(&config, "framework = \"star\"\n").unwrap();
    for (name, extra, config) in [
        ("flag", vec!["--framework", "star"], None),
        ("config", vec![], Some(&config)),
    ] {
        let data = work.path().join(name);
        let mut command = rehearse(&data);
        if let Some(config) = config {
            command.env("REHEARSE_CONFIG", config);
        }
        succeed(
            command
                .args(["session", "--silent", "--count", "1", "--input-speed", "8"])
                .args(&extra)
                .arg("--input")
                .arg(&wav),
        );
        let session = std::fs::read_dir(data.join("sessions"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let report = read_json(&session.join("answer-1.report.json"));
        assert_eq!(report["framework"], "star", "{name}");
    }
}

#[test]
fn no_microphone_is_one_line_that_suggests_input_and_leaves_nothing_behind() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let data = work.path().join("data");
    let stderr = fail(
        rehearse(&data)
            .args(["session", "--silent", "--count", "1"])
            .env("HOME", &home)
            .env_remove("PULSE_SERVER")
            .env("XDG_RUNTIME_DIR", &home),
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--input"), "{stderr}");
    assert!(
        !data.join("sessions").exists(),
        "a session that never started left a directory"
    );
}

#[test]
fn a_bad_question_file_is_one_line_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let questions = work.path().join("mine.toml");
    std::fs::write(&questions, "[[question]]\nid = 1\n").unwrap();
    let stderr = fail(
        rehearse(work.path())
            .args(["session", "--silent", "--questions"])
            .arg(&questions),
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("mine.toml"), "{stderr}");
}

#[test]
fn a_chosen_output_device_speaks_the_question() {
    let server = AudioServer::start();
    let work = tempfile::tempdir().unwrap();
    let wav = answer_wav(work.path());
    let speaker_wav = work.path().join("speaker.wav");
    let speaker = server.record_speaker(&speaker_wav);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let mut cmd = rehearse(work.path());
    cmd.args([
        "session",
        "--count",
        "1",
        "--output-device",
        "pulse",
        "--input-speed",
        "4",
        "--input",
    ])
    .arg(&wav);
    server.apply(&mut cmd);
    let output = cmd.output().unwrap();
    AudioServer::stop_recording(speaker);
    assert_success(&output);
    assert_question_spoken(
        work.path(),
        &speaker_wav,
        &String::from_utf8_lossy(&output.stdout),
    );
}

#[test]
fn a_retry_asks_the_same_question_and_compares_the_two_answers() {
    let work = tempfile::tempdir().unwrap();
    // A first attempt with no learning part, then the whole answer.
    let first_text = "The failure I chose is a data migration I ran last spring. \
        I moved our customer records without a rollback plan, and two hundred accounts lost their history.";
    let first = work.path().join("first.wav");
    spoken_then_silence(first_text, &first, &first);
    let second = answer_wav(work.path());
    let session = |extra: &[&str], wav: &Path| {
        stdout_text(
            rehearse(work.path())
                .args(["session", "--silent", "--input-speed", "8"])
                .args(extra)
                .arg("--input")
                .arg(wav),
        )
    };
    let before = session(&["--count", "1"], &first);
    let asked = before
        .lines()
        .find_map(|l| l.strip_prefix("Question 1: "))
        .unwrap()
        .to_string();
    let earlier = std::fs::read_dir(work.path().join("sessions"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();

    let after = session(&["--retry", &format!("{earlier}:1")], &second);
    assert!(after.contains(&format!("Question 1: {asked}")), "{after}");
    assert_learning_compared(&after, &format!("{earlier}:1"));
    let newest = std::fs::read_dir(work.path().join("sessions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let index = read_json(&newest.join("session.json"));
    let answer = &index["answers"][0];
    assert_eq!(answer["retry_of"], format!("{earlier}:1"));
    assert!(answer["comparison"]["parts"].as_array().unwrap().len() == 4);
    let md = std::fs::read_to_string(newest.join("session.md")).unwrap();
    assert!(md.contains("**Compared with your earlier answer"), "{md}");

    let error =
        fail(rehearse(work.path()).args(["session", "--silent", "--retry", "no-such-session"]));
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("no session \"no-such-session\""), "{error}");
}
