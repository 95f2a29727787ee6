//! Language every framework shares: small talk around an answer and phrases that deny a
//! contribution. The cues that recognise a framework's own parts live in its TOML file.

use std::sync::OnceLock;

use super::text::{phrases, Phrase};

/// What a small-talk cue is: decides when it counts and how `why` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmallTalkKind {
    /// Small talk around the answer ("good question", "that's my answer").
    Phrase,
    /// A bare interjection ("okay", "um"), small talk in a very short sentence.
    Interjection,
}

/// A compiled small-talk cue.
#[derive(Debug, Clone)]
pub(crate) struct SmallTalkCue {
    pub phrase: Phrase,
    pub kind: SmallTalkKind,
    pub weight: f64,
}

/// Phrases that deny a contribution; they cancel ownership cues in the same sentence.
pub(crate) const DEFLECTION: &[&str] = &[
    "nothing i could",
    "not much i could",
    "anything wrong",
    "not my fault",
    "was not on me",
    "out of my control",
    "outside my control",
    "out of my hands",
    "i did everything right",
    "i did everything i could",
    "i did my part",
    "i did my job",
    "not my responsibility",
    "not my call",
];

/// Small talk before, inside or after the answer, clear even in a longer sentence.
const SMALL_TALK: &[&str] = &[
    "that is my answer",
    "that is it",
    "that is about it",
    "that is the story",
    "that is all",
    "that is my example",
    "good question",
    "great question",
    "tough question",
    "hard question",
    "tough one",
    "hard one",
    "let me think",
    "give me a second",
    "give me a moment",
    "let me see",
    "thank you",
    "so yeah",
    "yeah so",
    "does that answer",
    "hope that answers",
    "hope that is",
    "you were looking for",
    "happy to go",
    "happy to talk",
    "any questions",
    "i think that covers",
    "where do i start",
    "where to start",
    "oh boy",
    "fair enough",
    "that is the one",
    "that would be my example",
    "that is probably the one",
    "do you want me to",
    "more detail",
    "is that okay",
    "bear with me",
];

/// Interjections that are small talk only when they are most of a short sentence.
const INTERJECTION: &[&str] = &[
    "thanks", "yeah", "okay", "ok", "um", "uh", "hmm", "sure", "right", "wow", "ha", "anyway", "so",
];

/// Small-talk cues, compiled once.
pub(crate) fn small_talk_cues() -> &'static [SmallTalkCue] {
    static CUES: OnceLock<Vec<SmallTalkCue>> = OnceLock::new();
    CUES.get_or_init(|| {
        let cue = |kind, weight| {
            move |phrase| SmallTalkCue {
                phrase,
                kind,
                weight,
            }
        };
        phrases(SMALL_TALK)
            .into_iter()
            .map(cue(SmallTalkKind::Phrase, 4.0))
            .chain(
                phrases(INTERJECTION)
                    .into_iter()
                    .map(cue(SmallTalkKind::Interjection, 2.0)),
            )
            .collect()
    })
}

/// Deflection phrases compiled once.
pub(crate) fn deflection() -> &'static [Phrase] {
    static P: OnceLock<Vec<Phrase>> = OnceLock::new();
    P.get_or_init(|| phrases(DEFLECTION))
}
