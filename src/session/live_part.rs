//! The live part estimate the session keeps up while the candidate talks: made from the words
//! heard so far (`listen` asks for it as they change), shown on the live line (`live`) and
//! read by the nudger (`nudge`). Its own file so that none of the three imports another for it.

/// The live part estimate: which part, and seconds spent in it so far, against its budget.
#[derive(Debug, Clone, Default)]
pub struct LivePart {
    pub label: Option<String>,
    pub seconds: f64,
    pub budget: Option<(f64, f64)>,
    /// The whole answer's longest, seconds.
    pub answer_max_s: Option<f64>,
}
