//! Speech: the pipeline's two voices. Whisper hears the candidate (`transcribe`), and the
//! system's text-to-speech speaks the interviewer's lines (`speak`).

pub mod speak;
pub mod transcribe;
