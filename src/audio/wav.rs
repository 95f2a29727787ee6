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
    #[error("{path} is not a regular file (a pipe, a device or a folder); save the audio as a .wav file and give that")]
    NotAFile { path: String },
    #[error("{path} contains no audio samples; record the answer again")]
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
        let in_range = samples.iter().map(|&s| sample_in_range(s));
        let Some(resampler) = self.resampler.as_mut() else {
            out.extend(in_range);
            self.frames_out += samples.len() as u64;
            return Ok(());
        };
        self.pending.extend(in_range);
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
            // rubato refuses an empty partial chunk: with no samples left over (an input whose
            // length is a whole number of chunks), flushing starts at once.
            let tail = std::mem::take(&mut self.pending);
            if !tail.is_empty() {
                let produced = resampler
                    .process_partial(Some(&[tail.as_slice()]), None)
                    .map_err(map_err)?;
                Self::emit(
                    &produced[0],
                    &mut self.delay_to_skip,
                    &mut self.frames_out,
                    out,
                );
            }
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

/// A float WAV may hold NaN, infinities or values far past full scale (fuzzing found one); the
/// resampler's FFT panics on those, and whisper expects -1..1, so they are clipped (NaN: silence).
fn sample_in_range(sample: f32) -> f32 {
    if sample.is_nan() {
        0.0
    } else {
        sample.clamp(-1.0, 1.0)
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

/// Frames decoded at a time: the resampler's own chunk. Its output is chunking-independent only
/// to about 1e-5, and whisper's greedy decoding of a noisy 8-bit file can flip a word on that.
const DECODE_FRAMES: usize = RESAMPLER_CHUNK;

/// Sample rates a WAV may have: every real recorder's, and not so high that the resampler's
/// tables would need gigabytes (a damaged header can claim any rate).
const SUPPORTED_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// Channels a WAV may have; a damaged header could otherwise make one block huge.
const MAX_CHANNELS: u16 = 64;

/// How a WAV's integer or float samples become f32 in -1..1.
#[derive(Debug, Clone, Copy)]
enum SampleKind {
    Float,
    /// Integer samples of this many bits, read through hound's i32 path.
    Int(u16),
}

/// A WAV decoded block by block into 16 kHz mono, so a file of any length is read in bounded
/// memory. Generic over the reader so fuzzing can feed it bytes.
pub struct WavStream<R: std::io::Read> {
    reader: hound::WavReader<R>,
    path: String,
    kind: SampleKind,
    channels: usize,
    rate: u32,
    resampler: Option<To16k>,
    frames_done: u64,
    interleaved: Vec<f32>,
    mono: Vec<f32>,
    /// The file ended before the length its header gives.
    cut_short: bool,
}

/// Whether a decoding error is the file running out before its header's length. hound 3.5
/// reports a short read as an `Other` I/O error with this text (`ReadExt::read_into`).
fn ends_early(error: &hound::Error) -> bool {
    matches!(error, hound::Error::IoError(e)
        if e.kind() == std::io::ErrorKind::UnexpectedEof
            || e.to_string() == "Failed to read enough bytes.")
}

/// Opens a WAV file for streaming decoding.
pub fn open_wav(path: &Path) -> Result<WavStream<std::io::BufReader<std::fs::File>>, AudioError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| AudioError::Open {
        path: shown.clone(),
        source,
    })?;
    if file.metadata().is_ok_and(|m| !m.is_file()) {
        // A pipe reports no length, and a recording is read more than once (voice activity,
        // then the speech): rehearse needs the whole file on disk.
        return Err(AudioError::NotAFile { path: shown });
    }
    if file.metadata().is_ok_and(|m| m.len() == 0) {
        return Err(AudioError::Empty { path: shown });
    }
    WavStream::new(std::io::BufReader::new(file), &shown)
}

impl<R: std::io::Read> WavStream<R> {
    /// Reads the header; `path` names the input in errors.
    pub fn new(reader: R, path: &str) -> Result<Self, AudioError> {
        let reader = hound::WavReader::new(reader).map_err(|e| match e {
            hound::Error::Unsupported => AudioError::Unsupported {
                path: path.to_string(),
                detail: "hound cannot decode its format".to_string(),
            },
            // hound rejects sample widths it cannot read (64-bit float, 12-bit) as malformed.
            hound::Error::FormatError(detail) if detail.contains("bits per sample") => {
                AudioError::Unsupported {
                    path: path.to_string(),
                    detail: detail.to_string(),
                }
            }
            other => AudioError::NotWav {
                path: path.to_string(),
                detail: other.to_string(),
            },
        })?;
        let spec = reader.spec();
        let kind = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, 32) => SampleKind::Float,
            (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => SampleKind::Int(bits),
            (format, bits) => {
                return Err(AudioError::Unsupported {
                    path: path.to_string(),
                    detail: format!("{bits}-bit {format:?}"),
                })
            }
        };
        if !SUPPORTED_RATES.contains(&spec.sample_rate) {
            return Err(AudioError::Unsupported {
                path: path.to_string(),
                detail: format!(
                    "a sample rate of {} Hz; rehearse reads {}-{} Hz",
                    spec.sample_rate,
                    SUPPORTED_RATES.start(),
                    SUPPORTED_RATES.end()
                ),
            });
        }
        if spec.channels > MAX_CHANNELS {
            return Err(AudioError::Unsupported {
                path: path.to_string(),
                detail: format!(
                    "{} channels; rehearse reads up to {MAX_CHANNELS}",
                    spec.channels
                ),
            });
        }
        let channels = usize::from(spec.channels.max(1));
        Ok(WavStream {
            reader,
            path: path.to_string(),
            kind,
            channels,
            rate: spec.sample_rate,
            resampler: Some(To16k::new(spec.sample_rate)?),
            frames_done: 0,
            interleaved: Vec::with_capacity(DECODE_FRAMES * channels),
            mono: Vec::with_capacity(DECODE_FRAMES),
            cut_short: false,
        })
    }

    /// Decodes the next block of whole frames into `interleaved`; returns false once the samples
    /// are over.
    fn decode_block(&mut self) -> Result<bool, AudioError> {
        if self.cut_short {
            return Ok(false);
        }
        let wanted = DECODE_FRAMES * self.channels;
        self.interleaved.clear();
        let damaged = |e: hound::Error, frames_done: u64| AudioError::Damaged {
            path: self.path.clone(),
            seconds: frames_done as f64 / f64::from(self.rate),
            detail: e.to_string(),
        };
        // The file ending before its header says (a crashed recorder, a half-copied file) ends
        // the audio where the file does, as sox and ffmpeg read it; other faults are damage.
        let mut cut = None;
        match self.kind {
            SampleKind::Float => {
                for sample in self.reader.samples::<f32>().take(wanted) {
                    match sample {
                        Ok(value) => self.interleaved.push(value),
                        Err(e) if ends_early(&e) => {
                            cut = Some(e);
                            break;
                        }
                        Err(e) => return Err(damaged(e, self.frames_done)),
                    }
                }
            }
            SampleKind::Int(bits) => {
                let scale = 1.0 / f64::from(1u32 << (bits - 1));
                for sample in self.reader.samples::<i32>().take(wanted) {
                    match sample {
                        Ok(value) => self.interleaved.push((f64::from(value) * scale) as f32),
                        Err(e) if ends_early(&e) => {
                            cut = Some(e);
                            break;
                        }
                        Err(e) => return Err(damaged(e, self.frames_done)),
                    }
                }
            }
        }
        let whole_frames = self.interleaved.len() - self.interleaved.len() % self.channels;
        if let Some(e) = cut {
            if self.frames_done == 0 && whole_frames == 0 {
                // Nothing usable at all: still refused.
                return Err(damaged(e, 0));
            }
            self.cut_short = true;
        }
        if whole_frames == 0 {
            return Ok(false);
        }
        self.interleaved.truncate(whole_frames);
        self.frames_done += (whole_frames / self.channels) as u64;
        Ok(true)
    }

    /// Where the audio stopped when the file ends before its header says, in seconds; None for
    /// a whole file. Known once the stream has been read to its end.
    pub fn cut_short_at(&self) -> Option<f64> {
        self.cut_short
            .then(|| self.frames_done as f64 / f64::from(self.rate))
    }

    /// Appends the next block of 16 kHz mono audio to `out`; returns false once the file is over
    /// (after the resampler's tail has been appended).
    pub fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        if self.resampler.is_none() {
            return Ok(false);
        }
        if !self.decode_block()? {
            if let Some(resampler) = self.resampler.take() {
                resampler.finish(out)?;
            }
            return Ok(false);
        }
        self.mono.clear();
        downmix(&self.interleaved, self.channels, &mut self.mono);
        if let Some(resampler) = self.resampler.as_mut() {
            resampler.push(&self.mono, out)?;
        }
        Ok(true)
    }

    /// The input's name, as errors show it.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Decodes a whole WAV file without keeping or resampling its samples, so that a damaged or
/// empty file played as `--input` is reported before the session starts, not in the middle of
/// an answer; the errors are those that reading it block by block would give.
pub fn check_wav(path: &Path) -> Result<(), AudioError> {
    let mut stream = open_wav(path)?;
    while stream.decode_block()? {}
    // The resampled length is exactly this many samples (`To16k::finish`).
    if stream.frames_done * u64::from(SAMPLE_RATE) / u64::from(stream.rate) == 0 {
        return Err(AudioError::Empty { path: stream.path });
    }
    Ok(())
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

    /// An input of a whole number of the resampler's chunks leaves nothing over to flush; it
    /// once failed with "Insufficient buffer size 0" (a WAV of 1,024 x k frames, 1 in 1,024).
    #[test]
    fn an_input_of_whole_chunks_resamples_to_its_length() {
        for rate in [22_050, 44_100, 48_000] {
            let input: Vec<f32> = sine(rate, 3.0, 440.0)[..RESAMPLER_CHUNK * 50].to_vec();
            let expected = (RESAMPLER_CHUNK * 50) as u64 * u64::from(SAMPLE_RATE) / u64::from(rate);
            for piece in [RESAMPLER_CHUNK, 777] {
                let out = resample_all(&input, rate, piece);
                assert_eq!(out.len() as u64, expected, "rate {rate}, pieces of {piece}");
            }
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
    fn samples_that_are_not_numbers_or_past_full_scale_are_clipped() {
        let mut input = sine(44_100, 0.5, 440.0);
        input[100] = f32::NAN;
        input[200] = f32::INFINITY;
        input[300] = -1e38;
        let out = resample_all(&input, 44_100, 512);
        assert_eq!(out.len(), 8_000);
        assert!(out.iter().all(|s| s.is_finite() && s.abs() <= 1.5));
        let mut direct = Vec::new();
        To16k::new(16_000)
            .unwrap()
            .push(&[f32::NAN, 2.0, -3.0], &mut direct)
            .unwrap();
        assert_eq!(direct, vec![0.0, 1.0, -1.0]);
    }

    #[test]
    fn downmix_averages_channels() {
        let mut out = Vec::new();
        downmix(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 0.0]);
    }
}
