//! Model file handling that must not need Python: converting a CTranslate2 (faster-whisper)
//! Whisper model directory into the ggml file whisper.cpp loads, and checking a ggml file
//! *before* whisper.cpp sees it.
//!
//! Why the checker exists: whisper.cpp trusts its input. A truncated download or a damaged
//! file can make it read past buffers, allocate gigabytes or hit a `GGML_ASSERT` that aborts
//! the whole process, so [`inspect_ggml`] re-does every check of whisper.cpp's loader (and the
//! ones it forgets) on the raw bytes and turns each problem into an error that says what to do.
//!
//! Formats, as far as this module relies on them:
//!
//! * CTranslate2 `model.bin` (binary version 6, little-endian): `u32 version; str spec_name;
//!   u32 spec_revision; u32 n_vars;` then per variable `str name; u8 rank; u32 dims[rank];
//!   u8 dtype; u32 nbytes; data`, then `u32 n_aliases; (str alias, str target)*`, where `str`
//!   is a `u16` length (counting a trailing NUL) followed by the bytes.
//! * ggml Whisper file (little-endian): magic `0x67676d6c`, eleven `i32` hyperparameters, the
//!   mel filter bank (`n_mel, n_fft`, then `f32` data), the vocabulary (`count`, then per token
//!   `u32 len` and raw bytes), then tensors (`n_dims, name_len, ttype, ne[n_dims]`, name, data)
//!   until the end of the file. whisper.cpp looks tensors up by name, so their order is free.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use half::{bf16, f16};
use thiserror::Error;

/// `"ggml"` read as a little-endian `u32`: the first four bytes of every whisper.cpp model.
const GGML_MAGIC: u32 = 0x6767_6d6c;
/// `"GGUF"` as a little-endian `u32`: recognised only to explain that it is the wrong format.
const GGUF_MAGIC: u32 = 0x4655_4747;
/// ggml's quantization format version; whisper.cpp's quantizer stores
/// `ftype = ftype + GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR`.
const GGML_QNT_VERSION: i32 = 2;
const GGML_QNT_VERSION_FACTOR: i32 = 1000;
/// Frequency bins of Whisper's 400-point FFT (`1 + 400 / 2`); whisper.cpp's mel code assumes it.
const N_FFT_BINS: usize = 201;
/// The only CTranslate2 binary layout this converter reads.
const CT2_BINARY_VERSION: u32 = 6;
/// Whisper's tokenizer places its special tokens at fixed ids, so whisper.cpp indexes logits
/// with ids up to 51863 (English-only) and names languages from a 100-entry table: a vocabulary
/// outside this range makes it read out of bounds.
const MIN_N_VOCAB: i32 = 51864;
const MAX_N_VOCAB: i32 = 51866;
/// First `n_vocab` of a multilingual model; English-only models have 51864.
const MULTILINGUAL_N_VOCAB: i32 = 51865;
/// Ordinary (non-special) tokens written into the ggml vocabulary: GPT-2's 50256 for
/// English-only models, 50257 for multilingual ones (whisper.cpp names the specials itself).
const EN_TEXT_TOKENS: usize = 50256;
const MULTILINGUAL_TEXT_TOKENS: usize = 50257;
/// Longest tensor name accepted; whisper's longest is about 40 bytes.
const MAX_TENSOR_NAME: i32 = 256;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// How the converted weight matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantization {
    /// Half precision, as whisper.cpp's own converter writes: the reference quality.
    F16,
    /// ggml's 8-bit block format (32 values share one f16 scale): about half the size of f16
    /// with practically the same transcripts, byte-identical to whisper.cpp's `quantize q8_0`.
    Q8_0,
}

impl Quantization {
    /// The `ftype` stored in the ggml hyperparameters, exactly as whisper.cpp's tools write it.
    fn ftype(self) -> i32 {
        match self {
            Quantization::F16 => 1,
            Quantization::Q8_0 => 7 + GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR,
        }
    }

    /// The ggml tensor type used for the large 2-D weight matrices.
    fn matrix_type(self) -> GgmlType {
        match self {
            Quantization::F16 => GgmlType::F16,
            Quantization::Q8_0 => GgmlType::Q8_0,
        }
    }
}

impl fmt::Display for Quantization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quantization::F16 => "f16",
            Quantization::Q8_0 => "q8_0",
        })
    }
}

/// Error for a `--quantize` value that is not one of the supported names.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown quantization '{input}'; use 'f16' (best quality) or 'q8_0' (about half the size)")]
pub struct ParseQuantizationError {
    /// What the user typed.
    pub input: String,
}

impl FromStr for Quantization {
    type Err = ParseQuantizationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f16" => Ok(Quantization::F16),
            "q8_0" => Ok(Quantization::Q8_0),
            _ => Err(ParseQuantizationError {
                input: s.to_string(),
            }),
        }
    }
}

/// The hyperparameters block of a ggml Whisper file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    /// 1 = f16, 0 = f32; quantized files add `1000 * quantization version` (q8_0 is 2007).
    pub ftype: i32,
}

impl Hparams {
    fn to_array(&self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    fn from_array(a: [i32; 11]) -> Self {
        Hparams {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }

    /// Number of tensors whisper.cpp creates (and requires) for these dimensions: 7 encoder
    /// globals + 15 per encoder block + 4 decoder globals + 24 per decoder block (167 for tiny).
    pub fn expected_tensor_count(&self) -> usize {
        let enc = usize::try_from(self.n_audio_layer).unwrap_or(0);
        let dec = usize::try_from(self.n_text_layer).unwrap_or(0);
        (11usize)
            .saturating_add(enc.saturating_mul(15))
            .saturating_add(dec.saturating_mul(24))
    }
}

/// What a successful conversion produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertSummary {
    pub output: PathBuf,
    pub bytes: u64,
    pub n_tensors: usize,
    pub hparams: Hparams,
}

/// What [`inspect_ggml`] found in a file it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgmlInfo {
    pub hparams: Hparams,
    pub n_tensors: usize,
    pub bytes: u64,
}

/// Why a CTranslate2 directory could not be converted.
#[derive(Debug, Error)]
pub enum ConvertError {
    #[error("{} does not exist; pass the folder of a CTranslate2 (faster-whisper) Whisper model", path.display())]
    DirMissing { path: PathBuf },

    #[error("{} is not a directory; pass the folder that holds model.bin and vocabulary.txt of a CTranslate2 (faster-whisper) Whisper model", path.display())]
    NotADirectory { path: PathBuf },

    #[error("{} is not a CTranslate2 Whisper model directory: {file} is missing", path.display())]
    MissingFile { path: PathBuf, file: &'static str },

    #[error("could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("could not write {}: {source}; check that the folder is writable and the disk has space", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{} is a directory; pass a file path for the converted model, such as ggml-tiny.en.bin", path.display())]
    OutputIsDirectory { path: PathBuf },

    #[error("{} is truncated: {what} needs {needed} bytes but only {available} are left in the file; download the model again", path.display())]
    Truncated {
        path: PathBuf,
        what: String,
        needed: u64,
        available: u64,
    },

    #[error("{} is not a valid CTranslate2 model file ({detail}); download the model again", path.display())]
    Malformed { path: PathBuf, detail: String },

    #[error("{} uses CTranslate2 binary format version {version}, but only version 6 is supported; re-export the model with a recent CTranslate2", path.display())]
    UnsupportedVersion { path: PathBuf, version: u32 },

    #[error("{} holds a CTranslate2 '{spec}' model, not a Whisper model; pass a faster-whisper (CTranslate2 Whisper) model directory", path.display())]
    NotWhisper { path: PathBuf, spec: String },

    #[error("{} stores '{variable}' as {dtype}: int8/quantized CTranslate2 models are not supported, convert the float16 version of the model instead", path.display())]
    QuantizedInput {
        path: PathBuf,
        variable: String,
        dtype: String,
    },

    #[error("{} is not a complete Whisper model: variable '{variable}' is missing; download the model again", path.display())]
    MissingVariable { path: PathBuf, variable: String },

    #[error("{} has '{variable}' with shape {found:?} where a Whisper model needs {expected:?}; the file is damaged or not a standard Whisper model", path.display())]
    ShapeMismatch {
        path: PathBuf,
        variable: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },

    #[error("{} has an unknown weight '{variable}' with shape {shape:?}; it is not a standard Whisper model and cannot be converted", path.display())]
    UnexpectedVariable {
        path: PathBuf,
        variable: String,
        shape: Vec<usize>,
    },

    #[error("{} does not describe a model whisper.cpp can run: {detail}", path.display())]
    BadDimensions { path: PathBuf, detail: String },

    #[error("{} is not a usable Whisper vocabulary: {detail}; download the model again", path.display())]
    Vocabulary { path: PathBuf, detail: String },

    #[error("cannot store '{tensor}' as {quantization}: its rows have {row} values, not a multiple of {block}; convert with f16 instead")]
    QuantizationUnsupported {
        tensor: String,
        quantization: Quantization,
        row: usize,
        block: usize,
    },

    #[error("the converted file {} failed its final check ({source}); this is a bug in rehearse's converter, please report it", path.display())]
    Validation {
        path: PathBuf,
        #[source]
        source: Box<ModelFileError>,
    },
}

/// Why a ggml model file would not load (or would crash) in whisper.cpp.
#[derive(Debug, Error)]
pub enum ModelFileError {
    #[error("{} does not exist; check the model path or download the model again", path.display())]
    NotFound { path: PathBuf },

    #[error("{} is a CTranslate2 (faster-whisper) model directory, not a whisper.cpp ggml file; convert it to ggml first", path.display())]
    Ctranslate2Dir { path: PathBuf },

    #[error("{} is a directory, not a model file; pass the path of a ggml model file such as ggml-tiny.en.bin", path.display())]
    IsDirectory { path: PathBuf },

    #[error("could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{} is empty; the download or conversion was interrupted, fetch or convert the model again", path.display())]
    Empty { path: PathBuf },

    #[error("{} is a GGUF file, but whisper.cpp needs a ggml Whisper model (such as ggml-tiny.en.bin); download or convert the right file", path.display())]
    Gguf { path: PathBuf },

    #[error("{} is not a whisper.cpp ggml model: it starts with 0x{found:08x} instead of the ggml magic 0x67676d6c; pass a ggml Whisper .bin file", path.display())]
    BadMagic { path: PathBuf, found: u32 },

    #[error("{} is truncated: {what} needs {needed} bytes but only {available} are left in the file; fetch or convert the model again", path.display())]
    Truncated {
        path: PathBuf,
        what: String,
        needed: u64,
        available: u64,
    },

    #[error("{} has implausible Whisper hyperparameters ({detail}); it is damaged or not a Whisper model, fetch or convert it again", path.display())]
    BadHparams { path: PathBuf, detail: String },

    #[error("{} has weight type (ftype) {ftype}, which {detail}; use an f16, f32 or q4/q5/q8 ggml Whisper model", path.display())]
    UnsupportedFtype {
        path: PathBuf,
        ftype: i32,
        detail: &'static str,
    },

    #[error("{} has a damaged mel filter section ({detail}); fetch or convert the model again", path.display())]
    BadMelFilters { path: PathBuf, detail: String },

    #[error("{} has a damaged vocabulary ({detail}); fetch or convert the model again", path.display())]
    BadVocab { path: PathBuf, detail: String },

    #[error("{} has a damaged header for tensor #{index} at byte {offset} ({detail}); fetch or convert the model again", path.display())]
    BadTensorHeader {
        path: PathBuf,
        index: usize,
        offset: u64,
        detail: String,
    },

    #[error("{} has a tensor '{name}' that a Whisper model with these hyperparameters does not have; the file is damaged or for another model, fetch or convert it again", path.display())]
    UnknownTensor { path: PathBuf, name: String },

    #[error("{} has tensor '{name}' twice; the file is damaged, fetch or convert the model again", path.display())]
    DuplicateTensor { path: PathBuf, name: String },

    #[error("{} has tensor '{name}' with shape {found:?} where {expected:?} is needed; the file is damaged or for another model, fetch or convert it again", path.display())]
    WrongShape {
        path: PathBuf,
        name: String,
        found: Vec<i64>,
        expected: Vec<i64>,
    },

    #[error("{} stores tensor '{name}' as {found} where whisper.cpp needs {expected} for this file's ftype; the file is damaged, fetch or convert it again", path.display())]
    WrongType {
        path: PathBuf,
        name: String,
        found: String,
        expected: String,
    },

    #[error("{} has only {found} of the {expected} tensors this Whisper model needs (first missing: '{missing}'); fetch or convert the model again", path.display())]
    MissingTensors {
        path: PathBuf,
        found: usize,
        expected: usize,
        missing: String,
    },

    #[error("{} has {extra} unexpected bytes after the last tensor (from byte {offset}); the file is damaged, fetch or convert the model again", path.display())]
    TrailingData {
        path: PathBuf,
        extra: u64,
        offset: u64,
    },
}

/// True when `path` is a directory shaped like a CTranslate2 model (`model.bin` next to
/// `config.json` or a `vocabulary.*`), so callers can explain that it needs converting instead
/// of reporting "not a ggml file".
pub fn looks_like_ctranslate2_dir(path: &Path) -> bool {
    path.is_dir()
        && path.join("model.bin").is_file()
        && ["config.json", "vocabulary.txt", "vocabulary.json"]
            .iter()
            .any(|f| path.join(f).is_file())
}

/// Validates a ggml Whisper file without loading it into whisper.cpp: header, hyperparameters,
/// mel filters, vocabulary, and every tensor's name, shape, type and extent, plus the tensor
/// count and the absence of trailing bytes. Reads only headers (it seeks over tensor data), so
/// it takes milliseconds even for large models.
pub fn inspect_ggml(path: &Path) -> Result<GgmlInfo, ModelFileError> {
    let meta = fs::metadata(path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            ModelFileError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ModelFileError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    if meta.is_dir() {
        return Err(if looks_like_ctranslate2_dir(path) {
            ModelFileError::Ctranslate2Dir {
                path: path.to_path_buf(),
            }
        } else {
            ModelFileError::IsDirectory {
                path: path.to_path_buf(),
            }
        });
    }
    let file = File::open(path).map_err(|source| ModelFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file
        .metadata()
        .map_err(|source| ModelFileError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    match scan_ggml(BufReader::with_capacity(64 * 1024, file), len, path) {
        Ok(scan) => Ok(scan.info),
        // Someone pointed at the `model.bin` inside a faster-whisper directory.
        Err(ModelFileError::BadMagic { .. })
            if path.parent().is_some_and(looks_like_ctranslate2_dir)
                && path.file_name().is_some_and(|n| n == "model.bin") =>
        {
            Err(ModelFileError::Ctranslate2Dir {
                path: path.parent().unwrap_or(path).to_path_buf(),
            })
        }
        Err(e) => Err(e),
    }
}

/// Reads and checks every variable header of a CTranslate2 `model.bin` (as conversion does
/// first) and returns how many variables it holds.
pub fn inspect_ctranslate2_model(path: &Path) -> Result<usize, ConvertError> {
    Ok(Ct2Model::open(path)?.vars.len())
}

/// Converts a CTranslate2 Whisper model directory into a ggml file at `output`.
///
/// The file is written next to `output` under a temporary name, checked with the same
/// validator as [`inspect_ggml`], and only then renamed into place, so an interrupted or failed
/// conversion never leaves a file at `output` (an existing file there is replaced only on
/// success). Tensors are streamed in small chunks, so memory stays far below the model size.
pub fn convert_ctranslate2_dir(
    dir: &Path,
    output: &Path,
    quantization: Quantization,
) -> Result<ConvertSummary, ConvertError> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ConvertError::DirMissing {
                path: dir.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(ConvertError::Read {
                path: dir.to_path_buf(),
                source,
            })
        }
        Ok(m) if !m.is_dir() => {
            return Err(ConvertError::NotADirectory {
                path: dir.to_path_buf(),
            })
        }
        Ok(_) => {}
    }
    let model_path = dir.join("model.bin");
    if !model_path.is_file() {
        return Err(ConvertError::MissingFile {
            path: dir.to_path_buf(),
            file: "model.bin",
        });
    }
    let vocab_path = ["vocabulary.txt", "vocabulary.json"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| ConvertError::MissingFile {
            path: dir.to_path_buf(),
            file: "vocabulary.txt",
        })?;
    if output.is_dir() {
        return Err(ConvertError::OutputIsDirectory {
            path: output.to_path_buf(),
        });
    }

    // Everything that can be checked is checked before a byte of output exists.
    let model = Ct2Model::open(&model_path)?;
    let plan = plan_conversion(&model, &model_path, quantization)?;
    let tokens = load_vocabulary(&vocab_path, plan.hparams.n_vocab)?;
    let filters = mel_filters(plan.n_mels);

    let out_dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&out_dir).map_err(|source| ConvertError::Write {
        path: out_dir.clone(),
        source,
    })?;
    let mut temp = TempFile::create(&out_dir, output)?;
    let written = write_ggml(&model, &plan, &tokens, &filters, temp.file()?, output)?;
    temp.finish(output)?;

    let info = inspect_ggml(temp.path()).map_err(|e| ConvertError::Validation {
        path: output.to_path_buf(),
        source: Box::new(e),
    })?;
    if info.hparams != plan.hparams || info.n_tensors != plan.tensors.len() || info.bytes != written
    {
        return Err(ConvertError::Validation {
            path: output.to_path_buf(),
            source: Box::new(ModelFileError::BadHparams {
                path: temp.path().to_path_buf(),
                detail: "the written file differs from the planned one".to_string(),
            }),
        });
    }
    temp.persist(output)?;
    Ok(ConvertSummary {
        output: output.to_path_buf(),
        bytes: info.bytes,
        n_tensors: info.n_tensors,
        hparams: info.hparams,
    })
}

// ---------------------------------------------------------------------------------------------
// Whisper's tensor layout (shared by the converter and the checker)
// ---------------------------------------------------------------------------------------------

/// How whisper.cpp types a tensor, relative to the file's weight type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Matrices (`*.weight` of linear layers and the token embedding): the file's weight type.
    Matrix,
    /// Convolution kernels: f32 in f32 files, f16 otherwise (whisper.cpp's `vtype`).
    Conv,
    /// Norms, biases, conv biases and positional embeddings: always f32.
    Float32,
}

/// One tensor whisper.cpp expects, and where its values live in a CTranslate2 model.
#[derive(Debug, Clone)]
struct TensorSpec {
    name: String,
    /// ggml dimensions, innermost first (the reverse of the PyTorch/CTranslate2 shape).
    ne: Vec<usize>,
    kind: Kind,
    /// CTranslate2 variable holding the values.
    var: String,
    /// Full shape that variable must have.
    var_shape: Vec<usize>,
    /// The tensor is row block `part` of equal blocks of the variable (fused q/k/v).
    part: usize,
}

impl TensorSpec {
    fn n_elements(&self) -> usize {
        self.ne.iter().product()
    }
}

/// Dimensions the tensor table is built from, as sizes.
#[derive(Debug, Clone, Copy)]
struct Dims {
    n_vocab: usize,
    audio_ctx: usize,
    audio_state: usize,
    audio_layers: usize,
    text_ctx: usize,
    text_state: usize,
    text_layers: usize,
    n_mels: usize,
}

impl Dims {
    /// `None` when a dimension is negative (callers check plausibility first).
    fn from_hparams(h: &Hparams) -> Option<Dims> {
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
/// CTranslate2's naming. Mirrors whisper.cpp's `whisper_model_load`.
fn whisper_tensors(d: &Dims) -> Vec<TensorSpec> {
    let mut v = Vec::with_capacity(11 + 15 * d.audio_layers + 24 * d.text_layers);
    // A slice of a variable; `ct2_shape` is the shape of one part, in CTranslate2 order.
    let mut push = |name: String,
                    ne: Vec<usize>,
                    kind: Kind,
                    var: String,
                    part_shape: Vec<usize>,
                    part: usize,
                    parts: usize| {
        let mut var_shape = part_shape;
        if let Some(first) = var_shape.first_mut() {
            *first *= parts;
        }
        v.push(TensorSpec {
            name,
            ne,
            kind,
            var,
            var_shape,
            part,
        });
    };

    // Linear layer: weight [n_out, n_in] (ne [n_in, n_out]) and optional bias [n_out], taken as
    // part `part` of `parts` of a possibly fused variable.
    type Push<'a> = dyn FnMut(String, Vec<usize>, Kind, String, Vec<usize>, usize, usize) + 'a;
    fn linear(
        push: &mut Push<'_>,
        ggml: &str,
        ct2: &str,
        n_in: usize,
        n_out: usize,
        bias: bool,
        (part, parts): (usize, usize),
    ) {
        push(
            format!("{ggml}.weight"),
            vec![n_in, n_out],
            Kind::Matrix,
            format!("{ct2}/weight"),
            vec![n_out, n_in],
            part,
            parts,
        );
        if bias {
            push(
                format!("{ggml}.bias"),
                vec![n_out],
                Kind::Float32,
                format!("{ct2}/bias"),
                vec![n_out],
                part,
                parts,
            );
        }
    }
    fn norm(push: &mut Push<'_>, ggml: &str, ct2: &str, n: usize) {
        push(
            format!("{ggml}.weight"),
            vec![n],
            Kind::Float32,
            format!("{ct2}/gamma"),
            vec![n],
            0,
            1,
        );
        push(
            format!("{ggml}.bias"),
            vec![n],
            Kind::Float32,
            format!("{ct2}/beta"),
            vec![n],
            0,
            1,
        );
    }
    // Self-attention (fused q,k,v; whisper has no key bias) and the MLP, common to both stacks.
    fn block_common(push: &mut Push<'_>, g: &str, c: &str, n: usize) {
        norm(
            push,
            &format!("{g}.attn_ln"),
            &format!("{c}/self_attention/layer_norm"),
            n,
        );
        let qkv = format!("{c}/self_attention/linear_0");
        linear(push, &format!("{g}.attn.query"), &qkv, n, n, true, (0, 3));
        linear(push, &format!("{g}.attn.key"), &qkv, n, n, false, (1, 3));
        linear(push, &format!("{g}.attn.value"), &qkv, n, n, true, (2, 3));
        let out = format!("{c}/self_attention/linear_1");
        linear(push, &format!("{g}.attn.out"), &out, n, n, true, (0, 1));
        norm(
            push,
            &format!("{g}.mlp_ln"),
            &format!("{c}/ffn/layer_norm"),
            n,
        );
        let fc1 = format!("{c}/ffn/linear_0");
        linear(push, &format!("{g}.mlp.0"), &fc1, n, 4 * n, true, (0, 1));
        let fc2 = format!("{c}/ffn/linear_1");
        linear(push, &format!("{g}.mlp.2"), &fc2, 4 * n, n, true, (0, 1));
    }

    let na = d.audio_state;
    push(
        "encoder.positional_embedding".into(),
        vec![na, d.audio_ctx],
        Kind::Float32,
        "encoder/position_encodings/encodings".into(),
        vec![d.audio_ctx, na],
        0,
        1,
    );
    for (i, n_in) in [(1, d.n_mels), (2, na)] {
        push(
            format!("encoder.conv{i}.weight"),
            vec![3, n_in, na],
            Kind::Conv,
            format!("encoder/conv{i}/weight"),
            vec![na, n_in, 3],
            0,
            1,
        );
        // whisper.cpp adds the conv bias by broadcasting a [1, n] tensor.
        push(
            format!("encoder.conv{i}.bias"),
            vec![1, na],
            Kind::Float32,
            format!("encoder/conv{i}/bias"),
            vec![na],
            0,
            1,
        );
    }
    norm(&mut push, "encoder.ln_post", "encoder/layer_norm", na);
    for i in 0..d.audio_layers {
        block_common(
            &mut push,
            &format!("encoder.blocks.{i}"),
            &format!("encoder/layer_{i}"),
            na,
        );
    }

    let nt = d.text_state;
    push(
        "decoder.positional_embedding".into(),
        vec![nt, d.text_ctx],
        Kind::Float32,
        "decoder/position_encodings/encodings".into(),
        vec![d.text_ctx, nt],
        0,
        1,
    );
    push(
        "decoder.token_embedding.weight".into(),
        vec![nt, d.n_vocab],
        Kind::Matrix,
        "decoder/embeddings/weight".into(),
        vec![d.n_vocab, nt],
        0,
        1,
    );
    norm(&mut push, "decoder.ln", "decoder/layer_norm", nt);
    for i in 0..d.text_layers {
        let g = format!("decoder.blocks.{i}");
        let c = format!("decoder/layer_{i}");
        block_common(&mut push, &g, &c, nt);
        norm(
            &mut push,
            &format!("{g}.cross_attn_ln"),
            &format!("{c}/attention/layer_norm"),
            nt,
        );
        let q = format!("{c}/attention/linear_0");
        linear(
            &mut push,
            &format!("{g}.cross_attn.query"),
            &q,
            nt,
            nt,
            true,
            (0, 1),
        );
        let kv = format!("{c}/attention/linear_1");
        linear(
            &mut push,
            &format!("{g}.cross_attn.key"),
            &kv,
            nt,
            nt,
            false,
            (0, 2),
        );
        linear(
            &mut push,
            &format!("{g}.cross_attn.value"),
            &kv,
            nt,
            nt,
            true,
            (1, 2),
        );
        let out = format!("{c}/attention/linear_2");
        linear(
            &mut push,
            &format!("{g}.cross_attn.out"),
            &out,
            nt,
            nt,
            true,
            (0, 1),
        );
    }
    v
}

/// Why these hyperparameters cannot describe a model whisper.cpp runs safely, if they cannot.
/// The bounds are generous versions of real Whisper sizes (tiny..large-v3) that still rule out
/// the absurd values a damaged file produces (and the huge allocations they would trigger).
fn hparams_problem(h: &Hparams) -> Option<String> {
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

// ---------------------------------------------------------------------------------------------
// ggml tensor types
// ---------------------------------------------------------------------------------------------

/// The ggml tensor types a Whisper file can contain (ids from ggml.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
    Bf16,
}

impl GgmlType {
    const ALL: [GgmlType; 13] = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
        GgmlType::Q2K,
        GgmlType::Q3K,
        GgmlType::Q4K,
        GgmlType::Q5K,
        GgmlType::Q6K,
        GgmlType::Bf16,
    ];

    fn id(self) -> i32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q5_0 => 6,
            GgmlType::Q5_1 => 7,
            GgmlType::Q8_0 => 8,
            GgmlType::Q2K => 10,
            GgmlType::Q3K => 11,
            GgmlType::Q4K => 12,
            GgmlType::Q5K => 13,
            GgmlType::Q6K => 14,
            GgmlType::Bf16 => 30,
        }
    }

    fn from_id(id: i32) -> Option<GgmlType> {
        GgmlType::ALL.into_iter().find(|t| t.id() == id)
    }

    /// (values per block, bytes per block), from ggml's block structs.
    fn block(self) -> (u64, u64) {
        match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::Bf16 => (1, 2),
            GgmlType::Q4_0 => (32, 18),
            GgmlType::Q4_1 => (32, 20),
            GgmlType::Q5_0 => (32, 22),
            GgmlType::Q5_1 => (32, 24),
            GgmlType::Q8_0 => (32, 34),
            GgmlType::Q2K => (256, 84),
            GgmlType::Q3K => (256, 110),
            GgmlType::Q4K => (256, 144),
            GgmlType::Q5K => (256, 176),
            GgmlType::Q6K => (256, 210),
        }
    }

    fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "f32",
            GgmlType::F16 => "f16",
            GgmlType::Q4_0 => "q4_0",
            GgmlType::Q4_1 => "q4_1",
            GgmlType::Q5_0 => "q5_0",
            GgmlType::Q5_1 => "q5_1",
            GgmlType::Q8_0 => "q8_0",
            GgmlType::Q2K => "q2_K",
            GgmlType::Q3K => "q3_K",
            GgmlType::Q4K => "q4_K",
            GgmlType::Q5K => "q5_K",
            GgmlType::Q6K => "q6_K",
            GgmlType::Bf16 => "bf16",
        }
    }

    /// Bytes taken by `n` values whose rows are `row` values long, or `None` when the rows do
    /// not split into whole blocks (ggml aborts on such a tensor).
    fn data_size(self, row: u64, n: u64) -> Option<u64> {
        let (block, bytes) = self.block();
        if row == 0 || !row.is_multiple_of(block) {
            return None;
        }
        (n / block).checked_mul(bytes)
    }
}

/// The weight type whisper.cpp derives from the header's `ftype`, or why it cannot.
fn weight_type_for_ftype(ftype: i32) -> Result<GgmlType, &'static str> {
    if ftype < 0 {
        return Err("is negative");
    }
    let version = ftype / GGML_QNT_VERSION_FACTOR;
    let t = match ftype % GGML_QNT_VERSION_FACTOR {
        0 => GgmlType::F32,
        1 => GgmlType::F16,
        2 => GgmlType::Q4_0,
        3 => GgmlType::Q4_1,
        7 => GgmlType::Q8_0,
        8 => GgmlType::Q5_0,
        9 => GgmlType::Q5_1,
        10 => GgmlType::Q2K,
        11 => GgmlType::Q3K,
        12 => GgmlType::Q4K,
        13 => GgmlType::Q5K,
        14 => GgmlType::Q6K,
        24 => GgmlType::Bf16,
        // ggml_ftype_to_ggml_type() aborts the process (GGML_ASSERT) on anything else, including
        // 4 (MOSTLY_Q4_1_SOME_F16).
        _ => return Err("is not a weight type whisper.cpp can load"),
    };
    let quantized = t.block().0 > 1;
    if quantized && version != GGML_QNT_VERSION {
        // Older quantization versions used different block layouts: whisper.cpp would read
        // the tensors with wrong sizes.
        return Err("was quantized with an old, incompatible ggml version");
    }
    Ok(t)
}

/// The tensor type whisper.cpp allocates for a tensor of this kind in a file of this weight type.
fn expected_type(kind: Kind, wtype: GgmlType) -> GgmlType {
    match kind {
        Kind::Matrix => wtype,
        Kind::Conv if wtype == GgmlType::F32 => GgmlType::F32,
        Kind::Conv => GgmlType::F16,
        Kind::Float32 => GgmlType::F32,
    }
}

// ---------------------------------------------------------------------------------------------
// ggml checker
// ---------------------------------------------------------------------------------------------

/// Where one tensor's data lies; kept so tests can read values back.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))]
struct TensorEntry {
    name: String,
    ne: Vec<i64>,
    ttype: GgmlType,
    offset: u64,
    size: u64,
}

#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
struct GgmlScan {
    info: GgmlInfo,
    tensors: Vec<TensorEntry>,
}

/// Bounds-checked little-endian reader over a file of known length: every read first checks
/// that the bytes exist, so damaged input yields `Truncated` instead of garbage or a panic.
struct Scanner<'p, R> {
    r: BufReader<R>,
    pos: u64,
    len: u64,
    path: &'p Path,
}

impl<'p, R: Read + Seek> Scanner<'p, R> {
    fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn need(&self, what: &dyn Fn() -> String, n: u64) -> Result<(), ModelFileError> {
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

    fn io_err(&self, source: io::Error) -> ModelFileError {
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

    fn bytes<const N: usize>(
        &mut self,
        what: &dyn Fn() -> String,
    ) -> Result<[u8; N], ModelFileError> {
        self.need(what, N as u64)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|e| self.io_err(e))?;
        self.pos += N as u64;
        Ok(b)
    }

    fn i32(&mut self, what: &dyn Fn() -> String) -> Result<i32, ModelFileError> {
        self.bytes::<4>(what).map(i32::from_le_bytes)
    }

    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, ModelFileError> {
        self.bytes::<4>(what).map(u32::from_le_bytes)
    }

    fn read_vec(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<Vec<u8>, ModelFileError> {
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

    fn skip(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<(), ModelFileError> {
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
fn scan_ggml<R: Read + Seek>(
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

    // Mel filters: whisper.cpp sizes its buffer from these two numbers and its FFT code assumes
    // 201 bins, so both must match exactly.
    let n_mel = s.i32(&|| "the mel filter header".to_string())?;
    let n_fft = s.i32(&|| "the mel filter header".to_string())?;
    if n_mel != h.n_mels {
        return Err(ModelFileError::BadMelFilters {
            path: p(),
            detail: format!("{n_mel} filters but n_mels is {}", h.n_mels),
        });
    }
    if usize::try_from(n_fft).ok() != Some(N_FFT_BINS) {
        return Err(ModelFileError::BadMelFilters {
            path: p(),
            detail: format!("{n_fft} frequency bins instead of {N_FFT_BINS}"),
        });
    }
    // Both are now small positive numbers.
    let mel_bytes = 4 * u64::from(n_mel.unsigned_abs()) * N_FFT_BINS as u64;
    s.skip(mel_bytes, &|| "the mel filter data".to_string())?;

    let count = s.i32(&|| "the vocabulary size".to_string())?;
    if count < 1 || count > h.n_vocab {
        return Err(ModelFileError::BadVocab {
            path: p(),
            detail: format!("{count} tokens, expected 1..={}", h.n_vocab),
        });
    }
    for i in 0..count {
        let len = s.u32(&|| format!("the length of vocabulary token {i}"))?;
        s.skip(u64::from(len), &|| format!("vocabulary token {i}"))?;
    }

    let dims = Dims::from_hparams(&h).ok_or_else(|| ModelFileError::BadHparams {
        path: p(),
        detail: "negative dimension".to_string(),
    })?;
    let specs = whisper_tensors(&dims);
    let mut expected: HashMap<&str, &TensorSpec> = HashMap::with_capacity(specs.len());
    for spec in &specs {
        let ttype = expected_type(spec.kind, wtype);
        let row = spec.ne.first().copied().unwrap_or(1) as u64;
        if ttype.data_size(row, spec.n_elements() as u64).is_none() {
            return Err(ModelFileError::BadHparams {
                path: p(),
                detail: format!(
                    "tensor '{}' has rows of {row} values, which {} cannot store",
                    spec.name,
                    ttype.name()
                ),
            });
        }
        expected.insert(spec.name.as_str(), spec);
    }

    let mut seen: HashSet<String> = HashSet::with_capacity(specs.len());
    let mut tensors = Vec::with_capacity(specs.len());
    while s.remaining() > 0 {
        let index = tensors.len();
        let start = s.pos;
        if s.remaining() < 12 || seen.len() == specs.len() {
            // whisper.cpp would silently stop or misparse here; either way the bytes are junk.
            return Err(ModelFileError::TrailingData {
                path: p(),
                extra: s.remaining(),
                offset: start,
            });
        }
        let bad = |detail: String| ModelFileError::BadTensorHeader {
            path: p(),
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
        let spec = match expected.get(name.as_str()) {
            Some(spec) => *spec,
            None => return Err(ModelFileError::UnknownTensor { path: p(), name }),
        };
        if !seen.insert(name.clone()) {
            return Err(ModelFileError::DuplicateTensor { path: p(), name });
        }
        // whisper.cpp compares the first three dims and the element count, i.e. the shape
        // padded with ones to four dimensions.
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
            .ok_or_else(|| bad(format!("'{name}' cannot be stored as {}", ttype.name())))?;
        let offset = s.pos;
        s.skip(size, &|| format!("tensor '{name}'"))?;
        tensors.push(TensorEntry {
            name,
            ne,
            ttype,
            offset,
            size,
        });
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

// ---------------------------------------------------------------------------------------------
// CTranslate2 reader
// ---------------------------------------------------------------------------------------------

/// CTranslate2 element types (ids from its `DataType` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ct2Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
    Other(u8),
}

impl Ct2Dtype {
    fn from_id(id: u8) -> Ct2Dtype {
        match id {
            0 => Ct2Dtype::F32,
            1 => Ct2Dtype::I8,
            2 => Ct2Dtype::I16,
            3 => Ct2Dtype::I32,
            4 => Ct2Dtype::F16,
            5 => Ct2Dtype::Bf16,
            other => Ct2Dtype::Other(other),
        }
    }

    fn size(self) -> Option<usize> {
        match self {
            Ct2Dtype::F32 | Ct2Dtype::I32 => Some(4),
            Ct2Dtype::F16 | Ct2Dtype::Bf16 | Ct2Dtype::I16 => Some(2),
            Ct2Dtype::I8 => Some(1),
            Ct2Dtype::Other(_) => None,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Ct2Dtype::F32 | Ct2Dtype::F16 | Ct2Dtype::Bf16)
    }

    fn name(self) -> String {
        match self {
            Ct2Dtype::F32 => "float32".into(),
            Ct2Dtype::I8 => "int8".into(),
            Ct2Dtype::I16 => "int16".into(),
            Ct2Dtype::I32 => "int32".into(),
            Ct2Dtype::F16 => "float16".into(),
            Ct2Dtype::Bf16 => "bfloat16".into(),
            Ct2Dtype::Other(id) => format!("data type #{id}"),
        }
    }
}

/// One variable's header and where its data starts.
#[derive(Debug, Clone)]
struct Ct2Var {
    name: String,
    shape: Vec<usize>,
    dtype: Ct2Dtype,
    offset: u64,
    nbytes: u64,
    /// The data of scalars (kept to read `num_heads`).
    scalar: Option<Vec<u8>>,
}

/// Headers of every variable in a `model.bin`; the data stays on disk until it is streamed.
struct Ct2Model {
    path: PathBuf,
    vars: Vec<Ct2Var>,
    index: HashMap<String, usize>,
}

/// Bounds-checked reader for `model.bin` (same idea as [`Scanner`], with converter errors).
struct Ct2Reader<'p> {
    r: BufReader<File>,
    pos: u64,
    len: u64,
    path: &'p Path,
}

impl Ct2Reader<'_> {
    fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn need(&self, what: &dyn Fn() -> String, n: u64) -> Result<(), ConvertError> {
        if self.remaining() < n {
            return Err(ConvertError::Truncated {
                path: self.path.to_path_buf(),
                what: what(),
                needed: n,
                available: self.remaining(),
            });
        }
        Ok(())
    }

    fn io_err(&self, source: io::Error) -> ConvertError {
        ConvertError::Read {
            path: self.path.to_path_buf(),
            source,
        }
    }

    fn bytes(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<Vec<u8>, ConvertError> {
        self.need(what, n)?;
        let len = usize::try_from(n).map_err(|_| ConvertError::Malformed {
            path: self.path.to_path_buf(),
            detail: format!("{} is too large", what()),
        })?;
        let mut v = vec![0u8; len];
        self.r.read_exact(&mut v).map_err(|e| self.io_err(e))?;
        self.pos += n;
        Ok(v)
    }

    fn array<const N: usize>(
        &mut self,
        what: &dyn Fn() -> String,
    ) -> Result<[u8; N], ConvertError> {
        self.need(what, N as u64)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|e| self.io_err(e))?;
        self.pos += N as u64;
        Ok(b)
    }

    fn u8(&mut self, what: &dyn Fn() -> String) -> Result<u8, ConvertError> {
        self.array::<1>(what).map(|b| b[0])
    }

    fn u16(&mut self, what: &dyn Fn() -> String) -> Result<u16, ConvertError> {
        self.array::<2>(what).map(u16::from_le_bytes)
    }

    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, ConvertError> {
        self.array::<4>(what).map(u32::from_le_bytes)
    }

    /// A `u16`-length-prefixed string with its trailing NUL removed.
    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String, ConvertError> {
        let n = self.u16(what)?;
        let mut b = self.bytes(u64::from(n), what)?;
        if b.last() == Some(&0) {
            b.pop();
        }
        String::from_utf8(b).map_err(|_| ConvertError::Malformed {
            path: self.path.to_path_buf(),
            detail: format!("{} is not valid UTF-8", what()),
        })
    }

    fn skip(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<(), ConvertError> {
        self.need(what, n)?;
        let step = i64::try_from(n).map_err(|_| ConvertError::Malformed {
            path: self.path.to_path_buf(),
            detail: format!("{} is too large", what()),
        })?;
        self.r.seek_relative(step).map_err(|e| self.io_err(e))?;
        self.pos += n;
        Ok(())
    }
}

impl Ct2Model {
    /// Reads every header of `model.bin`, checking that all data lies inside the file.
    fn open(path: &Path) -> Result<Ct2Model, ConvertError> {
        let read_err = |source| ConvertError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(read_err)?;
        let len = file.metadata().map_err(read_err)?.len();
        let mut r = Ct2Reader {
            r: BufReader::with_capacity(64 * 1024, file),
            pos: 0,
            len,
            path,
        };
        let malformed = |detail: String| ConvertError::Malformed {
            path: path.to_path_buf(),
            detail,
        };

        let version = r.u32(&|| "the format version".to_string())?;
        if version != CT2_BINARY_VERSION {
            return Err(ConvertError::UnsupportedVersion {
                path: path.to_path_buf(),
                version,
            });
        }
        let spec = r.string(&|| "the model spec name".to_string())?;
        if spec != "WhisperSpec" {
            return Err(ConvertError::NotWhisper {
                path: path.to_path_buf(),
                spec,
            });
        }
        let _revision = r.u32(&|| "the spec revision".to_string())?;
        let n_vars = r.u32(&|| "the variable count".to_string())?;

        let mut vars = Vec::new();
        let mut index = HashMap::new();
        for i in 0..n_vars {
            let name = r.string(&|| format!("the name of variable #{i}"))?;
            let what = || format!("the header of variable '{name}'");
            let rank = r.u8(&what)?;
            let mut shape = Vec::with_capacity(usize::from(rank));
            for _ in 0..rank {
                let d = r.u32(&what)?;
                shape.push(usize::try_from(d).map_err(|_| malformed(what()))?);
            }
            let dtype = Ct2Dtype::from_id(r.u8(&what)?);
            let nbytes = u64::from(r.u32(&what)?);
            if let Some(size) = dtype.size() {
                let expected = shape
                    .iter()
                    .try_fold(size as u64, |acc, &d| acc.checked_mul(d as u64));
                if expected != Some(nbytes) {
                    return Err(malformed(format!(
                        "variable '{name}' has shape {shape:?} of {} but {nbytes} data bytes",
                        dtype.name()
                    )));
                }
            }
            let offset = r.pos;
            let scalar = if shape.is_empty() && nbytes <= 8 {
                Some(r.bytes(nbytes, &|| format!("the value of '{name}'"))?)
            } else {
                r.skip(nbytes, &|| format!("the data of variable '{name}'"))?;
                None
            };
            if index.insert(name.clone(), vars.len()).is_some() {
                return Err(malformed(format!("variable '{name}' appears twice")));
            }
            vars.push(Ct2Var {
                name,
                shape,
                dtype,
                offset,
                nbytes,
                scalar,
            });
        }
        // Aliases (decoder/projection -> decoder/embeddings); whisper.cpp ties them anyway, so
        // they are only parsed to confirm the file is complete.
        let n_aliases = r.u32(&|| "the alias count".to_string())?;
        for i in 0..n_aliases {
            let _alias = r.string(&|| format!("alias #{i}"))?;
            let _target = r.string(&|| format!("the target of alias #{i}"))?;
        }
        Ok(Ct2Model {
            path: path.to_path_buf(),
            vars,
            index,
        })
    }

    fn get(&self, name: &str) -> Option<&Ct2Var> {
        self.index.get(name).and_then(|&i| self.vars.get(i))
    }

    /// An integer scalar such as `encoder/num_heads`.
    fn scalar_int(&self, name: &str) -> Option<i64> {
        let var = self.get(name)?;
        let b = var.scalar.as_deref()?;
        match (var.dtype, b) {
            (Ct2Dtype::I8, [a]) => Some(i64::from(*a as i8)),
            (Ct2Dtype::I16, [a, b]) => Some(i64::from(i16::from_le_bytes([*a, *b]))),
            (Ct2Dtype::I32, [a, b, c, d]) => Some(i64::from(i32::from_le_bytes([*a, *b, *c, *d]))),
            _ => None,
        }
    }

    /// Highest `{prefix}/layer_N` index + 1.
    fn layer_count(&self, prefix: &str) -> usize {
        let head = format!("{prefix}/layer_");
        self.vars
            .iter()
            .filter_map(|v| v.name.strip_prefix(&head))
            .filter_map(|rest| rest.split('/').next()?.parse::<usize>().ok())
            .map(|n| n.saturating_add(1))
            .max()
            .unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Conversion
// ---------------------------------------------------------------------------------------------

/// Everything decided before writing: header values and each output tensor with its source.
struct Plan {
    hparams: Hparams,
    n_mels: usize,
    tensors: Vec<(TensorSpec, GgmlType, usize)>, // spec, output type, source variable index
}

fn plan_conversion(
    model: &Ct2Model,
    path: &Path,
    quantization: Quantization,
) -> Result<Plan, ConvertError> {
    let p = || path.to_path_buf();

    // Quantized CTranslate2 models: recognise them first, since every later check would
    // otherwise fail with a less helpful message.
    if let Some(v) = model
        .vars
        .iter()
        .find(|v| !v.shape.is_empty() && matches!(v.dtype, Ct2Dtype::I8 | Ct2Dtype::I16))
    {
        return Err(ConvertError::QuantizedInput {
            path: p(),
            variable: v.name.clone(),
            dtype: v.dtype.name(),
        });
    }

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
    let dims = Dims::from_hparams(&hparams).ok_or_else(|| ConvertError::BadDimensions {
        path: p(),
        detail: "negative dimension".to_string(),
    })?;

    let wtype = quantization.matrix_type();
    let mut tensors = Vec::new();
    let mut used = HashSet::new();
    for spec in whisper_tensors(&dims) {
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

    Ok(Plan {
        hparams,
        n_mels,
        tensors,
    })
}

/// GPT-2's byte-to-character table (`bytes_to_unicode`): printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100.. in byte order. Token files spell bytes this way.
fn gpt2_byte_to_char() -> [char; 256] {
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
fn gpt2_char_to_byte() -> Vec<Option<u8>> {
    let mut inv = vec![None; 0x144];
    for (b, c) in gpt2_byte_to_char().iter().enumerate() {
        if let Some(slot) = inv.get_mut(*c as usize) {
            *slot = Some(b as u8);
        }
    }
    inv
}

/// Raw bytes of a token written in GPT-2's byte-level form ("Ġthe" -> b" the").
fn gpt2_token_bytes(token: &str, inv: &[Option<u8>]) -> Option<Vec<u8>> {
    token
        .chars()
        .map(|c| inv.get(c as usize).copied().flatten())
        .collect()
}

/// Reads `vocabulary.txt` (one token per line) or `vocabulary.json` (a JSON list) and returns
/// the raw bytes of the ordinary tokens whisper.cpp expects in the file.
fn load_vocabulary(path: &Path, n_vocab: i32) -> Result<Vec<Vec<u8>>, ConvertError> {
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
fn hz_to_mel(hz: f64) -> f64 {
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

fn mel_to_hz(mel: f64) -> f64 {
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
fn mel_filters(n_mels: usize) -> Vec<f32> {
    const SR: f64 = 16000.0;
    const N_FFT: usize = 400;
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
fn quantize_q8_0(values: &[f32], out: &mut Vec<u8>) {
    for block in values.chunks_exact(32) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend(block.iter().map(|v| ((v * id).round() as i8) as u8));
    }
}

/// Counts what goes through a buffered writer and labels write errors with the output path.
struct Out<'a> {
    w: BufWriter<&'a mut File>,
    written: u64,
    path: &'a Path,
}

impl Out<'_> {
    fn put(&mut self, b: &[u8]) -> Result<(), ConvertError> {
        self.w.write_all(b).map_err(|source| ConvertError::Write {
            path: self.path.to_path_buf(),
            source,
        })?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn i32(&mut self, v: i32) -> Result<(), ConvertError> {
        self.put(&v.to_le_bytes())
    }
}

/// Writes the whole ggml file; returns its length.
fn write_ggml(
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
    let too_big = |what: &str| ConvertError::BadDimensions {
        path: model.path.clone(),
        detail: format!("{what} does not fit the ggml format"),
    };

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

    out.i32(i32::try_from(tokens.len()).map_err(|_| too_big("the vocabulary"))?)?;
    for t in tokens {
        out.put(
            &u32::try_from(t.len())
                .map_err(|_| too_big("a token"))?
                .to_le_bytes(),
        )?;
        out.put(t)?;
    }

    let mut src = BufReader::with_capacity(
        1 << 20,
        File::open(&model.path).map_err(|source| ConvertError::Read {
            path: model.path.clone(),
            source,
        })?,
    );
    let mut raw = Vec::new();
    let mut vals = Vec::new();
    let mut bytes = Vec::new();
    for (spec, out_type, idx) in &plan.tensors {
        let var = &model.vars[*idx];
        out.i32(i32::try_from(spec.ne.len()).map_err(|_| too_big(&spec.name))?)?;
        out.i32(i32::try_from(spec.name.len()).map_err(|_| too_big(&spec.name))?)?;
        out.i32(out_type.id())?;
        for &d in &spec.ne {
            out.i32(i32::try_from(d).map_err(|_| too_big(&spec.name))?)?;
        }
        out.put(spec.name.as_bytes())?;

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
            src.read_exact(&mut raw).map_err(|source| {
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
            if *out_type == GgmlType::F16 && var.dtype == Ct2Dtype::F16 {
                bytes.extend_from_slice(&raw);
            } else {
                decode_floats(&raw, var.dtype, &mut vals);
                match out_type {
                    GgmlType::F32 => {
                        for v in &vals {
                            bytes.extend_from_slice(&v.to_le_bytes());
                        }
                    }
                    GgmlType::F16 => {
                        for v in &vals {
                            bytes.extend_from_slice(&f16::from_f32(*v).to_le_bytes());
                        }
                    }
                    _ => quantize_q8_0(&vals, &mut bytes),
                }
            }
            out.put(&bytes)?;
            done += take;
        }
    }
    out.w.flush().map_err(|source| ConvertError::Write {
        path: output.to_path_buf(),
        source,
    })?;
    Ok(out.written)
}

/// Little-endian float data of a CTranslate2 variable as f32.
fn decode_floats(raw: &[u8], dtype: Ct2Dtype, vals: &mut Vec<f32>) {
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
struct TempFile {
    path: PathBuf,
    file: Option<File>,
    done: bool,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempFile {
    fn create(dir: &Path, output: &Path) -> Result<TempFile, ConvertError> {
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

    fn path(&self) -> &Path {
        &self.path
    }

    fn file(&mut self) -> Result<&mut File, ConvertError> {
        self.file.as_mut().ok_or_else(|| ConvertError::Write {
            path: self.path.clone(),
            source: io::Error::other("the temporary file was already closed"),
        })
    }

    /// Flushes the data to disk and closes the file (so the rename cannot expose a half-written
    /// file after a crash).
    fn finish(&mut self, output: &Path) -> Result<(), ConvertError> {
        if let Some(f) = self.file.take() {
            f.sync_all().map_err(|source| ConvertError::Write {
                path: output.to_path_buf(),
                source,
            })?;
        }
        Ok(())
    }

    fn persist(mut self, output: &Path) -> Result<(), ConvertError> {
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

#[cfg(test)]
mod tests {
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
            } else if t.ne.len() == 2 && !t.name.contains("positional") && !t.name.contains("conv")
            {
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
        let err = convert_ctranslate2_dir(&file, &tmp.path().join("o.bin"), Quantization::F16)
            .unwrap_err();
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
}
