//! Helpers shared by integration tests.
pub mod http_server;
