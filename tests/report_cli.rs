//! `rehearse history` and `rehearse report`: on a session the binary itself recorded (espeak-ng
//! speech played as the microphone, the real tiny.en model), and on hand-written session
//! directories. The HTML page is loaded in headless Chromium, as a person would open it.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use support::json::{read_json, strings};
use support::run::assert_success;
use support::session::{ANSWER, FOLLOWUP_ANSWER};
use support::speech;
use support::tmpfs::Tmpfs;

/// Each part's colour in the page, as the screenshot shows it.
const PART_RGB: &[(&str, [u8; 3])] = &[
    ("choose", [0x4e, 0x79, 0xa7]),
    ("describe", [0xf2, 0x8e, 0x2b]),
    ("own", [0xe1, 0x57, 0x59]),
    ("learn", [0x59, 0xa1, 0x4f]),
    ("other", [0xba, 0xb0, 0xac]),
];

fn rehearse(data: &Path, args: &[&str]) -> Output {
    speech::rehearse(data).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert_success(output);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `rehearse history --json`, parsed: the trend and the sessions the tests check.
fn history_json(data: &Path) -> Value {
    serde_json::from_str(&stdout(&rehearse(data, &["history", "--json"])))
        .expect("history --json prints JSON")
}

/// `rehearse report WHICH --html PAGE EXTRA...`: every test of the HTML page writes it this way.
fn html_report(data: &Path, which: &str, page: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["report", which, "--html", page.to_str().unwrap()];
    args.extend_from_slice(extra);
    rehearse(data, &args)
}

/// The page of `which` (an answer or a whole session), written to `page` by a command that must
/// succeed, as text.
fn html_page(data: &Path, which: &str, page: &Path) -> String {
    stdout(&html_report(data, which, page, &[]));
    std::fs::read_to_string(page).unwrap()
}

/// The answer, 5 s of silence, the follow-up's answer and 5 s of silence, as one WAV.
fn answer_wav(dir: &Path) -> PathBuf {
    let mut samples = vec![0i16; 22_050];
    let mut spec = None;
    let mut say = |text: &str, pause_s: f64, samples: &mut Vec<i16>| {
        let file = dir.join("sentence.wav");
        speech::espeak(text, &file);
        let (s, spoken) = speech::read_wav(&file);
        samples.extend(spoken);
        samples.extend(std::iter::repeat_n(
            0,
            (f64::from(s.sample_rate) * pause_s) as usize,
        ));
        spec = Some(s);
    };
    for sentence in ANSWER {
        say(sentence, 0.5, &mut samples);
    }
    samples.extend(std::iter::repeat_n(0, 22_050 * 5));
    say(FOLLOWUP_ANSWER, 5.0, &mut samples);
    let path = dir.join("answer.wav");
    speech::write_wav(&path, spec.unwrap(), &samples);
    path
}

/// Chromium without a display, its console printed on stderr.
fn chromium(args: &[&str]) -> Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1000,2400",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(args)
        .output()
        .expect("chromium must be installed (scripts/setup.sh installs it)")
}

/// Lines the page wrote to its console (script errors show up here too).
fn console_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

/// Where the page laid out each spoken span of the timeline and what colour each transcript
/// sentence's underline computed to: a copy of the page with a probe script, dumped after load.
fn layout_probe(page: &Path, work: &Path) -> Value {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = r#"<pre id="probe"></pre><script>
const spans = [...document.querySelectorAll("svg.timeline rect.spoken")].map(r => {
  const b = r.getBoundingClientRect();
  return {part: r.dataset.part, x: b.x + window.scrollX, y: b.y + window.scrollY, w: b.width, h: b.height};
});
const sentences = [...document.querySelectorAll(".sentence")].map(s =>
  ({part: s.dataset.part, underline: getComputedStyle(s).borderBottomColor}));
document.getElementById("probe").textContent = JSON.stringify({spans, sentences});
</script></body>"#;
    let probed = work.join("probed.html");
    std::fs::write(&probed, html.replace("</body>", probe)).unwrap();
    let output = chromium(&["--dump-dom", &format!("file://{}", probed.display())]);
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom
        .find("<pre id=\"probe\">")
        .expect("probe missing from the DOM")
        + 16;
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("probe {json:?}: {e}"))
}

fn rgb(part: &str) -> [u8; 3] {
    PART_RGB.iter().find(|(p, _)| *p == part).unwrap().1
}

#[test]
fn a_recorded_session_shows_in_history_and_renders_as_a_page_in_chromium() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let wav = answer_wav(work.path());
    let wav_arg = wav.to_string_lossy().into_owned();
    stdout(&rehearse(
        &data,
        &[
            "session",
            "--input",
            &wav_arg,
            "--input-speed",
            "8",
            "--silent",
            "--count",
            "1",
        ],
    ));

    // History: the session and its answer, with the four parts' verdicts.
    let history = history_json(&data);
    let sessions = history["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    let answer = &sessions[0]["answers"][0];
    assert_eq!(answer["question"], "Describe a time you failed.");
    let report = read_json(
        &data
            .join("sessions")
            .join(sessions[0]["id"].as_str().unwrap())
            .join("answer-1.report.json"),
    );
    assert_eq!(answer["duration_s"], report["answer_s"]);
    let verdicts = strings(&answer["parts"], "verdict");
    assert_eq!(verdicts.len(), 4);
    let text = stdout(&rehearse(&data, &["history"]));
    assert!(text.contains("1. Describe a time you failed."), "{text}");
    assert!(text.contains(&format!("choose {}", verdicts[0].replace("within", "ok"))));

    // The page: self-contained, both recordings embedded.
    let page = work.path().join("report.html");
    let html = html_page(&data, "latest", &page);
    assert_eq!(html.matches("src=\"data:audio/wav;base64,").count(), 2);
    assert!(html.contains(FOLLOWUP_ANSWER.split(' ').nth(3).unwrap()));
    let without_svg_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !without_svg_namespace.contains("http://") && !without_svg_namespace.contains("https://"),
        "the page refers to something outside itself"
    );

    // Loaded in Chromium: no console errors, and the screenshot shows each spoken span of the
    // timeline in its part's colour.
    let shot = work.path().join("report.png");
    let output = chromium(&[
        &format!("--screenshot={}", shot.display()),
        &format!("file://{}", page.display()),
    ]);
    assert!(output.status.success(), "chromium failed");
    assert_eq!(console_lines(&output), Vec::<String>::new());
    let probe = layout_probe(&page, work.path());
    let spans = probe["spans"].as_array().unwrap();
    let sentences = report["sentences"].as_array().unwrap();
    assert_eq!(spans.len(), sentences.len());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let channels = frame.color_type.samples();
    let mut parts_seen = std::collections::BTreeSet::new();
    for (span, sentence) in spans.iter().zip(sentences) {
        let part = span["part"].as_str().unwrap();
        assert_eq!(part, sentence["part"].as_str().unwrap());
        assert!(span["h"].as_f64().unwrap() >= 10.0, "{span}");
        if span["w"].as_f64().unwrap() < 4.0 {
            continue;
        }
        let x = (span["x"].as_f64().unwrap() + span["w"].as_f64().unwrap() / 2.0) as usize;
        let y = (span["y"].as_f64().unwrap() + span["h"].as_f64().unwrap() / 2.0) as usize;
        assert!(
            x < frame.width as usize && y < frame.height as usize,
            "{span}"
        );
        let at = (y * frame.width as usize + x) * channels;
        let seen = &pixels[at..at + 3];
        let want = rgb(part);
        assert!(
            seen.iter().zip(want).all(|(s, w)| s.abs_diff(w) <= 3),
            "{part} span at ({x}, {y}) is {seen:?}, not {want:?}"
        );
        parts_seen.insert(part.to_string());
    }
    let labelled: std::collections::BTreeSet<String> = sentences
        .iter()
        .map(|s| s["part"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        parts_seen, labelled,
        "a part's spans were too thin to check"
    );
    for sentence in probe["sentences"].as_array().unwrap() {
        let [r, g, b] = rgb(sentence["part"].as_str().unwrap());
        assert_eq!(sentence["underline"], format!("rgb({r}, {g}, {b})"));
    }
}

#[test]
fn the_console_check_catches_a_page_error() {
    // The check above is only worth something if Chromium's console reaches it.
    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>notDefined();</script></body></html>",
    )
    .unwrap();
    let output = chromium(&["--dump-dom", &format!("file://{}", page.display())]);
    let lines = console_lines(&output);
    assert!(lines.iter().any(|l| l.contains("notDefined")), "{lines:?}");
}

/// A session directory written by hand: one answer whose parts took `seconds` each.
fn write_session(data: &Path, name: &str, seconds: [f64; 4], codes: &[&str]) {
    let dir = data.join("sessions").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let budgets = [(20.0, 40.0), (45.0, 75.0), (20.0, 40.0), (60.0, 90.0)];
    let names = ["choose", "describe", "own", "learn"];
    let mut at = 0.5;
    let mut sentences = Vec::new();
    let mut parts = Vec::new();
    for ((name, (min, max)), s) in names.iter().zip(budgets).zip(seconds) {
        sentences.push(serde_json::json!({
            "start_s": at, "end_s": at + s, "text": format!("A sentence about {name}."),
            "part": name, "why": "test"
        }));
        at += s;
        let verdict = if s == 0.0 {
            "missing"
        } else if s < min {
            "under"
        } else if s > max {
            "over"
        } else {
            "within"
        };
        parts.push(serde_json::json!({
            "part": name, "duration_s": s, "budget_min_s": min, "budget_max_s": max,
            "share": 0.25, "verdict": verdict
        }));
    }
    let findings: Vec<Value> = codes
        .iter()
        .map(|c| serde_json::json!({"code": c, "severity": "warning", "message": "m"}))
        .collect();
    let report = serde_json::json!({
        "duration_s": at + 0.5, "speech_s": at - 0.5, "transcript": "t",
        "sentences": sentences, "parts": parts, "findings": findings, "followups": [],
        "delivery": {"words_per_minute": 140.0, "filler_words": [], "longest_pause_s": 0.4}
    });
    std::fs::write(dir.join("answer-1.report.json"), report.to_string()).unwrap();
    let index = serde_json::json!({"answers": [{
        "number": 1, "question": "Tell me about a mistake.", "wav": dir.join("answer-1.wav"),
        "end": "silence", "report": report, "followup": null, "note": null
    }], "end": "completed"});
    std::fs::write(dir.join("session.json"), index.to_string()).unwrap();
}

#[test]
fn history_shows_the_trend_towards_the_budget_across_sessions() {
    let work = tempfile::tempdir().unwrap();
    let data_dir = work.path().join("data");
    let data = data_dir.as_path();
    write_session(
        data,
        "2026-11-20_09-00-00",
        [5.0, 120.0, 0.0, 10.0],
        &["blame", "no_ownership", "part_over"],
    );
    write_session(
        data,
        "2026-11-22_09-00-00",
        [25.0, 90.0, 15.0, 40.0],
        &["part_over"],
    );
    write_session(data, "2026-11-24_09-00-00", [30.0, 60.0, 30.0, 75.0], &[]);
    let history = history_json(data);
    // 15 + 45 + 20 + 50 = 130 s off, then 0 + 15 + 5 + 20 = 40 s, then none.
    assert_eq!(
        history["trend"]["seconds_off_budget"],
        serde_json::json!([130.0, 40.0, 0.0])
    );
    assert_eq!(history["trend"]["findings"], serde_json::json!([3, 1, 0]));
    assert_eq!(
        history["trend"]["parts_within"],
        serde_json::json!([0, 1, 4])
    );
    let text = stdout(&rehearse(data, &["history"]));
    assert!(
        text.contains("seconds off budget  █▃▁  130 -> 0, falling"),
        "{text}"
    );
    assert!(
        text.contains("parts within budget ▁▃█  0/4 -> 4/4, rising"),
        "{text}"
    );
    assert!(text.contains("choose under, describe over, own missing, learn under  3 findings"));

    // One answer of one session as a page: its picture, no session chart.
    let html = html_page(data, "2026-11-22_09-00-00:1", &work.path().join("one.html"));
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), 1);
    assert!(!html.contains("<svg class=\"summary\""));
    // The whole session adds the summary chart, banded by the answers' whole-answer budget:
    // reports saved without one were measured against the failure framework's 3:00-3:30.
    let html = html_page(data, "2026-11-22_09-00-00", &work.path().join("whole.html"));
    assert!(html.contains("<svg class=\"summary\""));
    assert!(html.contains("whole answer 3:00–3:30"));
}

#[test]
fn history_and_report_say_what_to_do_when_there_is_nothing_to_show() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path();
    let text = stdout(&rehearse(data, &["history"]));
    assert_eq!(
        text,
        "No sessions yet: run `rehearse session` to record one.\n"
    );
    let error = refusal(&rehearse(data, &["report", "latest"]), "no sessions");
    assert!(error.contains("run `rehearse session` first"), "{error}");

    let broken = data.join("sessions/2026-11-20_09-00-00");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("session.json"), "{").unwrap();
    let output = rehearse(data, &["history"]);
    assert_success(&output);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.starts_with("skipped: ") && error.contains("2026-11-20_09-00-00/session.json"),
        "{error}"
    );
}

/// The stderr of a command that must have failed with one line; `case` names it.
fn refusal(output: &Output, case: &str) -> String {
    let error = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{case}: it succeeded");
    assert_eq!(error.lines().count(), 1, "{case}: {error}");
    error
}

/// The command failed with one `error:` line containing `expected`.
fn assert_refused(output: &Output, expected: &str, case: &str) {
    let error = refusal(output, case);
    assert!(
        error.starts_with("error: ") && error.contains(expected),
        "{case}: expected {expected:?} in {error}"
    );
}

#[test]
fn a_page_never_replaces_a_recording_the_session_index_or_a_file_it_did_not_write() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    write_session(&data, "2026-11-20_09-00-00", [30.0, 60.0, 30.0, 70.0], &[]);
    let session = data.join("sessions/2026-11-20_09-00-00");
    let recording = session.join("answer-1.wav");
    std::fs::write(&recording, b"RIFF recording").unwrap();
    let index = std::fs::read(session.join("session.json")).unwrap();
    let page = |path: &Path, extra: &[&str]| html_report(&data, "latest", path, extra);

    // Nothing inside the data folder, even forced.
    for target in [&recording, &session.join("session.json")] {
        assert_refused(&page(target, &["--force"]), "data folder", "inside data");
    }
    assert_eq!(std::fs::read(&recording).unwrap(), b"RIFF recording");
    assert_eq!(std::fs::read(session.join("session.json")).unwrap(), index);

    // Not over a recording elsewhere, even forced.
    let elsewhere = work.path().join("take-2.wav");
    std::fs::write(&elsewhere, b"RIFF mine").unwrap();
    assert_refused(&page(&elsewhere, &["--force"]), "recording", "a .wav");
    assert_eq!(std::fs::read(&elsewhere).unwrap(), b"RIFF mine");

    // Not over a file rehearse did not write, unless forced.
    let notes = work.path().join("notes.html");
    std::fs::write(&notes, b"my notes").unwrap();
    assert_refused(&page(&notes, &[]), "--force", "someone else's file");
    assert_eq!(std::fs::read(&notes).unwrap(), b"my notes");
    stdout(&page(&notes, &["--force"]));
    assert!(std::fs::read_to_string(&notes).unwrap().contains("<svg"));

    // A symlink is replaced, never written through.
    let victim = work.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    let link = work.path().join("link.html");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    assert_refused(&page(&link, &[]), "--force", "a symlink");
    stdout(&page(&link, &["--force"]));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());

    // A page of its own is private, and rehearse may write it again.
    let report = work.path().join("report.html");
    stdout(&page(&report, &[]));
    stdout(&page(&report, &[]));
    let mode = std::fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the page embeds the recordings");
}

#[test]
fn a_full_disk_leaves_no_partial_page() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    write_session(&data, "2026-11-20_09-00-00", [30.0, 60.0, 30.0, 70.0], &[]);
    let disk = Tmpfs::mount(&work.path().join("disk"), "4k");
    let page = disk.path().join("report.html");
    let output = html_report(&data, "latest", &page, &[]);
    assert_refused(&output, "No space left on device", "full disk");
    assert_eq!(std::fs::read_dir(disk.path()).unwrap().count(), 0);
}

#[test]
fn a_saved_duration_beyond_an_hour_is_a_damaged_file_not_a_runaway_page() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    write_session(&data, "2026-11-20_09-00-00", [30.0, 1e10, 30.0, 70.0], &[]);
    let page = work.path().join("report.html");
    let output = html_report(&data, "latest", &page, &[]);
    assert_refused(
        &output,
        "answer-1.report.json is damaged: answer 1's `duration_s` must be a number of seconds from 0 up to 3600 (an hour)",
        "a 1e10 s part",
    );
    assert!(!page.exists());
}

#[test]
fn a_missing_recording_or_an_empty_session_is_said_not_skipped() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    write_session(&data, "2026-11-20_09-00-00", [30.0, 60.0, 30.0, 70.0], &[]);
    let html = html_page(&data, "latest", &work.path().join("report.html"));
    assert!(
        html.contains("The recording answer-1.wav is not in the session folder"),
        "the page says the recording is missing"
    );

    let empty = data.join("sessions/2026-11-21_09-00-00");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(
        empty.join("session.json"),
        r#"{"answers": [], "end": "interrupted"}"#,
    )
    .unwrap();
    assert_refused(
        &rehearse(&data, &["report", "2026-11-21_09-00-00"]),
        "has no answers",
        "an empty session",
    );

    std::fs::write(empty.join("session.json"), [0xff, 0xfe, 0x00, 0x9c]).unwrap();
    assert_refused(
        &rehearse(&data, &["report", "2026-11-21_09-00-00"]),
        "session.json is damaged",
        "random bytes",
    );
}

#[test]
fn sessions_list_and_history_find_the_same_sessions() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path();
    // A finished session as history reads it: an index and a report, no event log (copied
    // from another machine, or written before the log existed).
    write_session(data, "2026-11-20_09-00-00", [30.0, 60.0, 30.0, 75.0], &[]);
    write_session(data, "2026-11-21_09-00-00", [25.0, 90.0, 15.0, 40.0], &[]);
    // Neither a session: a folder named like one holding neither file, and a folder of other
    // things that happens to hold a session.json.
    std::fs::create_dir_all(data.join("sessions/2026-11-22_09-00-00")).unwrap();
    write_session(data, "notes", [30.0, 60.0, 30.0, 75.0], &[]);

    let list = stdout(&rehearse(data, &["sessions", "list"]));
    let listed: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split("sessions/").nth(1))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        listed,
        ["2026-11-20_09-00-00", "2026-11-21_09-00-00"],
        "{list}"
    );
    assert!(list.contains("1 answers  completed"), "{list}");

    let output = rehearse(data, &["history", "--json"]);
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let history: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = history["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, listed);
}
