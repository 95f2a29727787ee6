//! Follow-up questions an interviewer would ask next, chosen from what the answer lacks, and
//! the verdict on the reply: did it fill the gap the question asked about?
//!
//! Each content gap has one question; a part of the framework that is missing or short asks its
//! own; a strong answer gets one of the framework's deeper probes instead, varied by level.
//! Questions only come from findings, so nothing the answer covered well is asked about. With a
//! classifier's reading, a question quotes the sentence it is about ("You said you ...") and a
//! short part is not asked about when the sentences show the answer gave what it is for.

use serde::{Deserialize, Serialize};

use super::framework::Framework;
use super::meaning::{Property, Reading};
use super::part::Role;
use super::sentences::Sentence;
use super::{AnswerPart, Finding, Level};

/// At most this many questions: an interviewer asks one or two, rarely three.
const MAX_FOLLOWUPS: usize = 3;

/// A sentence property the classifier reads at least this surely counts as said.
const SAID: f64 = 0.5;

/// A question to ask next, and the gap in the answer it asks the candidate to fill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "FollowUpJson")]
pub struct FollowUp {
    pub question: String,
    /// The content finding code the question is about; none for a deeper probe of a strong
    /// answer, or a part the framework asks about without a content check behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
}

/// Reports saved before follow-ups carried their gap list them as plain questions.
#[derive(Deserialize)]
#[serde(untagged)]
enum FollowUpJson {
    Question(String),
    WithGap {
        question: String,
        #[serde(default)]
        gap: Option<String>,
    },
}

impl From<FollowUpJson> for FollowUp {
    fn from(json: FollowUpJson) -> FollowUp {
        match json {
            FollowUpJson::Question(question) => FollowUp {
                question,
                gap: None,
            },
            FollowUpJson::WithGap { question, gap } => FollowUp { question, gap },
        }
    }
}

/// A content gap: the property whose strongest sentence the question quotes, what to say
/// after "You said ...", the question without a quote, and how a reply is judged.
struct Gap {
    code: &'static str,
    quotes: Quote,
    after_quote: &'static str,
    plain: &'static str,
}

/// Which sentence of the answer a question about a gap quotes.
#[derive(Clone, Copy)]
enum Quote {
    /// The sentence that most has the property, if any has it.
    Strongest(Property),
    /// The sentence that names the failure (the first of the choice, else of the story).
    TheFailure,
    Nothing,
}

/// Gaps in priority order, each with the question that probes it.
const GAPS: &[Gap] = &[
    Gap {
        code: "non_failure",
        quotes: Quote::Strongest(Property::Strength),
        after_quote: "That sounds more like a strength. Tell me about a time something actually went wrong because of a decision you made.",
        plain: "That sounds more like a strength. Tell me about a time something actually went wrong because of a decision you made.",
    },
    Gap {
        code: "blame",
        quotes: Quote::Strongest(Property::Blames),
        after_quote: "Looking back, what was within your control, and what would you do differently?",
        plain: "Looking back, what was within your control, and what would you do differently?",
    },
    Gap {
        code: "no_ownership",
        quotes: Quote::TheFailure,
        after_quote: "What did you do, or not do, that led to it?",
        plain: "What specifically did you do, or not do, that contributed to the outcome?",
    },
    Gap {
        code: "team_only",
        quotes: Quote::Strongest(Property::Team),
        after_quote: "Which of those decisions were yours, and what was your own part in it?",
        plain: "Which of the team's decisions were yours, and what was your personal part in the failure?",
    },
    Gap {
        code: "turned_out_fine",
        quotes: Quote::Strongest(Property::Fine),
        after_quote: "What did the failure actually cost before it was put right?",
        plain: "It sounds like it was recovered in time. What did the failure actually cost before it was fixed?",
    },
    Gap {
        code: "old_failure",
        quotes: Quote::Strongest(Property::Old),
        after_quote: "Do you have a more recent example, from the last two or three years?",
        plain: "That was a while ago. Can you give me a more recent example, from the last two or three years?",
    },
    Gap {
        code: "no_concrete_change",
        quotes: Quote::Strongest(Property::Vague),
        after_quote: "What exactly do you do differently now? Walk me through the last time you did it.",
        plain: "What exactly do you do differently now? Walk me through the last time you did it.",
    },
    Gap {
        code: "no_evidence",
        quotes: Quote::Strongest(Property::Change),
        after_quote: "How do you know it worked? Tell me about a later time you did it, and what happened.",
        plain: "How do you know the change worked? Tell me about a later situation where you did it differently.",
    },
    Gap {
        code: "context_heavy",
        quotes: Quote::Nothing,
        after_quote: "",
        plain: "Leaving the background aside, what was the one thing you would do differently?",
    },
];

/// The content gap a short part with this role leaves, which its question asks to fill.
fn gap_of_role(role: Role) -> Option<&'static str> {
    match role {
        Role::Change => Some("no_concrete_change"),
        Role::Ownership => Some("no_ownership"),
        Role::Choice | Role::Story => None,
    }
}

/// The property whose presence shows the answer gave what a part with this role is for.
fn property_of_role(role: Role) -> Option<Property> {
    match role {
        Role::Change => Some(Property::Change),
        Role::Ownership => Some(Property::Owns),
        Role::Choice | Role::Story => None,
    }
}

/// Content gaps whose question already asks about a part playing this role: a short part with
/// that role needs no question of its own.
fn covers(code: &str, role: Role) -> bool {
    match role {
        Role::Change => matches!(code, "no_concrete_change" | "no_evidence"),
        Role::Ownership => matches!(code, "no_ownership" | "blame" | "team_only"),
        Role::Choice | Role::Story => false,
    }
}

fn has(findings: &[Finding], code: &str) -> bool {
    findings.iter().any(|f| f.code == code)
}

/// What the answer said, as the classifier read it: what follow-ups quote and check against.
pub(crate) struct Said<'a> {
    pub sentences: &'a [Sentence],
    pub labels: &'a [AnswerPart],
    pub reading: &'a Reading,
}

impl Said<'_> {
    /// The sentence that most has `property`, if the classifier reads it there at all.
    fn strongest(&self, property: Property) -> Option<usize> {
        let j = property.index();
        (0..self.sentences.len())
            .filter(|&i| self.reading.properties[i][j] >= SAID)
            .max_by(|&a, &b| {
                self.reading.properties[a][j].total_cmp(&self.reading.properties[b][j])
            })
    }

    fn quote(&self, which: Quote) -> Option<String> {
        let i = match which {
            Quote::Strongest(property) => self.strongest(property)?,
            Quote::TheFailure => ["choose", "describe"]
                .iter()
                .find_map(|part| self.labels.iter().position(|l| l.name() == *part))?,
            Quote::Nothing => return None,
        };
        heard_back(&self.sentences[i].text, self.sentences)
    }
}

/// One to three follow-up questions for the answer, deterministic for the same findings.
/// What the interviewer asks when the answer could not be judged.
const WHOLE_STORY: &str = "Could you take me through that properly? What went wrong, what was your part in it, and what do you do differently now?";

/// `said` (with a classifier) lets questions quote the answer and skip what it gave.
pub(crate) fn choose(
    findings: &[Finding],
    said: Option<&Said>,
    framework: &Framework,
    level: Level,
) -> Vec<FollowUp> {
    // An answer too short or too unclear to judge gets no probe of what it did not say: the
    // interviewer asks for the story again.
    if has(findings, "not_judged") {
        return vec![FollowUp {
            question: WHOLE_STORY.to_string(),
            gap: None,
        }];
    }
    let mut questions: Vec<FollowUp> = GAPS
        .iter()
        .filter(|gap| has(findings, gap.code))
        // "What did you do" already asks for ownership; no need to ask it twice for blame.
        .filter(|gap| !(gap.code == "no_ownership" && has(findings, "blame")))
        .map(|gap| {
            let question = match said.and_then(|s| s.quote(gap.quotes)) {
                Some(quote) => format!("You said {quote}. {}", gap.after_quote),
                None => gap.plain.to_string(),
            };
            FollowUp {
                question,
                gap: Some(gap.code.to_string()),
            }
        })
        .collect();
    for part in &framework.parts {
        let Some(question) = &part.followup else {
            continue;
        };
        let thin = findings.iter().any(|f| {
            matches!(f.code.as_str(), "part_missing" | "part_under") && f.part == Some(part.id)
        });
        let covered = part
            .role
            .is_some_and(|role| findings.iter().any(|f| covers(&f.code, role)));
        // A short part whose sentences still say what it is for has nothing to ask.
        let given = part
            .role
            .and_then(property_of_role)
            .zip(said)
            .is_some_and(|(property, said)| said.strongest(property).is_some());
        if thin && !covered && !given {
            questions.push(FollowUp {
                question: question.clone(),
                gap: part.role.and_then(gap_of_role).map(str::to_string),
            });
        }
    }
    if questions.is_empty() {
        let lead = said
            .and_then(|s| s.quote(Quote::Strongest(Property::Change)))
            .map(|quote| format!("You said {quote}. "));
        questions = framework
            .probes(level)
            .iter()
            .enumerate()
            .map(|(i, probe)| FollowUp {
                question: match (&lead, i) {
                    (Some(lead), 0) => format!("{lead}{probe}"),
                    _ => probe.clone(),
                },
                gap: None,
            })
            .collect();
    }
    questions.truncate(MAX_FOLLOWUPS);
    questions
}

/// Longest quote read back, in words: a question a listener can hold in mind.
const QUOTE_WORDS: usize = 18;
/// A shortened quote keeps at least this many words.
const QUOTE_MIN_WORDS: usize = 5;

/// Words a spoken sentence opens with that a quote leaves out.
const OPENERS: &[&str] = &[
    "so",
    "and",
    "but",
    "um",
    "uh",
    "erm",
    "yeah",
    "well",
    "okay",
    "ok",
    "honestly",
    "basically",
    "look",
    "right",
    "anyway",
    "like",
    "oh",
];

/// Words that start a new clause: where a long quote may be cut.
const CLAUSE_STARTS: &[&str] = &[
    "and", "but", "because", "which", "so", "when", "while", "although", "though", "until",
];

/// A sentence of the answer as the interviewer reads it back after "You said": in the second
/// person, without its opening filler, cut at a clause boundary when it is long. `sentences`
/// tell a name (capitalised mid-sentence somewhere) from a word capitalised only because it
/// opens the sentence.
fn heard_back(text: &str, sentences: &[Sentence]) -> Option<String> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    while let Some(first) = words.first() {
        if OPENERS.contains(&bare(first).as_str()) {
            words.remove(0);
        } else {
            break;
        }
    }
    if words.len() > QUOTE_WORDS {
        let cut = (QUOTE_MIN_WORDS..=QUOTE_WORDS)
            .rev()
            .find(|&k| {
                words[k - 1].ends_with([',', ';', ':'])
                    || words
                        .get(k)
                        .is_some_and(|w| CLAUSE_STARTS.contains(&bare(w).as_str()))
            })
            .unwrap_or(QUOTE_WORDS);
        words.truncate(cut);
    }
    if words.len() < 2 {
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (k, word) in words.iter().enumerate() {
        let previous = k.checked_sub(1).map(|p| bare(words[p]));
        let mut turned = second_person(word, previous.as_deref());
        if k == 0 && !is_name(word, sentences) {
            turned = lower_first(&turned);
        }
        out.push(turned);
    }
    let joined = out.join(" ");
    Some(
        joined
            .trim_end_matches([',', '.', '?', '!', ';', ':', '-'])
            .to_string(),
    )
}

/// A word lower-cased and without the punctuation around it.
fn bare(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
        .to_lowercase()
}

/// The word in the second person, keeping its punctuation and capital: "I" and "we" become
/// "you", "my" "your", and "was" after "I" "were".
fn second_person(word: &str, previous: Option<&str>) -> String {
    let core = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
    let lower = core.to_lowercase().replace('’', "'");
    let after_i = matches!(previous, Some("i" | "we"));
    let turned = match lower.as_str() {
        "i" | "me" | "we" | "us" => "you",
        "i'm" | "we're" => "you're",
        "i've" | "we've" => "you've",
        "i'd" | "we'd" => "you'd",
        "i'll" | "we'll" => "you'll",
        "my" | "our" => "your",
        "mine" | "ours" => "yours",
        "myself" => "yourself",
        "ourselves" => "yourselves",
        "am" if after_i => "are",
        "was" if after_i => "were",
        "wasn't" if after_i => "weren't",
        _ => return word.to_string(),
    };
    let start = word.find(core).unwrap_or(0);
    let turned = if core.starts_with(char::is_uppercase) && lower != "i" && !lower.starts_with("i'")
    {
        upper_first(turned)
    } else {
        turned.to_string()
    };
    format!("{}{turned}{}", &word[..start], &word[start + core.len()..])
}

/// Whether a sentence-opening word is a name: it is capitalised somewhere it does not open a
/// sentence.
fn is_name(word: &str, sentences: &[Sentence]) -> bool {
    let core = word.trim_matches(|c: char| !c.is_alphanumeric());
    core.starts_with(char::is_uppercase)
        && sentences.iter().any(|s| {
            s.text
                .split_whitespace()
                .skip(1)
                .any(|w| w.trim_matches(|c: char| !c.is_alphanumeric()) == core)
        })
}

fn lower_first(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn upper_first(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether a follow-up's reply gave what the question asked for, in words for the candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyVerdict {
    /// The content gap the question was about.
    pub gap: String,
    pub filled: bool,
    /// What to tell the candidate; quotes the reply's sentence that fills the gap.
    pub message: String,
}

/// How a reply fills a gap: a sentence that has `needs` (none: any reply) and no sentence
/// that has `spoils`, with what to say either way.
struct ReplyTest {
    gap: &'static str,
    needs: Option<Property>,
    spoils: Option<Property>,
    filled: &'static str,
    unfilled: &'static str,
}

const REPLY_TESTS: &[ReplyTest] = &[
    ReplyTest {
        gap: "non_failure",
        needs: Some(Property::Owns),
        spoils: Some(Property::Strength),
        filled: "The reply gave a real failure of your own",
        unfilled: "The reply still describes a strength rather than something that went wrong because of you.",
    },
    ReplyTest {
        gap: "blame",
        needs: Some(Property::Owns),
        spoils: Some(Property::Blames),
        filled: "The reply named what was within your control",
        unfilled: "The reply still puts the failure on others; name what was within your control.",
    },
    ReplyTest {
        gap: "no_ownership",
        needs: Some(Property::Owns),
        spoils: None,
        filled: "The reply named your own part",
        unfilled: "The reply still does not say what you did or did not do.",
    },
    ReplyTest {
        gap: "team_only",
        needs: Some(Property::Owns),
        spoils: None,
        filled: "The reply named your own part in the team's failure",
        unfilled: "The reply still speaks for the team, not for what you decided.",
    },
    ReplyTest {
        gap: "turned_out_fine",
        needs: None,
        spoils: Some(Property::Fine),
        filled: "The reply said what the failure cost",
        unfilled: "The reply still says nothing was lost; name what the failure cost.",
    },
    ReplyTest {
        gap: "old_failure",
        needs: Some(Property::Recent),
        spoils: None,
        filled: "The reply gave a more recent example",
        unfilled: "The reply gave no example from the last two or three years.",
    },
    ReplyTest {
        gap: "no_concrete_change",
        needs: Some(Property::Change),
        spoils: Some(Property::Vague),
        filled: "The reply named a concrete change",
        unfilled: "The reply still names no specific change; say what you now do, when, or with what.",
    },
    ReplyTest {
        gap: "no_evidence",
        needs: Some(Property::Evidence),
        spoils: None,
        filled: "The reply gave the evidence that the change worked",
        unfilled: "The reply still shows no later situation where the change worked.",
    },
    ReplyTest {
        gap: "context_heavy",
        needs: Some(Property::Change),
        spoils: None,
        filled: "The reply went straight to what you would do differently",
        unfilled: "The reply still stays in the background; say what you would do differently.",
    },
];

/// Judges the reply to a follow-up about `gap` from the properties the classifier read in its
/// sentences (one row per sentence); none when the gap is not one a reply can be judged on.
pub(crate) fn judge_reply(
    gap: &str,
    sentences: &[Sentence],
    properties: &[Vec<f64>],
) -> Option<ReplyVerdict> {
    let test = REPLY_TESTS.iter().find(|t| t.gap == gap)?;
    let strength = |property: Property, i: usize| properties[i][property.index()];
    let spoiled = test
        .spoils
        .is_some_and(|p| (0..sentences.len()).any(|i| strength(p, i) >= SAID));
    let evidence = match test.needs {
        Some(needs) => (0..sentences.len())
            .filter(|&i| strength(needs, i) >= SAID)
            .max_by(|&a, &b| strength(needs, a).total_cmp(&strength(needs, b))),
        None => (!sentences.is_empty()).then_some(0),
    };
    let message = match evidence.filter(|_| !spoiled) {
        Some(i) => match heard_back(&sentences[i].text, sentences) {
            Some(quote) if test.needs.is_some() => format!("{}: you said {quote}.", test.filled),
            _ => format!("{}.", test.filled),
        },
        None => test.unfilled.to_string(),
    };
    Some(ReplyVerdict {
        gap: gap.to_string(),
        filled: evidence.is_some() && !spoiled,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::meaning::Judge;
    use crate::analysis::sentences::split_sentences;
    use crate::analysis::Severity;
    use crate::transcript::paced::timed_transcript;

    fn findings(codes: &[&str]) -> Vec<Finding> {
        codes
            .iter()
            .map(|c| Finding {
                code: c.to_string(),
                severity: Severity::Warning,
                message: String::new(),
                part: None,
            })
            .collect()
    }

    fn questions(followups: &[FollowUp]) -> Vec<&str> {
        followups.iter().map(|f| f.question.as_str()).collect()
    }

    /// An answer written for these tests, and a reading of it that puts one property in each
    /// sentence: owns in 1, change in 2, vague in 3.
    const ANSWER: &str = "The failure I'd pick is the quarterly report I sent with last year's \
        figures. So I copied the old sheet and I never checked the totals before sending it. Now \
        I compare every total with the source system before a report goes out. I've learned to be \
        more careful.";

    fn reading_of(text: &str, said: &[(usize, Property)]) -> (Vec<Sentence>, Vec<Vec<f64>>) {
        let sentences = split_sentences(&timed_transcript(text, 150.0).words);
        let mut properties = vec![vec![0.0; Property::ALL.len()]; sentences.len()];
        for (i, property) in said {
            properties[*i][property.index()] = 0.9;
        }
        (sentences, properties)
    }

    fn as_reading(properties: Vec<Vec<f64>>) -> Reading {
        Reading {
            judge: Judge::shipped("failure").expect("shipped"),
            labelled: Vec::new(),
            properties,
        }
    }

    /// The questions `choose` asks about `ANSWER` (labelled choose, own, learn, learn) when the
    /// reading puts the given properties in the given sentences.
    fn choose_for_answer(findings: &[Finding], said: &[(usize, Property)]) -> Vec<FollowUp> {
        let (sentences, properties) = reading_of(ANSWER, said);
        let labels = labels(&["choose", "own", "learn", "learn"]);
        let reading = as_reading(properties);
        let said = Said {
            sentences: &sentences,
            labels: &labels,
            reading: &reading,
        };
        choose(findings, Some(&said), &Framework::failure(), Level::Mid)
    }

    fn labels(parts: &[&str]) -> Vec<AnswerPart> {
        parts.iter().map(|p| AnswerPart::new(p)).collect()
    }

    #[test]
    fn asks_about_each_gap_in_priority_order_up_to_three() {
        let q = choose(
            &findings(&[
                "no_evidence",
                "old_failure",
                "no_concrete_change",
                "context_heavy",
            ]),
            None,
            &Framework::failure(),
            Level::Mid,
        );
        assert_eq!(q.len(), 3);
        assert!(q[0].question.contains("more recent example"));
        assert!(q[1].question.contains("differently now"));
        assert!(q[2].question.contains("How do you know the change worked"));
        let gaps: Vec<_> = q.iter().map(|f| f.gap.as_deref()).collect();
        assert_eq!(
            gaps,
            [
                Some("old_failure"),
                Some("no_concrete_change"),
                Some("no_evidence")
            ]
        );
    }

    #[test]
    fn never_asks_about_what_the_answer_covered() {
        let q = choose(
            &findings(&["no_evidence"]),
            None,
            &Framework::failure(),
            Level::Mid,
        );
        assert_eq!(q.len(), 1);
        assert!(!q[0].question.contains("within your control"));
        assert!(!q[0].question.contains("differently now"));
    }

    #[test]
    fn blame_asks_about_control_not_twice_about_ownership() {
        let q = choose(
            &findings(&["blame", "no_ownership"]),
            None,
            &Framework::failure(),
            Level::Mid,
        );
        assert_eq!(
            questions(&q),
            ["Looking back, what was within your control, and what would you do differently?"]
        );
    }

    #[test]
    fn thin_learning_without_a_content_gap_asks_what_changed() {
        let mut f = findings(&["part_under"]);
        f[0].part = Some(AnswerPart::new("learn"));
        let q = choose(&f, None, &Framework::failure(), Level::Mid);
        assert_eq!(questions(&q), ["What changed in how you work after this?"]);
        assert_eq!(q[0].gap.as_deref(), Some("no_concrete_change"));
    }

    #[test]
    fn thin_learning_that_still_names_a_change_is_not_asked_what_changed() {
        let mut f = findings(&["part_under"]);
        f[0].part = Some(AnswerPart::new("learn"));
        let q = choose_for_answer(&f, &[(2, Property::Change)]);
        assert!(q.iter().all(|f| f.gap.is_none()), "{q:?}");
        assert!(q[0]
            .question
            .starts_with("You said now you compare every total with the source system"));
    }

    #[test]
    fn a_question_about_a_gap_quotes_the_sentence_it_is_about() {
        let q = choose_for_answer(
            &findings(&["no_concrete_change", "no_ownership"]),
            &[(1, Property::Owns), (3, Property::Vague)],
        );
        assert_eq!(
            questions(&q),
            [
                "You said the failure you'd pick is the quarterly report you sent with last \
                 year's figures. What did you do, or not do, that led to it?",
                "You said you've learned to be more careful. What exactly do you do differently \
                 now? Walk me through the last time you did it.",
            ]
        );
    }

    #[test]
    fn without_a_sentence_that_has_the_property_the_question_does_not_quote() {
        let q = choose_for_answer(&findings(&["blame"]), &[]);
        assert_eq!(
            questions(&q),
            ["Looking back, what was within your control, and what would you do differently?"]
        );
    }

    #[test]
    fn read_back_in_the_second_person_short_and_without_fillers() {
        let sentences = split_sentences(
            &timed_transcript(
                "Um so I was the one who told Priya we were ready. Priya had asked twice.",
                150.0,
            )
            .words,
        );
        assert_eq!(
            heard_back(&sentences[0].text, &sentences).as_deref(),
            Some("you were the one who told Priya you were ready")
        );
        assert_eq!(
            heard_back(&sentences[1].text, &sentences).as_deref(),
            Some("Priya had asked twice"),
            "a name keeps its capital"
        );
        let long = "My team and I rebuilt the whole booking flow over the summer, and we \
                    skipped the load test because the launch date had already been announced.";
        assert_eq!(
            heard_back(long, &sentences).as_deref(),
            Some(
                "your team and you rebuilt the whole booking flow over the summer, and you \
                 skipped the load test"
            ),
            "cut at the clause boundary"
        );
    }

    #[test]
    fn strong_answers_get_a_deeper_probe_by_level() {
        let early = choose(&[], None, &Framework::failure(), Level::Early);
        let senior = choose(&[], None, &Framework::failure(), Level::Senior);
        assert!(early[0].question.contains("tighter deadline"));
        assert_ne!(early, senior);
        assert!(early.iter().all(|f| f.gap.is_none()));
        assert_eq!(
            choose(
                &findings(&["pace_fast"]),
                None,
                &Framework::failure(),
                Level::Senior
            ),
            senior
        );
    }

    #[test]
    fn old_reports_list_follow_ups_as_plain_questions() {
        let read: Vec<FollowUp> = serde_json::from_str(
            r#"["What changed?", {"question": "And then?", "gap": "no_evidence"}]"#,
        )
        .expect("both shapes read");
        assert_eq!(read[0].gap, None);
        assert_eq!(read[1].gap.as_deref(), Some("no_evidence"));
        assert_eq!(
            serde_json::to_string(&read[0]).expect("writes"),
            r#"{"question":"What changed?"}"#
        );
    }

    #[test]
    fn a_reply_fills_the_gap_when_a_sentence_gives_what_was_asked() {
        let reply = "Yes it did. At the next quarter end the check caught a wrong total before it went out.";
        let (sentences, properties) = reading_of(reply, &[(1, Property::Evidence)]);
        let verdict = judge_reply("no_evidence", &sentences, &properties).expect("judged");
        assert!(verdict.filled);
        assert_eq!(
            verdict.message,
            "The reply gave the evidence that the change worked: you said at the next quarter \
             end the check caught a wrong total before it went out."
        );
        let (sentences, properties) = reading_of(reply, &[]);
        let verdict = judge_reply("no_evidence", &sentences, &properties).expect("judged");
        assert!(!verdict.filled);
        assert!(verdict
            .message
            .starts_with("The reply still shows no later situation"));
    }

    #[test]
    fn a_reply_that_still_blames_does_not_fill_the_blame_gap() {
        let reply = "I could have pushed harder. But honestly the fixes were never in my hands.";
        let (sentences, properties) =
            reading_of(reply, &[(0, Property::Owns), (1, Property::Blames)]);
        let verdict = judge_reply("blame", &sentences, &properties).expect("judged");
        assert!(!verdict.filled);
        assert!(judge_reply("part_under", &sentences, &properties).is_none());
    }
}
