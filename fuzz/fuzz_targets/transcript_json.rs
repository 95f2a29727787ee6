//! Any bytes as a transcript JSON, then the analysis of whatever passes validation: an error or
//! a report, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rehearse::analysis::{analyze, AnalysisOptions, Meaning};
use rehearse::transcript::Transcript;

fuzz_target!(|data: &[u8]| {
    if let Ok(transcript) = Transcript::from_json_slice(data, "fuzz.json") {
        let _ = analyze(&transcript, &Meaning::default(), &AnalysisOptions::default());
    }
});
