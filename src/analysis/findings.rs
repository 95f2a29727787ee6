//! Findings: what a coach would say about the answer, each with a stable code, a severity and a
//! message quoting the words that triggered it (or naming what is absent).
//!
//! Content codes follow the guide's common mistakes; timing codes compare parts with the budget;
//! delivery codes look at pace, fillers and pauses.

use std::sync::OnceLock;

use super::checks::ContentCheck;
use super::cues::deflection;
use super::framework::Framework;
use super::grammar::{is_first_person, is_past_tense, present_habits};
use super::meaning::{answer_features, part_shares, Property, Reading, JUDGED_CHECKS};
use super::part::Role;
use super::sentences::Sentence;
use super::text::{
    is_number, is_participle, negated_before, phrases, quote, small_number_value, year_at, Phrase,
    Token,
};
use super::timing::verdict;
use super::{
    AnalysisOptions, AnswerPart, Budget, Delivery, Finding, Level, PartReport, Severity, Verdict,
};
use crate::transcript::Word;

/// The labelled answer the content checks read.
pub(crate) struct Answer<'a> {
    pub words: &'a [Word],
    pub sentences: &'a [Sentence],
    pub labels: &'a [AnswerPart],
    pub durations: &'a [f64],
    pub framework: &'a Framework,
}

/// Others at fault, or the outcome placed out of the speaker's reach.
const BLAME: &[&str] = &[
    "their fault",
    "his fault",
    "her fault",
    "the fault of",
    "not my fault",
    "they should have",
    "he should have",
    "she should have",
    "they failed to",
    "he failed to",
    "she failed to",
    "they did not",
    "they never",
    "nobody told me",
    "no one told me",
    "nobody bothered",
    "no one bothered",
    "i was never told",
    "i was not told",
    "out of my control",
    "outside my control",
    "out of my hands",
    "nothing i could",
    "i did everything i could",
    "i did everything right",
    "blame the",
    "blamed the",
    "blame them",
    "blamed them",
    "blame him",
    "blame her",
    "were to blame",
    "let us down",
    "let me down",
    "threw me under",
    "because they",
    "because he",
    "because she",
    "they had never",
    "they had not",
    "they would not",
    "unrealistic",
    "was not realistic",
    "set us up to fail",
    "set up to fail",
    "we were not given",
    "i was not given",
    "did not give us",
    "did not give me",
    "only so much",
];

/// Ownership phrases too loose to count as an explicit statement of one's own part.
const LOOSE_OWNERSHIP: &[&str] = &[
    "i was not",
    "i thought i",
    "i realized",
    "i realised",
    "i promised",
    "i committed",
    "i kept",
    "i pushed",
    "i never",
];

/// A strength dressed up as a failure.
const NON_FAILURE: &[&str] = &[
    "work too hard",
    "worked too hard",
    "working too hard",
    "care too much",
    "cared too much",
    "caring too much",
    "a perfectionist",
    "perfectionism",
    "too hard on myself",
    "too detail oriented",
    "too detailoriented",
    "too dedicated",
    "too committed",
    "too thorough",
    "high standards",
    "standards are too high",
    "standards were too high",
    "too invested",
    "my biggest weakness",
    "to be perfect",
];

/// The story ends with nothing actually lost.
const FINE_ENDING: &[&str] = &[
    "delivered on time anyway",
    "still delivered on time",
    "still shipped on time",
    "still launched on time",
    "still made the deadline",
    "still hit the deadline",
    "made the deadline anyway",
    "on time anyway",
    "still finished on time",
    "finished on time",
    "in the end it was fine",
    "it was fine in the end",
    "turned out fine",
    "turned out okay",
    "turned out well",
    "turned out great",
    "worked out fine",
    "worked out in the end",
    "it all worked out",
    "everything worked out",
    "no harm done",
    "no real harm",
    "no real impact",
    "no real damage",
    "nobody noticed",
    "no one noticed",
    "never noticed",
    "ended up fine",
    "everything was fine",
    "no comments",
    "came out well",
    "still a success",
    "a big success",
    "a huge success",
    "we caught up",
    "i caught up",
    "back on track",
    "was not affected",
    "were not affected",
    "nobody was affected",
    "no one was affected",
    "no extra cost",
    "no extra costs",
    "not have any extra",
    "on the original date",
    "no delay",
    "not cause any delay",
    "not delay",
    "no impact",
    "not much impact",
    "still happened",
    "still went out",
    "still hit",
    "all correct",
    "nothing went wrong",
    "as planned",
    "on the planned",
    "on schedule",
    "briefly",
];

/// Real consequences: something was lost, late, broken or escalated.
const CONSEQUENCE: &[&str] = &[
    "we lost",
    "i lost",
    "lost the",
    "lost a",
    "cost us",
    "cost the",
    "it cost",
    "missed the deadline",
    "missed the launch",
    "missed our",
    "slipped by",
    "weeks late",
    "days late",
    "months late",
    "delayed the",
    "was delayed",
    "were delayed",
    "outage",
    "went down",
    "took down",
    "refund",
    "churn*",
    "cancel*",
    "resigned",
    "quit",
    "left the company",
    "furious",
    "complaint",
    "complained",
    "escalat*",
    "apologi*",
    "penalty",
    "data loss",
    "corrupt*",
    "rolled back",
    "roll it back",
    "had to redo",
    "had to be redone",
    "had to rework",
    "had to re",
    "overcharged",
    "incident",
    "rejected",
    "hurt customers",
    "change order",
    "redesign",
];

/// "We" words and "I" words, to see whose story it is.
const WE_WORDS: &[&str] = &["we", "our", "us", "ours", "ourselves"];
const I_WORDS: &[&str] = &["i", "my", "me", "mine", "myself"];
/// "I" in these is a discourse marker, not a role ("I think", "I mean").
const I_MARKERS: &[&str] = &["think", "mean", "guess", "suppose", "would", "believe"];

/// Saying a change has happened, or is now a habit.
const CHANGE_ACTION: &[&str] = &[
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
    "i started",
    "i have started",
    "i began",
    "i introduced",
    "i set up",
    "i have set up",
    "i created",
    "i built",
    "i added",
    "i adopted",
    "i switched",
    "i stopped",
    "i make sure",
    "i always",
    "i no longer",
    "i have a rule",
    "my rule",
    "i require",
    "i insist",
    "i changed",
    "what i changed",
    "i have since",
    "i wrote",
    "i asked",
    "i put",
    "i use",
    "i block",
    "i book",
    "i schedule",
    "i send",
    "i ask",
    "i read",
    "i write",
    "i run",
    "i check",
    "i review",
    "i message",
    "i go through",
    "i never",
    "i do not",
    "first thing",
    "what i do now",
];

/// Verbs of intent rather than practice: "I try to", "I need to" change nothing yet.
const ASPIRATION: &[&str] = &[
    "try", "need", "aim", "hope", "want", "work", "tend", "like", "plan", "intend", "wish",
];

/// The specific part of a change: a cadence, an artefact, a trigger or a rule.
const CONCRETE: &[&str] = &[
    "every",
    "each",
    "weekly",
    "daily",
    "monthly",
    "twice",
    "once a",
    "before any",
    "before every",
    "before each",
    "before i",
    "whenever",
    "at the start of",
    "at the end of",
    "checklist",
    "template",
    "document",
    "doc",
    "runbook",
    "playbook",
    "calendar",
    "spreadsheet",
    "dashboard",
    "alert",
    "tracker",
    "ticket",
    "script",
    "sheet",
    "line item",
    "form",
    "reminder",
    "agenda",
    "checkin",
    "standup",
    "oneonone",
    "meeting",
    "review",
    "in writing",
    "written",
    "summary",
    "status",
    "footer",
    "rule",
    "unless",
    "i require",
    "i insist",
    "no longer",
    "site visit",
    "buffer",
    "rehearsal",
    "dry run",
    "pilot",
];

/// A specific later occasion, after the change.
const LATER: &[&str] = &[
    "later",
    "ago",
    "since then",
    "ever since",
    "since that",
    "since i",
    "since we",
    "have since",
    "has since",
    "again",
    "last year",
    "last quarter",
    "last month",
    "last week",
    "last term",
    "last spring",
    "last summer",
    "last autumn",
    "last fall",
    "last winter",
    "this year",
    "this quarter",
    "this month",
    "this term",
    "this spring",
    "this summer",
    "this autumn",
    "this fall",
    "this winter",
    "the next time",
    "the next project",
    "my next project",
    "the next release",
    "the next launch",
    "the following",
    "a similar situation",
    "in my current",
    "at my current",
    "so far",
    "over the last",
    "in the last",
    "for the last",
    "over the past",
    "in the past",
];

/// Verbs that report making the change, not how it went since ("I added a step").
const CHANGE_VERBS: &[&str] = &[
    "added",
    "started",
    "began",
    "created",
    "introduced",
    "set",
    "wrote",
    "written",
    "built",
    "changed",
    "made",
    "stopped",
    "adopted",
    "switched",
    "learned",
    "learnt",
    "decided",
    "put",
    "moved",
    "asked",
    "agreed",
    "realized",
    "realised",
];

/// A result phrase that shows the change working even without a past-tense story.
const RESULT: &[&str] = &[
    "not once",
    "not had",
    "not missed",
    "not happened",
    "not slipped",
    "no incidents",
    "no issues",
    "no problems",
    "no surprises",
    "zero",
    "none of them",
    "neither of them",
    "without incident",
    "it worked",
    "has worked",
    "paid off",
    "went from",
    "fewer",
    "improved",
    "dropped",
    "reduced",
    "caught",
    "without a single",
];

/// Life stages that date a story, for candidates past them.
const LIFE_STAGE: &[&str] = &[
    "in college",
    "at college",
    "of college",
    "from college",
    "at university",
    "in university",
    "of university",
    "from university",
    "at uni",
    "in school",
    "in high school",
    "grad school",
    "as a student",
    "as an intern",
    "my internship",
    "my first job",
    "early in my career",
];

/// Spoken ages that make a story old at any career stage.
const LONG_AGO: &[&str] = &[
    "a decade ago",
    "decades ago",
    "long time ago",
    "long ago",
    "ten years back",
];

/// A reason for picking an old story.
const AGE_REASON: &[&str] = &[
    "i chose this",
    "i chose it",
    "i picked this",
    "i picked it",
    "i am picking",
    "i am choosing",
    "the reason i",
    "why i chose",
    "why i picked",
    "even though it was",
    "although it was",
    "old but",
    "while ago but",
    "time ago but",
    "formative",
    "shaped how",
    "shaped the way",
    "still shapes",
    "i still think about",
    "the biggest lesson",
];

/// Over this share of the answer describing (with choosing) the failure crowds out the rest.
const CONTEXT_HEAVY_SHARE: f64 = 0.6;
/// An answer whose own and learn parts get less than this share is context heavy too.
const THIN_REFLECTION_SHARE: f64 = 0.3;
/// "We" this many times more often than "I" with no own statement: a team story.
const TEAM_RATIO: usize = 3;
const TEAM_MIN_WE: usize = 5;
/// Spoken ages at or above this many years make a story old.
const OLD_YEARS: u32 = 4;
/// Fillers per hundred words, and the least count, that are worth a note.
const FILLERS_PER_100_WORDS: f64 = 3.0;
const MIN_FILLERS: usize = 4;
/// Comfortable interview pace, words per minute.
const PACE_MIN_WPM: f64 = 120.0;
const PACE_MAX_WPM: f64 = 170.0;
/// A silence this long reads as losing the thread.
const LONG_PAUSE_S: f64 = 5.0;
/// Tokens before a cue that are searched for a negation ("I didn't blame anyone").
const NEGATION_WINDOW: usize = 4;

/// A compiled cue list, cached for the process.
macro_rules! compiled {
    ($list:expr) => {{
        static P: OnceLock<Vec<Phrase>> = OnceLock::new();
        P.get_or_init(|| phrases($list)).as_slice()
    }};
}

impl Answer<'_> {
    fn find(
        &self,
        list: &[Phrase],
        skip_negated: bool,
        keep: impl Fn(usize) -> bool,
    ) -> Option<String> {
        self.sentences
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .find_map(|(_, s)| {
                list.iter().find_map(|p| {
                    p.find_spans(&s.tokens)
                        .into_iter()
                        .find(|&(at, _)| {
                            !skip_negated || !negated_before(&s.tokens, at, NEGATION_WINDOW)
                        })
                        .map(|(at, len)| quote(self.words, &s.tokens, at, len))
                })
            })
    }

    /// Whether sentence `i` is labelled with a part playing one of `roles`.
    fn is(&self, i: usize, roles: &[Role]) -> bool {
        self.labels
            .get(i)
            .and_then(|p| self.framework.role_of(*p))
            .is_some_and(|r| roles.contains(&r))
    }

    /// Whether sentence `i` is small talk.
    fn is_other(&self, i: usize) -> bool {
        self.labels.get(i) == Some(&AnswerPart::OTHER)
    }

    fn any_in(&self, list: &[Phrase], i: usize) -> bool {
        list.iter()
            .any(|p| !p.find_all(&self.sentences[i].tokens).is_empty())
    }

    /// Seconds of the sentences that pass `keep`.
    fn seconds(&self, keep: impl Fn(usize) -> bool) -> f64 {
        (0..self.sentences.len())
            .filter(|&i| keep(i))
            .map(|i| self.durations[i])
            .sum()
    }
}

fn finding(code: &str, severity: Severity, message: String) -> Finding {
    Finding {
        code: code.to_string(),
        severity,
        message,
        part: None,
    }
}

/// The framework's cues for the speaker's own part that state a personal part: neither loose
/// ones nor the team's "we should have".
fn personal_ownership(framework: &Framework) -> Vec<Phrase> {
    framework
        .part_with_role(Role::Ownership)
        .into_iter()
        .flat_map(|part| &part.cues)
        .filter(|group| group.needs_speaker)
        .flat_map(|group| &group.phrases)
        .filter(|p| !LOOSE_OWNERSHIP.contains(&p.source.as_str()))
        .filter(|p| {
            !p.source
                .split_whitespace()
                .any(|w| matches!(w, "we" | "our"))
        })
        .cloned()
        .collect()
}

/// An explicit statement of the speaker's own part, outside the learning.
fn ownership_statement(answer: &Answer) -> Option<String> {
    answer.find(&personal_ownership(answer.framework), true, |i| {
        let tokens = &answer.sentences[i].tokens;
        tokens.iter().any(|t| is_first_person(&t.text))
            && !answer.is(i, &[Role::Change])
            && !answer.is_other(i)
            && !deflection().iter().any(|p| !p.find_all(tokens).is_empty())
    })
}

fn blame(answer: &Answer, owned: bool) -> Option<Finding> {
    if owned {
        return None;
    }
    let m = answer.find(compiled!(BLAME), true, |i| !answer.is(i, &[Role::Change]))?;
    Some(finding(
        "blame",
        Severity::Major,
        format!(
            "The failure is put on others (\"{}\") and never on anything you did; name what was within your control.",
            m
        ),
    ))
}

fn no_ownership(owned: bool) -> Option<Finding> {
    (!owned).then(|| {
        finding(
            "no_ownership",
            Severity::Major,
            "No sentence says what you did or did not do; say \"My part in it was ...\"."
                .to_string(),
        )
    })
}

fn non_failure(answer: &Answer) -> Option<Finding> {
    let m = answer.find(compiled!(NON_FAILURE), true, |_| true)?;
    Some(finding(
        "non_failure",
        Severity::Major,
        format!(
            "\"{}\" is a strength presented as a failure; pick a failure with real consequences.",
            m
        ),
    ))
}

fn turned_out_fine(answer: &Answer) -> Option<Finding> {
    let before_learning = |i: usize| !answer.is(i, &[Role::Change]) && !answer.is_other(i);
    let m = answer.find(compiled!(FINE_ENDING), true, before_learning)?;
    let consequence = answer.find(compiled!(CONSEQUENCE), true, before_learning);
    consequence.is_none().then(|| {
        finding(
            "turned_out_fine",
            Severity::Major,
            format!(
                "\"{}\": the story ends with nothing lost, so it reads as a speed bump, not a failure.",
                m
            ),
        )
    })
}

/// Counts "we" and "I" words in the story, leaving out "I think" and the like.
fn we_and_i(answer: &Answer) -> (usize, usize) {
    let mut we = 0;
    let mut i_count = 0;
    for (i, s) in answer.sentences.iter().enumerate() {
        if !answer.is(i, &[Role::Story, Role::Ownership]) {
            continue;
        }
        for (k, t) in s.tokens.iter().enumerate() {
            if WE_WORDS.contains(&t.text.as_str()) {
                we += 1;
            } else if I_WORDS.contains(&t.text.as_str()) {
                let marker = t.text == "i"
                    && s.tokens
                        .get(k + 1)
                        .is_some_and(|n: &Token| I_MARKERS.contains(&n.text.as_str()));
                if !marker {
                    i_count += 1;
                }
            }
        }
    }
    (we, i_count)
}

fn team_only(answer: &Answer, owned: bool) -> Option<Finding> {
    let (we, i_count) = we_and_i(answer);
    (!owned && we >= TEAM_MIN_WE && we >= TEAM_RATIO * i_count).then(|| {
        finding(
            "team_only",
            Severity::Warning,
            format!(
                "The story says \"we\" {we} times and \"I\" {i_count} times; say which decisions were yours."
            ),
        )
    })
}

fn no_concrete_change(answer: &Answer) -> Option<Finding> {
    let learning: Vec<usize> = (0..answer.sentences.len())
        .filter(|&i| answer.is(i, &[Role::Change]))
        .collect();
    let concrete = learning.iter().any(|&i| {
        let habit = present_habits(&answer.sentences[i].tokens)
            .iter()
            .any(|h| !h.split(' ').any(|w| ASPIRATION.contains(&w)));
        (habit || answer.any_in(compiled!(CHANGE_ACTION), i))
            && (answer.any_in(compiled!(CONCRETE), i)
                || answer.sentences[i]
                    .tokens
                    .iter()
                    .any(|t| is_number(&t.text)))
    });
    if concrete {
        return None;
    }
    let message = match learning.first() {
        Some(&i) => format!(
            "The learning (\"{}\") names no specific change; say what you now do, when, or with what.",
            excerpt(&answer.sentences[i].text)
        ),
        None => "No sentence says what you do differently now; describe one specific change.".to_string(),
    };
    Some(finding("no_concrete_change", Severity::Major, message))
}

/// Whether a sentence tells of a later occasion: a later-time phrase with a past-tense or
/// present-perfect verb ("last spring we moved again", "since then I've run four"), or a
/// result phrase ("not a single complaint").
fn tells_later_occasion(answer: &Answer, i: usize) -> bool {
    let tokens = &answer.sentences[i].tokens;
    // "since" ends the sentence: "... on every feature since".
    let trailing_since = tokens.last().is_some_and(|t| t.text == "since");
    let later = trailing_since || answer.any_in(compiled!(LATER), i);
    let outcome = |t: &str| !CHANGE_VERBS.contains(&t);
    let happened = tokens
        .iter()
        .any(|t| is_past_tense(&t.text) && outcome(&t.text))
        || tokens.windows(2).any(|w| {
            matches!(w[0].text.as_str(), "have" | "has")
                && is_participle(&w[1].text)
                && outcome(&w[1].text)
        });
    (later && happened) || answer.any_in(compiled!(RESULT), i)
}

fn no_evidence(answer: &Answer) -> Option<Finding> {
    let first_learning = (0..answer.sentences.len()).find(|&i| answer.is(i, &[Role::Change]))?;
    let shown = (first_learning..answer.sentences.len())
        .filter(|&i| !answer.is_other(i))
        .any(|i| tells_later_occasion(answer, i));
    (!shown).then(|| {
        finding(
            "no_evidence",
            Severity::Warning,
            "Nothing shows the change worked; add a later situation where you did it differently and what happened.".to_string(),
        )
    })
}

/// Words that date a story by the year after them: "in 2015", "back in two thousand sixteen".
/// Not "from" or "like" ("laptops from, like, 2017" dates the laptops), nor "since" ("I have
/// been there since 2015" dates a job), nor "about" ("about 2000 customers").
const DATING_WORDS: &[&str] = &["in", "back"];

/// A spoken age of the story, if it is old: "six years ago", "back in 2015", "in college".
fn old_story(answer: &Answer, options: &AnalysisOptions) -> Option<String> {
    for s in answer.sentences {
        let tokens = &s.tokens;
        for (k, t) in tokens.iter().enumerate() {
            let ago = t.text == "ago" || t.text == "back";
            let unit = k.checked_sub(1).map(|p| tokens[p].text.as_str());
            if ago && matches!(unit, Some("years") | Some("year")) {
                let count = k
                    .checked_sub(2)
                    .and_then(|p| small_number_value(&tokens[p].text));
                if count.is_some_and(|n| n >= OLD_YEARS) {
                    return Some(quote(answer.words, tokens, k - 2, 3));
                }
            }
            if let (Some(reference), Some((year, len))) =
                (options.reference_year, year_at(tokens, k))
            {
                let dated = k
                    .checked_sub(1)
                    .is_some_and(|p| DATING_WORDS.contains(&tokens[p].text.as_str()));
                if dated
                    && (1950..=reference).contains(&year)
                    && reference - year >= OLD_YEARS as i32
                {
                    return Some(quote(answer.words, tokens, k - 1, len + 1));
                }
            }
        }
    }
    let story = |i: usize| !answer.is(i, &[Role::Change]);
    answer.find(compiled!(LONG_AGO), true, story).or_else(|| {
        // An early-career candidate's student days are recent.
        (options.level != Level::Early)
            .then(|| answer.find(compiled!(LIFE_STAGE), true, story))
            .flatten()
    })
}

fn old_failure(answer: &Answer, options: &AnalysisOptions) -> Option<Finding> {
    let m = old_story(answer, options)?;
    let reason = answer.find(compiled!(AGE_REASON), true, |_| true);
    reason.is_none().then(|| {
        finding(
            "old_failure",
            Severity::Warning,
            format!(
                "The story is from \"{}\" and you do not say why you chose it; prefer one from the last two to three years.",
                m
            ),
        )
    })
}

fn context_heavy(answer: &Answer) -> Option<Finding> {
    let content = answer.seconds(|i| !answer.is_other(i));
    if content <= 0.0 {
        return None;
    }
    let story = answer.seconds(|i| answer.is(i, &[Role::Story])) / content;
    let reflection = answer.seconds(|i| answer.is(i, &[Role::Ownership, Role::Change])) / content;
    (story >= CONTEXT_HEAVY_SHARE || (story > reflection && reflection < THIN_REFLECTION_SHARE)).then(|| {
        finding(
            "context_heavy",
            Severity::Warning,
            format!(
                "Describing what happened takes {:.0}% of the answer and your role and learning {:.0}%; keep the context brief.",
                story * 100.0,
                reflection * 100.0
            ),
        )
    })
}

/// The first words of a sentence, for quoting.
fn excerpt(text: &str) -> String {
    const MAX_WORDS: usize = 10;
    let words: Vec<&str> = text.split_whitespace().collect();
    let cut = words.len() > MAX_WORDS;
    let mut out = words[..words.len().min(MAX_WORDS)].join(" ");
    out = out.trim_end_matches([',', '.', '?', '!', ';']).to_string();
    if cut {
        out.push_str(" ...");
    }
    out
}

fn timing(parts: &[PartReport], answer_s: f64, total: Budget) -> Vec<Finding> {
    let mut out: Vec<Finding> = parts
        .iter()
        .filter_map(|p| {
            let title = p.title();
            match p.verdict {
                Verdict::Missing => Some(finding(
                    "part_missing",
                    Severity::Major,
                    format!(
                        "No time on {title}; the budget gives it {:.0}-{:.0} s.",
                        p.budget_min_s, p.budget_max_s
                    ),
                )),
                Verdict::Under | Verdict::Over => {
                    let under = p.verdict == Verdict::Under;
                    let (code, side) = if under {
                        ("part_under", "under")
                    } else {
                        ("part_over", "over")
                    };
                    // Short on the part that should be largest matters more than long on it.
                    let severity = if under == p.largest {
                        Severity::Warning
                    } else {
                        Severity::Info
                    };
                    Some(finding(
                        code,
                        severity,
                        format!(
                            "{:.0} s on {title}, {side} the {:.0}-{:.0} s budget.",
                            p.duration_s, p.budget_min_s, p.budget_max_s
                        ),
                    ))
                }
                Verdict::Within => None,
            }
            .map(|f| Finding {
                part: Some(p.part),
                ..f
            })
        })
        .collect();
    let aim = format!(
        "The answer takes {answer_s:.0} s; aim for {:.0}-{:.0} s.",
        total.min_s, total.max_s
    );
    match verdict(answer_s, total) {
        Verdict::Missing | Verdict::Under => {
            out.push(finding("answer_too_short", Severity::Warning, aim))
        }
        Verdict::Over => out.push(finding("answer_too_long", Severity::Warning, aim)),
        Verdict::Within => {}
    }
    out
}

fn delivery_findings(delivery: &Delivery, word_count: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    let fillers: usize = delivery.filler_words.iter().map(|f| f.count).sum();
    if word_count > 0
        && fillers >= MIN_FILLERS
        && fillers as f64 * 100.0 / word_count as f64 >= FILLERS_PER_100_WORDS
    {
        let which: Vec<String> = delivery
            .filler_words
            .iter()
            .take(3)
            .map(|f| format!("\"{}\" x{}", f.word, f.count))
            .collect();
        out.push(finding(
            "filler_words",
            Severity::Info,
            format!(
                "{fillers} filler words ({}); a short silence works better.",
                which.join(", ")
            ),
        ));
    }
    if word_count > 0 && delivery.words_per_minute > PACE_MAX_WPM {
        out.push(finding(
            "pace_fast",
            Severity::Info,
            format!(
                "{:.0} words per minute is fast; aim for {PACE_MIN_WPM:.0}-{PACE_MAX_WPM:.0}.",
                delivery.words_per_minute
            ),
        ));
    } else if word_count > 0 && delivery.words_per_minute < PACE_MIN_WPM {
        out.push(finding(
            "pace_slow",
            Severity::Info,
            format!(
                "{:.0} words per minute is slow; aim for {PACE_MIN_WPM:.0}-{PACE_MAX_WPM:.0}.",
                delivery.words_per_minute
            ),
        ));
    }
    if delivery.longest_pause_s >= LONG_PAUSE_S {
        out.push(finding(
            "long_pause",
            Severity::Info,
            format!(
                "A {:.0} s silence; if you need time, say so and take it once, up front.",
                delivery.longest_pause_s
            ),
        ));
    }
    out
}

/// The property whose strongest sentence is the evidence for a finding the answer-level
/// model raised where the check did not, and what to say about it.
fn described(answer: &Answer, reading: &Reading, code: &str) -> Finding {
    let quote_of = |property: Property| {
        let j = property.index();
        (0..answer.sentences.len())
            .max_by(|&a, &b| reading.properties[a][j].total_cmp(&reading.properties[b][j]))
            .map(|i| excerpt(&answer.sentences[i].text))
            .unwrap_or_default()
    };
    let (severity, message) = match code {
        "blame" => (Severity::Major, format!("The failure is put on others (\"{}\") and never on anything you did; name what was within your control.", quote_of(Property::Blames))),
        "no_ownership" => (Severity::Major, "No sentence says what you did or did not do; say \"My part in it was ...\".".to_string()),
        "non_failure" => (Severity::Major, format!("\"{}\" is a strength presented as a failure; pick a failure with real consequences.", quote_of(Property::Strength))),
        "turned_out_fine" => (Severity::Major, format!("\"{}\": the story ends with nothing lost, so it reads as a speed bump, not a failure.", quote_of(Property::Fine))),
        "team_only" => (Severity::Warning, format!("The story is the team's (\"{}\") and never says which decisions were yours.", quote_of(Property::Team))),
        "no_concrete_change" => (Severity::Major, format!("The learning (\"{}\") names no specific change; say what you now do, when, or with what.", quote_of(Property::Vague))),
        "no_evidence" => (Severity::Warning, "Nothing shows the change worked; add a later situation where you did it differently and what happened.".to_string()),
        "old_failure" => (Severity::Warning, format!("The story is from long ago (\"{}\") and you do not say why you chose it; prefer one from the last two to three years.", quote_of(Property::Old))),
        _ => (Severity::Warning, "Describing what happened takes more of the answer than your role and learning; keep the context brief.".to_string()),
    };
    finding(code, severity, message)
}

/// The findings that say something is missing, and the property whose presence answers each.
const ABSENCES: [(&str, Property); 3] = [
    ("no_ownership", Property::Owns),
    ("no_concrete_change", Property::Change),
    ("no_evidence", Property::Evidence),
];

use super::meaning::SURE;

/// Whether the answer surely says what `code` would call missing: then the answer-level model
/// does not overrule the sentence that says it ("Since then I have caught two errors in
/// testing" is evidence, whatever the rest of the answer looks like).
fn said_surely(reading: &Reading, code: &str) -> bool {
    ABSENCES
        .iter()
        .find(|(c, _)| *c == code)
        .is_some_and(|(_, property)| {
            reading
                .properties
                .iter()
                .any(|row| row[property.index()] >= SURE)
        })
}

/// The content findings as the answer-level models decide them: each weighs the check's
/// verdict against what the sentences say. A finding both agree on keeps the check's message
/// (it quotes the words that triggered it); one only the model raises quotes the sentence that
/// most has the property; one only the check raised is dropped. The guide's exclusions apply
/// after.
fn weigh(
    answer: &Answer,
    reading: &Reading,
    checked: Vec<Option<Finding>>,
    level: Level,
) -> Vec<Option<Finding>> {
    let checked: Vec<Finding> = checked.into_iter().flatten().collect();
    let names: Vec<&str> = answer.labels.iter().map(|l| l.name()).collect();
    let shares = part_shares(&names, answer.durations);
    let mut raised: Vec<Finding> = Vec::new();
    for check in ContentCheck::ALL {
        let code = check.name();
        let Some(k) = JUDGED_CHECKS.iter().position(|c| *c == check) else {
            continue;
        };
        if said_surely(reading, code) {
            continue;
        }
        let check = checked.iter().find(|f| f.code == code);
        let features = answer_features(&reading.properties, &shares, level, check.is_some());
        if reading.judge.finding_probability(k, &features) >= 0.5 {
            raised.push(
                check
                    .cloned()
                    .unwrap_or_else(|| described(answer, reading, code)),
            );
        }
    }
    let has = |raised: &[Finding], code: &str| raised.iter().any(|f| f.code == code);
    for (kept, dropped) in [
        // A story about others' failings is not a team story.
        ("blame", "team_only"),
        // A strength posing as a failure has nothing to turn out fine.
        ("non_failure", "turned_out_fine"),
        // Evidence is asked of a concrete change; without one, that is the finding.
        ("no_concrete_change", "no_evidence"),
    ] {
        if has(&raised, kept) {
            raised.retain(|f| f.code != dropped);
        }
    }
    raised.into_iter().map(Some).collect()
}

/// The content checks' codes for an answer whose sentences are already labelled: what the
/// answer-level models are trained to weigh.
pub(crate) fn checked_codes(answer: &Answer, options: &AnalysisOptions) -> Vec<String> {
    content_from_cues(answer, options)
        .into_iter()
        .flatten()
        .filter(|f| answer.framework.checks(&f.code))
        .map(|f| f.code)
        .collect()
}

/// Fewer words than this cannot hold a failure, the speaker's part in it and a change: the
/// content is not judged (about 15 seconds of speech).
const MIN_JUDGED_WORDS: usize = 35;
/// A word Whisper gives less than this probability is one it was unsure of.
const UNSURE_WORD: f64 = 0.4;
/// When more than this share of the words are unsure, the transcript is too doubtful to judge.
const MAX_UNSURE_SHARE: f64 = 0.3;

/// Why the content of an answer cannot be judged, in words, if it cannot: too short to have
/// the parts, or heard too unclearly to trust the words. A coach would say so rather than
/// guess (and praise or fault words nobody said).
fn unjudgeable(words: &[Word]) -> Option<String> {
    if words.len() < MIN_JUDGED_WORDS {
        return Some(format!(
            "With only {} words there is not enough to judge the content; tell the whole story: what went wrong, your part in it, and what you do differently now.",
            words.len()
        ));
    }
    let unsure = words.iter().filter(|w| w.probability < UNSURE_WORD).count();
    let share = unsure as f64 / words.len() as f64;
    (share > MAX_UNSURE_SHARE).then(|| {
        format!(
            "The recording was hard to make out ({:.0}% of the words were unclear), so the content is not judged; try again closer to the microphone, in a quieter room.",
            share * 100.0
        )
    })
}

/// Every finding, content first, then timing and delivery. With a classifier's reading, the
/// answer-level models decide the content findings (`weigh`); without, the checks do.
pub(crate) fn find_all(
    answer: &Answer,
    reading: Option<&Reading>,
    parts: &[PartReport],
    answer_s: f64,
    delivery: &Delivery,
    options: &AnalysisOptions,
) -> Vec<Finding> {
    if answer.words.is_empty() {
        return vec![finding(
            "answer_too_short",
            Severity::Major,
            "Nothing was said.".to_string(),
        )];
    }
    // Only the checks the framework lists run; one that is off suppresses nothing.
    let on = |code: &str| answer.framework.checks(code);
    let mut out: Vec<Finding> = match unjudgeable(answer.words) {
        Some(why) => vec![finding("not_judged", Severity::Warning, why)],
        None => {
            let checked = content_from_cues(answer, options);
            let content = match reading {
                Some(reading) => weigh(answer, reading, checked, options.level),
                None => checked,
            };
            content
                .into_iter()
                .flatten()
                .filter(|f| on(&f.code))
                .collect()
        }
    };
    out.extend(timing(parts, answer_s, answer.framework.total));
    out.extend(delivery_findings(delivery, answer.words.len()));
    out
}

/// The guide's content checks read from the framework's cue phrases.
fn content_from_cues(answer: &Answer, options: &AnalysisOptions) -> Vec<Option<Finding>> {
    let on = |code: &str| answer.framework.checks(code);
    let owned = ownership_statement(answer).is_some();
    let blamed = blame(answer, owned).filter(|_| on("blame"));
    let strength = non_failure(answer).filter(|_| on("non_failure"));
    let vague = no_concrete_change(answer).filter(|_| on("no_concrete_change"));
    let content = [
        // A story about others' failings is not a team story.
        team_only(answer, owned).filter(|_| blamed.is_none()),
        blamed,
        no_ownership(owned),
        // A strength posing as a failure has nothing to turn out fine.
        turned_out_fine(answer).filter(|_| strength.is_none()),
        strength,
        // Evidence is asked of a concrete change; without one, that is the finding.
        no_evidence(answer).filter(|_| vague.is_none()),
        vague,
        old_failure(answer, options),
        context_heavy(answer),
    ];
    content.into()
}

#[cfg(test)]
mod tests {
    use crate::analysis::ContentCheck;
    use crate::analysis::{analyze_by_cues, AnalysisOptions, Level};
    use crate::transcript::paced::timed_transcript;

    const CHOOSE: &str =
        "The failure I'd pick is from last spring, when I sent a sale email to forty \
        thousand customers with a discount code that did not work.";
    const DESCRIBE: &str = "I was the marketing lead for a chain of garden centres, and the spring sale \
        is our biggest weekend. The code had expired the week before, so people reached the till and \
        the discount failed. We refunded the difference to about nine hundred customers, and the shop \
        managers had a rough weekend.";
    const OWN: &str =
        "My mistake was that I reused the template from the year before, and I didn't \
        test the code at a till before sending.";
    const LEARN: &str =
        "Since then I run a till test of every code the day before a campaign goes \
        out, and I added that step to our campaign checklist.";
    const EVIDENCE: &str =
        "In the autumn sale that test caught a broken code two days before launch, \
        and since then we have not had a single failed code.";

    fn codes_at(parts: &[&str], level: Level) -> Vec<String> {
        let options = AnalysisOptions {
            level,
            ..Default::default()
        };
        let report = analyze_by_cues(&timed_transcript(&parts.join(" "), 150.0), &options);
        report
            .findings
            .into_iter()
            .map(|f| f.code)
            .filter(|c| ContentCheck::is_content(c))
            .collect()
    }

    fn codes(parts: &[&str]) -> Vec<String> {
        codes_at(parts, Level::Mid)
    }

    /// Asserts that the answer `parts` make raises no content finding at the mid level: the
    /// strong answer, and each near miss that must not be mistaken for a weakness.
    fn assert_no_content_finding(parts: &[&str]) {
        assert_eq!(codes(parts), Vec::<String>::new());
    }

    #[test]
    fn a_strong_answer_has_no_content_finding() {
        assert_no_content_finding(&[CHOOSE, DESCRIBE, OWN, LEARN, EVIDENCE]);
    }

    #[test]
    fn blame_needs_others_at_fault_and_no_own_part() {
        let blaming = "It was really the agency's fault, they should have tested the code, and \
            nobody told me it had expired.";
        let got = codes(&[CHOOSE, DESCRIBE, blaming, LEARN, EVIDENCE]);
        assert!(got.contains(&"blame".to_string()), "{got:?}");
        assert!(got.contains(&"no_ownership".to_string()), "{got:?}");
        let negated =
            "I don't blame the agency, because my mistake was that I didn't test the code \
            at a till before sending.";
        assert_no_content_finding(&[CHOOSE, DESCRIBE, negated, LEARN, EVIDENCE]);
    }

    #[test]
    fn no_ownership_when_nobody_is_the_subject_of_the_mistake() {
        let passive =
            "Looking back, the code had not been tested at a till before the email went out.";
        let got = codes(&[CHOOSE, DESCRIBE, passive, LEARN, EVIDENCE]);
        assert!(got.contains(&"no_ownership".to_string()), "{got:?}");
        assert!(!got.contains(&"blame".to_string()), "{got:?}");
        // The near miss: the same sentence with the speaker in it.
        let owned = "Looking back, I had not tested the code at a till before the email went out.";
        assert_no_content_finding(&[CHOOSE, DESCRIBE, owned, LEARN, EVIDENCE]);
    }

    #[test]
    fn non_failure_is_a_strength_in_disguise_but_not_when_denied() {
        let strength =
            "Honestly, my failure is that I care too much and want every campaign to be perfect.";
        assert!(codes(&[CHOOSE, DESCRIBE, OWN, strength, LEARN, EVIDENCE])
            .contains(&"non_failure".to_string()));
        let denied = "I am not a perfectionist about emails, and that was the problem.";
        assert_no_content_finding(&[CHOOSE, DESCRIBE, OWN, denied, LEARN, EVIDENCE]);
    }

    #[test]
    fn turned_out_fine_needs_a_harmless_ending() {
        let harmless =
            "I was the marketing lead for a chain of garden centres. We spotted it an hour \
            after sending and sent a correction, and in the end it was fine, nobody noticed.";
        let got = codes(&[CHOOSE, harmless, OWN, LEARN, EVIDENCE]);
        assert!(got.contains(&"turned_out_fine".to_string()), "{got:?}");
        let not_fine =
            "I was the marketing lead for a chain of garden centres. It was not fine at \
            all: we refunded nine hundred customers and lost the weekend's margin.";
        assert_no_content_finding(&[CHOOSE, not_fine, OWN, LEARN, EVIDENCE]);
    }

    #[test]
    fn team_only_when_the_story_is_all_we() {
        let we_story =
            "We ran the spring sale for our garden centres, and our email went to forty \
            thousand customers. We had reused our old template, and we didn't test our code. We \
            should have checked it, and our process had a gap.";
        let we_learn =
            "Since then we run a till test of every code the day before a campaign, and \
            in the autumn sale that test caught a broken code before launch.";
        let got = codes(&[CHOOSE, we_story, we_learn]);
        assert!(got.contains(&"team_only".to_string()), "{got:?}");
        assert!(!got.contains(&"blame".to_string()), "{got:?}");
        assert!(
            !codes(&[CHOOSE, DESCRIBE, OWN, LEARN, EVIDENCE]).contains(&"team_only".to_string())
        );
    }

    #[test]
    fn no_concrete_change_when_the_learning_is_a_sentiment() {
        let vague = "What I learned is that I need to be more careful and communicate better with \
            the team. I try to slow down now and think things through.";
        assert_eq!(
            codes(&[CHOOSE, DESCRIBE, OWN, vague]),
            ["no_concrete_change"]
        );
    }

    #[test]
    fn no_evidence_when_a_concrete_change_has_no_later_result() {
        assert_eq!(codes(&[CHOOSE, DESCRIBE, OWN, LEARN]), ["no_evidence"]);
    }

    #[test]
    fn old_failure_unless_a_reason_is_given_or_the_speaker_is_early_career() {
        let old =
            "The failure I'd pick is from about ten years ago, when I sent a sale email with a \
            discount code that did not work.";
        assert_eq!(
            codes(&[old, DESCRIBE, OWN, LEARN, EVIDENCE]),
            ["old_failure"]
        );
        let reason = "I chose it because it still shapes how I run every campaign.";
        assert_no_content_finding(&[old, reason, DESCRIBE, OWN, LEARN, EVIDENCE]);
        let college = "The failure I'd pick is from my time in college, when I ran the student \
            newsletter and sent it with the wrong event date.";
        assert_eq!(
            codes_at(&[college, DESCRIBE, OWN, LEARN, EVIDENCE], Level::Senior),
            ["old_failure"]
        );
        assert_eq!(
            codes_at(&[college, DESCRIBE, OWN, LEARN, EVIDENCE], Level::Early),
            Vec::<String>::new()
        );
    }

    #[test]
    fn old_failure_dates_a_year_only_against_a_reference_year() {
        let dated = "The failure I'd pick is from back in 2015, when I sent a sale email with a \
            discount code that did not work.";
        let text = [dated, DESCRIBE, OWN, LEARN, EVIDENCE].join(" ");
        let transcript = timed_transcript(&text, 150.0);
        let with_year = AnalysisOptions {
            reference_year: Some(2026),
            ..Default::default()
        };
        let flagged = |o: &AnalysisOptions| {
            analyze_by_cues(&transcript, o)
                .findings
                .iter()
                .any(|f| f.code == "old_failure")
        };
        assert!(flagged(&with_year));
        assert!(!flagged(&AnalysisOptions::default()));
    }

    #[test]
    fn old_failure_hears_a_year_as_people_say_it() {
        let flagged = |opening: &str| {
            let text = [opening, DESCRIBE, OWN, LEARN, EVIDENCE].join(" ");
            let transcript = timed_transcript(&text, 150.0);
            let options = AnalysisOptions {
                reference_year: Some(2026),
                ..Default::default()
            };
            analyze_by_cues(&transcript, &options)
                .findings
                .iter()
                .any(|f| f.code == "old_failure")
        };
        let story = ", when a sale email I sent had a discount code that did not work.";
        assert!(flagged(&format!(
            "Honestly it goes way back, back in two thousand sixteen{story}"
        )));
        assert!(flagged(&format!(
            "The one I'd pick is from back in two thousand and twelve{story}"
        )));
        assert!(flagged(&format!(
            "I'd go with something that happened in twenty seventeen{story}"
        )));
        assert!(flagged(&format!(
            "This was in twenty twenty one, at the garden centres{story}"
        )));
        // Three years back is recent, by the labelling guide's inclusive limit.
        assert!(!flagged(&format!(
            "This was in twenty twenty three, at the garden centres{story}"
        )));
        // Dating something else, or counting.
        assert!(!flagged(&format!(
            "Our laptops were from, like, 2017{story}"
        )));
        assert!(!flagged(&format!(
            "The sale was planned in twenty one days{story}"
        )));
        assert!(!flagged(&format!(
            "We sold about 2000 plants in the first week{story}"
        )));
    }

    #[test]
    fn context_heavy_when_the_story_crowds_out_the_rest() {
        let more = "The sale had been planned for three months, with posters in every shop, radio \
            adverts and a partnership with a seed company. The email platform was new that year, \
            and the team had moved to it in January after the old one was retired. The regional \
            managers had set targets for each shop, and the stock had been ordered in February. \
            On the Saturday morning the first complaints came in from two shops in the north, and \
            by lunchtime every shop was calling the head office.";
        let got = codes(&[CHOOSE, DESCRIBE, more, OWN, LEARN, EVIDENCE]);
        assert_eq!(got, ["context_heavy"]);
    }
}
