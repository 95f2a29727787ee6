//! The phrase lists a coach would use to recognise each part of a failure answer. They are
//! general phrasings, written once here and shared by the labeller and the findings.

use std::sync::OnceLock;

use super::text::{phrases, Phrase};

/// What a cue is evidence of; decides the part it votes for and how `why` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CueKind {
    /// Picking the story and its stakes ("the one that comes to mind").
    Choice,
    /// Narrating the situation and events ("at the time", "the client").
    Narrative,
    /// The speaker's own contribution ("I should have", "my mistake was").
    Ownership,
    /// What the speaker learned or does differently now ("since then", "now I").
    Change,
    /// A later situation or result showing the change works ("six months later").
    Evidence,
    /// Small talk around the answer ("good question", "that's my answer").
    SmallTalk,
    /// A bare interjection ("okay", "um"), small talk in a very short sentence.
    Interjection,
}

impl CueKind {
    /// How `why` names the cue.
    pub fn label(self) -> &'static str {
        match self {
            CueKind::Choice => "choice cue",
            CueKind::Narrative => "narrative cue",
            CueKind::Ownership => "ownership cue",
            CueKind::Change => "change cue",
            CueKind::Evidence => "evidence cue",
            CueKind::SmallTalk | CueKind::Interjection => "small-talk cue",
        }
    }
}

/// Weight of a choice cue that names the failure outright; it outweighs ownership words in the
/// same sentence ("the one I'd pick ... was down to me" still names the story).
pub(crate) const STRONG_CHOICE: f64 = 4.5;

/// A compiled cue: a phrase and how strongly it votes.
#[derive(Debug, Clone)]
pub(crate) struct Cue {
    pub phrase: Phrase,
    pub kind: CueKind,
    pub weight: f64,
}

fn weighted(kind: CueKind, weight: f64, sources: &[&'static str]) -> Vec<Cue> {
    phrases(sources)
        .into_iter()
        .map(|phrase| Cue {
            phrase,
            kind,
            weight,
        })
        .collect()
}

/// Naming the failure chosen, or why it was chosen.
const CHOICE_STRONG: &[&str] = &[
    "a time i failed",
    "a time when i failed",
    "time i really failed",
    "comes to mind",
    "come to mind",
    "i will talk about",
    "i want to talk about",
    "i would like to talk about",
    "i am going to talk about",
    "i will tell you about",
    "let me tell you about",
    "i want to tell you about",
    "i would like to share",
    "i will share",
    "i want to share",
    "i will go with",
    "i would go with",
    "i would pick",
    "i will pick",
    "i picked this",
    "i chose this",
    "the failure i",
    "the example i",
    "the story i",
    "my biggest failure",
    "the biggest failure",
    "my biggest professional",
    "my clearest failure",
    "a real failure",
    "a genuine failure",
    "the one i think about",
    "i still think about",
    "the one i would",
    "the one i will",
    "the one i am",
    "i would choose",
    "i will choose",
    "i am choosing",
    "i am picking",
    "i had to pick",
    "i would talk about",
    "a failure i",
    "biggest failure",
    "going to pick",
    "going to talk about",
    "going to go with",
    "i picked it because",
    "i chose it because",
    "example because",
    "a good example",
    "the example i would",
];

/// Weaker signs of the choosing part: stakes and a headline of the story.
const CHOICE_WEAK: &[&str] = &[
    "failure",
    "the stakes",
    "at stake",
    "high stakes",
    "it mattered",
    "it matters because",
    "there was a time",
    "the time i",
    "the time when",
    "a time when",
    "one time",
    "the worst",
    "biggest mistake",
    "recent",
    "this one because",
    "was a big deal",
    "largest",
    "biggest",
    "the first time i",
    "most important",
    "high profile",
    "it affected",
    "mistake i have made",
    "mistake i made",
    "most serious",
    "could have been worse",
    "could have been much worse",
    "worst mistake",
];

/// A speaker stating what they themselves did or did not do.
const OWNERSHIP_STRONG: &[&str] = &[
    "my mistake",
    "my fault",
    "my part",
    "my role in",
    "my contribution",
    "my responsibility",
    "my error",
    "my failure was",
    "on me",
    "i own",
    "i take responsibility",
    "i take full",
    "i was accountable",
    "i should have",
    "i should not have",
    "i could have",
    "i failed to",
    "i assumed",
    "i underestimat*",
    "i overestimat*",
    "i overlooked",
    "i misjudged",
    "i neglected",
    "i was wrong",
    "i dropped the ball",
    "i blame myself",
    "because of me",
    "i caused",
    "i was the one who",
    "in hindsight",
    "looking back",
    "what i did wrong",
    "where i went wrong",
    "i got it wrong",
    "was mine",
    "down to me",
    "my call",
    "without checking",
    "without asking",
    "without testing",
    "without telling",
    "without confirming",
    "i did not check",
    "i did not ask",
    "i did not tell",
    "i did not raise",
    "i did not flag",
    "i did not test",
    "i did not follow",
    "my failure is",
    "my weakness",
];

/// Weaker ownership: first-person omissions and choices that usually state a contribution.
const OWNERSHIP_WEAK: &[&str] = &[
    "i did not",
    "i had not",
    "i was not",
    "i never",
    "i forgot",
    "i ignored",
    "i skipped",
    "i rushed",
    "i let",
    "i waited",
    "i avoided",
    "i put off",
    "i chose not",
    "i decided not",
    "i told myself",
    "i was too",
    "i thought i",
    "i realized",
    "i realised",
    "i missed",
    "i promised",
    "i committed",
    "i overcommitted",
    "i signed off",
    "i approved",
    "i pushed",
    "complacent",
    "careless",
    "rushing",
    "i was tired",
    "avoiding",
    "i trusted",
    "i relied on",
    "part of me",
    "i drove",
    "i did it anyway",
    "i would have",
    "without *ing",
    "we should have",
    "we should not have",
    "we failed to",
    "we skipped",
    "we assumed",
    "we underestimat*",
    "our mistake",
    "we could have",
    "as a team we",
    "i was supposed to",
    "cut corners",
    "cut a corner",
    "cut the corner",
];

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

/// What changed: new habits, rules and artefacts, and the lesson itself.
const CHANGE: &[&str] = &[
    "what i changed",
    "i changed",
    "i have changed",
    "what i do now",
    "what i do differently",
    "i now",
    "now i",
    "now we",
    "we now",
    "since then",
    "ever since",
    "these days",
    "nowadays",
    "today i",
    "from then on",
    "from that point",
    "going forward",
    "i started",
    "i have started",
    "i began",
    "i introduced",
    "i set up",
    "i created",
    "i built a",
    "i added",
    "i adopted",
    "i switched",
    "i make sure",
    "i always",
    "i no longer",
    "next time",
    "the next time",
    "i learned",
    "i have learned",
    "i learnt",
    "the lesson",
    "taught me",
    "my takeaway",
    "i took away",
    "i have a rule",
    "my rule",
    "i require",
    "i insist",
    "i have since",
    "i would now",
    "what changed",
    "things changed",
    "came out of",
    "i took from",
    "i took away",
    "anymore",
    "any more",
    "secondly",
    "thirdly",
    "and second",
    "and third",
    "the main lesson",
    "the bigger lesson",
    "lesson for me",
    "we changed",
    "we have changed",
    "what we changed",
    "we learned",
    "what we learned",
    "we started",
    "we introduced",
    "we added",
    "we set up",
    "we have since",
    "we make sure",
    "we always",
];

/// A later situation or a measured result after the change.
const EVIDENCE: &[&str] = &[
    "months later",
    "weeks later",
    "a year later",
    "years later",
    "since then i have",
    "since then we have",
    "since then there",
    "since then none",
    "since then not",
    "the next project",
    "my next project",
    "the next release",
    "the next launch",
    "the next quarter",
    "the following quarter",
    "the following year",
    "last quarter",
    "it worked",
    "it has worked",
    "has worked",
    "paid off",
    "no incidents",
    "zero incidents",
    "not once",
    "has not happened",
    "have not had",
    "have not missed",
    "has not slipped",
    "without incident",
    "went live without",
    "on time since",
    "i have caught",
    "we have caught",
    "it caught",
    "so far",
    "every one since",
    "each one since",
    "both of which",
    "since that change",
    "since i started",
];

/// The things a concrete change is made of: artefacts, routines and rules. Weak, because a
/// story can mention a checklist too.
const CHANGE_WEAK: &[&str] = &[
    "checklist",
    "template",
    "habit",
    "routine",
    "my rule",
    "a rule",
    "every time",
    "each time",
    "before any",
    "before every",
    "from now on",
];

/// A later time or a result, weaker than `EVIDENCE` because stories use them too.
const EVIDENCE_WEAK: &[&str] = &[
    "again",
    "this time",
    "the same",
    "last year",
    "last spring",
    "last summer",
    "last autumn",
    "last winter",
    "last month",
    "this year",
    "this autumn",
    "this spring",
    "months ago",
    "weeks ago",
    "recently",
    "since",
    "that way",
    "the second time",
    "went from",
    "neither of them",
    "none of them",
    "was surprised",
    "a single",
];

/// Not knowing something at the time: part of the story rather than a choice the speaker made,
/// so it offsets the "I didn't" inside it.
const UNAWARE: &[&str] = &[
    "i did not realise",
    "i did not realize",
    "i did not know",
    "i did not think about",
    "i did not notice",
    "i had no idea",
    "i had no way",
];

/// Signs of narrating the situation and what happened.
const NARRATIVE: &[&str] = &[
    "at the time",
    "back then",
    "i was working",
    "i was leading",
    "i was responsible",
    "i was in charge",
    "i was running",
    "i was asked",
    "i was the",
    "i was a",
    "we were",
    "we had",
    "they were",
    "it was a",
    "there was",
    "the project",
    "the team",
    "our team",
    "the client",
    "a client",
    "the customer",
    "customers",
    "users",
    "the launch",
    "the deadline",
    "was supposed to",
    "were supposed to",
    "that meant",
    "which meant",
    "as a result",
    "after that",
    "by the time",
    "the next morning",
    "the next day",
    "that week",
    "that day",
    "happened",
    "my manager",
    "my boss",
    "the company",
    "at my previous",
    "at my last",
    "at my first",
    "complain*",
    "escalat*",
    "outage",
    "went down",
    "we lost",
    "it cost",
    "delayed",
    "weeks late",
    "days late",
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

/// All labelling cues, compiled once.
pub(crate) fn labelling_cues() -> &'static [Cue] {
    static CUES: OnceLock<Vec<Cue>> = OnceLock::new();
    CUES.get_or_init(|| {
        [
            weighted(CueKind::Choice, STRONG_CHOICE, CHOICE_STRONG),
            weighted(CueKind::Choice, 1.2, CHOICE_WEAK),
            weighted(CueKind::Ownership, 3.0, OWNERSHIP_STRONG),
            weighted(CueKind::Ownership, 2.2, OWNERSHIP_WEAK),
            weighted(CueKind::Change, 2.6, CHANGE),
            weighted(CueKind::Change, 1.2, CHANGE_WEAK),
            weighted(CueKind::Evidence, 2.6, EVIDENCE),
            weighted(CueKind::Evidence, 1.2, EVIDENCE_WEAK),
            weighted(CueKind::Narrative, 0.6, NARRATIVE),
            weighted(CueKind::Narrative, 2.2, UNAWARE),
            weighted(CueKind::SmallTalk, 4.0, SMALL_TALK),
            weighted(CueKind::Interjection, 2.0, INTERJECTION),
        ]
        .concat()
    })
}

/// Deflection phrases compiled once.
pub(crate) fn deflection() -> &'static [Phrase] {
    static P: OnceLock<Vec<Phrase>> = OnceLock::new();
    P.get_or_init(|| phrases(DEFLECTION))
}

/// Ownership phrases (strong and weak) compiled once, for the `no_ownership` finding.
pub(crate) fn ownership_phrases() -> &'static [Cue] {
    static P: OnceLock<Vec<Cue>> = OnceLock::new();
    P.get_or_init(|| {
        labelling_cues()
            .iter()
            .filter(|c| c.kind == CueKind::Ownership)
            .cloned()
            .collect()
    })
}
