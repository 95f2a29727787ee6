//! Any bytes as a WAV: decoding and resampling must end in samples or an error, never a panic,
//! a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rehearse::audio::WavStream;

fuzz_target!(|data: &[u8]| {
    let Ok(mut stream) = WavStream::new(std::io::Cursor::new(data), "fuzz.wav") else {
        return;
    };
    let mut out = Vec::new();
    while let Ok(true) = stream.read_block(&mut out) {
        out.clear();
    }
});
