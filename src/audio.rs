//! Audio in: any PCM WAV hound reads, turned into the 16 kHz mono f32 samples whisper and the
//! voice-activity detector expect.
//!
//! Resampling uses rubato's synchronous FFT resampler: exact for the fixed integer ratios of real
//! devices and files (44.1k, 48k, 22.05k ... to 16k), band-limited, and streaming, so the same code
//! serves a file and a live microphone.

use std::path::Path;

use rubato::{FftFixedIn, Resampler};

/// The sample rate of everything after capture.
pub const SAMPLE_RATE: u32 = 16_000;

/// Frames fed to the resampler per call; small enough for live capture, large enough to be cheap.
const RESAMPLER_CHUNK: usize = 1024;

/// Why audio could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a WAV file ({detail}); convert it first, e.g. `sox INPUT -r 16000 -c 1 -b 16 answer.wav`")]
    NotWav { path: String, detail: String },
    #[error("{path} uses an unsupported WAV sample format ({detail}); convert it to 16-bit PCM, e.g. `sox {path} -b 16 answer.wav`")]
    Unsupported { path: String, detail: String },
    #[error("{path} is damaged after {seconds:.1} s of audio ({detail}); re-record it or repair it with `sox {path} repaired.wav`")]
    Damaged {
        path: String,
        seconds: f64,
        detail: String,
    },
    #[error("{path} contains no audio samples")]
    Empty { path: String },
    #[error("cannot resample from {rate} Hz: {detail}")]
    Resample { rate: u32, detail: String },
}

/// Converts a stream of mono samples at any rate to 16 kHz, chunk by chunk.
pub struct To16k {
    input_rate: u32,
    resampler: Option<FftFixedIn<f32>>,
    pending: Vec<f32>,
    frames_in: u64,
    frames_out: u64,
    delay_to_skip: usize,
}

impl To16k {
    pub fn new(input_rate: u32) -> Result<Self, AudioError> {
        let resampler = if input_rate == SAMPLE_RATE {
            None
        } else {
            let resampler = FftFixedIn::<f32>::new(
                input_rate as usize,
                SAMPLE_RATE as usize,
                RESAMPLER_CHUNK,
                2,
                1,
            )
            .map_err(|e| AudioError::Resample {
                rate: input_rate,
                detail: e.to_string(),
            })?;
            Some(resampler)
        };
        let delay_to_skip = resampler.as_ref().map_or(0, |r| r.output_delay());
        Ok(To16k {
            input_rate,
            resampler,
            pending: Vec::with_capacity(RESAMPLER_CHUNK * 2),
            frames_in: 0,
            frames_out: 0,
            delay_to_skip,
        })
    }

    /// Adds input samples and appends whatever 16 kHz output is ready to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.frames_in += samples.len() as u64;
        let Some(resampler) = self.resampler.as_mut() else {
            out.extend_from_slice(samples);
            self.frames_out += samples.len() as u64;
            return Ok(());
        };
        self.pending.extend_from_slice(samples);
        let mut consumed = 0;
        while self.pending.len() - consumed >= resampler.input_frames_next() {
            let needed = resampler.input_frames_next();
            let chunk = &self.pending[consumed..consumed + needed];
            let produced = resampler
                .process(&[chunk], None)
                .map_err(|e| AudioError::Resample {
                    rate: self.input_rate,
                    detail: e.to_string(),
                })?;
            consumed += needed;
            Self::emit(
                &produced[0],
                &mut self.delay_to_skip,
                &mut self.frames_out,
                out,
            );
        }
        self.pending.drain(..consumed);
        Ok(())
    }

    /// Flushes the resampler; the total output is exactly the input length at 16 kHz.
    pub fn finish(mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let expected = self.frames_in * u64::from(SAMPLE_RATE) / u64::from(self.input_rate);
        if let Some(resampler) = self.resampler.as_mut() {
            let map_err = |e: rubato::ResampleError| AudioError::Resample {
                rate: self.input_rate,
                detail: e.to_string(),
            };
            let tail = std::mem::take(&mut self.pending);
            let produced = resampler
                .process_partial(Some(&[tail.as_slice()]), None)
                .map_err(map_err)?;
            Self::emit(
                &produced[0],
                &mut self.delay_to_skip,
                &mut self.frames_out,
                out,
            );
            while self.frames_out < expected {
                let produced = resampler
                    .process_partial(None::<&[&[f32]]>, None)
                    .map_err(map_err)?;
                if produced[0].is_empty() {
                    break;
                }
                Self::emit(
                    &produced[0],
                    &mut self.delay_to_skip,
                    &mut self.frames_out,
                    out,
                );
            }
        }
        let surplus = self.frames_out.saturating_sub(expected) as usize;
        out.truncate(out.len().saturating_sub(surplus));
        Ok(())
    }

    fn emit(produced: &[f32], delay: &mut usize, frames_out: &mut u64, out: &mut Vec<f32>) {
        let skip = (*delay).min(produced.len());
        *delay -= skip;
        out.extend_from_slice(&produced[skip..]);
        *frames_out += (produced.len() - skip) as u64;
    }
}

/// Averages interleaved channels into one.
pub fn downmix(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// Reads a whole WAV file as 16 kHz mono samples in -1..1, decoding and resampling as it goes.
pub fn read_wav_16k_mono(path: &Path) -> Result<Vec<f32>, AudioError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| AudioError::Open {
        path: shown.clone(),
        source,
    })?;
    let mut reader = hound::WavReader::new(std::io::BufReader::new(file)).map_err(|e| match e {
        hound::Error::Unsupported => AudioError::Unsupported {
            path: shown.clone(),
            detail: "hound cannot decode its format".to_string(),
        },
        other => AudioError::NotWav {
            path: shown.clone(),
            detail: other.to_string(),
        },
    })?;
    let spec = reader.spec();
    let decoded = DecodeTarget {
        path: &shown,
        channels: usize::from(spec.channels.max(1)),
        rate: spec.sample_rate,
    };
    let out = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => decoded.pump(reader.samples::<f32>()),
        (hound::SampleFormat::Int, 8) => decoded.pump(
            reader
                .samples::<i8>()
                .map(|s| s.map(|v| f32::from(v) / 128.0)),
        ),
        (hound::SampleFormat::Int, 16) => decoded.pump(
            reader
                .samples::<i16>()
                .map(|s| s.map(|v| f32::from(v) / 32_768.0)),
        ),
        (hound::SampleFormat::Int, 24) => decoded.pump(
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 / 8_388_608.0)),
        ),
        (hound::SampleFormat::Int, 32) => decoded.pump(
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| (f64::from(v) / 2_147_483_648.0) as f32)),
        ),
        (format, bits) => Err(AudioError::Unsupported {
            path: shown.clone(),
            detail: format!("{bits}-bit {format:?}"),
        }),
    }?;
    if out.is_empty() {
        return Err(AudioError::Empty { path: shown });
    }
    Ok(out)
}

/// Where decoded samples go: downmixed and resampled a chunk at a time.
struct DecodeTarget<'a> {
    path: &'a str,
    channels: usize,
    rate: u32,
}

impl DecodeTarget<'_> {
    fn pump(
        &self,
        mut samples: impl Iterator<Item = Result<f32, hound::Error>>,
    ) -> Result<Vec<f32>, AudioError> {
        let mut resampler = To16k::new(self.rate)?;
        let mut out = Vec::new();
        let mut interleaved = Vec::with_capacity(RESAMPLER_CHUNK * self.channels);
        let mut mono = Vec::with_capacity(RESAMPLER_CHUNK);
        let mut frames_done: u64 = 0;
        loop {
            interleaved.clear();
            for sample in samples.by_ref().take(RESAMPLER_CHUNK * self.channels) {
                interleaved.push(sample.map_err(|e| AudioError::Damaged {
                    path: self.path.to_string(),
                    seconds: frames_done as f64 / f64::from(self.rate),
                    detail: e.to_string(),
                })?);
            }
            if interleaved.is_empty() {
                break;
            }
            let whole_frames = interleaved.len() - interleaved.len() % self.channels;
            mono.clear();
            downmix(&interleaved[..whole_frames], self.channels, &mut mono);
            frames_done += mono.len() as u64;
            resampler.push(&mono, &mut out)?;
        }
        resampler.finish(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, seconds: f64, freq: f64) -> Vec<f32> {
        (0..(f64::from(rate) * seconds) as usize)
            .map(|i| {
                (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32 * 0.5
            })
            .collect()
    }

    fn resample_all(input: &[f32], rate: u32, chunk: usize) -> Vec<f32> {
        let mut resampler = To16k::new(rate).unwrap();
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            resampler.push(piece, &mut out).unwrap();
        }
        resampler.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn resampled_length_matches_duration_for_common_rates() {
        for rate in [8_000, 16_000, 22_050, 44_100, 48_000] {
            let out = resample_all(&sine(rate, 2.5, 440.0), rate, 777);
            assert_eq!(out.len(), 40_000, "rate {rate}");
        }
    }

    #[test]
    fn resampling_keeps_a_tone_in_phase_and_level() {
        let out = resample_all(&sine(44_100, 1.0, 440.0), 44_100, 4096);
        let reference = sine(16_000, 1.0, 440.0);
        // Skip the edges, where the band-limited filter rings.
        let error: f32 = out[1000..15_000]
            .iter()
            .zip(&reference[1000..15_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(error < 0.02, "max deviation {error}");
    }

    #[test]
    fn chunk_size_does_not_change_the_output() {
        let input = sine(48_000, 1.3, 300.0);
        let a = resample_all(&input, 48_000, 100);
        let b = resample_all(&input, 48_000, 48_000);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
    }

    #[test]
    fn downmix_averages_channels() {
        let mut out = Vec::new();
        downmix(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 0.0]);
    }
}
