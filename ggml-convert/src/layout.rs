//! Whisper's tensor layout, shared by the converter and the checker: which tensors a model of
//! given dimensions has, their shapes and how whisper.cpp types them.

use super::*;

/// How whisper.cpp types a tensor, relative to the file's weight type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Matrices (`*.weight` of linear layers and the token embedding): the file's weight type.
    Matrix,
    /// Convolution kernels: f32 in f32 files, f16 otherwise (whisper.cpp's `vtype`).
    Conv,
    /// Norms, biases, conv biases and positional embeddings: always f32.
    Float32,
}

/// One tensor whisper.cpp expects, and where its values live in a CTranslate2 model.
#[derive(Debug, Clone)]
pub(super) struct TensorSpec {
    pub(super) name: String,
    /// ggml dimensions, innermost first (the reverse of the PyTorch/CTranslate2 shape).
    pub(super) ne: Vec<usize>,
    pub(super) kind: Kind,
    /// CTranslate2 variable holding the values.
    pub(super) var: String,
    /// Full shape that variable must have.
    pub(super) var_shape: Vec<usize>,
    /// The tensor is row block `part` of equal blocks of the variable (fused q/k/v).
    pub(super) part: usize,
}

impl TensorSpec {
    pub(super) fn n_elements(&self) -> usize {
        self.ne.iter().product()
    }
}

/// Dimensions the tensor table is built from, as sizes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dims {
    pub(super) n_vocab: usize,
    pub(super) audio_ctx: usize,
    pub(super) audio_state: usize,
    pub(super) audio_layers: usize,
    pub(super) text_ctx: usize,
    pub(super) text_state: usize,
    pub(super) text_layers: usize,
    pub(super) n_mels: usize,
}

impl Dims {
    /// `None` when a dimension is negative (callers check plausibility first).
    pub(super) fn from_hparams(h: &Hparams) -> Option<Dims> {
        let u = |v: i32| usize::try_from(v).ok();
        Some(Dims {
            n_vocab: u(h.n_vocab)?,
            audio_ctx: u(h.n_audio_ctx)?,
            audio_state: u(h.n_audio_state)?,
            audio_layers: u(h.n_audio_layer)?,
            text_ctx: u(h.n_text_ctx)?,
            text_state: u(h.n_text_state)?,
            text_layers: u(h.n_text_layer)?,
            n_mels: u(h.n_mels)?,
        })
    }
}

/// The full list of tensors whisper.cpp creates for these dimensions, with their sources in
/// CTranslate2's naming. Mirrors whisper.cpp's `whisper_model_load`, in its order.
pub(super) fn whisper_tensors(d: &Dims) -> Vec<TensorSpec> {
    let mut list = TensorList(Vec::with_capacity(
        11 + 15 * d.audio_layers + 24 * d.text_layers,
    ));
    list.encoder(d);
    list.decoder(d);
    list.0
}

/// The tensor list under construction: one method per kind of layer, each naming its tensors
/// in both conventions (ggml's dotted names, CTranslate2's variable paths).
struct TensorList(Vec<TensorSpec>);

impl TensorList {
    /// Row block `part` of `parts` equal blocks of the variable `var` (CTranslate2 fuses q, k
    /// and v into one); `part_shape` is one block's shape, in CTranslate2 order.
    fn slice(
        &mut self,
        name: String,
        ne: Vec<usize>,
        kind: Kind,
        var: String,
        part_shape: Vec<usize>,
        (part, parts): (usize, usize),
    ) {
        let mut var_shape = part_shape;
        if let Some(first) = var_shape.first_mut() {
            *first *= parts;
        }
        self.0.push(TensorSpec {
            name,
            ne,
            kind,
            var,
            var_shape,
            part,
        });
    }

    /// A whole variable of shape `var_shape`.
    fn whole(
        &mut self,
        name: String,
        ne: Vec<usize>,
        kind: Kind,
        var: String,
        var_shape: Vec<usize>,
    ) {
        self.slice(name, ne, kind, var, var_shape, (0, 1));
    }

    /// Linear layer: weight [n_out, n_in] (ne [n_in, n_out]) and optional bias [n_out], taken
    /// as block `part` of a possibly fused variable.
    fn linear(
        &mut self,
        ggml: &str,
        ct2: &str,
        (n_in, n_out): (usize, usize),
        bias: bool,
        part: (usize, usize),
    ) {
        self.slice(
            format!("{ggml}.weight"),
            vec![n_in, n_out],
            Kind::Matrix,
            format!("{ct2}/weight"),
            vec![n_out, n_in],
            part,
        );
        if bias {
            self.slice(
                format!("{ggml}.bias"),
                vec![n_out],
                Kind::Float32,
                format!("{ct2}/bias"),
                vec![n_out],
                part,
            );
        }
    }

    /// Layer norm: CTranslate2's gamma and beta are ggml's weight and bias.
    fn norm(&mut self, ggml: &str, ct2: &str, n: usize) {
        for (ggml_name, ct2_name) in [("weight", "gamma"), ("bias", "beta")] {
            self.whole(
                format!("{ggml}.{ggml_name}"),
                vec![n],
                Kind::Float32,
                format!("{ct2}/{ct2_name}"),
                vec![n],
            );
        }
    }

    /// Self-attention (fused q, k, v; Whisper has no key bias) and the MLP, common to both
    /// stacks' blocks.
    fn self_attention_and_mlp(&mut self, g: &str, c: &str, n: usize) {
        self.norm(
            &format!("{g}.attn_ln"),
            &format!("{c}/self_attention/layer_norm"),
            n,
        );
        let qkv = format!("{c}/self_attention/linear_0");
        self.linear(&format!("{g}.attn.query"), &qkv, (n, n), true, (0, 3));
        self.linear(&format!("{g}.attn.key"), &qkv, (n, n), false, (1, 3));
        self.linear(&format!("{g}.attn.value"), &qkv, (n, n), true, (2, 3));
        let out = format!("{c}/self_attention/linear_1");
        self.linear(&format!("{g}.attn.out"), &out, (n, n), true, (0, 1));
        self.norm(&format!("{g}.mlp_ln"), &format!("{c}/ffn/layer_norm"), n);
        let fc1 = format!("{c}/ffn/linear_0");
        self.linear(&format!("{g}.mlp.0"), &fc1, (n, 4 * n), true, (0, 1));
        let fc2 = format!("{c}/ffn/linear_1");
        self.linear(&format!("{g}.mlp.2"), &fc2, (4 * n, n), true, (0, 1));
    }

    /// A decoder block's attention over the encoder's output (k and v fused, no key bias).
    fn cross_attention(&mut self, g: &str, c: &str, n: usize) {
        self.norm(
            &format!("{g}.cross_attn_ln"),
            &format!("{c}/attention/layer_norm"),
            n,
        );
        let q = format!("{c}/attention/linear_0");
        self.linear(&format!("{g}.cross_attn.query"), &q, (n, n), true, (0, 1));
        let kv = format!("{c}/attention/linear_1");
        self.linear(&format!("{g}.cross_attn.key"), &kv, (n, n), false, (0, 2));
        self.linear(&format!("{g}.cross_attn.value"), &kv, (n, n), true, (1, 2));
        let out = format!("{c}/attention/linear_2");
        self.linear(&format!("{g}.cross_attn.out"), &out, (n, n), true, (0, 1));
    }

    /// The audio encoder: positions, the two convolutions, the final norm, the blocks.
    fn encoder(&mut self, d: &Dims) {
        let na = d.audio_state;
        self.whole(
            "encoder.positional_embedding".into(),
            vec![na, d.audio_ctx],
            Kind::Float32,
            "encoder/position_encodings/encodings".into(),
            vec![d.audio_ctx, na],
        );
        for (i, n_in) in [(1, d.n_mels), (2, na)] {
            self.whole(
                format!("encoder.conv{i}.weight"),
                vec![3, n_in, na],
                Kind::Conv,
                format!("encoder/conv{i}/weight"),
                vec![na, n_in, 3],
            );
            // whisper.cpp adds the conv bias by broadcasting a [1, n] tensor.
            self.whole(
                format!("encoder.conv{i}.bias"),
                vec![1, na],
                Kind::Float32,
                format!("encoder/conv{i}/bias"),
                vec![na],
            );
        }
        self.norm("encoder.ln_post", "encoder/layer_norm", na);
        for i in 0..d.audio_layers {
            self.self_attention_and_mlp(
                &format!("encoder.blocks.{i}"),
                &format!("encoder/layer_{i}"),
                na,
            );
        }
    }

    /// The text decoder: positions, token embeddings, the final norm, the blocks.
    fn decoder(&mut self, d: &Dims) {
        let nt = d.text_state;
        self.whole(
            "decoder.positional_embedding".into(),
            vec![nt, d.text_ctx],
            Kind::Float32,
            "decoder/position_encodings/encodings".into(),
            vec![d.text_ctx, nt],
        );
        self.whole(
            "decoder.token_embedding.weight".into(),
            vec![nt, d.n_vocab],
            Kind::Matrix,
            "decoder/embeddings/weight".into(),
            vec![d.n_vocab, nt],
        );
        self.norm("decoder.ln", "decoder/layer_norm", nt);
        for i in 0..d.text_layers {
            let g = format!("decoder.blocks.{i}");
            let c = format!("decoder/layer_{i}");
            self.self_attention_and_mlp(&g, &c, nt);
            self.cross_attention(&g, &c, nt);
        }
    }
}

/// Why these hyperparameters cannot describe a model whisper.cpp runs safely, if they cannot.
/// The bounds are generous versions of real Whisper sizes (tiny..large-v3) that still rule out
/// the absurd values a damaged file produces (and the huge allocations they would trigger).
pub(super) fn hparams_problem(h: &Hparams) -> Option<String> {
    let ranges: [(&str, i32, i32, i32); 10] = [
        ("n_vocab", h.n_vocab, MIN_N_VOCAB, MAX_N_VOCAB),
        ("n_audio_ctx", h.n_audio_ctx, 1, 4096),
        ("n_audio_state", h.n_audio_state, 1, 8192),
        ("n_audio_head", h.n_audio_head, 1, 256),
        ("n_audio_layer", h.n_audio_layer, 1, 256),
        ("n_text_ctx", h.n_text_ctx, 1, 4096),
        ("n_text_state", h.n_text_state, 1, 8192),
        ("n_text_head", h.n_text_head, 1, 256),
        ("n_text_layer", h.n_text_layer, 1, 256),
        ("n_mels", h.n_mels, 1, 512),
    ];
    for (name, value, lo, hi) in ranges {
        if value < lo || value > hi {
            return Some(format!("{name} is {value}, expected {lo}..={hi}"));
        }
    }
    if h.n_audio_state != h.n_text_state {
        return Some(format!(
            "n_audio_state {} differs from n_text_state {}",
            h.n_audio_state, h.n_text_state
        ));
    }
    if h.n_audio_state % h.n_audio_head != 0 {
        return Some(format!(
            "n_audio_state {} is not divisible by n_audio_head {}",
            h.n_audio_state, h.n_audio_head
        ));
    }
    if h.n_text_state % h.n_text_head != 0 {
        return Some(format!(
            "n_text_state {} is not divisible by n_text_head {}",
            h.n_text_state, h.n_text_head
        ));
    }
    None
}
