//! Audio: the first steps of the pipeline, before any words. WAV files in and out (`wav`), the
//! microphone or a file played in its place (`capture`), and which frames hold speech (`vad`);
//! a recording whose writer died made whole again (`repair`).

pub(crate) mod capture;
pub(crate) mod repair;
pub(crate) mod vad;
mod wav;

pub use wav::*;
