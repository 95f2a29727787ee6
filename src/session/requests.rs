//! What the candidate can ask for by voice instead of answering: a hint before an answer, and
//! another try after the report. A request is a short utterance (a few words) naming it, so an
//! answer that mentions a hint or trying again is never taken for one.

/// A spoken request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// "Hint", "can I have a hint?": the shape of a good answer, then the question again.
    Hint,
    /// "Again", "try again", "let me try that again": the same question once more, compared.
    TryAgain,
}

/// Longest utterance taken as a request rather than an answer.
const MOST_WORDS: usize = 6;

/// The request `said` makes, if it is one.
pub fn heard(said: &str) -> Option<Request> {
    let words: Vec<String> = said
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > MOST_WORDS {
        return None;
    }
    if words.iter().any(|w| w == "hint" || w == "hints") {
        Some(Request::Hint)
    } else if words.iter().any(|w| w == "again") {
        Some(Request::TryAgain)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_request_is_told_from_an_answer() {
        for said in ["Hint.", "hint", "Can I have a hint, please?", "Hints?"] {
            assert_eq!(heard(said), Some(Request::Hint), "{said}");
        }
        for said in ["Again.", "Try again", "Let me try that again, please."] {
            assert_eq!(heard(said), Some(Request::TryAgain), "{said}");
        }
        for said in [
            "",
            "I gave my team no hint that the launch was slipping, and that was my failure.",
            "I would never let it happen again, I check every order now.",
            "I think so.",
        ] {
            assert_eq!(heard(said), None, "{said}");
        }
    }
}
