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

mod ct2;
mod ggml_type;
mod layout;
mod scan;
#[cfg(test)]
mod tests;
mod write;

use ct2::*;
use ggml_type::*;
use layout::*;
use scan::*;
use write::*;

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
