//! Any bytes as a CTranslate2 `model.bin` (what `models convert` reads first) and as a ggml
//! model (what `inspect_ggml` checks before whisper.cpp may load it): an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ggml_convert::{inspect_ctranslate2_model, inspect_ggml};

fuzz_target!(|data: &[u8]| {
    // The readers work on files; a RAM-backed temp dir keeps that cheap.
    let Ok(dir) = tempfile::tempdir_in(scratch_dir()) else {
        return;
    };
    let path = dir.path().join("model.bin");
    if std::fs::write(&path, data).is_ok() {
        let _ = inspect_ctranslate2_model(&path);
        let _ = inspect_ggml(&path);
    }
});

fn scratch_dir() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}
