//! Labels every sentence with its part of the answer, under a framework.
//!
//! Each sentence gets a score per part from the framework's cues and signals (`framework.rs`); a
//! Viterbi pass then picks the best labelling of the whole answer, preferring the framework's
//! order but allowing a speaker to open with another part, go back and forth, or return to an
//! earlier part, each at the cost the framework's `[order]` gives. Small talk (`other`) can
//! appear anywhere and does not break the order around it.

use super::cues::{deflection, small_talk_cues, SmallTalkKind};
use super::framework::{Framework, PartSpec};
use super::grammar::{is_first_person, is_past_tense, present_habits};
use super::part::{AnswerPart, Labelled};
use super::sentences::Sentence;
use super::text::{is_participle, Phrase, Token};

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
/// Score of `other` for a sentence said before the speaker names the example (warming up).
const PREAMBLE_OTHER: f64 = 1.0;
/// The example must be named within this share of the words for what precedes it to be preamble.
const PREAMBLE_MAX_SHARE: f64 = 0.4;

/// Words that mark the present as the time talked about.
const PRESENT_MARKERS: &[&str] = &["now", "anymore", "nowadays", "today", "currently"];

/// One cue found in a sentence.
#[derive(Debug, Clone)]
struct Hit {
    /// The part it votes for; `None` for small talk.
    part: Option<usize>,
    /// How `why` names it ("ownership cue").
    name: String,
    phrase: String,
    weight: f64,
    needs_speaker: bool,
    names_story: bool,
}

/// Per-part scores for one sentence and the cues behind them.
#[derive(Debug, Clone)]
struct Emission {
    /// Scores per part, in the framework's order.
    ordered: Vec<f64>,
    other: f64,
    /// Said before the speaker names the example: may be warming up.
    preamble: bool,
    hits: Vec<Hit>,
    past_tense: usize,
    present_habit: Option<String>,
    present_perfect: bool,
    present_marker: Option<&'static str>,
}

/// Whether a cue itself says who acted ("I should have", "we skipped").
fn names_speaker(phrase: &Phrase) -> bool {
    phrase
        .source
        .split_whitespace()
        .any(|w| is_first_person(w) || matches!(w, "we" | "our"))
}

/// "I have" / "we've" followed by a participle.
fn has_present_perfect(tokens: &[Token]) -> bool {
    tokens.windows(3).any(|w| {
        matches!(w[0].text.as_str(), "i" | "we") && w[1].text == "have" && is_participle(&w[2].text)
    })
}

fn is_year(t: &str) -> bool {
    t.len() == 4
        && (t.starts_with("19") || t.starts_with("20"))
        && t.chars().all(|c| c.is_ascii_digit())
}

/// The framework's cues found in a sentence; a cue that needs the speaker counts only when the
/// speaker is in the sentence and does not deny it ("looking back", "without checking").
fn part_cue_hits(tokens: &[Token], framework: &Framework) -> Vec<Hit> {
    let deflected = deflection().iter().any(|p| !p.find_all(tokens).is_empty());
    let speaker_in_it = tokens
        .iter()
        .any(|t| is_first_person(&t.text) || matches!(t.text.as_str(), "we" | "our"));
    let mut hits = Vec::new();
    for (i, part) in framework.parts.iter().enumerate() {
        for group in &part.cues {
            for phrase in &group.phrases {
                if phrase.find_all(tokens).is_empty() {
                    continue;
                }
                let applies = !group.needs_speaker
                    || (!deflected && (names_speaker(phrase) || speaker_in_it));
                if applies {
                    hits.push(Hit {
                        part: Some(i),
                        name: group.name.clone(),
                        phrase: phrase.source.clone(),
                        weight: group.weight,
                        needs_speaker: group.needs_speaker,
                        names_story: group.names_story,
                    });
                }
            }
        }
    }
    hits
}

/// Small talk in a sentence of `words` words: phrases count in short sentences (half in longer
/// ones), bare interjections only in very short ones.
fn small_talk_hits(tokens: &[Token], words: usize) -> Vec<Hit> {
    let mut hits = Vec::new();
    for cue in small_talk_cues() {
        if cue.phrase.find_all(tokens).is_empty() {
            continue;
        }
        let applies = match cue.kind {
            SmallTalkKind::Phrase => words <= SMALL_TALK_HALF_WORDS,
            SmallTalkKind::Interjection => words <= INTERJECTION_MAX_WORDS,
        };
        let weight = if cue.kind == SmallTalkKind::Phrase && words > SMALL_TALK_MAX_WORDS {
            cue.weight / 2.0
        } else {
            cue.weight
        };
        if applies {
            hits.push(Hit {
                part: None,
                name: "small-talk cue".to_string(),
                phrase: cue.phrase.source.clone(),
                weight,
                needs_speaker: false,
                names_story: false,
            });
        }
    }
    hits
}

fn emission(sentence: &Sentence, framework: &Framework) -> Emission {
    let tokens = &sentence.tokens;
    let words = sentence.word_count();
    let mut hits = part_cue_hits(tokens, framework);
    hits.extend(small_talk_hits(tokens, words));
    let mut cue_sums = vec![0.0; framework.parts.len()];
    let mut small_talk = 0.0;
    for hit in &hits {
        match hit.part {
            Some(i) => cue_sums[i] += hit.weight,
            None => small_talk += hit.weight,
        }
    }
    let past_tense = tokens.iter().filter(|t| is_past_tense(&t.text)).count();
    let dated = tokens.iter().any(|t| is_year(&t.text));
    let habits = present_habits(tokens);
    let markers: Vec<&'static str> = tokens
        .iter()
        .filter_map(|t| PRESENT_MARKERS.iter().find(|m| **m == t.text).copied())
        .collect();
    let present_perfect = has_present_perfect(tokens);
    let ordered = framework
        .parts
        .iter()
        .zip(cue_sums)
        .map(|(part, sum)| {
            let score = &part.score;
            let mut total = score.base + f64::min(sum, CUE_CAP);
            if let Some(c) = score.past_tense {
                total += (past_tense as f64 * c.weight).min(c.cap);
            }
            if let (Some(w), true) = (score.calendar_year, dated) {
                total += w;
            }
            if let Some(c) = score.present {
                total += ((habits.len() + markers.len()) as f64 * c.weight).min(c.cap);
            }
            if let (Some(w), true) = (score.present_perfect, present_perfect) {
                total += w;
            }
            total
        })
        .collect();
    Emission {
        ordered,
        other: OTHER_BASE + f64::min(small_talk, SMALL_TALK_CAP),
        preamble: false,
        hits,
        past_tense,
        present_habit: habits.into_iter().next(),
        present_perfect,
        present_marker: markers.first().copied(),
    }
}

/// Marks the sentences before the example is first named (by a cue that names it, early in the
/// answer) as possible preamble.
fn mark_preamble(sentences: &[Sentence], emissions: &mut [Emission]) {
    let total_words: usize = sentences.iter().map(Sentence::word_count).sum();
    let named = emissions
        .iter()
        .position(|e| e.hits.iter().any(|h| h.names_story));
    let Some(named) = named else {
        return;
    };
    // A speaker who opens with their own part is not warming up.
    let owns = |e: &Emission| e.hits.iter().any(|h| h.needs_speaker);
    let before: usize = sentences[..named].iter().map(Sentence::word_count).sum();
    if (before as f64) <= PREAMBLE_MAX_SHARE * total_words as f64 {
        for e in &mut emissions[..named] {
            e.preamble = !owns(e);
        }
    }
}

/// A Viterbi state: the label (a part index, `None` for small talk) and the context it leaves:
/// the last part said, "nothing yet", or "opened with part p", so small talk stays transparent
/// to the ordering.
#[derive(Debug, Clone, Copy, PartialEq)]
struct State {
    label: Option<usize>,
    context: usize,
}

/// The framework's order as a table over contexts: one row per part, then the start, then one
/// row per part that has its own opening row.
struct Contexts<'a> {
    framework: &'a Framework,
    rows: Vec<&'a [f64]>,
    /// Context index of each part's opening row.
    opening: Vec<Option<usize>>,
}

impl<'a> Contexts<'a> {
    fn new(framework: &'a Framework) -> Contexts<'a> {
        let order = &framework.order;
        let mut rows: Vec<&[f64]> = order.from.iter().map(Vec::as_slice).collect();
        rows.push(&order.start);
        let mut opening = vec![None; framework.parts.len()];
        for (part, row) in &order.opening {
            opening[*part] = Some(rows.len());
            rows.push(row);
        }
        Contexts {
            framework,
            rows,
            opening,
        }
    }

    fn start(&self) -> usize {
        self.framework.parts.len()
    }

    fn states(&self) -> Vec<State> {
        let parts = self.framework.parts.len();
        let ordered = (0..parts).map(|i| State {
            label: Some(i),
            context: i,
        });
        let opening = self.opening.iter().enumerate().filter_map(|(i, c)| {
            c.map(|context| State {
                label: Some(i),
                context,
            })
        });
        let other = (0..self.rows.len()).map(|context| State {
            label: None,
            context,
        });
        ordered.chain(opening).chain(other).collect()
    }

    /// The context a part leads to: its own, except a part with an opening row said first.
    fn next_context(&self, from_context: usize, part: usize) -> usize {
        match self.opening[part] {
            Some(opening) if from_context == self.start() || from_context == opening => opening,
            _ => part,
        }
    }

    fn transition(&self, from_context: usize, to: State) -> Option<f64> {
        match to.label {
            Some(part) => (to.context == self.next_context(from_context, part))
                .then(|| self.rows[from_context][part]),
            None => (to.context == from_context).then_some(OTHER_TRANSITION),
        }
    }
}

fn emit(e: &Emission, state: State, start: usize) -> f64 {
    match state.label {
        Some(i) => e.ordered[i],
        None if e.preamble && state.context == start => e.other.max(PREAMBLE_OTHER),
        None => e.other,
    }
}

fn emissions(sentences: &[Sentence], framework: &Framework) -> Vec<Emission> {
    let mut emissions: Vec<Emission> = sentences.iter().map(|s| emission(s, framework)).collect();
    mark_preamble(sentences, &mut emissions);
    emissions
}

fn part_id(framework: &Framework, label: Option<usize>) -> AnswerPart {
    label.map_or(AnswerPart::OTHER, |i| framework.parts[i].id)
}

/// Labels each sentence, decoding the whole answer jointly.
pub(crate) fn label_sentences(sentences: &[Sentence], framework: &Framework) -> Vec<Labelled> {
    let emissions = emissions(sentences, framework);
    let path = decode(&emissions, &Contexts::new(framework));
    let mut previous: Option<State> = None;
    path.iter()
        .zip(&emissions)
        .map(|(&state, e)| {
            let labelled = Labelled {
                part: part_id(framework, state.label),
                why: explain(e, state, previous, &framework.parts),
            };
            previous = Some(state);
            labelled
        })
        .collect()
}

/// Best state sequence under emission plus transition scores.
fn decode(emissions: &[Emission], contexts: &Contexts) -> Vec<State> {
    let states = contexts.states();
    let start = contexts.start();
    let Some(first) = emissions.first() else {
        return Vec::new();
    };
    let mut score: Vec<f64> = states
        .iter()
        .map(|&s| {
            contexts
                .transition(start, s)
                .map_or(f64::NEG_INFINITY, |t| t + emit(first, s, start))
        })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(emissions.len());
    back.push(vec![0; states.len()]);
    for e in &emissions[1..] {
        let mut next = vec![f64::NEG_INFINITY; states.len()];
        let mut pointers = vec![0; states.len()];
        for (j, &to) in states.iter().enumerate() {
            for (i, from) in states.iter().enumerate() {
                let Some(t) = contexts.transition(from.context, to) else {
                    continue;
                };
                let candidate = score[i] + t;
                if candidate > next[j] {
                    next[j] = candidate;
                    pointers[j] = i;
                }
            }
            next[j] += emit(e, to, start);
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

/// Names the cues that decided a sentence's label and where it sits in the order.
fn explain(e: &Emission, state: State, previous: Option<State>, parts: &[PartSpec]) -> String {
    let name = |i: usize| parts[i].id.name();
    let mut reasons: Vec<String> = Vec::new();
    match state.label {
        Some(i) => {
            let mut hits: Vec<&Hit> = e.hits.iter().filter(|h| h.part == Some(i)).collect();
            hits.sort_by(|a, b| b.weight.total_cmp(&a.weight));
            // "my biggest failure" already says "biggest failure": name each cue once.
            let mut named: Vec<&Hit> = Vec::new();
            for h in hits {
                if named.len() < 2 && !named.iter().any(|n| n.phrase.contains(&h.phrase)) {
                    named.push(h);
                }
            }
            reasons.extend(named.iter().map(|h| format!("{} '{}'", h.name, h.phrase)));
            let score = &parts[i].score;
            if score.past_tense.is_some() && e.past_tense > 0 && reasons.len() < 2 {
                reasons.push(format!("{} past-tense verbs", e.past_tense));
            }
            if score.present.is_some() && reasons.is_empty() {
                if let Some(habit) = &e.present_habit {
                    reasons.push(format!("present-tense habit '{habit}'"));
                } else if e.present_perfect && score.present_perfect.is_some() {
                    reasons.push("present perfect ('I have ...')".to_string());
                } else if let Some(marker) = e.present_marker {
                    reasons.push(format!("present-tense marker '{marker}'"));
                }
            }
            if reasons.is_empty() {
                reasons.push(format!("no {} cue", name(i)));
            }
        }
        None => match e.hits.iter().find(|h| h.part.is_none()) {
            Some(h) => reasons.push(format!("{} '{}'", h.name, h.phrase)),
            None if e.preamble => reasons.push("before the example is named".to_string()),
            None => reasons.push("aside without content".to_string()),
        },
    }
    let position = match previous {
        None => "opens the answer".to_string(),
        Some(p) if p.label.is_some() && p.label == state.label => {
            format!("continues {}", state.label.map_or("", name))
        }
        Some(p) => match p.label {
            Some(i) => format!("after a {} sentence", name(i)),
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
    use crate::transcript::paced::timed_transcript;

    /// The sentences of `text`, read aloud at 150 words a minute, labelled in the failure
    /// framework.
    fn labelled(text: &str) -> Vec<Labelled> {
        let t = timed_transcript(text, 150.0);
        label_sentences(&split_sentences(&t.words), &Framework::failure())
    }

    /// Asserts the part each sentence of `text` is labelled with, in the failure framework.
    fn assert_labels(text: &str, expected: &[&str]) {
        let got: Vec<&str> = labelled(text).into_iter().map(|l| l.part.name()).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn labels_a_budget_shaped_answer_in_order() {
        assert_labels(
            "The failure I keep coming back to is a warehouse move I planned. \
             We were relocating the stock of a bakery supplier over one weekend. \
             On Monday half the orders could not be picked because the shelf labels were wrong. \
             My mistake was that I never walked the new floor before signing off the plan. \
             Since then I walk every site with the pickers before a move. \
             Two moves later, orders went out on the first morning both times.",
            &["choose", "describe", "describe", "own", "learn", "learn"],
        );
    }

    #[test]
    fn answer_opening_with_its_own_mistake() {
        assert_labels(
            "I should have told my editor the feature was slipping, and I did not. \
             The magazine had sold the cover to an advertiser and the piece ran two weeks late. \
             Now I send my editor a status line every Friday, even when nothing has changed.",
            &["own", "describe", "learn"],
        );
    }

    #[test]
    fn answer_going_back_and_forth_between_events_and_role() {
        assert_labels(
            "I want to talk about a grant application that was rejected. \
             The deadline was at the end of March and the budget section was weak. \
             I assumed the finance office would check my numbers. \
             The reviewers returned it with a note that the costs did not add up. \
             In hindsight I should have asked for the review a week earlier. \
             These days I book the finance check on the day I start writing.",
            &["choose", "describe", "own", "describe", "own", "learn"],
        );
    }

    #[test]
    fn small_talk_is_other_and_keeps_the_order() {
        assert_labels(
            "Good question, let me think. \
             I'll talk about a time I failed to hand over a client properly. \
             I went on leave and the client got no answers for a week. \
             I did not write a handover note. \
             Now I keep a running handover document for every account. \
             That's my answer.",
            &["other", "choose", "describe", "own", "learn", "other"],
        );
    }

    #[test]
    fn why_names_the_deciding_cue() {
        let labelled = labelled(
            "I'll talk about a release I shipped late. The client had planned a launch around it. \
             I should have asked for help.",
        );
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
        assert_eq!(labelled[2].part.name(), "own");
        assert_eq!(
            labelled[2].why,
            "ownership cue 'i should have'; after a describe sentence"
        );
    }
}
