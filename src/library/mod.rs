//! What a session is measured against and asks: frameworks and questions, built in or the
//! user's own files, read, checked, and where the user's files go.

pub(crate) mod frameworks;
pub mod questions;

pub use frameworks::{FrameworkLibrary, FrameworkOrigin};
