//! Any text as a question file (`--questions`) and as the config file: an error naming the
//! problem, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rehearse::config::Config;
use rehearse::session::questions::parse_questions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_questions(text, "fuzz.toml");
    let _ = toml::from_str::<Config>(text);
});
