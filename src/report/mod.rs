//! Reports that read saved sessions back: a self-contained HTML page of a session or answer
//! (`html`) and the history of every answer so far (`history`).

pub mod history;
pub mod html;
pub mod summary;
pub mod terminal;
