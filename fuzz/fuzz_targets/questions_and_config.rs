//! Any text as a question file (`--questions`), as the config file and as an answer framework:
//! an error naming the problem, never a panic; a framework that is accepted analyses an answer.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rehearse::analysis::{analyze, AnalysisOptions, Framework, Meaning};
use rehearse::app::config::Config;
use rehearse::transcript::paced::timed_transcript;
use rehearse::library::questions::parse_questions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_questions(text, "fuzz.toml");
    let _ = toml::from_str::<Config>(text);
    if let Ok(framework) = Framework::parse(text, "fuzz.toml") {
        let options = AnalysisOptions {
            framework: Arc::new(framework),
            ..AnalysisOptions::default()
        };
        let answer = timed_transcript(
            "Good question. At the time I was leading the team and we missed the launch. \
             My mistake was that I never checked the plan. Since then I check every plan, \
             and as a result we shipped the last two on time.",
            150.0,
        );
        let _ = analyze(&answer, &Meaning::default(), &options);
    }
});
