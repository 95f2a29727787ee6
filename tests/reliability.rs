//! Reliability end to end (README "Reliability"): every bad input is one clear line and a
//! non-zero exit, a recording survives `kill -9` and a full disk, and a long file is transcribed
//! in bounded memory. Runs the real binary with the real tiny.en model on espeak-ng speech.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::json::read_json;
use support::run::{assert_one_clear_line, assert_success, fail, stdout_text, succeed};
use support::speech::{self, rehearse, PCM16};
use support::tmpfs::Tmpfs;

const ANSWER: &str =
    "The failure I want to talk about is a product launch I delayed by three weeks last year. \
I was the lead engineer on a new billing page for about two thousand customers. That was my fault. \
Since then I run the riskiest tests in the first week of every project.";

/// Speech as a 16 kHz mono 16-bit WAV.
fn spoken_wav(dir: &Path, name: &str, text: &str) -> PathBuf {
    let raw = dir.join(format!("{name}-raw.wav"));
    speech::espeak(text, &raw);
    let out = dir.join(format!("{name}.wav"));
    sox(&[&raw], &SOX_PCM16, &out, &[]);
    out
}

/// sox's output format for what the recogniser takes: 16 kHz, mono, 16-bit.
const SOX_PCM16: [&str; 6] = ["-r", "16000", "-c", "1", "-b", "16"];

/// Where most tests start: a temporary folder (removed when the returned handle drops), the
/// data folder in it (not created yet), and ANSWER spoken into it as `answer.wav`.
fn answer_in_tempdir() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wav = spoken_wav(dir.path(), "answer", ANSWER);
    (dir, data, wav)
}

/// Runs `sox INPUTS FORMAT OUT EFFECTS` (an input may be `-n`, sox's null file) and asserts it
/// worked: every derived WAV here is made this way.
fn sox(inputs: &[&Path], format: &[&str], out: &Path, effects: &[&str]) {
    let mut cmd = Command::new("sox");
    cmd.args(inputs).args(format).arg(out).args(effects);
    let status = cmd
        .status()
        .expect("sox must be installed (scripts/setup.sh)");
    assert!(status.success(), "{cmd:?} failed");
}

/// Files in `dir`, recursively, so a test can check nothing was left behind.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Runs `args` with stdout a pipe whose reader is already gone, then with stdout `/dev/full`.
fn run_with_broken_stdout(data: &Path, args: &[&str]) -> (Output, Output) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let closed = rehearse(data).args(args).stdout(writer).output().unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let full = rehearse(data).args(args).stdout(full).output().unwrap();
    (closed, full)
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_stdout_is_one_clear_line() {
    let (_dir, data, wav) = answer_in_tempdir();
    let wav = wav.to_str().unwrap();
    let commands: &[&[&str]] = &[
        &["transcribe", wav],
        &["analyze", wav],
        &["analyze", wav, "--json"],
        &["history"],
        &["sessions", "list"],
        &["questions", "list"],
        &["hint"],
        &["frameworks", "list"],
        &["frameworks", "show", "failure"],
        &["config", "show"],
        &["models", "list"],
        &["models", "dir"],
    ];
    for args in commands {
        let (closed, full) = run_with_broken_stdout(&data, args);
        let stderr = String::from_utf8_lossy(&closed.stderr);
        assert!(
            closed.status.success() && !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?} into a closed pipe: {:?} {stderr}",
            closed.status
        );
        assert_one_clear_line(
            &full,
            "cannot write to standard output",
            &format!("{args:?}"),
        );
    }
}

#[test]
fn a_session_whose_stdout_closes_keeps_recording_and_saving() {
    let (_dir, data, wav) = answer_in_tempdir();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = succeed(
        rehearse(&data)
            .args(["session", "--input", wav.to_str().unwrap()])
            .args(["--input-speed", "8", "--silent", "--count", "1"])
            .stdout(writer),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let sessions = session_dirs(&data);
    assert_eq!(sessions.len(), 1);
    let report = read_json(&sessions[0].join("answer-1.report.json"));
    assert!(
        report["transcript"]
            .as_str()
            .unwrap()
            .contains("billing page"),
        "{report}"
    );
    assert!(sessions[0].join("answer-1.wav").is_file());

    // With a session saved, the commands that print it end quietly into a closed pipe too
    // (`rehearse report latest | head -1`).
    for args in [
        &["report", "latest"][..],
        &["report", "latest:1"],
        &["history"],
        &["history", "--json"],
        &["sessions", "list"],
    ] {
        let (closed, full) = run_with_broken_stdout(&data, args);
        assert!(
            closed.status.success() && closed.stderr.is_empty(),
            "{args:?} into a closed pipe: {:?} {}",
            closed.status,
            String::from_utf8_lossy(&closed.stderr)
        );
        assert_one_clear_line(
            &full,
            "cannot write to standard output",
            &format!("{args:?}"),
        );
    }
}

#[test]
fn nonsense_numbers_on_the_command_line_are_refused_or_capped() {
    let (_dir, data, wav) = answer_in_tempdir();
    let wav = wav.to_str().unwrap();
    for (args, expected) in [
        (vec!["session", "--count", "0"], "ask at least 1"),
        (
            vec!["session", "--input", wav, "--input-speed", "0"],
            "is not a speed more than 0",
        ),
        (
            vec!["session", "--input", wav, "--input-speed", "nan"],
            "is not a speed more than 0",
        ),
        (
            vec!["session", "--max-answer", "1e308"],
            "up to 3600 (an hour)",
        ),
        (vec!["transcribe", wav, "--threads", "0"], "use 1 or more"),
    ] {
        let stderr = fail(rehearse(&data).args(&args).stdin(Stdio::null()));
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let cores = std::thread::available_parallelism().unwrap().get();
    let started = Instant::now();
    let output = succeed(rehearse(&data).args(["transcribe", wav, "--threads", "1000"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: --threads 1000 is more than the {cores} cores here; using {cores}"
        )),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("billing"),
        "transcribed in {:?}",
        started.elapsed()
    );
}

#[test]
fn a_cause_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["transcribe", missing],
        vec!["frameworks", "show", "missing.toml"],
        vec!["questions", "list", "--questions", missing],
    ] {
        let output = rehearse(&data).args(&args).output().unwrap();
        assert_one_clear_line(&output, "No such file or directory", &format!("{args:?}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr.matches("No such file or directory").count(),
            1,
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn sigterm_mid_answer_keeps_and_analyses_the_answer_like_ctrl_c() {
    let (_dir, data, answer) = answer_in_tempdir();
    let (child, session) = session_recording(&data, &answer, &[], 6.0);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("everything recorded so far is kept"),
        "{stderr}"
    );
    let index = read_json(&session.join("session.json"));
    assert_eq!(index["end"], "interrupted", "{index}");
    let report = read_json(&session.join("answer-1.report.json"));
    let transcript = report["transcript"].as_str().unwrap().to_lowercase();
    assert!(transcript.contains("failure"), "{transcript}");
}

#[test]
fn a_wav_through_a_pipe_is_told_to_be_a_file() {
    let (_dir, data, wav) = answer_in_tempdir();
    for command in ["transcribe", "analyze"] {
        // /dev/stdin on a regular file is that file; through a pipe it is not.
        succeed(
            rehearse(&data)
                .args([command, "/dev/stdin"])
                .stdin(std::fs::File::open(&wav).unwrap()),
        );
        let mut child = rehearse(&data)
            .args([command, "/dev/stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let bytes = std::fs::read(&wav).unwrap();
        let writer = std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut stdin, &bytes);
        });
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_one_clear_line(&output, "is not a regular file", command);
    }
}

/// A folder mounted read-only over itself (root writes through permissions, not through a
/// read-only mount); unmounted on drop.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn mount(path: &Path) -> ReadOnly {
        let path_arg = path.to_str().unwrap();
        for args in [
            vec!["--bind", path_arg, path_arg],
            vec!["-o", "remount,ro,bind", path_arg],
        ] {
            let status = Command::new("mount").args(&args).status().unwrap();
            assert!(status.success(), "mount {args:?} needs root");
        }
        ReadOnly(path.to_path_buf())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn recovery_on_a_read_only_data_folder_says_why_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let session = session_killed_mid_answer(dir.path(), &data);
    let output = {
        let _read_only = ReadOnly::mount(&data);
        recover(&data).output().unwrap()
    };
    assert_one_clear_line(
        &output,
        "it cannot be written; make the data folder writable",
        "ro",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(session.to_str().unwrap()), "{stderr}");
    // Once it can be written, the same command recovers it.
    succeed(&mut recover(&data));
    assert_recovered(&session);
}

#[test]
fn every_bad_audio_input_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let speech = spoken_wav(dir.path(), "speech", "I broke the build on a Friday.");
    let good = std::fs::read(&speech).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let text = write("notes.wav", b"these are my interview notes, not audio");
    let zero_length = write("zero.wav", b"");
    let header_only = write("header-only.wav", &good[..44]);
    let truncated = write("truncated.wav", &good[..good.len() / 2]);
    let mut lying = good.clone();
    let data_len = u32::from_le_bytes([good[40], good[41], good[42], good[43]]);
    set_u32(&mut lying, 40, data_len * 10);
    let lying = write("lying.wav", &lying);
    let mut zero_rate = good.clone();
    set_u32(&mut zero_rate, 24, 0);
    let zero_rate = write("zero-rate.wav", &zero_rate);
    let float64 = dir.path().join("f64.wav");
    sox(
        &[&speech],
        &["-b", "64", "-e", "floating-point"],
        &float64,
        &[],
    );
    let alaw = dir.path().join("alaw.wav");
    sox(&[&speech], &["-e", "a-law"], &alaw, &[]);
    let no_samples = dir.path().join("no-samples.wav");
    speech::write_wav(&no_samples, PCM16, &[]);
    let silence = dir.path().join("silence.wav");
    speech::write_wav(&silence, PCM16, &vec![0; 16_000 * 5]);
    // Not-a-number samples once panicked the resampler (found by fuzzing).
    let nan = dir.path().join("nan.wav");
    let mut writer = hound::WavWriter::create(
        &nan,
        hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        },
    )
    .unwrap();
    for _ in 0..44_100 * 2 {
        writer.write_sample(f32::NAN).unwrap();
    }
    writer.finalize().unwrap();
    let cases = [
        (text, "is not a WAV file"),
        (zero_length, "contains no audio"),
        (no_samples, "contains no audio"),
        (header_only, "is damaged after 0.0 s"),
        (zero_rate, "is not a WAV file"),
        (float64, "unsupported WAV sample format"),
        (alaw, "unsupported WAV sample format"),
        (silence, "no speech found"),
        (nan, "no speech found"),
        (dir.path().join("missing.wav"), "cannot open"),
        (dir.path().to_path_buf(), "is not a regular file"),
    ];
    // A file that ends before its header says is read as far as it goes, with one warning.
    for path in [&truncated, &lying] {
        for command in ["transcribe", "analyze"] {
            let output = succeed(rehearse(&data).arg(command).arg(path));
            let stderr = String::from_utf8_lossy(&output.stderr);
            let case = format!("{command} {}", path.display());
            assert_eq!(stderr.lines().count(), 1, "{case}: {stderr}");
            assert!(
                stderr.starts_with("warning: ") && stderr.contains("before its header says"),
                "{case}: {stderr}"
            );
            let stdout = String::from_utf8_lossy(&output.stdout).to_lowercase();
            let heard = if command == "transcribe" {
                "broke"
            } else {
                "answer"
            };
            assert!(stdout.contains(heard), "{case}: {stdout}");
        }
    }
    for (path, expected) in cases {
        for command in ["transcribe", "analyze"] {
            let output = rehearse(&data).arg(command).arg(&path).output().unwrap();
            let case = format!("{command} {}", path.display());
            assert_one_clear_line(&output, expected, &case);
            assert!(
                output.stdout.is_empty(),
                "{case}: printed {:?}",
                output.stdout
            );
        }
    }
    assert!(
        files_under(&data).is_empty(),
        "left behind: {:?}",
        files_under(&data)
    );
}

#[test]
fn a_bad_config_or_data_dir_is_one_clear_line_before_a_session_starts() {
    let dir = tempfile::tempdir().unwrap();
    let speech = spoken_wav(dir.path(), "speech", "I broke the build.");
    let session = |data: &Path, config: &Path| {
        rehearse(data)
            .env("REHEARSE_CONFIG", config)
            .args(["session", "--silent", "--input"])
            .arg(&speech)
            .output()
            .unwrap()
    };
    let data = dir.path().join("data");
    let none = dir.path().join("none.toml");

    let config_dir = dir.path().join("config-is-a-dir");
    std::fs::create_dir(&config_dir).unwrap();
    assert_one_clear_line(
        &session(&data, &config_dir),
        "cannot read the config file",
        "config dir",
    );
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "model = [").unwrap();
    assert_one_clear_line(&session(&data, &bad_toml), "bad.toml, line 1", "bad toml");
    let not_audio = dir.path().join("notes.wav");
    std::fs::write(&not_audio, "my notes").unwrap();
    let output = rehearse(&data)
        .args(["session", "--silent", "--input"])
        .arg(&not_audio)
        .output()
        .unwrap();
    assert_one_clear_line(&output, "is not a WAV file", "bad --input");
    assert!(
        files_under(&data).is_empty(),
        "left behind: {:?}",
        files_under(&data)
    );

    // Tests run as root, which ignores permissions: a path through a regular file is unwritable.
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, "").unwrap();
    let output = session(&a_file.join("data"), &none);
    assert_one_clear_line(
        &output,
        "set REHEARSE_DATA_DIR to a folder you can write",
        "unwritable",
    );

    let small = Tmpfs::mount(&dir.path().join("small"), "2m");
    let output = session(small.path(), &none);
    assert_one_clear_line(&output, "MB free", "full data dir");
    assert!(
        files_under(small.path()).is_empty(),
        "left behind: {:?}",
        files_under(small.path())
    );
}

/// Peak resident memory of a command in KiB, from GNU time.
fn peak_rss_kib(cmd: Command) -> (u64, Output) {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-v").arg(program).args(args);
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            timed.env(key, value);
        }
    }
    let output = timed
        .output()
        .expect("GNU time must be installed (scripts/setup.sh)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kib = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {stderr}"));
    (kib, output)
}

#[test]
fn a_one_hour_recording_is_transcribed_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = spoken_wav(dir.path(), "first", "I missed the launch date.");
    let last = spoken_wav(dir.path(), "last", "Since then I send a weekly risk note.");
    let hour_of_silence = dir.path().join("silence.wav");
    sox(
        &[Path::new("-n")],
        &SOX_PCM16,
        &hour_of_silence,
        &["trim", "0", "3600"],
    );
    let long = dir.path().join("long.wav");
    sox(&[&first, &hour_of_silence, &last], &[], &long, &[]);

    let mut short_cmd = rehearse(&data);
    short_cmd.args(["transcribe", "--json"]).arg(&first);
    let (short_kib, short) = peak_rss_kib(short_cmd);
    assert_success(&short);
    let mut long_cmd = rehearse(&data);
    long_cmd.args(["transcribe", "--json"]).arg(&long);
    let (long_kib, output) = peak_rss_kib(long_cmd);
    assert_success(&output);

    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["duration_s"].as_f64().unwrap() > 3600.0);
    let text = json["text"].as_str().unwrap().to_lowercase();
    assert!(
        text.contains("launch") && text.contains("weekly risk"),
        "{text}"
    );
    let last_word_start = json["words"].as_array().unwrap().last().unwrap()["start_s"]
        .as_f64()
        .unwrap();
    assert!(last_word_start > 3600.0, "{last_word_start}");
    // Held whole, an hour at 16 kHz is 230 MB of samples; streamed, it costs next to nothing
    // over a five-second file.
    assert!(
        long_kib < short_kib + 50 * 1024,
        "an hour took {long_kib} KiB at peak, five seconds {short_kib} KiB"
    );
}

fn session_dirs(data: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(data.join("sessions"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Starts a session playing `input` as the microphone and waits until `seconds` of the answer
/// are in `answer-1.wav`.
fn session_recording(data: &Path, input: &Path, extra: &[&str], seconds: f64) -> (Child, PathBuf) {
    let mut child = rehearse(data)
        .args(["session", "--silent", "--count", "1", "--input"])
        .arg(input)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(dir) = session_dirs(data).pop() {
            let wav = dir.join("answer-1.wav");
            let bytes = std::fs::metadata(&wav).map_or(0, |m| m.len());
            if bytes as f64 >= 44.0 + seconds * 32_000.0 {
                return (child, dir);
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("rehearse session exited early with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "rehearse never recorded {seconds} s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `rehearse sessions recover`, which several tests run on the data folder a killed session
/// left behind.
fn recover(data: &Path) -> Command {
    let mut cmd = rehearse(data);
    cmd.args(["sessions", "recover"]);
    cmd
}

/// The session was marked recovered and its answer analysed from what was recorded.
fn assert_recovered(dir: &Path) {
    let index = read_json(&dir.join("session.json"));
    assert_eq!(index["end"], "recovered", "{index}");
    assert_eq!(index["answers"][0]["end"], "recovered", "{index}");
    assert!(!index["answers"][0]["question"].as_str().unwrap().is_empty());
    let report = read_json(&dir.join("answer-1.report.json"));
    let transcript = report["transcript"].as_str().unwrap().to_lowercase();
    assert!(
        transcript.contains("failure") && transcript.contains("launch"),
        "{transcript}"
    );
    assert!(dir.join("session.md").is_file());
}

/// A session killed with SIGKILL 6 s into an answer; returns its directory.
fn session_killed_mid_answer(dir: &Path, data: &Path) -> PathBuf {
    let answer = spoken_wav(dir, "answer", ANSWER);
    let (mut child, session) = session_recording(data, &answer, &[], 6.0);
    child.kill().unwrap();
    child.wait().unwrap();
    session
}

#[test]
fn an_answer_cut_off_by_kill_9_is_recovered_by_sessions_recover() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let session = session_killed_mid_answer(dir.path(), &data);
    assert!(
        !session.join("session.json").exists(),
        "killed before any answer was saved"
    );
    // Recordings are personal: only the user may read them.
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&session), 0o700);
    assert_eq!(mode(&session.join("answer-1.wav")), 0o600);

    let list = rehearse(&data).args(["sessions", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("unfinished"));
    let stdout = stdout_text(&mut recover(&data));
    assert!(
        stdout.contains("recovered") && stdout.contains("answer-1.wav"),
        "{stdout}"
    );
    assert_recovered(&session);
    let seconds = hound::WavReader::open(session.join("answer-1.wav"))
        .unwrap()
        .duration() as f64
        / 16_000.0;
    assert!(seconds >= 6.0, "the repaired recording holds {seconds} s");

    let again = recover(&data).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("no unfinished sessions"));
}

#[test]
fn the_next_session_recovers_an_answer_cut_off_by_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let killed = session_killed_mid_answer(dir.path(), &data);

    let short = spoken_wav(dir.path(), "short", "I broke the build.");
    let stdout = stdout_text(
        rehearse(&data)
            .args(["session", "--silent", "--count", "1", "--input"])
            .arg(&short),
    );
    let recovered_line = stdout
        .lines()
        .find(|l| l.starts_with("recovered "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        recovered_line.contains(&killed.display().to_string()),
        "{recovered_line}"
    );
    assert_recovered(&killed);
    let sessions = session_dirs(&data);
    assert_eq!(sessions.len(), 2);
    assert_ne!(
        read_json(&sessions[1].join("session.json"))["end"],
        "recovered"
    );
    // One writer for both: the recovered summary has every section the normal one has, save
    // the follow-up and what to keep, which a cut-off answer cannot have.
    let normal: Vec<String> = summary_sections(&sessions[1])
        .into_iter()
        .filter(|s| !matches!(s.as_str(), "**Follow-up:**" | "**Reply:**" | "**Keep**"))
        .collect();
    assert_eq!(summary_sections(&killed), normal);
}

/// The structure of a session's `session.md`: its title, each answer's heading, the timing
/// table's header and the bold labels, in order, without what differs from answer to answer.
fn summary_sections(session: &Path) -> Vec<String> {
    std::fs::read_to_string(session.join("session.md"))
        .unwrap()
        .lines()
        .filter_map(|line| {
            if line.starts_with("# ") || line.starts_with("| part |") {
                Some(line.to_string())
            } else if line.starts_with("## ") {
                Some("## answer".to_string())
            } else if let Some(bold) = line.strip_prefix("**") {
                bold.split_once("**")
                    .map(|(label, _)| format!("**{label}**"))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn a_disk_filling_up_mid_answer_keeps_the_recording_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let answer = spoken_wav(dir.path(), "answer", ANSWER);
    let disk = Tmpfs::mount(&dir.path().join("disk"), "8m");
    let (child, session) = session_recording(disk.path(), &answer, &["--max-answer", "60"], 3.0);
    // Fill the disk while rehearse is recording.
    let filler = disk.path().join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 1 << 16];
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    drop(file);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_one_clear_line(&output, "the disk is full", "full disk");
    assert!(
        stdout.contains("Recording stopped") && stdout.contains("No space left"),
        "{stdout}"
    );
    // The answer heard so far was still analysed and shown.
    assert!(stdout.contains("Choose"), "{stdout}");
    let wav = hound::WavReader::open(session.join("answer-1.wav")).unwrap();
    assert!(
        wav.duration() >= 3 * 16_000,
        "{} samples kept",
        wav.duration()
    );
    drop(wav);
    // The transcript write that hit the full disk left neither a torn file nor its temporary.
    let mut names: Vec<String> = files_under(&session)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["answer-1.wav", "events.jsonl"]);
    let events = std::fs::read_to_string(session.join("events.jsonl")).unwrap();
    assert!(
        events
            .lines()
            .any(|l| l.contains("answer_ended") && l.contains("\"reason\":\"disk_full\"")),
        "{events}"
    );

    std::fs::remove_file(&filler).unwrap();
    succeed(&mut recover(disk.path()));
    let report = read_json(&session.join("answer-1.report.json"));
    assert!(report["transcript"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("failure"));
}
