//! Word-level grammar that both labellers read: who the sentence is about, whether it tells the
//! past, and the present-tense habits that mark a changed way of working. The phrase engine
//! (`parts.rs`) scores with them and the judge (`meaning.rs`) feeds them to its model as signals.

use super::text::Token;

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

/// "I", "my", "me": the speaker as a person, not the team.
pub(crate) fn is_first_person(token: &str) -> bool {
    matches!(token, "i" | "my" | "me" | "myself" | "mine")
}

/// Whether a token is a past-tense verb (irregular, or regular "-ed").
pub(crate) fn is_past_tense(token: &str) -> bool {
    IRREGULAR_PAST.contains(&token)
        || (token.len() > 4 && token.ends_with("ed") && !token.ends_with("eed"))
}

/// The present-tense habits in a sentence, as "subject verb": "I ask", "we always run".
pub(crate) fn present_habits(tokens: &[Token]) -> Vec<String> {
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
