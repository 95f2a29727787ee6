//! What the answer does well, quoted: the properties the guide values that a sentence surely
//! shows. A candidate who hears only what is missing does not know what to keep.
//!
//! Strengths come from the same sentence readings as the findings, and a strength is never said
//! where a finding about the same thing was raised, so the two never contradict each other.

use serde::{Deserialize, Serialize};

use super::meaning::{Property, Reading, SURE};
use super::sentences::Sentence;
use super::Finding;

/// Something the answer does well, and the sentence that shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strength {
    /// The property shown: `owns`, `change`, `evidence` or `recent`.
    pub code: String,
    /// What it is, in the guide's terms ("a specific change").
    pub what: String,
    /// The sentence that shows it, as heard (long ones cut with "...").
    pub quote: String,
}

/// What a coach would tell the candidate to keep: each valued property, how to name it in the
/// report, how to say it aloud, and the findings that would contradict it.
struct Valued {
    property: Property,
    what: &'static str,
    spoken: &'static str,
    contradicted_by: &'static [&'static str],
}

const VALUED: [Valued; 4] = [
    Valued {
        property: Property::Evidence,
        what: "evidence the change worked",
        spoken: "You showed the change worked: keep that.",
        contradicted_by: &["no_evidence", "no_concrete_change"],
    },
    Valued {
        property: Property::Change,
        what: "a specific change",
        spoken: "The change you named is specific: keep it.",
        contradicted_by: &["no_concrete_change"],
    },
    Valued {
        property: Property::Owns,
        what: "your own part, said plainly",
        spoken: "You owned your part plainly: keep that.",
        contradicted_by: &["no_ownership", "blame", "team_only", "non_failure"],
    },
    Valued {
        property: Property::Recent,
        what: "a recent failure with real consequences",
        spoken: "A recent failure with real consequences was a good choice.",
        contradicted_by: &["old_failure", "turned_out_fine", "non_failure"],
    },
];

/// At most this many strengths: the strongest few are remembered, a list is not.
const MOST: usize = 3;
/// A quote longer than this many words is cut.
const QUOTE_WORDS: usize = 25;

/// The answer's strengths, surest first: for each valued property, the sentence that most shows
/// it, if the reading is sure of it (as sure as a sentence that settles a finding) and no
/// finding says otherwise. None for an answer whose content is not judged (too short to have
/// the parts, or too unclear).
pub(crate) fn find(
    sentences: &[Sentence],
    reading: &Reading,
    findings: &[Finding],
) -> Vec<Strength> {
    let raised = |code: &str| findings.iter().any(|f| f.code == code);
    if raised("not_judged") {
        return Vec::new();
    }
    let mut found: Vec<(f64, Strength)> = VALUED
        .iter()
        .filter(|valued| !valued.contradicted_by.iter().any(|code| raised(code)))
        .filter_map(|valued| {
            let j = valued.property.index();
            let (i, sureness) = reading
                .properties
                .iter()
                .map(|row| row[j])
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))?;
            (sureness >= SURE).then(|| {
                (
                    sureness,
                    Strength {
                        code: valued.property.name().to_string(),
                        what: valued.what.to_string(),
                        quote: quote(&sentences[i].text),
                    },
                )
            })
        })
        .collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.into_iter().take(MOST).map(|(_, s)| s).collect()
}

/// The strongest strength in one spoken sentence, if there is one.
pub fn spoken(strengths: &[Strength]) -> Option<&'static str> {
    let first = strengths.first()?;
    VALUED
        .iter()
        .find(|v| v.property.name() == first.code)
        .map(|v| v.spoken)
}

fn quote(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= QUOTE_WORDS {
        return words.join(" ");
    }
    let cut = words[..QUOTE_WORDS].join(" ");
    format!("{} ...", cut.trim_end_matches([',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze_with, provisioned_sentence_model, AnalysisOptions, Level};
    use crate::transcript::paced::timed_transcript;

    fn report(text: &str) -> crate::analysis::AnswerReport {
        let options = AnalysisOptions {
            level: Level::Mid,
            ..Default::default()
        };
        analyze_with(
            &mut provisioned_sentence_model(),
            &timed_transcript(text, 150.0),
            &options,
        )
        .expect("analyses")
    }

    #[test]
    fn a_strong_answer_is_told_what_to_keep_with_the_sentence_that_shows_it() {
        let report = report(
            "Last spring I ran the stock count at our garden centre and I got the order for the \
             summer bedding plants badly wrong. I ordered from last year's sheet without checking \
             the new layout, so we had four hundred trays we could not fit and we threw away about \
             two thousand pounds of plants. That was my mistake: I skipped the check because I was \
             in a hurry. Since then I walk the floor plan with the supervisor before every seasonal \
             order and we sign it off together. This autumn's bulb order was the first one done \
             that way, and we sold through with nothing wasted.",
        );
        let codes: Vec<&str> = report.strengths.iter().map(|s| s.code.as_str()).collect();
        assert!(
            !report.strengths.is_empty() && report.strengths.len() <= MOST,
            "{codes:?}"
        );
        for strength in &report.strengths {
            assert!(
                report
                    .transcript
                    .contains(strength.quote.trim_end_matches(" ...")),
                "the quote is the answer's own words: {strength:?}"
            );
        }
        assert!(
            codes.contains(&"change") || codes.contains(&"evidence"),
            "{codes:?}"
        );
    }

    #[test]
    fn a_strength_never_contradicts_a_finding() {
        let report = report(
            "I would say my failure is that I care too much about my work. I stay late every night \
             to make sure everything is perfect, and sometimes my manager has to tell me to go \
             home. I have learned to communicate better and to be more balanced. It has made me a \
             better team member overall and I think people appreciate it.",
        );
        for strength in &report.strengths {
            let contradicted = VALUED
                .iter()
                .find(|v| v.property.name() == strength.code)
                .map_or(&[][..], |v| v.contradicted_by);
            assert!(
                !report
                    .findings
                    .iter()
                    .any(|f| contradicted.contains(&f.code.as_str())),
                "{strength:?} beside {:?}",
                report.findings
            );
        }
    }

    #[test]
    fn an_answer_too_short_to_judge_gets_no_strengths() {
        let report = report("I missed a deadline once and now I plan ahead.");
        assert!(report.strengths.is_empty(), "{:?}", report.strengths);
    }

    #[test]
    fn long_quotes_are_cut_and_the_spoken_line_names_the_first_strength() {
        let long = (0..40)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(quote(&long).ends_with("w24 ..."));
        assert_eq!(quote("short, and whole."), "short, and whole.");
        let strengths = [Strength {
            code: "change".into(),
            what: "a specific change".into(),
            quote: "I now read every order back".into(),
        }];
        assert_eq!(
            spoken(&strengths),
            Some("The change you named is specific: keep it.")
        );
        assert_eq!(spoken(&[]), None);
    }
}
