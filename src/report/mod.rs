//! Every writer of what the candidate reads: the report after an answer (`terminal`), the hint
//! before one (`hint`), the session's Markdown summary and spoken summary (`summary`), a
//! self-contained HTML page of a session or answer (`html`) and the history of every answer so
//! far (`history`).

pub(crate) mod hint;
pub mod history;
pub mod html;
pub mod summary;
pub mod terminal;
