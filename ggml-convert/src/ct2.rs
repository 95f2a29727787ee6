//! The CTranslate2 reader: the variables of a faster-whisper `model.bin`, checked as they are
//! read.

use super::*;

/// CTranslate2 element types (ids from its `DataType` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ct2Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
    Other(u8),
}

impl Ct2Dtype {
    pub(super) fn from_id(id: u8) -> Ct2Dtype {
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

    pub(super) fn size(self) -> Option<usize> {
        match self {
            Ct2Dtype::F32 | Ct2Dtype::I32 => Some(4),
            Ct2Dtype::F16 | Ct2Dtype::Bf16 | Ct2Dtype::I16 => Some(2),
            Ct2Dtype::I8 => Some(1),
            Ct2Dtype::Other(_) => None,
        }
    }

    pub(super) fn is_float(self) -> bool {
        matches!(self, Ct2Dtype::F32 | Ct2Dtype::F16 | Ct2Dtype::Bf16)
    }

    pub(super) fn name(self) -> String {
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
pub(super) struct Ct2Var {
    pub(super) name: String,
    pub(super) shape: Vec<usize>,
    pub(super) dtype: Ct2Dtype,
    pub(super) offset: u64,
    pub(super) nbytes: u64,
    /// The data of scalars (kept to read `num_heads`).
    pub(super) scalar: Option<Vec<u8>>,
}

/// Headers of every variable in a `model.bin`; the data stays on disk until it is streamed.
pub(super) struct Ct2Model {
    pub(super) path: PathBuf,
    pub(super) vars: Vec<Ct2Var>,
    pub(super) index: HashMap<String, usize>,
}

/// Bounds-checked reader for `model.bin` (same idea as [`Scanner`], with converter errors).
pub(super) struct Ct2Reader<'p> {
    pub(super) r: BufReader<File>,
    pub(super) pos: u64,
    pub(super) len: u64,
    pub(super) path: &'p Path,
}

impl Ct2Reader<'_> {
    pub(super) fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    pub(super) fn need(&self, what: &dyn Fn() -> String, n: u64) -> Result<(), ConvertError> {
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

    pub(super) fn io_err(&self, source: io::Error) -> ConvertError {
        ConvertError::Read {
            path: self.path.to_path_buf(),
            source,
        }
    }

    pub(super) fn bytes(
        &mut self,
        n: u64,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<u8>, ConvertError> {
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

    pub(super) fn array<const N: usize>(
        &mut self,
        what: &dyn Fn() -> String,
    ) -> Result<[u8; N], ConvertError> {
        self.need(what, N as u64)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|e| self.io_err(e))?;
        self.pos += N as u64;
        Ok(b)
    }

    pub(super) fn u8(&mut self, what: &dyn Fn() -> String) -> Result<u8, ConvertError> {
        self.array::<1>(what).map(|b| b[0])
    }

    pub(super) fn u16(&mut self, what: &dyn Fn() -> String) -> Result<u16, ConvertError> {
        self.array::<2>(what).map(u16::from_le_bytes)
    }

    pub(super) fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, ConvertError> {
        self.array::<4>(what).map(u32::from_le_bytes)
    }

    /// A `u16`-length-prefixed string with its trailing NUL removed.
    pub(super) fn string(&mut self, what: &dyn Fn() -> String) -> Result<String, ConvertError> {
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

    pub(super) fn skip(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<(), ConvertError> {
        self.need(what, n)?;
        let step = i64::try_from(n).map_err(|_| ConvertError::Malformed {
            path: self.path.to_path_buf(),
            detail: format!("{} is too large", what()),
        })?;
        self.r.seek_relative(step).map_err(|e| self.io_err(e))?;
        self.pos += n;
        Ok(())
    }

    /// One variable's header (name, shape, type, size, checked against each other); its data
    /// is skipped, except a scalar's, which is kept.
    pub(super) fn variable(&mut self, i: u32) -> Result<Ct2Var, ConvertError> {
        let name = self.string(&|| format!("the name of variable #{i}"))?;
        let what = || format!("the header of variable '{name}'");
        let rank = self.u8(&what)?;
        let mut shape = Vec::with_capacity(usize::from(rank));
        for _ in 0..rank {
            let d = self.u32(&what)?;
            shape.push(usize::try_from(d).map_err(|_| Self::malformed(self.path, what()))?);
        }
        let dtype = Ct2Dtype::from_id(self.u8(&what)?);
        let nbytes = u64::from(self.u32(&what)?);
        if let Some(size) = dtype.size() {
            let expected = shape
                .iter()
                .try_fold(size as u64, |acc, &d| acc.checked_mul(d as u64));
            if expected != Some(nbytes) {
                return Err(Self::malformed(
                    self.path,
                    format!(
                        "variable '{name}' has shape {shape:?} of {} but {nbytes} data bytes",
                        dtype.name()
                    ),
                ));
            }
        }
        let offset = self.pos;
        let scalar = if shape.is_empty() && nbytes <= 8 {
            Some(self.bytes(nbytes, &|| format!("the value of '{name}'"))?)
        } else {
            self.skip(nbytes, &|| format!("the data of variable '{name}'"))?;
            None
        };
        Ok(Ct2Var {
            name,
            shape,
            dtype,
            offset,
            nbytes,
            scalar,
        })
    }

    fn malformed(path: &Path, detail: String) -> ConvertError {
        ConvertError::Malformed {
            path: path.to_path_buf(),
            detail,
        }
    }
}

impl Ct2Model {
    /// Reads every header of `model.bin`, checking that all data lies inside the file.
    pub(super) fn open(path: &Path) -> Result<Ct2Model, ConvertError> {
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
            let var = r.variable(i)?;
            if index.insert(var.name.clone(), vars.len()).is_some() {
                return Err(malformed(format!("variable '{}' appears twice", var.name)));
            }
            vars.push(var);
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

    pub(super) fn get(&self, name: &str) -> Option<&Ct2Var> {
        self.index.get(name).and_then(|&i| self.vars.get(i))
    }

    /// An integer scalar such as `encoder/num_heads`.
    pub(super) fn scalar_int(&self, name: &str) -> Option<i64> {
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
    pub(super) fn layer_count(&self, prefix: &str) -> usize {
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
