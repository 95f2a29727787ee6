//! What a part of an answer is: its id, the role it plays for the content checks, and a
//! sentence's label. Every labeller, check and report speaks of parts in these terms, so they
//! sit below all of them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The part a sentence belongs to: a framework's part id ("choose", "situation") or small talk.
///
/// Ids are interned, so a part is a `Copy` value compared by its name wherever it came from (a
/// framework file, a saved report); the set of ids a process sees is small.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnswerPart(&'static str);

impl AnswerPart {
    /// Small talk around the answer: no part of any framework.
    pub const OTHER: AnswerPart = AnswerPart("other");

    /// A part whose id is known when compiling, for tests and tables of the built-in framework.
    pub const fn named(id: &'static str) -> AnswerPart {
        AnswerPart(id)
    }

    /// The part with this id.
    pub fn new(id: &str) -> AnswerPart {
        static IDS: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
        let mut ids = IDS
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match ids.get(id) {
            Some(known) => AnswerPart(known),
            None => {
                let leaked: &'static str = Box::leak(id.to_string().into_boxed_str());
                ids.insert(leaked);
                AnswerPart(leaked)
            }
        }
    }

    /// The part's id as the JSON and reports spell it.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for AnswerPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for AnswerPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for AnswerPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for AnswerPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Ok(AnswerPart::new(&id))
    }
}

/// What a part does in an answer, for the content checks that look at it: the guide's checks
/// read "the story", "the speaker's own part" and so on, whatever a framework calls its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Naming the example and why it was chosen.
    Choice,
    /// Narrating the situation and what happened.
    Story,
    /// What the speaker themselves did or did not do.
    Ownership,
    /// What changed afterwards, and evidence that it works.
    Change,
}

/// A labelled sentence: its part and the reason in words.
#[derive(Debug, Clone)]
pub(crate) struct Labelled {
    pub part: AnswerPart,
    pub why: String,
}
