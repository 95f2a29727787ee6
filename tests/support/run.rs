//! Running the binary from a test: the checks every test makes of how a command exited, in one
//! place, so that a failed check always shows the command and what it printed.

use std::process::{Command, Output};

use serde_json::Value;

/// The `rehearse` binary this test run built, with nothing set: each test adds the environment
/// it needs (`speech::rehearse` adds the real models and a private data folder).
pub fn rehearse_binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rehearse"))
}

/// What a finished command printed, stdout then stderr, for a failed check's message.
fn printed(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that a command the test waited for itself (a spawned session) succeeded. If it did
/// not, the panic shows both streams, since a session says some of its failures on stdout.
pub fn assert_success(output: &Output) {
    assert!(output.status.success(), "failed: {}", printed(output));
}

/// Runs `cmd` and asserts that it succeeded; if it did not, the panic names the command and
/// shows what it printed. Returns the output for the test's own checks.
pub fn succeed(cmd: &mut Command) -> Output {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        printed(&output)
    );
    output
}

/// The stdout of a command that must succeed, as text: most tests read the text report.
pub fn stdout_text(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&succeed(cmd).stdout).into_owned()
}

/// The stdout of a command that must succeed, parsed: every `--json` output is checked this way.
pub fn stdout_json(cmd: &mut Command) -> Value {
    let output = succeed(cmd);
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{cmd:?} printed no JSON ({e}): {}", printed(&output)))
}

/// Runs `cmd`, asserts that it failed (the panic shows what it printed if it did not), and
/// returns its stderr, where rehearse says why: the tests check that message.
pub fn fail(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        !output.status.success(),
        "{cmd:?} succeeded: {}",
        printed(&output)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that a command failed with exactly one `error: ` line (blank lines aside) containing
/// `expected`, and did not panic: how rehearse reports every bad input. `case` names it in the
/// message.
pub fn assert_one_clear_line(output: &Output, expected: &str, case: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "{case}: expected failure, got success"
    );
    assert!(!stderr.contains("panicked"), "{case}: panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{case}: expected one line, got {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{case}: {stderr}");
    assert!(
        lines[0].contains(expected),
        "{case}: expected {expected:?} in {stderr:?}"
    );
}
