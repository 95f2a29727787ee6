//! rehearse: a local, hands-free mock interviewer for "Describe a time you failed".
//!
//! The pipeline reads top to bottom: capture -> voice activity -> transcribe -> analyse ->
//! report -> speak. Audio, whisper and the file system sit at the edges; the analysis works on a
//! `Transcript` alone.

pub mod analysis;
pub mod app;
pub mod audio;
pub mod files;
pub mod library;
pub mod models;
pub mod paths;
mod report;
mod session;
pub mod speech;
pub mod stdout;
mod store;
pub mod transcript;
