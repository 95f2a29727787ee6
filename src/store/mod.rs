//! The one owner of the session directory on disk: its name and the names of the files in it
//! (`record`), the index `session.json` (`index`), and reading sessions back for `history`,
//! `report` and recovery (`saved`). Nothing else builds a path inside a session.

mod index;
mod record;
pub mod saved;

pub use index::{
    AnswerEnd, AnswerRecord, FollowupRecord, IndexedAnswer, LiveIndex, SessionEnd, SessionIndex,
};
pub use record::{write_json, SessionRecord, WavRecorder};
