//! MPNet (all-mpnet-base-v2's architecture) under candle, which has BERT but not MPNet. MPNet is
//! BERT with two differences that matter here: positions count from the padding id, so a
//! sentence's first piece is position 2, and each attention score gets a learned bias for how far
//! apart the two pieces are (32 buckets, shared by every layer) instead of BERT's token types.
//! Follows Hugging Face transformers' `modeling_mpnet.py`, whose vectors it reproduces
//! (`the_vectors_are_hugging_faces`).

use anyhow::Result;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Module, Tensor, D};
use candle_nn::{layer_norm, LayerNorm, VarBuilder};
use serde::Deserialize;

/// The fields of the model's `config.json` that shape it.
#[derive(Debug, Clone, Deserialize)]
pub struct MpnetConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub layer_norm_eps: f64,
    pub relative_attention_num_buckets: usize,
    pub pad_token_id: u32,
}

/// Pieces further apart than this share the last bucket.
const MAX_DISTANCE: f64 = 128.0;

/// The bias bucket of a key `relative` pieces after (negative: before) its query: half the
/// buckets for each direction, exact up to a quarter of them, then logarithmic up to
/// `MAX_DISTANCE`.
fn relative_bucket(relative: i64, buckets: usize) -> usize {
    let half = (buckets / 2) as i64;
    let n = -relative;
    let side = if n < 0 { half } else { 0 };
    let n = n.abs();
    let exact = half / 2;
    let offset = if n < exact {
        n
    } else {
        let scaled = (n as f64 / exact as f64).ln() / (MAX_DISTANCE / exact as f64).ln()
            * (half - exact) as f64;
        (exact + scaled as i64).min(half - 1)
    };
    (side + offset) as usize
}

/// A linear layer whose matrix is held in 8 bits (ggml's Q8_0: blocks of 32 values sharing one
/// scale), a quarter of F32's memory: MPNet's matrices are 340 MB in F32, 90 MB so, and the
/// session's budget is 400 MB with Whisper loaded. Quantized after the adapter is added, so the
/// vectors the judge is trained on are the ones a session makes.
struct Linear8 {
    weight: QMatMul,
    bias: Tensor,
}

impl Linear8 {
    fn load(inputs: usize, outputs: usize, vb: VarBuilder) -> Result<Linear8> {
        let weight = vb.get((outputs, inputs), "weight")?;
        Ok(Linear8 {
            weight: QMatMul::from_qtensor(QTensor::quantize(&weight, GgmlDType::Q8_0)?)?,
            bias: vb.get(outputs, "bias")?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.weight.forward(x)?.broadcast_add(&self.bias)?)
    }
}

/// An embedding table held in f16 (half of F32's memory; the word table is 94 MB in F32), read
/// back as F32 rows.
struct Embedding16(Tensor);

impl Embedding16 {
    fn load(rows: usize, dims: usize, vb: VarBuilder) -> Result<Embedding16> {
        Ok(Embedding16(
            vb.get((rows, dims), "weight")?.to_dtype(DType::F16)?,
        ))
    }

    /// `ids` [batch, pieces] -> [batch, pieces, dims]
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (batch, pieces) = ids.dims2()?;
        let rows = self.0.index_select(&ids.flatten_all()?, 0)?;
        Ok(rows
            .to_dtype(DType::F32)?
            .reshape((batch, pieces, self.0.dim(1)?))?)
    }
}

struct Layer {
    query: Linear8,
    key: Linear8,
    value: Linear8,
    out: Linear8,
    attention_norm: LayerNorm,
    inner: Linear8,
    output: Linear8,
    output_norm: LayerNorm,
    heads: usize,
}

impl Layer {
    fn load(vb: VarBuilder, config: &MpnetConfig) -> Result<Layer> {
        let hidden = config.hidden_size;
        let eps = config.layer_norm_eps;
        let attention = vb.pp("attention");
        let attn = attention.pp("attn");
        Ok(Layer {
            query: Linear8::load(hidden, hidden, attn.pp("q"))?,
            key: Linear8::load(hidden, hidden, attn.pp("k"))?,
            value: Linear8::load(hidden, hidden, attn.pp("v"))?,
            out: Linear8::load(hidden, hidden, attn.pp("o"))?,
            attention_norm: layer_norm(hidden, eps, attention.pp("LayerNorm"))?,
            inner: Linear8::load(
                hidden,
                config.intermediate_size,
                vb.pp("intermediate").pp("dense"),
            )?,
            output: Linear8::load(
                config.intermediate_size,
                hidden,
                vb.pp("output").pp("dense"),
            )?,
            output_norm: layer_norm(hidden, eps, vb.pp("output").pp("LayerNorm"))?,
            heads: config.num_attention_heads,
        })
    }

    /// `x` [batch, pieces, hidden]; `bias` [1, heads, pieces, pieces] (position) plus
    /// [batch, 1, 1, pieces] (padding), already summed.
    fn forward(&self, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let (batch, pieces, hidden) = x.dims3()?;
        let width = hidden / self.heads;
        let split = |t: Tensor| -> Result<Tensor> {
            Ok(t.reshape((batch, pieces, self.heads, width))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (width as f64).sqrt())?.broadcast_add(bias)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((batch, pieces, hidden))?;
        let x = self
            .attention_norm
            .forward(&(self.out.forward(&context)? + x)?)?;
        let inner = self.inner.forward(&x)?.gelu_erf()?;
        Ok(self
            .output_norm
            .forward(&(self.output.forward(&inner)? + x)?)?)
    }
}

/// The encoder: embeddings, then the layers; the output is each piece's vector.
pub struct MpnetModel {
    words: Embedding16,
    positions: Embedding16,
    embedding_norm: LayerNorm,
    /// [buckets, heads]
    relative_bias: Tensor,
    layers: Vec<Layer>,
    config: MpnetConfig,
}

impl MpnetModel {
    pub fn load(vb: VarBuilder, config: &MpnetConfig) -> Result<MpnetModel> {
        let embeddings = vb.pp("embeddings");
        let encoder = vb.pp("encoder");
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(encoder.pp("layer").pp(i), config))
            .collect::<Result<Vec<_>>>()?;
        Ok(MpnetModel {
            words: Embedding16::load(
                config.vocab_size,
                config.hidden_size,
                embeddings.pp("word_embeddings"),
            )?,
            positions: Embedding16::load(
                config.max_position_embeddings,
                config.hidden_size,
                embeddings.pp("position_embeddings"),
            )?,
            embedding_norm: layer_norm(
                config.hidden_size,
                config.layer_norm_eps,
                embeddings.pp("LayerNorm"),
            )?,
            relative_bias: encoder.pp("relative_attention_bias").get(
                (
                    config.relative_attention_num_buckets,
                    config.num_attention_heads,
                ),
                "weight",
            )?,
            layers,
            config: config.clone(),
        })
    }

    /// Each piece's vector, [batch, pieces, hidden], for `ids` and `mask` [batch, pieces]
    /// (u32; mask 1 on real pieces, 0 on padding at the end).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, pieces) = ids.dims2()?;
        let device = ids.device();
        // Positions count real pieces from the padding id on; padding keeps the padding id.
        let pad = self.config.pad_token_id;
        let mask_rows = mask.to_vec2::<u32>()?;
        let positions: Vec<u32> = mask_rows
            .iter()
            .flat_map(|row| {
                let mut seen = 0;
                row.iter()
                    .map(|&m| {
                        seen += m;
                        if m == 0 {
                            pad
                        } else {
                            pad + seen
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let positions = Tensor::from_vec(positions, (batch, pieces), device)?;
        let x = (self.words.forward(ids)? + self.positions.forward(&positions)?)?;
        let mut x = self.embedding_norm.forward(&x)?;

        let buckets: Vec<u32> = (0..pieces as i64)
            .flat_map(|query| {
                (0..pieces as i64).map(move |key| {
                    relative_bucket(key - query, self.config.relative_attention_num_buckets) as u32
                })
            })
            .collect();
        let buckets = Tensor::from_vec(buckets, pieces * pieces, device)?;
        let position_bias = self
            .relative_bias
            .index_select(&buckets, 0)?
            .reshape((pieces, pieces, self.config.num_attention_heads))?
            .permute((2, 0, 1))?
            .unsqueeze(0)?;
        // Padding gets a score so low that its weight is zero.
        let padding_bias =
            ((mask.to_dtype(DType::F32)? - 1.0)? * 1e4)?.reshape((batch, 1, 1, pieces))?;
        let bias = position_bias.broadcast_add(&padding_bias)?.contiguous()?;
        for layer in &self.layers {
            x = layer.forward(&x, &bias)?;
        }
        Ok(x)
    }
}

/// The masked mean of each sentence's piece vectors, at unit length: how the sentence
/// transformers behind both sentence models were trained to be read. `hidden` [batch, pieces,
/// dims], `mask` [batch, pieces] (u32).
pub fn mean_pooled_unit(hidden: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1.0, f64::MAX)?;
    let mean = summed.broadcast_div(&counts)?;
    let norm = mean
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12, f64::MAX)?;
    Ok(mean.broadcast_div(&norm)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_near_and_logarithmic_far_on_each_side() {
        // Keys before the query (negative) take the upper half of the 32 buckets.
        assert_eq!(relative_bucket(0, 32), 0);
        assert_eq!(relative_bucket(-1, 32), 1);
        assert_eq!(relative_bucket(-7, 32), 7);
        assert_eq!(relative_bucket(1, 32), 17);
        assert_eq!(relative_bucket(7, 32), 23);
        // From 8 on, log-spaced: 8..11 share a bucket, and from 128 on all share the last.
        assert_eq!(relative_bucket(-8, 32), 8);
        assert_eq!(relative_bucket(-11, 32), 8);
        assert_eq!(relative_bucket(-12, 32), 9);
        assert_eq!(relative_bucket(-127, 32), 15);
        assert_eq!(relative_bucket(-500, 32), 15);
        assert_eq!(relative_bucket(500, 32), 31);
    }
}
