//! Labels every sentence with its part of the answer.
//!
//! Each sentence gets a score per part from the cues it contains (`cues.rs`); a Viterbi pass then
//! picks the best labelling of the whole answer, preferring the guide's order (choose, describe,
//! own, learn) but allowing a speaker to open with their mistake, go back and forth between events
//! and their role, or return to their role while describing the change, each at a cost. Small
//! talk (`other`) can appear anywhere and does not break the order around it.

use super::cues::{deflection, labelling_cues, CueKind, STRONG_CHOICE};
use super::sentences::Sentence;
use super::text::is_participle;
use super::AnswerPart;

/// The four ordered parts, as indices into the transition table.
const ORDERED: [AnswerPart; 4] = [
    AnswerPart::Choose,
    AnswerPart::Describe,
    AnswerPart::Own,
    AnswerPart::Learn,
];
/// Context index for "nothing said yet".
const START: usize = 4;
/// Context index for an answer that opened with the speaker's own mistake: naming the story
/// next is natural there, not a step back.
const OPENING_OWN: usize = 5;
/// Index of `own` among the ordered parts.
const OWN: usize = 2;

/// Score of moving from a context (row: choose, describe, own, learn, start, opening own) to a
/// part (column: choose, describe, own, learn). Forward steps are cheap, going back costs.
const TRANSITION: [[f64; 4]; 6] = [
    [0.0, -0.3, -0.8, -2.5], // from choose
    [-3.0, 0.0, -0.3, -0.8], // from describe
    [-3.5, -0.4, 0.0, -0.3], // from own
    [-4.0, -3.0, -1.5, 0.0], // from learn
    [0.0, -1.5, -1.5, -4.0], // at the start
    [-0.3, -0.4, 0.0, -0.3], // from an opening own
];
/// Score of a small-talk sentence, wherever it falls.
const OTHER_TRANSITION: f64 = -0.3;
/// Small-talk phrases count fully in sentences up to this long, half in sentences up to
/// `SMALL_TALK_HALF_WORDS`; bare interjections only in very short ones.
const SMALL_TALK_MAX_WORDS: usize = 20;
const SMALL_TALK_HALF_WORDS: usize = 35;
const INTERJECTION_MAX_WORDS: usize = 6;
/// The most the cues of one part can add to a sentence: a pile of cues is no surer than a few.
const CUE_CAP: f64 = 6.0;
/// Baseline for an `other` label, and the most small talk can add to it.
const OTHER_BASE: f64 = -3.0;
const SMALL_TALK_CAP: f64 = 6.0;
/// Score of `other` for a sentence said before the speaker names the failure (warming up).
const PREAMBLE_OTHER: f64 = 1.0;
/// The failure must be named within this share of the words for what precedes it to be preamble.
const PREAMBLE_MAX_SHARE: f64 = 0.4;
/// A sentence with no cue at all leans to description: stories are most of what is said.
const DESCRIBE_BASE: f64 = 0.3;
/// Past-tense verbs each add this much description, up to `PAST_TENSE_CAP`.
const PAST_TENSE_WEIGHT: f64 = 0.25;
const PAST_TENSE_CAP: f64 = 1.0;
/// Present-tense habits ("I ask", "we run", "now", "anymore") each add this much learning.
const PRESENT_WEIGHT: f64 = 0.7;
const PRESENT_CAP: f64 = 2.1;
/// "I have set up", "I've caught": the present perfect reports change and its results.
const PRESENT_PERFECT_WEIGHT: f64 = 0.5;
/// A calendar year anchors a story in time: description.
const YEAR_WEIGHT: f64 = 0.5;

/// Irregular past-tense verbs common in stories.
const IRREGULAR_PAST: &[&str] = &[
    "was",
    "were",
    "had",
    "did",
    "went",
    "made",
    "took",
    "told",
    "thought",
    "knew",
    "saw",
    "got",
    "gave",
    "felt",
    "kept",
    "left",
    "said",
    "sent",
    "spent",
    "wrote",
    "ran",
    "began",
    "found",
    "brought",
    "built",
    "chose",
    "forgot",
    "came",
    "became",
    "lost",
    "met",
    "paid",
    "heard",
    "held",
    "broke",
    "fell",
    "understood",
    "caught",
    "led",
    "drove",
    "sat",
    "stood",
    "grew",
];

/// Words after "I"/"we" that are not a present-tense habit.
const NOT_HABIT: &[&str] = &[
    "am", "are", "is", "was", "were", "had", "have", "would", "will", "could", "should", "might",
    "must", "can", "did", "do", "does", "think", "mean", "guess", "believe", "suppose", "feel",
    "hope", "know", "remember", "said", "not", "realized", "realised", "wanted", "want", "got",
];

/// Verbs spelt the same in past and present ("I cut", "I read"): no evidence of a habit.
const AMBIGUOUS_TENSE: &[&str] = &[
    "cut", "put", "set", "let", "hit", "read", "quit", "hurt", "cost", "shut", "spread", "split",
    "bet", "upset",
];

/// Adverbs that may sit between "I" and its verb ("I always ask", "we now run").
const HABIT_ADVERBS: &[&str] = &[
    "always",
    "usually",
    "never",
    "normally",
    "typically",
    "now",
    "also",
    "still",
    "just",
    "really",
    "actually",
    "then",
    "even",
    "first",
    "immediately",
    "personally",
];

/// Words that mark the present as the time talked about.
const PRESENT_MARKERS: &[&str] = &["now", "anymore", "nowadays", "today", "currently"];

/// One cue found in a sentence.
#[derive(Debug, Clone)]
struct Hit {
    kind: CueKind,
    phrase: &'static str,
    weight: f64,
}

/// Per-part scores for one sentence and the cues behind them.
#[derive(Debug, Clone)]
struct Emission {
    /// Scores for choose, describe, own, learn.
    ordered: [f64; 4],
    other: f64,
    /// Said before the speaker names the failure: may be warming up.
    preamble: bool,
    hits: Vec<Hit>,
    past_tense: usize,
    present_habit: Option<String>,
    present_perfect: bool,
    present_marker: Option<&'static str>,
}

/// "I", "my", "me": the speaker as a person, not the team.
pub(crate) fn is_first_person(token: &str) -> bool {
    matches!(token, "i" | "my" | "me" | "myself" | "mine")
}

/// Whether a cue itself says who acted ("I should have", "we skipped").
fn names_speaker(phrase: &super::text::Phrase) -> bool {
    phrase
        .source
        .split_whitespace()
        .any(|w| is_first_person(w) || matches!(w, "we" | "our"))
}

/// Whether a token is a past-tense verb (irregular, or regular "-ed").
pub(crate) fn is_past_tense(token: &str) -> bool {
    IRREGULAR_PAST.contains(&token)
        || (token.len() > 4 && token.ends_with("ed") && !token.ends_with("eed"))
}

fn part_of(kind: CueKind) -> Option<usize> {
    match kind {
        CueKind::Choice => Some(0),
        CueKind::Narrative => Some(1),
        CueKind::Ownership => Some(2),
        CueKind::Change | CueKind::Evidence => Some(3),
        CueKind::SmallTalk | CueKind::Interjection => None,
    }
}

/// The present-tense habits in a sentence, as "subject verb": "I ask", "we always run".
pub(crate) fn present_habits(tokens: &[super::text::Token]) -> Vec<String> {
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.text == "i" || t.text == "we")
        .filter_map(|(k, t)| {
            let verb = tokens[k + 1..]
                .iter()
                .find(|n| !HABIT_ADVERBS.contains(&n.text.as_str()))?
                .text
                .as_str();
            let habit = !NOT_HABIT.contains(&verb)
                && !AMBIGUOUS_TENSE.contains(&verb)
                && !is_past_tense(verb)
                && !verb.ends_with("ing")
                && verb.chars().all(|c| c.is_alphabetic());
            habit.then(|| format!("{} {verb}", t.text))
        })
        .collect()
}

/// "I have" / "we've" followed by a participle.
fn has_present_perfect(tokens: &[super::text::Token]) -> bool {
    tokens.windows(3).any(|w| {
        matches!(w[0].text.as_str(), "i" | "we") && w[1].text == "have" && is_participle(&w[2].text)
    })
}

fn emission(sentence: &Sentence) -> Emission {
    let tokens = &sentence.tokens;
    let deflected = deflection().iter().any(|p| !p.find_all(tokens).is_empty());
    let speaker_in_it = tokens
        .iter()
        .any(|t| is_first_person(&t.text) || matches!(t.text.as_str(), "we" | "our"));
    let words = sentence.word_count();
    let mut hits = Vec::new();
    for cue in labelling_cues() {
        if cue.phrase.find_all(tokens).is_empty() {
            continue;
        }
        let applies = match cue.kind {
            // "Looking back", "without checking": ownership only when the speaker is in it.
            CueKind::Ownership => !deflected && (names_speaker(&cue.phrase) || speaker_in_it),
            CueKind::SmallTalk => words <= SMALL_TALK_HALF_WORDS,
            CueKind::Interjection => words <= INTERJECTION_MAX_WORDS,
            _ => true,
        };
        let weight = if cue.kind == CueKind::SmallTalk && words > SMALL_TALK_MAX_WORDS {
            cue.weight / 2.0
        } else {
            cue.weight
        };
        if applies {
            hits.push(Hit {
                kind: cue.kind,
                phrase: cue.phrase.source,
                weight,
            });
        }
    }
    let mut cue_sums = [0.0; 4];
    let mut small_talk = 0.0;
    for hit in &hits {
        match part_of(hit.kind) {
            Some(i) => cue_sums[i] += hit.weight,
            None => small_talk += hit.weight,
        }
    }
    let mut ordered = [0.0, DESCRIBE_BASE, 0.0, 0.0];
    for (score, sum) in ordered.iter_mut().zip(cue_sums) {
        *score += f64::min(sum, CUE_CAP);
    }
    let past_tense = tokens.iter().filter(|t| is_past_tense(&t.text)).count();
    ordered[1] += (past_tense as f64 * PAST_TENSE_WEIGHT).min(PAST_TENSE_CAP);
    let is_year = |t: &str| {
        t.len() == 4
            && (t.starts_with("19") || t.starts_with("20"))
            && t.chars().all(|c| c.is_ascii_digit())
    };
    if tokens.iter().any(|t| is_year(&t.text)) {
        ordered[1] += YEAR_WEIGHT;
    }
    let habits = present_habits(tokens);
    let markers: Vec<&'static str> = tokens
        .iter()
        .filter_map(|t| PRESENT_MARKERS.iter().find(|m| **m == t.text).copied())
        .collect();
    ordered[3] += ((habits.len() + markers.len()) as f64 * PRESENT_WEIGHT).min(PRESENT_CAP);
    let present_habit = habits.into_iter().next();
    let present_perfect = has_present_perfect(tokens);
    if present_perfect {
        ordered[3] += PRESENT_PERFECT_WEIGHT;
    }
    Emission {
        ordered,
        other: OTHER_BASE + f64::min(small_talk, SMALL_TALK_CAP),
        preamble: false,
        hits,
        past_tense,
        present_habit,
        present_perfect,
        present_marker: markers.first().copied(),
    }
}

/// Marks the sentences before the failure is first named (with a strong choice cue, early in
/// the answer) as possible preamble.
fn mark_preamble(sentences: &[Sentence], emissions: &mut [Emission]) {
    let total_words: usize = sentences.iter().map(Sentence::word_count).sum();
    let named = emissions.iter().position(|e| {
        e.hits
            .iter()
            .any(|h| h.kind == CueKind::Choice && h.weight >= STRONG_CHOICE)
    });
    let Some(named) = named else {
        return;
    };
    // A speaker who opens with their own mistake is not warming up.
    let owns = |e: &Emission| e.hits.iter().any(|h| h.kind == CueKind::Ownership);
    let before: usize = sentences[..named].iter().map(Sentence::word_count).sum();
    if (before as f64) <= PREAMBLE_MAX_SHARE * total_words as f64 {
        for e in &mut emissions[..named] {
            e.preamble = !owns(e);
        }
    }
}

/// A Viterbi state: the label, and the last ordered part before it (`START` if none), so small
/// talk stays transparent to the ordering.
#[derive(Debug, Clone, Copy, PartialEq)]
struct State {
    label: Option<usize>,
    context: usize,
}

fn states() -> Vec<State> {
    let ordered = (0..4).map(|i| State {
        label: Some(i),
        context: i,
    });
    let opening_own = State {
        label: Some(OWN),
        context: OPENING_OWN,
    };
    let other = (0..TRANSITION.len()).map(|context| State {
        label: None,
        context,
    });
    ordered
        .chain(std::iter::once(opening_own))
        .chain(other)
        .collect()
}

/// The context a part leads to: its own, except `own` said before anything else.
fn next_context(from_context: usize, part: usize) -> usize {
    let opening = from_context == START || from_context == OPENING_OWN;
    if part == OWN && opening {
        OPENING_OWN
    } else {
        part
    }
}

fn transition(from_context: usize, to: State) -> Option<f64> {
    match to.label {
        Some(part) => {
            (to.context == next_context(from_context, part)).then(|| TRANSITION[from_context][part])
        }
        None => (to.context == from_context).then_some(OTHER_TRANSITION),
    }
}

fn emit(e: &Emission, state: State) -> f64 {
    match state.label {
        Some(i) => e.ordered[i],
        None if e.preamble && state.context == START => e.other.max(PREAMBLE_OTHER),
        None => e.other,
    }
}

fn emissions(sentences: &[Sentence]) -> Vec<Emission> {
    let mut emissions: Vec<Emission> = sentences.iter().map(emission).collect();
    mark_preamble(sentences, &mut emissions);
    emissions
}

/// A labelled sentence: its part and the reason in words.
#[derive(Debug, Clone)]
pub(crate) struct Labelled {
    pub part: AnswerPart,
    pub why: String,
}

/// Labels each sentence, decoding the whole answer jointly.
pub(crate) fn label_sentences(sentences: &[Sentence]) -> Vec<Labelled> {
    let emissions = emissions(sentences);
    let path = decode(&emissions);
    let mut previous: Option<State> = None;
    path.iter()
        .zip(&emissions)
        .map(|(&state, e)| {
            let labelled = Labelled {
                part: state.label.map_or(AnswerPart::Other, |i| ORDERED[i]),
                why: explain(e, state, previous),
            };
            previous = Some(state);
            labelled
        })
        .collect()
}

/// The part the speaker is in at the end of the words so far.
pub(crate) fn last_part(sentences: &[Sentence]) -> Option<AnswerPart> {
    decode(&emissions(sentences))
        .last()
        .map(|s| s.label.map_or(AnswerPart::Other, |i| ORDERED[i]))
}

/// Best state sequence under emission plus transition scores.
fn decode(emissions: &[Emission]) -> Vec<State> {
    let states = states();
    let Some(first) = emissions.first() else {
        return Vec::new();
    };
    let mut score: Vec<f64> = states
        .iter()
        .map(|&s| transition(START, s).map_or(f64::NEG_INFINITY, |t| t + emit(first, s)))
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(emissions.len());
    back.push(vec![0; states.len()]);
    for e in &emissions[1..] {
        let mut next = vec![f64::NEG_INFINITY; states.len()];
        let mut pointers = vec![0; states.len()];
        for (j, &to) in states.iter().enumerate() {
            for (i, from) in states.iter().enumerate() {
                let Some(t) = transition(from.context, to) else {
                    continue;
                };
                let candidate = score[i] + t;
                if candidate > next[j] {
                    next[j] = candidate;
                    pointers[j] = i;
                }
            }
            next[j] += emit(e, to);
        }
        score = next;
        back.push(pointers);
    }
    let mut best = (0..states.len())
        .max_by(|&a, &b| score[a].total_cmp(&score[b]))
        .unwrap_or(0);
    let mut path = vec![states[best]; emissions.len()];
    for k in (1..emissions.len()).rev() {
        path[k] = states[best];
        best = back[k][best];
    }
    path[0] = states[best];
    path
}

fn part_name(i: usize) -> &'static str {
    match i {
        0 => "choose",
        1 => "describe",
        2 => "own",
        _ => "learn",
    }
}

/// Names the cues that decided a sentence's label and where it sits in the order.
fn explain(e: &Emission, state: State, previous: Option<State>) -> String {
    let mut reasons: Vec<String> = Vec::new();
    match state.label {
        Some(i) => {
            let mut hits: Vec<&Hit> = e
                .hits
                .iter()
                .filter(|h| part_of(h.kind) == Some(i))
                .collect();
            hits.sort_by(|a, b| b.weight.total_cmp(&a.weight));
            // "my biggest failure" already says "biggest failure": name each cue once.
            let mut named: Vec<&Hit> = Vec::new();
            for h in hits {
                if named.len() < 2 && !named.iter().any(|n| n.phrase.contains(h.phrase)) {
                    named.push(h);
                }
            }
            reasons.extend(
                named
                    .iter()
                    .map(|h| format!("{} '{}'", h.kind.label(), h.phrase)),
            );
            if i == 1 && e.past_tense > 0 && reasons.len() < 2 {
                reasons.push(format!("{} past-tense verbs", e.past_tense));
            }
            if i == 3 && reasons.is_empty() {
                if let Some(habit) = &e.present_habit {
                    reasons.push(format!("present-tense habit '{habit}'"));
                } else if e.present_perfect {
                    reasons.push("present perfect ('I have ...')".to_string());
                } else if let Some(marker) = e.present_marker {
                    reasons.push(format!("present-tense marker '{marker}'"));
                }
            }
            if reasons.is_empty() {
                reasons.push(format!("no {} cue", part_name(i)));
            }
        }
        None => match e.hits.iter().find(|h| part_of(h.kind).is_none()) {
            Some(h) => reasons.push(format!("{} '{}'", h.kind.label(), h.phrase)),
            None if e.preamble => reasons.push("before the failure is named".to_string()),
            None => reasons.push("aside without content".to_string()),
        },
    }
    let position = match previous {
        None => "opens the answer".to_string(),
        Some(p) if p.label.is_some() && p.label == state.label => {
            format!("continues {}", state.label.map_or("", part_name))
        }
        Some(p) => match p.label {
            Some(i) => format!("after a {} sentence", part_name(i)),
            None => "after small talk".to_string(),
        },
    };
    reasons.push(position);
    reasons.join("; ")
}

#[cfg(test)]
mod tests {
    use super::super::sentences::split_sentences;
    use super::*;
    use crate::corpus::timed_transcript;

    fn labels(text: &str) -> Vec<AnswerPart> {
        let t = timed_transcript(text, 150.0);
        label_sentences(&split_sentences(&t.words))
            .into_iter()
            .map(|l| l.part)
            .collect()
    }

    use AnswerPart::{Choose, Describe, Learn, Other, Own};

    #[test]
    fn labels_a_budget_shaped_answer_in_order() {
        let got = labels(
            "The failure I keep coming back to is a warehouse move I planned. \
             We were relocating the stock of a bakery supplier over one weekend. \
             On Monday half the orders could not be picked because the shelf labels were wrong. \
             My mistake was that I never walked the new floor before signing off the plan. \
             Since then I walk every site with the pickers before a move. \
             Two moves later, orders went out on the first morning both times.",
        );
        assert_eq!(got, [Choose, Describe, Describe, Own, Learn, Learn]);
    }

    #[test]
    fn answer_opening_with_its_own_mistake() {
        let got = labels(
            "I should have told my editor the feature was slipping, and I did not. \
             The magazine had sold the cover to an advertiser and the piece ran two weeks late. \
             Now I send my editor a status line every Friday, even when nothing has changed.",
        );
        assert_eq!(got, [Own, Describe, Learn]);
    }

    #[test]
    fn answer_going_back_and_forth_between_events_and_role() {
        let got = labels(
            "I want to talk about a grant application that was rejected. \
             The deadline was at the end of March and the budget section was weak. \
             I assumed the finance office would check my numbers. \
             The reviewers returned it with a note that the costs did not add up. \
             In hindsight I should have asked for the review a week earlier. \
             These days I book the finance check on the day I start writing.",
        );
        assert_eq!(got, [Choose, Describe, Own, Describe, Own, Learn]);
    }

    #[test]
    fn small_talk_is_other_and_keeps_the_order() {
        let got = labels(
            "Good question, let me think. \
             I'll talk about a time I failed to hand over a client properly. \
             I went on leave and the client got no answers for a week. \
             I did not write a handover note. \
             Now I keep a running handover document for every account. \
             That's my answer.",
        );
        assert_eq!(got, [Other, Choose, Describe, Own, Learn, Other]);
    }

    #[test]
    fn why_names_the_deciding_cue() {
        let t = timed_transcript(
            "I'll talk about a release I shipped late. The client had planned a launch around it. \
             I should have asked for help.",
            150.0,
        );
        let labelled = label_sentences(&split_sentences(&t.words));
        assert!(
            labelled[0].why.contains("choice cue 'i will talk about'"),
            "{}",
            labelled[0].why
        );
        assert!(
            labelled[0].why.ends_with("opens the answer"),
            "{}",
            labelled[0].why
        );
        assert_eq!(labelled[2].part, Own);
        assert_eq!(
            labelled[2].why,
            "ownership cue 'i should have'; after a describe sentence"
        );
    }
}
