//! The conversion: what to write (plan), the vocabulary and mel filters, the q8_0 quantiser and
//! the ggml writer, through a temporary file renamed into place.

use super::*;

/// Everything decided before writing: header values and each output tensor with its source.
pub(super) struct Plan {
    pub(super) hparams: Hparams,
    pub(super) n_mels: usize,
    pub(super) tensors: Vec<(TensorSpec, GgmlType, usize)>, // spec, output type, source variable index
}

/// Decides the whole conversion before a byte is written: the header from the model's
/// shapes, and for every tensor whisper.cpp expects, its source variable and output type.
pub(super) fn plan_conversion(
    model: &Ct2Model,
    path: &Path,
    quantization: Quantization,
) -> Result<Plan, ConvertError> {
    reject_quantized_input(model, path)?;
    let hparams = model_hparams(model, path, quantization)?;
    let dims = Dims::from_hparams(&hparams).ok_or_else(|| ConvertError::BadDimensions {
        path: path.to_path_buf(),
        detail: "negative dimension".to_string(),
    })?;
    let tensors = planned_tensors(model, path, &dims, quantization)?;
    Ok(Plan {
        hparams,
        n_mels: dims.n_mels,
        tensors,
    })
}

/// Quantized CTranslate2 models are recognised first, since every later check would otherwise
/// fail with a less helpful message.
fn reject_quantized_input(model: &Ct2Model, path: &Path) -> Result<(), ConvertError> {
    if let Some(v) = model
        .vars
        .iter()
        .find(|v| !v.shape.is_empty() && matches!(v.dtype, Ct2Dtype::I8 | Ct2Dtype::I16))
    {
        return Err(ConvertError::QuantizedInput {
            path: path.to_path_buf(),
            variable: v.name.clone(),
            dtype: v.dtype.name(),
        });
    }

    Ok(())
}

/// The header's hyperparameters, read from the shapes of the model's variables and checked.
fn model_hparams(
    model: &Ct2Model,
    path: &Path,
    quantization: Quantization,
) -> Result<Hparams, ConvertError> {
    let p = || path.to_path_buf();
    let shape_of = |name: &str, rank: usize| -> Result<&[usize], ConvertError> {
        let var = model
            .get(name)
            .ok_or_else(|| ConvertError::MissingVariable {
                path: p(),
                variable: name.to_string(),
            })?;
        if var.shape.len() != rank {
            return Err(ConvertError::Malformed {
                path: p(),
                detail: format!(
                    "variable '{name}' has {} dimensions instead of {rank}",
                    var.shape.len()
                ),
            });
        }
        Ok(&var.shape)
    };
    let conv1 = shape_of("encoder/conv1/weight", 3)?;
    let (audio_state, n_mels) = (conv1[0], conv1[1]);
    let audio_ctx = shape_of("encoder/position_encodings/encodings", 2)?[0];
    let emb = shape_of("decoder/embeddings/weight", 2)?;
    let (n_vocab, text_state) = (emb[0], emb[1]);
    let text_ctx = shape_of("decoder/position_encodings/encodings", 2)?[0];
    let audio_layers = model.layer_count("encoder");
    let text_layers = model.layer_count("decoder");
    // Whisper's heads are always 64 wide; older exports have no num_heads scalar.
    let heads = |name: &str, state: usize| -> i64 {
        model
            .scalar_int(name)
            .unwrap_or_else(|| i64::try_from(state / 64).unwrap_or(0))
    };
    let audio_head = heads("encoder/num_heads", audio_state);
    let text_head = heads("decoder/num_heads", text_state);

    let to_i32 = |name: &str, v: i64| -> Result<i32, ConvertError> {
        i32::try_from(v).map_err(|_| ConvertError::BadDimensions {
            path: p(),
            detail: format!("{name} is {v}"),
        })
    };
    let sz = |name: &str, v: usize| to_i32(name, i64::try_from(v).unwrap_or(i64::MAX));
    let hparams = Hparams {
        n_vocab: sz("n_vocab", n_vocab)?,
        n_audio_ctx: sz("n_audio_ctx", audio_ctx)?,
        n_audio_state: sz("n_audio_state", audio_state)?,
        n_audio_head: to_i32("n_audio_head", audio_head)?,
        n_audio_layer: sz("n_audio_layer", audio_layers)?,
        n_text_ctx: sz("n_text_ctx", text_ctx)?,
        n_text_state: sz("n_text_state", text_state)?,
        n_text_head: to_i32("n_text_head", text_head)?,
        n_text_layer: sz("n_text_layer", text_layers)?,
        n_mels: sz("n_mels", n_mels)?,
        ftype: quantization.ftype(),
    };
    if let Some(detail) = hparams_problem(&hparams) {
        return Err(ConvertError::BadDimensions { path: p(), detail });
    }
    Ok(hparams)
}

/// Each tensor whisper.cpp expects with its output type and the index of the variable it is
/// read from; every float matrix of the model must be one of them.
fn planned_tensors(
    model: &Ct2Model,
    path: &Path,
    dims: &Dims,
    quantization: Quantization,
) -> Result<Vec<(TensorSpec, GgmlType, usize)>, ConvertError> {
    let p = || path.to_path_buf();
    let wtype = quantization.matrix_type();
    let mut tensors = Vec::new();
    let mut used = HashSet::new();
    for spec in whisper_tensors(dims) {
        let idx = *model
            .index
            .get(&spec.var)
            .ok_or_else(|| ConvertError::MissingVariable {
                path: p(),
                variable: spec.var.clone(),
            })?;
        let var = &model.vars[idx];
        if var.shape != spec.var_shape {
            return Err(ConvertError::ShapeMismatch {
                path: p(),
                variable: spec.var.clone(),
                found: var.shape.clone(),
                expected: spec.var_shape.clone(),
            });
        }
        if !var.dtype.is_float() {
            return Err(ConvertError::QuantizedInput {
                path: p(),
                variable: spec.var.clone(),
                dtype: var.dtype.name(),
            });
        }
        let out_type = expected_type(spec.kind, wtype);
        let (block, _) = out_type.block();
        let row = spec.ne[0];
        if !(row as u64).is_multiple_of(block) {
            return Err(ConvertError::QuantizationUnsupported {
                tensor: spec.name.clone(),
                quantization,
                row,
                block: block as usize,
            });
        }
        used.insert(idx);
        tensors.push((spec, out_type, idx));
    }
    // A float matrix nobody reads means an architecture this converter does not understand;
    // dropping it silently would produce a model that transcribes wrongly.
    if let Some(v) = model
        .vars
        .iter()
        .enumerate()
        .find(|(i, v)| !used.contains(i) && v.shape.len() >= 2 && v.dtype.is_float())
        .map(|(_, v)| v)
    {
        return Err(ConvertError::UnexpectedVariable {
            path: p(),
            variable: v.name.clone(),
            shape: v.shape.clone(),
        });
    }

    Ok(tensors)
}

/// GPT-2's byte-to-character table (`bytes_to_unicode`): printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100.. in byte order. Token files spell bytes this way.
pub(super) fn gpt2_byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 0u32;
    for (b, slot) in table.iter_mut().enumerate() {
        let byte = b as u8;
        let printable = matches!(byte, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff);
        *slot = if printable {
            char::from(byte)
        } else {
            let c = char::from_u32(256 + next).unwrap_or(char::REPLACEMENT_CHARACTER);
            next += 1;
            c
        };
    }
    table
}

/// Inverse of [`gpt2_byte_to_char`], indexed by code point (all of them are below 0x144).
pub(super) fn gpt2_char_to_byte() -> Vec<Option<u8>> {
    let mut inv = vec![None; 0x144];
    for (b, c) in gpt2_byte_to_char().iter().enumerate() {
        if let Some(slot) = inv.get_mut(*c as usize) {
            *slot = Some(b as u8);
        }
    }
    inv
}

/// Raw bytes of a token written in GPT-2's byte-level form ("Ġthe" -> b" the").
pub(super) fn gpt2_token_bytes(token: &str, inv: &[Option<u8>]) -> Option<Vec<u8>> {
    token
        .chars()
        .map(|c| inv.get(c as usize).copied().flatten())
        .collect()
}

/// Reads `vocabulary.txt` (one token per line) or `vocabulary.json` (a JSON list) and returns
/// the raw bytes of the ordinary tokens whisper.cpp expects in the file.
pub(super) fn load_vocabulary(path: &Path, n_vocab: i32) -> Result<Vec<Vec<u8>>, ConvertError> {
    let bad = |detail: String| ConvertError::Vocabulary {
        path: path.to_path_buf(),
        detail,
    };
    let text = fs::read_to_string(path).map_err(|source| {
        if source.kind() == io::ErrorKind::InvalidData {
            bad("it is not UTF-8 text".to_string())
        } else {
            ConvertError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let tokens: Vec<String> = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .map_err(|e| bad(format!("it is not a JSON list of strings ({e})")))?
    } else {
        let mut lines: Vec<String> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    };
    if i64::try_from(tokens.len()).ok() != Some(i64::from(n_vocab)) {
        return Err(bad(format!(
            "it has {} tokens but the model's embedding has {n_vocab} rows",
            tokens.len()
        )));
    }
    let wanted = if n_vocab >= MULTILINGUAL_N_VOCAB {
        MULTILINGUAL_TEXT_TOKENS
    } else {
        EN_TEXT_TOKENS
    };
    let inv = gpt2_char_to_byte();
    tokens
        .iter()
        .take(wanted)
        .enumerate()
        .map(|(i, t)| {
            gpt2_token_bytes(t, &inv)
                .ok_or_else(|| bad(format!("token {i} ({t:?}) is not in GPT-2 byte-level form")))
        })
        .collect()
}

/// Slaney-style mel scale as librosa implements it (linear below 1 kHz, logarithmic above).
pub(super) fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

pub(super) fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// Whisper's mel filter bank, `librosa.filters.mel(sr=16000, n_fft=400, n_mels)` with the
/// Slaney scale and area normalisation, row-major `[n_mels][201]` f32. Computed like librosa
/// (f64 math, f32 storage, then the f64 normalisation rounded back to f32) so the values match
/// the ones OpenAI ships to within float rounding.
pub(super) fn mel_filters(n_mels: usize) -> Vec<f32> {
    pub(super) const SR: f64 = 16000.0;
    pub(super) const N_FFT: usize = 400;
    // np.fft.rfftfreq(400, d=1/16000)
    let bin_hz = 1.0 / (N_FFT as f64 * (1.0 / SR));
    let fft_freqs: Vec<f64> = (0..N_FFT_BINS).map(|k| k as f64 * bin_hz).collect();
    // mel_frequencies: n_mels + 2 points evenly spaced in mel from 0 Hz to Nyquist
    // (np.linspace: start + i * step, with the last point set to the end exactly).
    let n_points = n_mels + 2;
    let min_mel = hz_to_mel(0.0);
    let max_mel = hz_to_mel(SR / 2.0);
    let step = (max_mel - min_mel) / (n_points - 1) as f64;
    let mel_f: Vec<f64> = (0..n_points)
        .map(|i| {
            let m = if i == n_points - 1 {
                max_mel
            } else {
                i as f64 * step + min_mel
            };
            mel_to_hz(m)
        })
        .collect();

    let mut out = vec![0f32; n_mels * N_FFT_BINS];
    for (i, row) in out.chunks_exact_mut(N_FFT_BINS).enumerate() {
        let (f0, f1, f2) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (w, &f) in row.iter_mut().zip(&fft_freqs) {
            let lower = -(f0 - f) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            // np.maximum(0, x) keeps x when x is -0.0 (it happens at 0 Hz); mirror it so the
            // bank is bit-identical to OpenAI's mel_filters.npz.
            let m = lower.min(upper);
            let tri = if m >= 0.0 { m as f32 } else { 0.0 };
            *w = (f64::from(tri) * enorm) as f32;
        }
    }
    out
}

/// Appends ggml q8_0 blocks for `values` (whose length is a multiple of 32): an f16 scale
/// `d = max|x| / 127` then 32 `i8` values `round(x / d)`, exactly like ggml's reference
/// quantizer, so the result matches whisper.cpp's `quantize` tool byte for byte.
pub(super) fn quantize_q8_0(values: &[f32], out: &mut Vec<u8>) {
    for block in values.chunks_exact(32) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend(block.iter().map(|v| ((v * id).round() as i8) as u8));
    }
}

/// Counts what goes through a buffered writer and labels write errors with the output path.
pub(super) struct Out<'a> {
    pub(super) w: BufWriter<&'a mut File>,
    pub(super) written: u64,
    pub(super) path: &'a Path,
}

impl Out<'_> {
    pub(super) fn put(&mut self, b: &[u8]) -> Result<(), ConvertError> {
        self.w.write_all(b).map_err(|source| ConvertError::Write {
            path: self.path.to_path_buf(),
            source,
        })?;
        self.written += b.len() as u64;
        Ok(())
    }

    pub(super) fn i32(&mut self, v: i32) -> Result<(), ConvertError> {
        self.put(&v.to_le_bytes())
    }
}

/// Writes the whole ggml file; returns its length.
pub(super) fn write_ggml(
    model: &Ct2Model,
    plan: &Plan,
    tokens: &[Vec<u8>],
    filters: &[f32],
    file: &mut File,
    output: &Path,
) -> Result<u64, ConvertError> {
    let mut out = Out {
        w: BufWriter::with_capacity(1 << 20, file),
        written: 0,
        path: output,
    };
    write_header(&mut out, model, plan, tokens, filters)?;
    let mut src = BufReader::with_capacity(
        1 << 20,
        File::open(&model.path).map_err(|source| ConvertError::Read {
            path: model.path.clone(),
            source,
        })?,
    );
    let mut buffers = Buffers::default();
    for (spec, out_type, idx) in &plan.tensors {
        let name_fits = |v: usize| i32::try_from(v).map_err(|_| too_big(model, &spec.name));
        out.i32(name_fits(spec.ne.len())?)?;
        out.i32(name_fits(spec.name.len())?)?;
        out.i32(out_type.id())?;
        for &d in &spec.ne {
            out.i32(name_fits(d)?)?;
        }
        out.put(spec.name.as_bytes())?;
        copy_tensor_data(
            &mut src,
            model,
            &model.vars[*idx],
            spec,
            *out_type,
            &mut out,
            &mut buffers,
        )?;
    }
    out.w.flush().map_err(|source| ConvertError::Write {
        path: output.to_path_buf(),
        source,
    })?;
    Ok(out.written)
}

/// The error for a count or size the ggml format's 32-bit fields cannot hold.
fn too_big(model: &Ct2Model, what: &str) -> ConvertError {
    ConvertError::BadDimensions {
        path: model.path.clone(),
        detail: format!("{what} does not fit the ggml format"),
    }
}

/// Everything before the tensors: magic, hyperparameters, mel filters, vocabulary.
fn write_header(
    out: &mut Out<'_>,
    model: &Ct2Model,
    plan: &Plan,
    tokens: &[Vec<u8>],
    filters: &[f32],
) -> Result<(), ConvertError> {
    out.put(&GGML_MAGIC.to_le_bytes())?;
    for v in plan.hparams.to_array() {
        out.i32(v)?;
    }
    out.i32(plan.hparams.n_mels)?;
    out.i32(N_FFT_BINS as i32)?;
    let mut buf = Vec::with_capacity(filters.len() * 4);
    for v in filters {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    out.put(&buf)?;

    out.i32(i32::try_from(tokens.len()).map_err(|_| too_big(model, "the vocabulary"))?)?;
    for t in tokens {
        out.put(
            &u32::try_from(t.len())
                .map_err(|_| too_big(model, "a token"))?
                .to_le_bytes(),
        )?;
        out.put(t)?;
    }
    Ok(())
}

/// Scratch space reused from tensor to tensor: the source bytes, their values, the output bytes.
#[derive(Default)]
struct Buffers {
    raw: Vec<u8>,
    vals: Vec<f32>,
    bytes: Vec<u8>,
}

/// Copies one tensor's values from its (part of a) CTranslate2 variable into the output,
/// converted to the output type, a chunk of whole rows at a time.
fn copy_tensor_data(
    src: &mut BufReader<File>,
    model: &Ct2Model,
    var: &Ct2Var,
    spec: &TensorSpec,
    out_type: GgmlType,
    out: &mut Out<'_>,
    buffers: &mut Buffers,
) -> Result<(), ConvertError> {
    let Buffers { raw, vals, bytes } = buffers;
    let el = var.dtype.size().unwrap_or(4);
    let n = spec.n_elements();
    let start = var.offset + (spec.part * n * el) as u64;
    src.seek(SeekFrom::Start(start))
        .map_err(|source| ConvertError::Read {
            path: model.path.clone(),
            source,
        })?;
    // Whole rows per chunk keep q8_0 blocks intact; ~64k values bound the memory.
    let row = spec.ne[0].max(1);
    let chunk = row * (65_536 / row).max(1);
    let mut done = 0;
    while done < n {
        let take = chunk.min(n - done);
        raw.resize(take * el, 0);
        src.read_exact(raw).map_err(|source| {
            if source.kind() == io::ErrorKind::UnexpectedEof {
                ConvertError::Truncated {
                    path: model.path.clone(),
                    what: format!("variable '{}'", var.name),
                    needed: var.nbytes,
                    available: 0,
                }
            } else {
                ConvertError::Read {
                    path: model.path.clone(),
                    source,
                }
            }
        })?;
        bytes.clear();
        if out_type == GgmlType::F16 && var.dtype == Ct2Dtype::F16 {
            bytes.extend_from_slice(raw);
        } else {
            decode_floats(raw, var.dtype, vals);
            match out_type {
                GgmlType::F32 => {
                    for v in vals.iter() {
                        bytes.extend_from_slice(&v.to_le_bytes());
                    }
                }
                GgmlType::F16 => {
                    for v in vals.iter() {
                        bytes.extend_from_slice(&f16::from_f32(*v).to_le_bytes());
                    }
                }
                _ => quantize_q8_0(vals, bytes),
            }
        }
        out.put(bytes)?;
        done += take;
    }
    Ok(())
}

/// Little-endian float data of a CTranslate2 variable as f32.
pub(super) fn decode_floats(raw: &[u8], dtype: Ct2Dtype, vals: &mut Vec<f32>) {
    vals.clear();
    match dtype {
        Ct2Dtype::F16 => vals.extend(
            raw.chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
        Ct2Dtype::Bf16 => vals.extend(
            raw.chunks_exact(2)
                .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
        _ => vals.extend(
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
    }
}

/// A file written under a temporary name beside the output and renamed over it only on
/// success; dropped without `persist`, it deletes itself.
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    pub(super) file: Option<File>,
    pub(super) done: bool,
}

pub(super) static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempFile {
    pub(super) fn create(dir: &Path, output: &Path) -> Result<TempFile, ConvertError> {
        let base = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model.bin".to_string());
        let path = dir.join(format!(
            ".{base}.partial-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|source| ConvertError::Write {
                path: path.clone(),
                source,
            })?;
        Ok(TempFile {
            path,
            file: Some(file),
            done: false,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn file(&mut self) -> Result<&mut File, ConvertError> {
        self.file.as_mut().ok_or_else(|| ConvertError::Write {
            path: self.path.clone(),
            source: io::Error::other("the temporary file was already closed"),
        })
    }

    /// Flushes the data to disk and closes the file (so the rename cannot expose a half-written
    /// file after a crash).
    pub(super) fn finish(&mut self, output: &Path) -> Result<(), ConvertError> {
        if let Some(f) = self.file.take() {
            f.sync_all().map_err(|source| ConvertError::Write {
                path: output.to_path_buf(),
                source,
            })?;
        }
        Ok(())
    }

    pub(super) fn persist(mut self, output: &Path) -> Result<(), ConvertError> {
        fs::rename(&self.path, output).map_err(|source| ConvertError::Write {
            path: output.to_path_buf(),
            source,
        })?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            self.file = None;
            let _ = fs::remove_file(&self.path);
        }
    }
}
