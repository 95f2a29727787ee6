//! Helpers shared by the integration tests. Every test file declares `mod support;` and uses the
//! parts it needs.

// Each test binary compiles all of support but uses only part of it.
#![allow(dead_code)]

pub mod audio_server;
pub mod http_server;
pub mod json;
pub mod run;
pub mod session;
pub mod speech;
pub mod tmpfs;
