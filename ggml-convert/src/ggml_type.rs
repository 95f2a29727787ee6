//! The ggml tensor types a Whisper file can hold: sizes, and which weight type a file's
//! `ftype` stands for.

use super::*;

/// The ggml tensor types a Whisper file can contain (ids from ggml.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GgmlType {
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
    pub(super) const ALL: [GgmlType; 13] = [
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

    pub(super) fn id(self) -> i32 {
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

    pub(super) fn from_id(id: i32) -> Option<GgmlType> {
        GgmlType::ALL.into_iter().find(|t| t.id() == id)
    }

    /// (values per block, bytes per block), from ggml's block structs.
    pub(super) fn block(self) -> (u64, u64) {
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

    pub(super) fn name(self) -> &'static str {
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
    pub(super) fn data_size(self, row: u64, n: u64) -> Option<u64> {
        let (block, bytes) = self.block();
        if row == 0 || !row.is_multiple_of(block) {
            return None;
        }
        (n / block).checked_mul(bytes)
    }
}

/// The weight type whisper.cpp derives from the header's `ftype`, or why it cannot.
pub(super) fn weight_type_for_ftype(ftype: i32) -> Result<GgmlType, &'static str> {
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
pub(super) fn expected_type(kind: Kind, wtype: GgmlType) -> GgmlType {
    match kind {
        Kind::Matrix => wtype,
        Kind::Conv if wtype == GgmlType::F32 => GgmlType::F32,
        Kind::Conv => GgmlType::F16,
        Kind::Float32 => GgmlType::F32,
    }
}
