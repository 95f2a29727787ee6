//! The context model: reads an answer's sentences as one sequence, so each sentence is judged
//! in the light of what comes before and after it ("The failure had two components I own" is
//! ownership because of the story before it).
//!
//! A bidirectional GRU runs over the sentences' inputs (sentence vector and grammar signals),
//! one direction from the first sentence, one from the last; each sentence's two hidden states
//! and its own input feed two heads: a softmax over the parts and one logistic output per
//! property. The same forward pass serves training (`crate::train`, with candle's autograd
//! over the parameters) and analysis, so the two can never disagree about the model.
//!
//! Why a GRU rather than a transformer layer: on a corpus of a few hundred answers a small
//! recurrent layer trains reliably on two cores in minutes, and a quick check on the corpus
//! split (issue 21) put it 5 points of part accuracy above the neighbour-window classifier.

use candle_core::{DType, Device, IndexOp, Result, Tensor, D};

/// The parameters of the model as tensors; `names` lists them in file order.
#[derive(Debug, Clone)]
pub struct Params {
    pub forward: Gru,
    pub backward: Gru,
    /// `[parts, head inputs]` and `[parts]`.
    pub part_weight: Tensor,
    pub part_bias: Tensor,
    /// `[properties, head inputs]` and `[properties]`.
    pub property_weight: Tensor,
    pub property_bias: Tensor,
}

/// One direction's GRU, in PyTorch's layout: gates reset, update, new, stacked by rows.
#[derive(Debug, Clone)]
pub struct Gru {
    /// `[3 hidden, inputs]`
    pub input_weight: Tensor,
    /// `[3 hidden, hidden]`
    pub hidden_weight: Tensor,
    /// `[3 hidden]`
    pub input_bias: Tensor,
    /// `[3 hidden]`
    pub hidden_bias: Tensor,
}

/// The shape of the model: how wide its inputs, hidden states and outputs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub inputs: usize,
    pub hidden: usize,
    pub parts: usize,
    pub properties: usize,
}

impl Shape {
    /// What each head reads for one sentence: both directions' states and the sentence's input.
    pub fn head_inputs(self) -> usize {
        2 * self.hidden + self.inputs
    }

    /// Every parameter's name and shape, in the order the weights file and the trainer use.
    pub fn parameters(self) -> Vec<(&'static str, Vec<usize>)> {
        let gate_rows = 3 * self.hidden;
        let mut out = Vec::new();
        for (ih, hh, bih, bhh) in [
            (
                "gru_forward.weight_ih",
                "gru_forward.weight_hh",
                "gru_forward.bias_ih",
                "gru_forward.bias_hh",
            ),
            (
                "gru_backward.weight_ih",
                "gru_backward.weight_hh",
                "gru_backward.bias_ih",
                "gru_backward.bias_hh",
            ),
        ] {
            out.push((ih, vec![gate_rows, self.inputs]));
            out.push((hh, vec![gate_rows, self.hidden]));
            out.push((bih, vec![gate_rows]));
            out.push((bhh, vec![gate_rows]));
        }
        out.push(("part_head.weight", vec![self.parts, self.head_inputs()]));
        out.push(("part_head.bias", vec![self.parts]));
        out.push((
            "property_head.weight",
            vec![self.properties, self.head_inputs()],
        ));
        out.push(("property_head.bias", vec![self.properties]));
        out
    }
}

impl Params {
    /// Builds the parameters from tensors in `Shape::parameters` order.
    pub fn from_tensors(tensors: &[Tensor]) -> Result<Params> {
        let [fih, fhh, fbih, fbhh, bih, bhh, bbih, bbhh, pw, pb, qw, qb] = tensors else {
            candle_core::bail!("the context model has 12 tensors, got {}", tensors.len());
        };
        let gru = |w: &Tensor, u: &Tensor, b: &Tensor, c: &Tensor| Gru {
            input_weight: w.clone(),
            hidden_weight: u.clone(),
            input_bias: b.clone(),
            hidden_bias: c.clone(),
        };
        Ok(Params {
            forward: gru(fih, fhh, fbih, fbhh),
            backward: gru(bih, bhh, bbih, bbhh),
            part_weight: pw.clone(),
            part_bias: pb.clone(),
            property_weight: qw.clone(),
            property_bias: qb.clone(),
        })
    }
}

/// The logistic function through `tanh`, whose gradient candle knows on every backend.
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    ((x * 0.5)?.tanh()? * 0.5)? + 0.5
}

/// A batch of answers laid out for the model: inputs left-aligned and zero-padded to the
/// longest, and the index that reverses each answer within its own length (padding stays in
/// place), so the backward direction starts at each answer's last sentence, not at padding.
pub struct Batch {
    /// `[answers, longest, inputs]`
    pub inputs: Tensor,
    /// `[answers * longest]`, u32: position of each sentence in its answer read backwards.
    pub reverse: Tensor,
}

impl Batch {
    /// Lays out `answers` (each a list of sentence input rows of width `width`).
    pub fn new(answers: &[&[Vec<f32>]], width: usize, device: &Device) -> Result<Batch> {
        let longest = answers.iter().map(|a| a.len()).max().unwrap_or(0).max(1);
        let mut flat = vec![0.0f32; answers.len() * longest * width];
        let mut reverse = Vec::with_capacity(answers.len() * longest);
        for (b, answer) in answers.iter().enumerate() {
            for (t, row) in answer.iter().enumerate() {
                let at = (b * longest + t) * width;
                flat[at..at + width].copy_from_slice(&row[..width]);
            }
            let n = answer.len();
            for t in 0..longest {
                let source = if t < n { n - 1 - t } else { t };
                reverse.push((b * longest + source) as u32);
            }
        }
        Ok(Batch {
            inputs: Tensor::from_vec(flat, (answers.len(), longest, width), device)?,
            reverse: Tensor::from_vec(reverse, answers.len() * longest, device)?,
        })
    }
}

/// Runs one direction over `[answers, steps, inputs]`, returning every step's hidden state
/// `[answers, steps, hidden]`.
fn run(gru: &Gru, inputs: &Tensor) -> Result<Tensor> {
    let (batch, steps, width) = inputs.dims3()?;
    let hidden = gru.hidden_weight.dim(1)?;
    // Every step's input projection in one product; only the hidden one is step by step.
    let projected = inputs
        .reshape((batch * steps, width))?
        .matmul(&gru.input_weight.t()?)?
        .broadcast_add(&gru.input_bias)?
        .reshape((batch, steps, 3 * hidden))?;
    let hidden_weight = gru.hidden_weight.t()?;
    let mut state = Tensor::zeros((batch, hidden), DType::F32, inputs.device())?;
    let mut states = Vec::with_capacity(steps);
    for t in 0..steps {
        let x = projected.i((.., t, ..))?;
        let h = state
            .matmul(&hidden_weight)?
            .broadcast_add(&gru.hidden_bias)?;
        let reset = sigmoid(&(x.narrow(1, 0, hidden)? + h.narrow(1, 0, hidden)?)?)?;
        let update = sigmoid(&(x.narrow(1, hidden, hidden)? + h.narrow(1, hidden, hidden)?)?)?;
        let new = (x.narrow(1, 2 * hidden, hidden)?
            + reset.mul(&h.narrow(1, 2 * hidden, hidden)?)?)?
        .tanh()?;
        state = (&new + update.mul(&(&state - &new)?)?)?;
        states.push(state.clone());
    }
    Tensor::stack(&states, 1)
}

/// The part logits `[answers * longest, parts]` and property logits
/// `[answers * longest, properties]` of every sentence of the batch (padding rows included;
/// callers mask them).
pub fn forward(params: &Params, batch: &Batch) -> Result<(Tensor, Tensor)> {
    let (answers, longest, width) = batch.inputs.dims3()?;
    let rows = answers * longest;
    let flat = batch.inputs.reshape((rows, width))?;
    let reversed = flat
        .index_select(&batch.reverse, 0)?
        .reshape((answers, longest, width))?;
    let ahead = run(&params.forward, &batch.inputs)?;
    let behind = run(&params.backward, &reversed)?;
    let hidden = ahead.dim(D::Minus1)?;
    let behind = behind
        .reshape((rows, hidden))?
        .index_select(&batch.reverse, 0)?;
    let heads_in = Tensor::cat(&[&ahead.reshape((rows, hidden))?, &behind, &flat], 1)?;
    let parts = heads_in
        .matmul(&params.part_weight.t()?)?
        .broadcast_add(&params.part_bias)?;
    let properties = heads_in
        .matmul(&params.property_weight.t()?)?
        .broadcast_add(&params.property_bias)?;
    Ok((parts, properties))
}
