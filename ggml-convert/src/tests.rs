use super::*;
use proptest::prelude::*;
use std::io::Cursor;

// ---- synthetic CTranslate2 model -------------------------------------------------------

/// Dimensions of a small but structurally complete Whisper model.
#[derive(Clone, Copy)]
struct Synth {
    state: usize,
    heads: i16,
    enc_layers: usize,
    dec_layers: usize,
    audio_ctx: usize,
    text_ctx: usize,
    n_mels: usize,
    n_vocab: usize,
    /// CTranslate2 dtype id of the float variables: 4 = f16, 0 = f32.
    dtype: u8,
}

impl Default for Synth {
    fn default() -> Self {
        Synth {
            state: 8,
            heads: 2,
            enc_layers: 1,
            dec_layers: 1,
            audio_ctx: 6,
            text_ctx: 4,
            n_mels: 80,
            n_vocab: 51864,
            dtype: 4,
        }
    }
}

struct Var {
    name: String,
    shape: Vec<usize>,
    dtype: u8,
    data: Vec<u8>,
}

/// Distinct values that f16 represents exactly, so f16 and f32 inputs are comparable.
fn value(seed: usize, j: usize) -> f32 {
    (((seed * 131 + j) % 2048) as f32 - 1024.0) / 8.0
}

impl Synth {
    /// Float variables in CTranslate2 naming, listed independently of the code under test.
    fn float_vars(&self) -> Vec<(String, Vec<usize>)> {
        let n = self.state;
        let mut v: Vec<(String, Vec<usize>)> = vec![
            ("encoder/conv1/weight".into(), vec![n, self.n_mels, 3]),
            ("encoder/conv1/bias".into(), vec![n]),
            ("encoder/conv2/weight".into(), vec![n, n, 3]),
            ("encoder/conv2/bias".into(), vec![n]),
            (
                "encoder/position_encodings/encodings".into(),
                vec![self.audio_ctx, n],
            ),
            ("encoder/layer_norm/gamma".into(), vec![n]),
            ("encoder/layer_norm/beta".into(), vec![n]),
            ("decoder/embeddings/weight".into(), vec![self.n_vocab, n]),
            (
                "decoder/position_encodings/encodings".into(),
                vec![self.text_ctx, n],
            ),
            ("decoder/layer_norm/gamma".into(), vec![n]),
            ("decoder/layer_norm/beta".into(), vec![n]),
        ];
        let common = |c: &str, v: &mut Vec<(String, Vec<usize>)>| {
            for (suffix, shape) in [
                ("self_attention/layer_norm/gamma", vec![n]),
                ("self_attention/layer_norm/beta", vec![n]),
                ("self_attention/linear_0/weight", vec![3 * n, n]),
                ("self_attention/linear_0/bias", vec![3 * n]),
                ("self_attention/linear_1/weight", vec![n, n]),
                ("self_attention/linear_1/bias", vec![n]),
                ("ffn/layer_norm/gamma", vec![n]),
                ("ffn/layer_norm/beta", vec![n]),
                ("ffn/linear_0/weight", vec![4 * n, n]),
                ("ffn/linear_0/bias", vec![4 * n]),
                ("ffn/linear_1/weight", vec![n, 4 * n]),
                ("ffn/linear_1/bias", vec![n]),
            ] {
                v.push((format!("{c}/{suffix}"), shape));
            }
        };
        for i in 0..self.enc_layers {
            common(&format!("encoder/layer_{i}"), &mut v);
        }
        for i in 0..self.dec_layers {
            let c = format!("decoder/layer_{i}");
            common(&c, &mut v);
            for (suffix, shape) in [
                ("attention/layer_norm/gamma", vec![n]),
                ("attention/layer_norm/beta", vec![n]),
                ("attention/linear_0/weight", vec![n, n]),
                ("attention/linear_0/bias", vec![n]),
                ("attention/linear_1/weight", vec![2 * n, n]),
                ("attention/linear_1/bias", vec![2 * n]),
                ("attention/linear_2/weight", vec![n, n]),
                ("attention/linear_2/bias", vec![n]),
            ] {
                v.push((format!("{c}/{suffix}"), shape));
            }
        }
        v
    }

    /// All variables (floats with deterministic values, plus scalars), sorted like
    /// CTranslate2 writes them, and the float values by name.
    fn vars(&self) -> (Vec<Var>, HashMap<String, Vec<f32>>) {
        let mut values = HashMap::new();
        let mut vars = Vec::new();
        for (seed, (name, shape)) in self.float_vars().into_iter().enumerate() {
            let count: usize = shape.iter().product();
            let vals: Vec<f32> = (0..count).map(|j| value(seed, j)).collect();
            let mut data = Vec::new();
            for v in &vals {
                if self.dtype == 0 {
                    data.extend_from_slice(&v.to_le_bytes());
                } else {
                    data.extend_from_slice(&f16::from_f32(*v).to_le_bytes());
                }
            }
            values.insert(name.clone(), vals);
            vars.push(Var {
                name,
                shape,
                dtype: self.dtype,
                data,
            });
        }
        for (name, dtype, data) in [
            ("encoder/num_heads", 2u8, self.heads.to_le_bytes().to_vec()),
            ("decoder/num_heads", 2, self.heads.to_le_bytes().to_vec()),
            ("decoder/pre_norm", 1, vec![1]),
            ("decoder/activation", 1, vec![3]),
            ("decoder/alignment_layer", 2, vec![0xff, 0xff]),
        ] {
            vars.push(Var {
                name: name.into(),
                shape: vec![],
                dtype,
                data,
            });
        }
        vars.sort_by(|a, b| a.name.cmp(&b.name));
        (vars, values)
    }

    fn vocabulary(&self) -> Vec<String> {
        (0..self.n_vocab)
            .map(|i| match i {
                0 => "Ġthe".to_string(),
                1 => "Ċ".to_string(),
                2 => "Ã©".to_string(),
                50256 => "<|endoftext|>".to_string(),
                _ => format!("t{i}"),
            })
            .collect()
    }

    /// Writes model.bin, config.json and vocabulary.txt into `dir`.
    fn write(&self, dir: &Path) -> HashMap<String, Vec<f32>> {
        let (vars, values) = self.vars();
        fs::write(dir.join("model.bin"), model_bin(6, "WhisperSpec", &vars)).unwrap();
        fs::write(dir.join("config.json"), "{}").unwrap();
        fs::write(
            dir.join("vocabulary.txt"),
            self.vocabulary().join("\n") + "\n",
        )
        .unwrap();
        values
    }
}

fn ct2_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn model_bin(version: u32, spec: &str, vars: &[Var]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&version.to_le_bytes());
    ct2_str(&mut out, spec);
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
    for v in vars {
        ct2_str(&mut out, &v.name);
        out.push(v.shape.len() as u8);
        for d in &v.shape {
            out.extend_from_slice(&(*d as u32).to_le_bytes());
        }
        out.push(v.dtype);
        out.extend_from_slice(&(v.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&v.data);
    }
    out.extend_from_slice(&1u32.to_le_bytes());
    ct2_str(&mut out, "decoder/projection/weight");
    ct2_str(&mut out, "decoder/embeddings/weight");
    out
}

fn synth_dir(s: Synth) -> (tempfile::TempDir, HashMap<String, Vec<f32>>) {
    let dir = tempfile::tempdir().unwrap();
    let values = s.write(dir.path());
    (dir, values)
}

// ---- reading ggml back -----------------------------------------------------------------

fn scan_bytes(bytes: &[u8]) -> Result<GgmlScan, ModelFileError> {
    scan_ggml(
        BufReader::new(Cursor::new(bytes)),
        bytes.len() as u64,
        Path::new("mem.bin"),
    )
}

fn tensor<'a>(scan: &'a GgmlScan, name: &str) -> &'a TensorEntry {
    scan.tensors
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tensor {name}"))
}

/// Tensor values as f32 (q8_0 dequantized).
fn values_of(bytes: &[u8], t: &TensorEntry) -> Vec<f32> {
    let data = &bytes[t.offset as usize..(t.offset + t.size) as usize];
    match t.ttype {
        GgmlType::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect(),
        GgmlType::F16 => data
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        GgmlType::Q8_0 => data
            .chunks_exact(34)
            .flat_map(|b| {
                let d = f16::from_le_bytes([b[0], b[1]]).to_f32();
                b[2..].iter().map(move |q| d * f32::from(*q as i8))
            })
            .collect(),
        other => panic!("unexpected type {other:?}"),
    }
}

/// Byte offset where the header of tensor `t` starts.
fn header_start(t: &TensorEntry) -> usize {
    t.offset as usize - 12 - 4 * t.ne.len() - t.name.len()
}

fn vocab_section(bytes: &[u8], n_mels: usize) -> Vec<Vec<u8>> {
    let mut pos = 4 + 44 + 8 + n_mels * N_FFT_BINS * 4;
    let rd = |p: usize| u32::from_le_bytes(bytes[p..p + 4].try_into().unwrap()) as usize;
    let count = rd(pos);
    pos += 4;
    let mut tokens = Vec::new();
    for _ in 0..count {
        let len = rd(pos);
        tokens.push(bytes[pos + 4..pos + 4 + len].to_vec());
        pos += 4 + len;
    }
    tokens
}

fn converted(s: Synth, q: Quantization) -> (Vec<u8>, HashMap<String, Vec<f32>>) {
    let (dir, values) = synth_dir(s);
    let out = dir.path().join("out.bin");
    convert_ctranslate2_dir(dir.path(), &out, q).unwrap();
    (fs::read(&out).unwrap(), values)
}

fn rows(v: &[f32], row: usize, from: usize, to: usize) -> Vec<f32> {
    v[from * row..to * row].to_vec()
}

// ---- conversion ------------------------------------------------------------------------

#[test]
fn converts_synthetic_model_to_f16() {
    let s = Synth::default();
    let (dir, values) = synth_dir(s);
    let out = dir.path().join("models").join("ggml-synth.bin");
    let summary = convert_ctranslate2_dir(dir.path(), &out, Quantization::F16).unwrap();
    let expected = Hparams {
        n_vocab: 51864,
        n_audio_ctx: 6,
        n_audio_state: 8,
        n_audio_head: 2,
        n_audio_layer: 1,
        n_text_ctx: 4,
        n_text_state: 8,
        n_text_head: 2,
        n_text_layer: 1,
        n_mels: 80,
        ftype: 1,
    };
    assert_eq!(summary.hparams, expected);
    assert_eq!(summary.n_tensors, 7 + 15 + 4 + 24);
    assert_eq!(summary.output, out);
    assert_eq!(summary.bytes, fs::metadata(&out).unwrap().len());

    let info = inspect_ggml(&out).unwrap();
    assert_eq!(info.hparams, expected);
    assert_eq!(info.n_tensors, expected.expected_tensor_count());
    assert_eq!(info.bytes, summary.bytes);

    let bytes = fs::read(&out).unwrap();
    let scan = scan_bytes(&bytes).unwrap();
    let names: HashSet<&str> = scan.tensors.iter().map(|t| t.name.as_str()).collect();
    for name in [
        "encoder.conv1.weight",
        "encoder.conv2.bias",
        "encoder.positional_embedding",
        "encoder.ln_post.weight",
        "encoder.blocks.0.attn.query.weight",
        "encoder.blocks.0.attn.key.weight",
        "encoder.blocks.0.mlp.2.bias",
        "decoder.token_embedding.weight",
        "decoder.ln.bias",
        "decoder.blocks.0.cross_attn.key.weight",
        "decoder.blocks.0.cross_attn_ln.bias",
    ] {
        assert!(names.contains(name), "{name} missing");
    }
    for name in [
        "encoder.blocks.0.attn.key.bias",
        "decoder.blocks.0.attn.key.bias",
        "decoder.blocks.0.cross_attn.key.bias",
    ] {
        assert!(!names.contains(name), "{name} must not exist");
    }

    let n = 8;
    let got = |name: &str| values_of(&bytes, tensor(&scan, name));
    // Fused self-attention q, k, v: rows [0, n), [n, 2n), [2n, 3n).
    for stack in ["encoder", "decoder"] {
        let w = &values[&format!("{stack}/layer_0/self_attention/linear_0/weight")];
        let b = &values[&format!("{stack}/layer_0/self_attention/linear_0/bias")];
        let g = |t: &str| got(&format!("{stack}.blocks.0.attn.{t}"));
        assert_eq!(g("query.weight"), rows(w, n, 0, n));
        assert_eq!(g("key.weight"), rows(w, n, n, 2 * n));
        assert_eq!(g("value.weight"), rows(w, n, 2 * n, 3 * n));
        assert_eq!(g("query.bias"), b[..n].to_vec());
        assert_eq!(g("value.bias"), b[2 * n..].to_vec());
    }
    // Fused cross-attention k, v.
    let kv = &values["decoder/layer_0/attention/linear_1/weight"];
    let kvb = &values["decoder/layer_0/attention/linear_1/bias"];
    assert_eq!(
        got("decoder.blocks.0.cross_attn.key.weight"),
        rows(kv, n, 0, n)
    );
    assert_eq!(
        got("decoder.blocks.0.cross_attn.value.weight"),
        rows(kv, n, n, 2 * n)
    );
    assert_eq!(
        got("decoder.blocks.0.cross_attn.value.bias"),
        kvb[n..].to_vec()
    );
    assert_eq!(
        got("decoder.blocks.0.cross_attn.query.weight"),
        values["decoder/layer_0/attention/linear_0/weight"]
    );
    assert_eq!(
        got("decoder.blocks.0.mlp.2.weight"),
        values["decoder/layer_0/ffn/linear_1/weight"]
    );
    assert_eq!(
        got("decoder.token_embedding.weight"),
        values["decoder/embeddings/weight"]
    );
    assert_eq!(
        got("encoder.ln_post.bias"),
        values["encoder/layer_norm/beta"]
    );

    // Types and shapes as whisper.cpp allocates them.
    let check = |name: &str, ttype: GgmlType, ne: &[i64]| {
        let t = tensor(&scan, name);
        assert_eq!((t.ttype, t.ne.as_slice()), (ttype, ne), "{name}");
    };
    check("encoder.conv1.weight", GgmlType::F16, &[3, 80, 8]);
    check("encoder.conv1.bias", GgmlType::F32, &[1, 8]);
    check("encoder.positional_embedding", GgmlType::F32, &[8, 6]);
    check("decoder.positional_embedding", GgmlType::F32, &[8, 4]);
    check("decoder.token_embedding.weight", GgmlType::F16, &[8, 51864]);
    check("encoder.blocks.0.mlp.0.weight", GgmlType::F16, &[8, 32]);
    check("encoder.blocks.0.mlp.0.bias", GgmlType::F32, &[32]);
    check("decoder.blocks.0.attn_ln.weight", GgmlType::F32, &[8]);

    // Every tensor carries exactly the values of its source slice.
    let dims = Dims::from_hparams(&expected).unwrap();
    for spec in whisper_tensors(&dims) {
        let src = &values[&spec.var];
        let len = spec.n_elements();
        let want = src[spec.part * len..(spec.part + 1) * len].to_vec();
        assert_eq!(got(&spec.name), want, "{}", spec.name);
    }

    // Mel filters are right after the header, then the vocabulary as raw bytes.
    let mel: Vec<f32> = bytes[56..56 + 80 * 201 * 4]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(mel, mel_filters(80));
    let tokens = vocab_section(&bytes, 80);
    assert_eq!(tokens.len(), 50256);
    assert_eq!(tokens[0], b" the");
    assert_eq!(tokens[1], b"\n");
    assert_eq!(tokens[2], [0xC3, 0xA9]);
    assert_eq!(tokens[7], b"t7");

    // No temporary file is left beside the output.
    let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("ggml-synth.bin")]);
}

#[test]
fn f32_and_f16_inputs_give_identical_files() {
    let (a, _) = converted(Synth::default(), Quantization::F16);
    let (b, _) = converted(
        Synth {
            dtype: 0,
            ..Synth::default()
        },
        Quantization::F16,
    );
    assert!(a == b);
}

#[test]
fn converts_to_q8_0() {
    let s = Synth {
        state: 32,
        ..Synth::default()
    };
    let (bytes, values) = converted(s, Quantization::Q8_0);
    let scan = scan_bytes(&bytes).unwrap();
    assert_eq!(scan.info.hparams.ftype, 2007);
    assert_eq!(scan.info.n_tensors, 50);
    // whisper.cpp's quantizer: all 2-D matrices become q8_0; conv kernels stay f16; norms,
    // biases, conv biases and positional embeddings stay f32.
    for t in &scan.tensors {
        let want = if t.name.starts_with("encoder.conv") && t.name.ends_with("weight") {
            GgmlType::F16
        } else if t.ne.len() == 2 && !t.name.contains("positional") && !t.name.contains("conv") {
            GgmlType::Q8_0
        } else {
            GgmlType::F32
        };
        assert_eq!(t.ttype, want, "{}", t.name);
    }
    let t = tensor(&scan, "encoder.blocks.0.attn.value.weight");
    assert_eq!(t.size, 32 * 32 / 32 * 34);
    let got = values_of(&bytes, t);
    let src = rows(
        &values["encoder/layer_0/self_attention/linear_0/weight"],
        32,
        64,
        96,
    );
    for (block_got, block_src) in got.chunks(32).zip(src.chunks(32)) {
        let amax = block_src.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (g, s) in block_got.iter().zip(block_src) {
            // Half a quantization step, plus the f16 rounding of the scale.
            assert!(
                (g - s).abs() <= amax / 127.0 * 0.5 + amax / 1024.0,
                "{g} vs {s}"
            );
        }
    }
}

#[test]
fn q8_0_needs_rows_in_whole_blocks() {
    let (dir, _) = synth_dir(Synth::default());
    let out = dir.path().join("q.bin");
    let err = convert_ctranslate2_dir(dir.path(), &out, Quantization::Q8_0).unwrap_err();
    assert!(
        matches!(err, ConvertError::QuantizationUnsupported { row: 8, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("convert with f16 instead"));
    assert!(!out.exists());
}

#[test]
fn q8_0_blocks_match_ggml_reference() {
    let mut vals: Vec<f32> = (0..32).map(|i| i as f32).collect();
    vals.extend((0..32).map(|i| if i == 5 { -2.0 } else { 0.5 }));
    vals.extend([0.0; 32]);
    let mut out = Vec::new();
    quantize_q8_0(&vals, &mut out);
    assert_eq!(out.len(), 3 * 34);
    assert_eq!(
        f16::from_le_bytes([out[0], out[1]]),
        f16::from_f32(31.0 / 127.0)
    );
    assert_eq!(out[2] as i8, 0);
    assert_eq!(out[2 + 31] as i8, 127);
    // 0.5 / (2 / 127) = 31.75 -> 32; -2 -> -127.
    assert_eq!(out[34 + 2] as i8, 32);
    assert_eq!(out[34 + 2 + 5] as i8, -127);
    assert!(out[68..].iter().all(|b| *b == 0));
}

#[test]
fn quantization_parses_and_displays() {
    assert_eq!("f16".parse::<Quantization>().unwrap(), Quantization::F16);
    assert_eq!("Q8_0".parse::<Quantization>().unwrap(), Quantization::Q8_0);
    assert_eq!(Quantization::Q8_0.to_string(), "q8_0");
    assert_eq!(Quantization::F16.to_string(), "f16");
    let err = "q4".parse::<Quantization>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown quantization 'q4'; use 'f16' (best quality) or 'q8_0' (about half the size)"
    );
}

#[test]
fn expected_tensor_count_for_tiny() {
    let tiny = Hparams {
        n_vocab: 51864,
        n_audio_ctx: 1500,
        n_audio_state: 384,
        n_audio_head: 6,
        n_audio_layer: 4,
        n_text_ctx: 448,
        n_text_state: 384,
        n_text_head: 6,
        n_text_layer: 4,
        n_mels: 80,
        ftype: 1,
    };
    assert_eq!(tiny.expected_tensor_count(), 167);
    let dims = Dims::from_hparams(&tiny).unwrap();
    let specs = whisper_tensors(&dims);
    assert_eq!(specs.len(), 167);
    let unique: HashSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(unique.len(), 167);
}

// ---- mel filters and byte mapping ------------------------------------------------------

#[test]
fn mel_filters_have_librosa_properties() {
    let mel = mel_filters(80);
    assert_eq!(mel.len(), 80 * 201);
    assert!(mel.iter().all(|v| *v >= 0.0));
    let rows: Vec<&[f32]> = mel.chunks(201).collect();
    // Filter 0 spans 0 Hz .. mel_f[2] = 74.48 Hz with its apex at mel_f[1] = 37.24 Hz, where
    // mel_f[i] = i * (max_mel / 81) * 200/3 and max_mel = 15 + 27 ln(8) / ln(6.4) = 45.2457.
    // Only bin 1 (40 Hz) lies inside, on the falling edge: (74.48 - 40) / 37.24 = 0.9259,
    // times the Slaney norm 2 / 74.48 = 0.026854, gives 0.024863.
    assert!((rows[0][1] - 0.024863).abs() < 2e-6, "{}", rows[0][1]);
    assert!(rows[0].iter().enumerate().all(|(k, v)| k == 1 || *v == 0.0));
    // Slaney normalisation gives every triangle unit area in Hz; sampled at 40 Hz bins.
    for (i, row) in rows.iter().enumerate() {
        let area = row.iter().sum::<f32>() * 40.0;
        assert!((0.9..1.1).contains(&area), "row {i}: {area}");
    }
    // Filters move upwards and the last one peaks near the top.
    let argmax = |r: &[f32]| {
        r.iter()
            .enumerate()
            .fold((0, 0f32), |b, (k, v)| if *v > b.1 { (k, *v) } else { b })
            .0
    };
    assert!(rows.windows(2).all(|w| argmax(w[0]) <= argmax(w[1])));
    assert_eq!(argmax(rows[79]), 192);
}

/// FNV-1a, to compare against OpenAI's mel_filters.npz without shipping it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The hashes are of `mel_80.npy` / `mel_128.npy` data in openai-whisper's
/// `whisper/assets/mel_filters.npz` (what whisper.cpp's converter copies); glibc's `ln`/`exp`
/// reproduce them bit for bit, other libms may differ in the last bit.
#[cfg(target_os = "linux")]
#[test]
fn mel_filters_match_openai_bit_for_bit() {
    let bytes = |m: Vec<f32>| m.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    assert_eq!(fnv1a(&bytes(mel_filters(80))), 0x173a_8442_ad00_0426);
    assert_eq!(fnv1a(&bytes(mel_filters(128))), 0x4319_6325_f8f5_1341);
}

#[test]
fn gpt2_byte_mapping_round_trips() {
    let table = gpt2_byte_to_char();
    let inv = gpt2_char_to_byte();
    let distinct: HashSet<char> = table.iter().copied().collect();
    assert_eq!(distinct.len(), 256);
    for b in 0..=255u8 {
        let c = table[usize::from(b)];
        assert_eq!(inv[c as usize], Some(b));
        assert_eq!(gpt2_token_bytes(&c.to_string(), &inv), Some(vec![b]));
    }
    assert_eq!(table[usize::from(b' ')], 'Ġ');
    assert_eq!(table[usize::from(b'\n')], 'Ċ');
    assert_eq!(table[usize::from(b'A')], 'A');
    assert_eq!(gpt2_token_bytes("Ġworld", &inv), Some(b" world".to_vec()));
    assert_eq!(gpt2_token_bytes("日本", &inv), None);
}

// ---- conversion errors -----------------------------------------------------------------

fn convert_err(dir: &Path) -> ConvertError {
    let out = dir.join("out.bin");
    let err = convert_ctranslate2_dir(dir, &out, Quantization::F16).unwrap_err();
    assert!(!out.exists(), "a failed conversion left {}", out.display());
    err
}

#[test]
fn rejects_missing_directory_and_files() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = convert_ctranslate2_dir(&missing, &tmp.path().join("o.bin"), Quantization::F16)
        .unwrap_err();
    assert!(matches!(err, ConvertError::DirMissing { .. }), "{err}");
    assert!(err.to_string().ends_with(
        "does not exist; pass the folder of a CTranslate2 (faster-whisper) Whisper model"
    ));

    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    let err =
        convert_ctranslate2_dir(&file, &tmp.path().join("o.bin"), Quantization::F16).unwrap_err();
    assert!(matches!(err, ConvertError::NotADirectory { .. }), "{err}");

    let err = convert_err(tmp.path());
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a CTranslate2 Whisper model directory: model.bin is missing",
            tmp.path().display()
        )
    );

    let (dir, _) = synth_dir(Synth::default());
    fs::remove_file(dir.path().join("vocabulary.txt")).unwrap();
    let err = convert_err(dir.path());
    assert!(
        err.to_string().ends_with("vocabulary.txt is missing"),
        "{err}"
    );

    let (dir, _) = synth_dir(Synth::default());
    let err = convert_ctranslate2_dir(dir.path(), dir.path(), Quantization::F16).unwrap_err();
    assert!(
        matches!(err, ConvertError::OutputIsDirectory { .. }),
        "{err}"
    );
}

#[test]
fn rejects_wrong_version_and_spec() {
    let (dir, _) = synth_dir(Synth::default());
    let (vars, _) = Synth::default().vars();
    fs::write(
        dir.path().join("model.bin"),
        model_bin(5, "WhisperSpec", &vars),
    )
    .unwrap();
    let err = convert_err(dir.path());
    assert!(
        matches!(err, ConvertError::UnsupportedVersion { version: 5, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("only version 6 is supported"));

    fs::write(
        dir.path().join("model.bin"),
        model_bin(6, "TransformerSpec", &vars),
    )
    .unwrap();
    let err = convert_err(dir.path());
    assert!(matches!(err, ConvertError::NotWhisper { .. }), "{err}");

    fs::write(dir.path().join("model.bin"), b"GGUF\x03\x00\x00\x00garbage").unwrap();
    let err = convert_err(dir.path());
    assert!(
        matches!(err, ConvertError::UnsupportedVersion { .. }),
        "{err}"
    );
}

#[test]
fn truncated_model_bin_fails_cleanly_at_every_cut() {
    let (dir, _) = synth_dir(Synth::default());
    let full = fs::read(dir.path().join("model.bin")).unwrap();
    let mut cuts: Vec<usize> = (0..400).collect();
    cuts.extend((400..full.len()).step_by(997));
    cuts.extend(full.len() - 64..full.len());
    for cut in cuts {
        fs::write(dir.path().join("model.bin"), &full[..cut]).unwrap();
        let err = convert_err(dir.path());
        assert!(
            matches!(
                err,
                ConvertError::Truncated { .. } | ConvertError::UnsupportedVersion { .. }
            ),
            "cut at {cut}: {err}"
        );
        if cut > 4 {
            assert!(err.to_string().contains("is truncated"), "{err}");
        }
    }
}

#[test]
fn rejects_int8_models() {
    let (dir, _) = synth_dir(Synth::default());
    let (mut vars, _) = Synth::default().vars();
    let v = vars
        .iter_mut()
        .find(|v| v.name == "encoder/layer_0/ffn/linear_0/weight")
        .unwrap();
    v.dtype = 1;
    v.data.truncate(v.data.len() / 2);
    fs::write(
        dir.path().join("model.bin"),
        model_bin(6, "WhisperSpec", &vars),
    )
    .unwrap();
    let err = convert_err(dir.path());
    assert!(matches!(err, ConvertError::QuantizedInput { .. }), "{err}");
    assert!(err.to_string().contains(
        "int8/quantized CTranslate2 models are not supported, convert the float16 version"
    ));
}

#[test]
fn rejects_incomplete_or_inconsistent_models() {
    let s = Synth::default();
    let (dir, _) = synth_dir(s);
    let (vars, _) = s.vars();
    let write = |vars: &[Var]| {
        fs::write(
            dir.path().join("model.bin"),
            model_bin(6, "WhisperSpec", vars),
        )
        .unwrap()
    };

    let without: Vec<Var> = s
        .vars()
        .0
        .into_iter()
        .filter(|v| v.name != "decoder/layer_0/attention/linear_2/bias")
        .collect();
    write(&without);
    let err = convert_err(dir.path());
    assert!(
        matches!(&err, ConvertError::MissingVariable { variable, .. } if variable == "decoder/layer_0/attention/linear_2/bias"),
        "{err}"
    );

    let mut bad = s.vars().0;
    let v = bad
        .iter_mut()
        .find(|v| v.name == "encoder/layer_0/ffn/linear_1/weight")
        .unwrap();
    v.shape = vec![16, 16];
    write(&bad);
    let err = convert_err(dir.path());
    assert!(matches!(err, ConvertError::ShapeMismatch { .. }), "{err}");

    let mut extra = s.vars().0;
    extra.push(Var {
        name: "zzz/weight".into(),
        shape: vec![2, 2],
        dtype: 4,
        data: vec![0; 8],
    });
    write(&extra);
    let err = convert_err(dir.path());
    assert!(
        matches!(err, ConvertError::UnexpectedVariable { .. }),
        "{err}"
    );

    let mut wrong_bytes = s.vars().0;
    wrong_bytes[3].data.pop();
    write(&wrong_bytes);
    let err = convert_err(dir.path());
    assert!(matches!(err, ConvertError::Malformed { .. }), "{err}");

    // A vocabulary that does not belong to the model.
    write(&vars);
    fs::write(dir.path().join("vocabulary.txt"), "a\nb\n").unwrap();
    let err = convert_err(dir.path());
    assert!(matches!(err, ConvertError::Vocabulary { .. }), "{err}");
    let mut vocab = s.vocabulary();
    vocab[10] = "日本".into();
    fs::write(dir.path().join("vocabulary.txt"), vocab.join("\n")).unwrap();
    let err = convert_err(dir.path());
    assert!(err.to_string().contains("token 10"), "{err}");
}

#[test]
fn reads_vocabulary_json_and_replaces_existing_output() {
    let s = Synth::default();
    let (dir, _) = synth_dir(s);
    fs::remove_file(dir.path().join("vocabulary.txt")).unwrap();
    fs::write(
        dir.path().join("vocabulary.json"),
        serde_json::to_string(&s.vocabulary()).unwrap(),
    )
    .unwrap();
    let out = dir.path().join("out.bin");
    fs::write(&out, "old").unwrap();
    let summary = convert_ctranslate2_dir(dir.path(), &out, Quantization::F16).unwrap();
    assert_eq!(fs::metadata(&out).unwrap().len(), summary.bytes);
    assert!(looks_like_ctranslate2_dir(dir.path()));
}

#[test]
fn detects_ctranslate2_directories() {
    let (dir, _) = synth_dir(Synth::default());
    assert!(looks_like_ctranslate2_dir(dir.path()));
    assert!(!looks_like_ctranslate2_dir(&dir.path().join("model.bin")));
    fs::remove_file(dir.path().join("config.json")).unwrap();
    fs::remove_file(dir.path().join("vocabulary.txt")).unwrap();
    assert!(!looks_like_ctranslate2_dir(dir.path()));
    let err = inspect_ggml(dir.path()).unwrap_err();
    assert!(matches!(err, ModelFileError::IsDirectory { .. }), "{err}");
    fs::write(dir.path().join("config.json"), "{}").unwrap();
    let err = inspect_ggml(dir.path()).unwrap_err();
    assert!(
        matches!(err, ModelFileError::Ctranslate2Dir { .. }),
        "{err}"
    );
    assert!(err.to_string().ends_with("is a CTranslate2 (faster-whisper) model directory, not a whisper.cpp ggml file; convert it to ggml first"));
    let err = inspect_ggml(&dir.path().join("model.bin")).unwrap_err();
    assert!(
        matches!(&err, ModelFileError::Ctranslate2Dir { path } if path == dir.path()),
        "{err}"
    );
}

// ---- ggml checker ----------------------------------------------------------------------

fn small_ggml() -> Vec<u8> {
    converted(Synth::default(), Quantization::F16).0
}

fn put_i32(bytes: &mut [u8], at: usize, v: i32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn inspect_reports_file_level_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let err = inspect_ggml(&tmp.path().join("missing.bin")).unwrap_err();
    assert!(matches!(err, ModelFileError::NotFound { .. }), "{err}");
    let err = inspect_ggml(tmp.path()).unwrap_err();
    assert!(matches!(err, ModelFileError::IsDirectory { .. }), "{err}");
    let empty = tmp.path().join("empty.bin");
    fs::write(&empty, b"").unwrap();
    assert!(matches!(
        inspect_ggml(&empty).unwrap_err(),
        ModelFileError::Empty { .. }
    ));

    assert!(matches!(
        scan_bytes(b"GGUF\x03\x00\x00\x00").unwrap_err(),
        ModelFileError::Gguf { .. }
    ));
    let err = scan_bytes(b"<html>not a model</html>").unwrap_err();
    assert!(matches!(err, ModelFileError::BadMagic { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("instead of the ggml magic 0x67676d6c"));
}

#[test]
fn inspect_reports_header_problems() {
    let good = small_ggml();
    let mut b = good.clone();
    put_i32(&mut b, 4, 5); // n_vocab
    let err = scan_bytes(&b).unwrap_err();
    assert!(matches!(err, ModelFileError::BadHparams { .. }), "{err}");
    assert!(err.to_string().contains("n_vocab is 5"), "{err}");

    let mut b = good.clone();
    put_i32(&mut b, 4 + 4 * 3, 3); // n_audio_head: 8 % 3 != 0
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::BadHparams { .. }
    ));

    let mut b = good.clone();
    put_i32(&mut b, 4 + 4 * 10, 5); // ftype
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::UnsupportedFtype { ftype: 5, .. }
    ));
    put_i32(&mut b, 4 + 4 * 10, 4); // MOSTLY_Q4_1_SOME_F16 aborts ggml
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::UnsupportedFtype { ftype: 4, .. }
    ));
    put_i32(&mut b, 4 + 4 * 10, 1007); // q8_0 with an old quantization version
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::UnsupportedFtype { .. }
    ));

    let mut b = good.clone();
    put_i32(&mut b, 52, 200); // n_fft
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::BadMelFilters { .. }
    ));

    let mut b = good.clone();
    put_i32(&mut b, 56 + 80 * 201 * 4, 60000); // vocabulary count > n_vocab
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::BadVocab { .. }
    ));

    let mut b = good.clone();
    put_i32(&mut b, 56 + 80 * 201 * 4 + 4, i32::MAX); // first token length
    let err = scan_bytes(&b).unwrap_err();
    assert!(
        err.to_string()
            .contains("vocabulary token 0 needs 2147483647 bytes"),
        "{err}"
    );
}

#[test]
fn inspect_reports_tensor_problems() {
    let good = small_ggml();
    let scan = scan_bytes(&good).unwrap();
    let last = scan.tensors.last().unwrap().clone();
    let first = scan.tensors[0].clone();

    // Data running past the end.
    let cut = &good[..good.len() - 10];
    let err = scan_bytes(cut).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "mem.bin is truncated: tensor '{}' needs {} bytes but only {} are left in the file; fetch or convert the model again",
            last.name,
            last.size,
            last.size - 10
        )
    );

    // A whole tensor missing.
    let err = scan_bytes(&good[..header_start(&last)]).unwrap_err();
    assert!(
        matches!(&err, ModelFileError::MissingTensors { found: 49, expected: 50, missing, .. } if *missing == last.name),
        "{err}"
    );

    // Trailing garbage, short and long.
    for extra in [3usize, 40] {
        let mut b = good.clone();
        b.extend(std::iter::repeat_n(0xAB, extra));
        let err = scan_bytes(&b).unwrap_err();
        assert!(
            matches!(err, ModelFileError::TrailingData { extra: e, .. } if e == extra as u64),
            "{err}"
        );
    }

    // Header fields of the first tensor.
    let h = header_start(&first);
    let mut b = good.clone();
    put_i32(&mut b, h, 7);
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::BadTensorHeader { .. }
    ));
    let mut b = good.clone();
    put_i32(&mut b, h + 4, 0);
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::BadTensorHeader { .. }
    ));
    let mut b = good.clone();
    put_i32(&mut b, h + 8, 99);
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::BadTensorHeader { .. }
    ));
    let mut b = good.clone();
    put_i32(
        &mut b,
        h + 8,
        if first.ttype == GgmlType::F32 { 1 } else { 0 },
    );
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::WrongType { .. }
    ));
    let mut b = good.clone();
    put_i32(&mut b, h + 12, first.ne[0] as i32 + 1);
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::WrongShape { .. }
    ));
    let mut b = good.clone();
    b[first.offset as usize - 1] ^= 0x20; // last letter of the name
    assert!(matches!(
        scan_bytes(&b).unwrap_err(),
        ModelFileError::UnknownTensor { .. }
    ));

    // The same tensor twice (the second copy replaces another tensor of equal size).
    let twin = scan
        .tensors
        .iter()
        .find(|t| {
            t.name != first.name
                && t.size == first.size
                && t.ne == first.ne
                && t.name.len() == first.name.len()
        })
        .cloned();
    if let Some(twin) = twin {
        let mut b = good.clone();
        let (a0, a1) = (header_start(&first), first.offset as usize);
        let t0 = header_start(&twin);
        let hdr = good[a0..a1].to_vec();
        b[t0..t0 + hdr.len()].copy_from_slice(&hdr);
        assert!(matches!(
            scan_bytes(&b).unwrap_err(),
            ModelFileError::DuplicateTensor { .. }
        ));
    }
}

/// Cheap deterministic generator for the mutation loop.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn inspect_never_panics_on_truncation_or_bit_flips() {
    let mut b = small_ggml();
    let scan = scan_bytes(&b).unwrap();
    let tensors_start = header_start(&scan.tensors[0]);
    // Cuts through the header, the vocabulary, the first tensor headers and the end.
    let mut cuts: Vec<usize> = (0..120).collect();
    cuts.extend((120..b.len()).step_by(20_011));
    cuts.extend(tensors_start - 30..tensors_start + 100);
    cuts.extend(b.len() - 30..b.len());
    for cut in cuts {
        assert!(scan_bytes(&b[..cut]).is_err(), "cut at {cut} accepted");
    }
    // Bit flips, two thirds of them in the places that steer parsing: the fixed header and
    // the tensor headers (a flip inside tensor data is, correctly, not detectable).
    let headers: Vec<usize> = scan
        .tensors
        .iter()
        .flat_map(|t| header_start(t)..t.offset as usize)
        .collect();
    let mut seed = 42u64;
    // REHEARSE_FUZZ_ITERS=100000 cargo test --release ... for a longer run by hand.
    let iters = std::env::var("REHEARSE_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(450);
    for i in 0..iters {
        let r = lcg(&mut seed) as usize;
        let pos = match i % 3 {
            0 => r % 60,
            1 => headers[r % headers.len()],
            _ => r % b.len(),
        };
        let bit = 1u8 << (lcg(&mut seed) % 8);
        b[pos] ^= bit;
        let _ = scan_bytes(&b);
        b[pos] ^= bit;
    }
    assert!(scan_bytes(&b).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn inspect_never_panics_on_arbitrary_bytes(tail in proptest::collection::vec(any::<u8>(), 0..512), keep_header in any::<bool>()) {
        // Either random bytes after a valid magic + hparams + mel header, or raw noise.
        let mut b = Vec::new();
        if keep_header {
            b.extend_from_slice(&small_header());
        }
        b.extend_from_slice(&tail);
        let _ = scan_bytes(&b);
    }

    #[test]
    fn inspect_never_panics_on_overwrites(pos in 0usize..70_000, value in any::<i32>()) {
        let mut b = SMALL.with(|s| s.clone());
        let at = pos.min(b.len() - 4);
        put_i32(&mut b, at, value);
        let _ = scan_bytes(&b);
    }
}

thread_local! {
    static SMALL: Vec<u8> = small_ggml();
}

fn small_header() -> Vec<u8> {
    SMALL.with(|s| s[..56 + 80 * 201 * 4].to_vec())
}
