//! The ggml checker: walks a file as whisper.cpp's loader would, and turns every problem it
//! would trip over into an error that says what to do.

use super::*;

/// Where one tensor's data lies; kept so tests can read values back.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))]
pub(super) struct TensorEntry {
    pub(super) name: String,
    pub(super) ne: Vec<i64>,
    pub(super) ttype: GgmlType,
    pub(super) offset: u64,
    pub(super) size: u64,
}

#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(super) struct GgmlScan {
    pub(super) info: GgmlInfo,
    pub(super) tensors: Vec<TensorEntry>,
}

/// Bounds-checked little-endian reader over a file of known length: every read first checks
/// that the bytes exist, so damaged input yields `Truncated` instead of garbage or a panic.
pub(super) struct Scanner<'p, R> {
    pub(super) r: BufReader<R>,
    pub(super) pos: u64,
    pub(super) len: u64,
    pub(super) path: &'p Path,
}

impl<'p, R: Read + Seek> Scanner<'p, R> {
    pub(super) fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    pub(super) fn need(&self, what: &dyn Fn() -> String, n: u64) -> Result<(), ModelFileError> {
        if self.remaining() < n {
            return Err(ModelFileError::Truncated {
                path: self.path.to_path_buf(),
                what: what(),
                needed: n,
                available: self.remaining(),
            });
        }
        Ok(())
    }

    pub(super) fn io_err(&self, source: io::Error) -> ModelFileError {
        if source.kind() == io::ErrorKind::UnexpectedEof {
            // The file shrank while being read.
            ModelFileError::Truncated {
                path: self.path.to_path_buf(),
                what: "the rest of the file".to_string(),
                needed: self.remaining(),
                available: 0,
            }
        } else {
            ModelFileError::Read {
                path: self.path.to_path_buf(),
                source,
            }
        }
    }

    pub(super) fn bytes<const N: usize>(
        &mut self,
        what: &dyn Fn() -> String,
    ) -> Result<[u8; N], ModelFileError> {
        self.need(what, N as u64)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|e| self.io_err(e))?;
        self.pos += N as u64;
        Ok(b)
    }

    pub(super) fn i32(&mut self, what: &dyn Fn() -> String) -> Result<i32, ModelFileError> {
        self.bytes::<4>(what).map(i32::from_le_bytes)
    }

    pub(super) fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, ModelFileError> {
        self.bytes::<4>(what).map(u32::from_le_bytes)
    }

    pub(super) fn read_vec(
        &mut self,
        n: u64,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<u8>, ModelFileError> {
        self.need(what, n)?;
        let len = usize::try_from(n).map_err(|_| ModelFileError::Truncated {
            path: self.path.to_path_buf(),
            what: what(),
            needed: n,
            available: self.remaining(),
        })?;
        let mut v = vec![0u8; len];
        self.r.read_exact(&mut v).map_err(|e| self.io_err(e))?;
        self.pos += n;
        Ok(v)
    }

    pub(super) fn skip(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<(), ModelFileError> {
        self.need(what, n)?;
        // `need` bounds n by the file length, which fits in i64 for any real file.
        let step = i64::try_from(n).map_err(|_| ModelFileError::Truncated {
            path: self.path.to_path_buf(),
            what: what(),
            needed: n,
            available: self.remaining(),
        })?;
        self.r.seek_relative(step).map_err(|e| self.io_err(e))?;
        self.pos += n;
        Ok(())
    }
}

/// Parses and validates a whole ggml Whisper file. Generic over the reader so tests can fuzz
/// it on in-memory bytes.
pub(super) fn scan_ggml<R: Read + Seek>(
    reader: BufReader<R>,
    len: u64,
    path: &Path,
) -> Result<GgmlScan, ModelFileError> {
    let p = || path.to_path_buf();
    if len == 0 {
        return Err(ModelFileError::Empty { path: p() });
    }
    let mut s = Scanner {
        r: reader,
        pos: 0,
        len,
        path,
    };
    let (h, wtype) = read_hparams(&mut s)?;
    skip_mel_filters(&mut s, &h)?;
    skip_vocabulary(&mut s, &h)?;

    let dims = Dims::from_hparams(&h).ok_or_else(|| ModelFileError::BadHparams {
        path: p(),
        detail: "negative dimension".to_string(),
    })?;
    let specs = whisper_tensors(&dims);
    let expected = storable_specs(&specs, wtype, path)?;
    let mut seen: HashSet<String> = HashSet::with_capacity(specs.len());
    let mut tensors = Vec::with_capacity(specs.len());
    while s.remaining() > 0 {
        if s.remaining() < 12 || seen.len() == specs.len() {
            // whisper.cpp would silently stop or misparse here; either way the bytes are junk.
            return Err(ModelFileError::TrailingData {
                path: p(),
                extra: s.remaining(),
                offset: s.pos,
            });
        }
        let tensor = read_tensor(&mut s, tensors.len(), &expected, &mut seen, wtype)?;
        tensors.push(tensor);
    }

    if tensors.len() != specs.len() {
        let missing = specs
            .iter()
            .find(|spec| !seen.contains(&spec.name))
            .map(|spec| spec.name.clone())
            .unwrap_or_default();
        return Err(ModelFileError::MissingTensors {
            path: p(),
            found: tensors.len(),
            expected: specs.len(),
            missing,
        });
    }

    Ok(GgmlScan {
        info: GgmlInfo {
            hparams: h,
            n_tensors: tensors.len(),
            bytes: len,
        },
        tensors,
    })
}

/// The magic number and the eleven hyperparameters, checked, with the weight type they name.
fn read_hparams<R: Read + Seek>(
    s: &mut Scanner<'_, R>,
) -> Result<(Hparams, GgmlType), ModelFileError> {
    let p = || s.path.to_path_buf();
    let magic = s.u32(&|| "the ggml magic number".to_string())?;
    if magic == GGUF_MAGIC {
        return Err(ModelFileError::Gguf { path: p() });
    }
    if magic != GGML_MAGIC {
        return Err(ModelFileError::BadMagic {
            path: p(),
            found: magic,
        });
    }
    let mut raw = [0i32; 11];
    for v in raw.iter_mut() {
        *v = s.i32(&|| "the hyperparameters".to_string())?;
    }
    let h = Hparams::from_array(raw);
    if let Some(detail) = hparams_problem(&h) {
        return Err(ModelFileError::BadHparams { path: p(), detail });
    }
    let wtype =
        weight_type_for_ftype(h.ftype).map_err(|detail| ModelFileError::UnsupportedFtype {
            path: p(),
            ftype: h.ftype,
            detail,
        })?;
    Ok((h, wtype))
}

/// The mel filters: whisper.cpp sizes its buffer from their two header numbers and its FFT code
/// assumes 201 bins, so both must match exactly.
fn skip_mel_filters<R: Read + Seek>(
    s: &mut Scanner<'_, R>,
    h: &Hparams,
) -> Result<(), ModelFileError> {
    let n_mel = s.i32(&|| "the mel filter header".to_string())?;
    let n_fft = s.i32(&|| "the mel filter header".to_string())?;
    let bad = |detail: String| ModelFileError::BadMelFilters {
        path: s.path.to_path_buf(),
        detail,
    };
    if n_mel != h.n_mels {
        return Err(bad(format!("{n_mel} filters but n_mels is {}", h.n_mels)));
    }
    if usize::try_from(n_fft).ok() != Some(N_FFT_BINS) {
        return Err(bad(format!(
            "{n_fft} frequency bins instead of {N_FFT_BINS}"
        )));
    }
    // Both are now small positive numbers.
    let mel_bytes = 4 * u64::from(n_mel.unsigned_abs()) * N_FFT_BINS as u64;
    s.skip(mel_bytes, &|| "the mel filter data".to_string())
}

/// The vocabulary: a count within the model's and each token's length-prefixed bytes.
fn skip_vocabulary<R: Read + Seek>(
    s: &mut Scanner<'_, R>,
    h: &Hparams,
) -> Result<(), ModelFileError> {
    let count = s.i32(&|| "the vocabulary size".to_string())?;
    if count < 1 || count > h.n_vocab {
        return Err(ModelFileError::BadVocab {
            path: s.path.to_path_buf(),
            detail: format!("{count} tokens, expected 1..={}", h.n_vocab),
        });
    }
    for i in 0..count {
        let len = s.u32(&|| format!("the length of vocabulary token {i}"))?;
        s.skip(u64::from(len), &|| format!("vocabulary token {i}"))?;
    }
    Ok(())
}

/// The tensors these dimensions call for, by name, once each is known to be storable in the
/// type the file's weight type gives it.
fn storable_specs<'s>(
    specs: &'s [TensorSpec],
    wtype: GgmlType,
    path: &Path,
) -> Result<HashMap<&'s str, &'s TensorSpec>, ModelFileError> {
    let mut expected = HashMap::with_capacity(specs.len());
    for spec in specs {
        let ttype = expected_type(spec.kind, wtype);
        let row = spec.ne.first().copied().unwrap_or(1) as u64;
        if ttype.data_size(row, spec.n_elements() as u64).is_none() {
            return Err(ModelFileError::BadHparams {
                path: path.to_path_buf(),
                detail: format!(
                    "tensor '{}' has rows of {row} values, which {} cannot store",
                    spec.name,
                    ttype.name()
                ),
            });
        }
        expected.insert(spec.name.as_str(), spec);
    }
    Ok(expected)
}

/// One tensor: its header read (`read_tensor_header`) and checked against the tensor of that
/// name whisper.cpp expects (known, not seen before, same shape and type), then its data skipped.
fn read_tensor<R: Read + Seek>(
    s: &mut Scanner<'_, R>,
    index: usize,
    expected: &HashMap<&str, &TensorSpec>,
    seen: &mut HashSet<String>,
    wtype: GgmlType,
) -> Result<TensorEntry, ModelFileError> {
    let start = s.pos;
    let (ne, name, ttype) = read_tensor_header(s, index)?;
    let p = || s.path.to_path_buf();
    let spec = match expected.get(name.as_str()) {
        Some(spec) => *spec,
        None => return Err(ModelFileError::UnknownTensor { path: p(), name }),
    };
    if !seen.insert(name.clone()) {
        return Err(ModelFileError::DuplicateTensor { path: p(), name });
    }
    // whisper.cpp compares the first three dims and the element count, i.e. the shape padded
    // with ones to four dimensions.
    let mut padded = ne.clone();
    padded.resize(4, 1);
    let mut want: Vec<i64> = spec.ne.iter().map(|&d| d as i64).collect();
    want.resize(4, 1);
    if padded != want {
        return Err(ModelFileError::WrongShape {
            path: p(),
            name,
            found: ne,
            expected: spec.ne.iter().map(|&d| d as i64).collect(),
        });
    }
    let want_type = expected_type(spec.kind, wtype);
    if ttype != want_type {
        return Err(ModelFileError::WrongType {
            path: p(),
            name,
            found: ttype.name().to_string(),
            expected: want_type.name().to_string(),
        });
    }
    let size = ttype
        .data_size(spec.ne[0] as u64, spec.n_elements() as u64)
        .ok_or_else(|| ModelFileError::BadTensorHeader {
            path: p(),
            index,
            offset: start,
            detail: format!("'{name}' cannot be stored as {}", ttype.name()),
        })?;
    let offset = s.pos;
    s.skip(size, &|| format!("tensor '{name}'"))?;
    Ok(TensorEntry {
        name,
        ne,
        ttype,
        offset,
        size,
    })
}

/// A tensor's header: its dimensions (one to four, each positive), its name (UTF-8, of a
/// sensible length) and its type (one ggml knows).
fn read_tensor_header<R: Read + Seek>(
    s: &mut Scanner<'_, R>,
    index: usize,
) -> Result<(Vec<i64>, String, GgmlType), ModelFileError> {
    let start = s.pos;
    let bad = |detail: String| ModelFileError::BadTensorHeader {
        path: s.path.to_path_buf(),
        index,
        offset: start,
        detail,
    };
    let what = || format!("the header of tensor #{index}");
    let n_dims = s.i32(&what)?;
    let name_len = s.i32(&what)?;
    let ttype_id = s.i32(&what)?;
    if !(1..=4).contains(&n_dims) {
        return Err(bad(format!("{n_dims} dimensions, expected 1 to 4")));
    }
    if !(1..=MAX_TENSOR_NAME).contains(&name_len) {
        return Err(bad(format!(
            "name length {name_len}, expected 1 to {MAX_TENSOR_NAME}"
        )));
    }
    let mut ne = Vec::with_capacity(4);
    for _ in 0..n_dims {
        let d = s.i32(&what)?;
        if d < 1 {
            return Err(bad(format!("dimension {d} is not positive")));
        }
        ne.push(i64::from(d));
    }
    let name_bytes = s.read_vec(u64::from(name_len.unsigned_abs()), &what)?;
    let name = String::from_utf8(name_bytes)
        .map_err(|_| bad("the name is not valid UTF-8".to_string()))?;
    let ttype = GgmlType::from_id(ttype_id)
        .ok_or_else(|| bad(format!("unknown tensor type {ttype_id} for '{name}'")))?;
    Ok((ne, name, ttype))
}
