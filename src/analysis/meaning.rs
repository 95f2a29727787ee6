//! Meaning: what each sentence does in the answer, read from its sentence vector, its
//! neighbours' and a few grammar signals by classifiers trained on the labelled corpus
//! (`rehearse train`, weights in `models/judge-failure.safetensors`).
//!
//! Two readings per sentence are trained: which part of the answer it is (a softmax over the
//! parts, decoded over the whole answer with transition log-probabilities counted from the
//! corpus), and which of the guide's properties it has (owns the failure, blames others, a
//! concrete change, evidence, ...), one logistic model each. Then one answer-level model per
//! content finding weighs what the sentences say (each property's strongest sentences) against
//! the framework's check for it: read one sentence at a time the properties alone found the
//! guide's mistakes less well than the checks, together they find them better than either
//! (README, The analysis).

use std::collections::HashMap;
use std::sync::OnceLock;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::parts::{is_first_person, is_past_tense, present_habits, Labelled};
use super::sentences::Sentence;
use super::text::{is_number, is_participle};
use super::{AnswerPart, Level};

/// Length of a sentence vector.
pub const VECTOR_DIMS: usize = 384;
/// Grammar and position signals appended to the vectors.
pub(crate) const SIGNALS: usize = 13;
/// The sentence's vector, its two neighbours' on each side (zeros past the ends), how it
/// differs from the answer's mean vector (what this sentence says that the story as a whole
/// does not), and the signals.
pub(crate) const FEATURES: usize = 6 * VECTOR_DIMS + SIGNALS;

/// The content findings the answer-level models decide, in their output order.
pub const FINDING_CODES: [&str; 9] = [
    "blame",
    "no_ownership",
    "non_failure",
    "turned_out_fine",
    "team_only",
    "no_concrete_change",
    "no_evidence",
    "old_failure",
    "context_heavy",
];
/// What an answer-level model reads: for each property its highest sentence probability and
/// the mean of its two highest, the level, and whether the framework's check raised the code.
pub const ANSWER_FEATURES: usize = 2 * Property::ALL.len() + 3 + 1;

/// The parts the shipped classifier labels, in its output order: the failure framework's four
/// and small talk.
pub const JUDGE_PARTS: [&str; 5] = ["choose", "describe", "own", "learn", "other"];

/// The sentence properties the guide's checks read, each a trained classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Property {
    /// States what the speaker did or failed to do that contributed.
    Owns,
    /// Puts the cause on others or on circumstances.
    Blames,
    /// A strength presented as the failure.
    Strength,
    /// Nothing really lost: caught in time, worked out anyway.
    Fine,
    /// A decision or mistake told as the team's, with no personal role.
    Team,
    /// A specific behaviour the speaker changed.
    Change,
    /// A lesson in general terms with no specific behaviour.
    Vague,
    /// A later situation or result showing the change worked.
    Evidence,
    /// Dates the failure within about three years.
    Recent,
    /// Dates the failure longer ago (or to school or university).
    Old,
    /// Explains why an older story was chosen.
    AgeReason,
}

impl Property {
    pub const ALL: [Property; 11] = [
        Property::Owns,
        Property::Blames,
        Property::Strength,
        Property::Fine,
        Property::Team,
        Property::Change,
        Property::Vague,
        Property::Evidence,
        Property::Recent,
        Property::Old,
        Property::AgeReason,
    ];

    /// The tag the corpus writes for it.
    pub fn name(self) -> &'static str {
        match self {
            Property::Owns => "owns",
            Property::Blames => "blames",
            Property::Strength => "strength",
            Property::Fine => "fine",
            Property::Team => "team",
            Property::Change => "change",
            Property::Vague => "vague",
            Property::Evidence => "evidence",
            Property::Recent => "recent",
            Property::Old => "old",
            Property::AgeReason => "age_reason",
        }
    }

    pub fn from_name(name: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The sentence vectors of one answer, one per sentence the analysis splits it into
/// (`analysis::sentence_texts`), in order. Made at the edge by the sentence model.
#[derive(Debug, Clone, Default)]
pub struct Meaning {
    pub vectors: Vec<Vec<f32>>,
}

/// The feature rows of an answer's sentences: what both classifiers read.
pub(crate) fn features(sentences: &[Sentence], vectors: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let n = sentences.len();
    let first = sentences.first().map_or(0.0, |s| s.start_s);
    let last = sentences.last().map_or(0.0, |s| s.end_s);
    let span = (last - first).max(1e-6);
    let zeros = vec![0.0f32; VECTOR_DIMS];
    let vector = |i: usize| -> &[f32] {
        vectors
            .get(i)
            .filter(|v| v.len() == VECTOR_DIMS)
            .map_or(&zeros[..], |v| &v[..])
    };
    let mut mean = vec![0.0f32; VECTOR_DIMS];
    for i in 0..n {
        for (m, v) in mean.iter_mut().zip(vector(i)) {
            *m += v / n as f32;
        }
    }
    let around = |i: usize, offset: isize| -> &[f32] {
        match i.checked_add_signed(offset) {
            Some(j) if j < n => vector(j),
            _ => &zeros,
        }
    };
    (0..n)
        .map(|i| {
            let mut row = Vec::with_capacity(FEATURES);
            row.extend_from_slice(vector(i));
            for offset in [-1, 1, -2, 2] {
                row.extend_from_slice(around(i, offset));
            }
            row.extend(vector(i).iter().zip(&mean).map(|(v, m)| v - m));
            row.extend(signals(
                &sentences[i],
                i,
                n,
                ((sentences[i].start_s - first) / span) as f32,
            ));
            row
        })
        .collect()
}

/// Position, length and grammar: what a sentence vector does not say about where and how a
/// sentence stands in the answer.
fn signals(sentence: &Sentence, index: usize, count: usize, position: f32) -> [f32; SIGNALS] {
    let tokens = &sentence.tokens;
    let n = tokens.len().max(1) as f32;
    let share = |f: &dyn Fn(&str) -> bool| tokens.iter().filter(|t| f(&t.text)).count() as f32 / n;
    let modal_perfect = tokens.windows(2).any(|w| {
        matches!(w[0].text.as_str(), "should" | "could" | "would" | "might") && w[1].text == "have"
    });
    let present_perfect = tokens.windows(3).any(|w| {
        matches!(w[0].text.as_str(), "i" | "we") && w[1].text == "have" && is_participle(&w[2].text)
    });
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    [
        position,
        position * position,
        flag(index == 0),
        flag(index + 1 == count),
        (1.0 + sentence.word_count() as f32).ln() / 4.0,
        share(&is_past_tense),
        share(&is_first_person),
        share(&|t| matches!(t, "we" | "our" | "us")),
        flag(modal_perfect),
        flag(!present_habits(tokens).is_empty()),
        flag(tokens.iter().any(|t| is_number(&t.text))),
        flag(sentence.text.trim_end().ends_with('?')),
        flag(present_perfect),
    ]
}

/// The trained classifiers of one framework: part weights, transition log-probabilities
/// counted from the corpus, one logistic model per property, and one per content finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Judge {
    /// `[parts][FEATURES]`, row-major.
    pub part_weights: Vec<f32>,
    pub part_bias: Vec<f32>,
    /// Log-probability of opening with each part.
    pub start: Vec<f32>,
    /// `[from][to]` log-probabilities of the next sentence's part.
    pub transitions: Vec<f32>,
    /// Log of each part's share of training sentences, divided out of the softmax so the
    /// decoder does not count how common a part is twice.
    pub log_prior: Vec<f32>,
    /// How much of the prior is divided out (0 keeps the softmax as it is).
    pub prior_weight: f32,
    /// `[properties][FEATURES]`, row-major.
    pub property_weights: Vec<f32>,
    pub property_bias: Vec<f32>,
    /// `[FINDING_CODES][ANSWER_FEATURES]`: one logistic model per content finding over the
    /// answer's properties and the check's own verdict.
    pub finding_weights: Vec<f32>,
    pub finding_bias: Vec<f32>,
}

/// The classifier trained for the built-in failure framework.
const SHIPPED: &[u8] = include_bytes!("../../models/judge-failure.safetensors");

/// Names of the shipped classifiers a framework's `classifier` key may give.
pub const SHIPPED_JUDGES: [&str; 1] = ["failure"];

impl Judge {
    /// The shipped classifier by name, read once.
    pub fn shipped(name: &str) -> Option<&'static Judge> {
        static FAILURE: OnceLock<Judge> = OnceLock::new();
        (name == "failure").then(|| {
            FAILURE.get_or_init(|| match Judge::from_bytes(SHIPPED) {
                Ok(judge) => judge,
                // Compiled in and read by the tests: this cannot fail at run time.
                Err(e) => unreachable!("the shipped classifier is checked by the tests: {e}"),
            })
        })
    }

    fn parts(&self) -> usize {
        self.part_bias.len()
    }

    /// Reads weights written by `to_bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Judge, String> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        let read = |name: &str, len: usize| -> Result<Vec<f32>, String> {
            let view = tensors.tensor(name).map_err(|e| format!("{name}: {e}"))?;
            if view.dtype() != Dtype::F32 {
                return Err(format!("{name} is not f32"));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if values.len() != len {
                return Err(format!(
                    "{name} has {} values, expected {len}",
                    values.len()
                ));
            }
            Ok(values)
        };
        let k = JUDGE_PARTS.len();
        let p = Property::ALL.len();
        Ok(Judge {
            part_weights: read("part_weights", k * FEATURES)?,
            part_bias: read("part_bias", k)?,
            start: read("start", k)?,
            transitions: read("transitions", k * k)?,
            log_prior: read("log_prior", k)?,
            prior_weight: read("prior_weight", 1)?[0],
            property_weights: read("property_weights", p * FEATURES)?,
            property_bias: read("property_bias", p)?,
            finding_weights: read("finding_weights", FINDING_CODES.len() * ANSWER_FEATURES)?,
            finding_bias: read("finding_bias", FINDING_CODES.len())?,
        })
    }

    /// Writes the weights as safetensors (f32, little-endian).
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let k = self.parts();
        let p = Property::ALL.len();
        let bytes = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
        let prior_weight = [self.prior_weight];
        let fields: Vec<(&str, Vec<usize>, Vec<u8>)> = vec![
            ("part_weights", vec![k, FEATURES], bytes(&self.part_weights)),
            ("part_bias", vec![k], bytes(&self.part_bias)),
            ("start", vec![k], bytes(&self.start)),
            ("transitions", vec![k, k], bytes(&self.transitions)),
            ("log_prior", vec![k], bytes(&self.log_prior)),
            ("prior_weight", vec![1], bytes(&prior_weight)),
            (
                "property_weights",
                vec![p, FEATURES],
                bytes(&self.property_weights),
            ),
            ("property_bias", vec![p], bytes(&self.property_bias)),
            (
                "finding_weights",
                vec![FINDING_CODES.len(), ANSWER_FEATURES],
                bytes(&self.finding_weights),
            ),
            (
                "finding_bias",
                vec![FINDING_CODES.len()],
                bytes(&self.finding_bias),
            ),
        ];
        let views: Vec<(String, TensorView)> = fields
            .iter()
            .map(|(name, shape, data)| {
                TensorView::new(Dtype::F32, shape.clone(), data)
                    .map(|v| (name.to_string(), v))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        safetensors::tensor::serialize(views, None::<HashMap<String, String>>)
            .map_err(|e| e.to_string())
    }

    /// Probability of each part for each sentence (rows in `JUDGE_PARTS` order).
    pub(crate) fn part_probabilities(&self, features: &[Vec<f32>]) -> Vec<Vec<f64>> {
        features
            .iter()
            .map(|x| softmax(&affine(&self.part_weights, &self.part_bias, x)))
            .collect()
    }

    /// Probability of each property for each sentence (rows in `Property::ALL` order).
    pub(crate) fn property_probabilities(&self, features: &[Vec<f32>]) -> Vec<Vec<f64>> {
        features
            .iter()
            .map(|x| {
                affine(&self.property_weights, &self.property_bias, x)
                    .into_iter()
                    .map(sigmoid)
                    .collect()
            })
            .collect()
    }

    /// Probability that the answer has content finding `FINDING_CODES[code]`, from its
    /// features (`answer_features`).
    pub(crate) fn finding_probability(&self, code: usize, features: &[f32]) -> f64 {
        let weights = &self.finding_weights[code * ANSWER_FEATURES..(code + 1) * ANSWER_FEATURES];
        sigmoid(affine(weights, &self.finding_bias[code..code + 1], features)[0])
    }

    /// The most likely sequence of parts (indices into `JUDGE_PARTS`) for the whole answer:
    /// each sentence's part probabilities, the prior divided out, plus the corpus's
    /// transition log-probabilities.
    pub(crate) fn decode(&self, probabilities: &[Vec<f64>]) -> Vec<usize> {
        let k = self.parts();
        let emit = |row: &[f64], j: usize| {
            row[j].max(1e-12).ln() - f64::from(self.prior_weight) * f64::from(self.log_prior[j])
        };
        let Some(first) = probabilities.first() else {
            return Vec::new();
        };
        let mut score: Vec<f64> = (0..k)
            .map(|j| f64::from(self.start[j]) + emit(first, j))
            .collect();
        let mut back: Vec<Vec<usize>> = Vec::with_capacity(probabilities.len());
        for row in &probabilities[1..] {
            let mut next = vec![f64::NEG_INFINITY; k];
            let mut from = vec![0; k];
            for to in 0..k {
                for (prev, s) in score.iter().enumerate() {
                    let candidate = s + f64::from(self.transitions[prev * k + to]);
                    if candidate > next[to] {
                        next[to] = candidate;
                        from[to] = prev;
                    }
                }
                next[to] += emit(row, to);
            }
            back.push(from);
            score = next;
        }
        let mut state = (0..k)
            .max_by(|&a, &b| score[a].total_cmp(&score[b]))
            .unwrap_or_default();
        let mut path = vec![state];
        for from in back.iter().rev() {
            state = from[state];
            path.push(state);
        }
        path.reverse();
        path
    }
}

/// The answer-level features for one finding code: what the sentences say (each property's
/// highest probability and the mean of its two highest), the level, and the check's verdict.
pub fn answer_features(properties: &[Vec<f64>], level: Level, check_raised: bool) -> Vec<f32> {
    let p = Property::ALL.len();
    let mut highest = vec![0.0f64; p];
    let mut second = vec![0.0f64; p];
    for row in properties {
        for j in 0..p {
            if row[j] > highest[j] {
                second[j] = highest[j];
                highest[j] = row[j];
            } else if row[j] > second[j] {
                second[j] = row[j];
            }
        }
    }
    if properties.len() < 2 {
        second.clone_from(&highest);
    }
    let mut out: Vec<f32> = highest.iter().map(|v| *v as f32).collect();
    out.extend(
        highest
            .iter()
            .zip(&second)
            .map(|(a, b)| ((a + b) / 2.0) as f32),
    );
    out.extend([Level::Early, Level::Mid, Level::Senior].map(|l| f32::from(u8::from(l == level))));
    // Scaled so a light L2 penalty leaves the check's vote its full weight.
    out.push(if check_raised { 2.0 } else { 0.0 });
    out
}

/// `W x + b` for a row-major `W`.
fn affine(weights: &[f32], bias: &[f32], x: &[f32]) -> Vec<f64> {
    bias.iter()
        .enumerate()
        .map(|(r, b)| {
            let row = &weights[r * x.len()..(r + 1) * x.len()];
            f64::from(*b)
                + row
                    .iter()
                    .zip(x)
                    .map(|(w, v)| f64::from(*w) * f64::from(*v))
                    .sum::<f64>()
        })
        .collect()
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// How the classifiers read one answer: each sentence's part (with why, in words) and
/// properties.
pub(crate) struct Reading {
    pub judge: &'static Judge,
    pub labelled: Vec<Labelled>,
    /// Rows in `Property::ALL` order.
    pub properties: Vec<Vec<f64>>,
}

/// Reads every sentence: its part, decoded over the whole answer, and its properties.
pub(crate) fn read(judge: &'static Judge, sentences: &[Sentence], vectors: &[Vec<f32>]) -> Reading {
    let rows = features(sentences, vectors);
    Reading {
        judge,
        labelled: label_sentences(judge, &judge.part_probabilities(&rows)),
        properties: judge.property_probabilities(&rows),
    }
}

/// Labels each sentence with the part the classifier reads, decoded over the whole answer,
/// and says why in words: how sure it is, and when the answer around it decided the label.
fn label_sentences(judge: &Judge, probabilities: &[Vec<f64>]) -> Vec<Labelled> {
    judge
        .decode(probabilities)
        .into_iter()
        .zip(probabilities)
        .map(|(k, row)| {
            let name = JUDGE_PARTS[k];
            let part = if name == "other" {
                AnswerPart::OTHER
            } else {
                AnswerPart::new(name)
            };
            let alone = (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(k);
            let why = if alone == k {
                format!("reads as {} ({:.0}% sure)", PART_WORDS[k], row[k] * 100.0)
            } else {
                format!(
                    "{} from the sentences around it; alone it reads as {} ({:.0}%)",
                    PART_WORDS[k],
                    PART_WORDS[alone],
                    row[alone] * 100.0
                )
            };
            Labelled { part, why }
        })
        .collect()
}

/// What each of `JUDGE_PARTS` is, for `why`.
const PART_WORDS: [&str; 5] = [
    "choosing the failure",
    "describing what happened",
    "owning your part",
    "what you learned and changed",
    "small talk",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{sentence_texts, SentenceEncoder};
    use crate::corpus::timed_transcript;
    use crate::models::sentence::{MiniLm, SENTENCE_MODEL_NAME};

    /// A short answer written for this test (not from the corpus), one sentence per property
    /// worth pinning, with the sentence index each property should be read in.
    const ANSWER: &str = "The one I would pick is the spring stock count I got badly wrong at \
        the garden centre two years ago. We counted the whole shop over a weekend and the \
        figures went to head office on the Monday. I had put the seed packets in twice, once by \
        the box and once by the packet, so the count was out by eleven thousand pounds. That \
        was my mistake, I never compared the totals with the last count before I sent them. \
        Now I check every count against the previous one and I ask a second person to \
        recount anything that moved by more than ten percent. At the autumn count that check \
        caught a double entry on the compost before it left the shop, and head office has had \
        no corrections from us since.";

    fn read_answer(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(SENTENCE_MODEL_NAME);
        let mut model = MiniLm::load(&dir).expect("the sentence model is provisioned");
        let transcript = timed_transcript(text, 150.0);
        let texts = sentence_texts(&transcript);
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vectors = model.encode(&refs).expect("encodes");
        let sentences = crate::analysis::sentences::split_sentences(&transcript.words);
        let judge = Judge::shipped("failure").expect("shipped");
        let properties = judge.property_probabilities(&features(&sentences, &vectors));
        (texts, properties)
    }

    fn index(property: Property) -> usize {
        Property::ALL
            .iter()
            .position(|p| *p == property)
            .expect("listed")
    }

    #[test]
    fn the_shipped_weights_read_and_write_back_the_same() {
        let judge = Judge::shipped("failure").expect("shipped");
        let bytes = judge.to_bytes().expect("writes");
        assert_eq!(&Judge::from_bytes(&bytes).expect("reads"), judge);
        assert!(Judge::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        assert!(Judge::shipped("star").is_none());
    }

    /// Asserts that `property` is read most in sentence `has`, by a clear margin over every
    /// other sentence: what the answer-level models consume is each property's strongest
    /// sentences.
    fn read_most_in(texts: &[String], properties: &[Vec<f64>], property: Property, has: usize) {
        let j = index(property);
        let margin = (0..texts.len())
            .filter(|&i| i != has)
            .map(|i| properties[has][j] - properties[i][j])
            .fold(f64::INFINITY, f64::min);
        assert!(
            margin >= 0.15,
            "{} in {:?}: {:.2}, only {margin:.2} above another sentence",
            property.name(),
            texts[has],
            properties[has][j]
        );
    }

    #[test]
    fn each_property_is_read_in_the_sentence_that_has_it() {
        let (texts, properties) = read_answer(ANSWER);
        assert_eq!(texts.len(), 6, "{texts:?}");
        read_most_in(&texts, &properties, Property::Recent, 0);
        read_most_in(&texts, &properties, Property::Owns, 3);
        read_most_in(&texts, &properties, Property::Change, 4);
        read_most_in(&texts, &properties, Property::Evidence, 5);
        assert!(
            properties[3][index(Property::Owns)] > 0.9,
            "{:?}",
            properties[3]
        );
        assert!(
            properties[5][index(Property::Evidence)] > 0.8,
            "{:?}",
            properties[5]
        );
    }

    #[test]
    fn blame_a_disguised_strength_and_a_vague_lesson_are_read_where_they_are_said() {
        let answer = "The failure I would talk about is the quarterly newsletter that went out \
            three days late last year. Honestly the printers let us down, they lost the files \
            and the design agency never sent the final proofs on time. If I am honest my real \
            weakness is that I care too much about every detail and I work far too hard to \
            make it perfect. Going forward I learned that communication is really important.";
        let (texts, properties) = read_answer(answer);
        assert_eq!(texts.len(), 4, "{texts:?}");
        read_most_in(&texts, &properties, Property::Recent, 0);
        read_most_in(&texts, &properties, Property::Blames, 1);
        read_most_in(&texts, &properties, Property::Strength, 2);
        let vague = index(Property::Vague);
        assert!(properties[3][vague] > 0.9, "{:?}", properties[3]);
        assert!(
            properties[3][index(Property::Change)] < 0.1,
            "{:?}",
            properties[3]
        );
    }
}
