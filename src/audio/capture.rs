//! Audio capture: the microphone through cpal, or a WAV file played in real time in its place.
//!
//! The cpal callback only copies samples into a wait-free ring (rtrb): no locks, no allocation,
//! no resampling on the audio thread. The session thread drains the ring, downmixes and resamples
//! to 16 kHz mono.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::audio::{self, To16k, WavStream, SAMPLE_RATE};

/// Why capture failed or stopped.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "no input device found; connect a microphone, or play a recording with `--input FILE.wav`"
    )]
    NoInputDevice,
    #[error("no input device named {0:?}; `rehearse devices` lists them")]
    UnknownDevice(String),
    #[error("cannot open the input device {device}: {detail}; try another with `--input-device`, or `--input FILE.wav`")]
    Open { device: String, detail: String },
    #[error("the input device failed: {0}")]
    Device(String),
    #[error(transparent)]
    Audio(#[from] audio::AudioError),
}

/// Where the answer's audio comes from.
pub trait AudioSource {
    /// Waits up to `timeout` for audio and appends it to `out` as 16 kHz mono.
    /// Returns `Ok(false)` once the source has ended for good (file over, device gone).
    fn read(&mut self, out: &mut Vec<f32>, timeout: Duration) -> Result<bool, CaptureError>;

    /// Throws away what was captured so far: called after rehearse has spoken, so it never
    /// transcribes its own voice.
    fn discard_pending(&mut self);

    /// Seconds of audio lost so far because rehearse fell behind the device (its buffer
    /// overflowed while the machine was too busy to read it): the recording has a gap there, and
    /// the candidate should hear so. Sources that wait for their reader (files) lose nothing.
    fn lost_seconds(&self) -> f64 {
        0.0
    }
}

/// Seconds of raw device audio the ring holds before the oldest is dropped.
const RING_SECONDS: usize = 4;

/// A live device delivers audio every few milliseconds; this long without any means it is gone.
/// Needed because a device that disappears (a PulseAudio source unloaded, some USB unplugs)
/// often just stops delivering, with no error from ALSA or cpal.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(3);

/// The microphone: a capture thread owns the cpal stream (which cannot cross threads).
pub struct Microphone {
    consumer: rtrb::Consumer<f32>,
    channels: usize,
    input_rate: u32,
    resampler: To16k,
    fault: Arc<Mutex<Option<String>>>,
    dropped: Arc<AtomicU64>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    mono: Vec<f32>,
    raw: Vec<f32>,
    /// When audio last arrived (or listening began), for the stall watchdog.
    last_audio: Instant,
}

impl Microphone {
    /// Opens the default input device, or the one whose name contains `device_name`.
    pub fn open(device_name: Option<&str>) -> Result<Self, CaptureError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let fault = Arc::new(Mutex::new(None));
        let dropped = Arc::new(AtomicU64::new(0));
        let wanted = device_name.map(str::to_string);
        let thread_fault = Arc::clone(&fault);
        let thread_dropped = Arc::clone(&dropped);
        let thread = std::thread::Builder::new()
            .name("rehearse-capture".into())
            .spawn(move || {
                let stream =
                    match build_input_stream(wanted.as_deref(), thread_fault, thread_dropped) {
                        Ok((stream, consumer, channels, rate)) => {
                            let _ = ready_tx.send(Ok((consumer, channels, rate)));
                            stream
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                // Keep the stream alive until asked to stop (or the session is dropped).
                let _ = stop_rx.recv();
                drop(stream);
            })
            .map_err(|e| CaptureError::Device(e.to_string()))?;
        let (consumer, channels, input_rate) = ready_rx
            .recv()
            .map_err(|_| CaptureError::Device("the capture thread stopped".to_string()))??;
        Ok(Microphone {
            consumer,
            channels,
            input_rate,
            resampler: To16k::new(input_rate)?,
            fault,
            dropped,
            stop: Some(stop_tx),
            thread: Some(thread),
            mono: Vec::new(),
            raw: Vec::new(),
            last_audio: Instant::now(),
        })
    }
}

type StreamParts = (cpal::Stream, rtrb::Consumer<f32>, usize, u32);

/// libasound prints its own complaints straight to stderr (e.g. "cannot find card '0'") before
/// cpal returns an error; they are silenced while devices are opened, so the user gets rehearse's
/// one clear line instead. (`gag` redirects the stderr descriptor for the duration.)
fn quiet_alsa() -> Option<gag::Gag> {
    gag::Gag::stderr().ok()
}

fn build_input_stream(
    wanted: Option<&str>,
    fault: Arc<Mutex<Option<String>>>,
    dropped: Arc<AtomicU64>,
) -> Result<StreamParts, CaptureError> {
    let _quiet = quiet_alsa();
    let host = cpal::default_host();
    let device = match wanted {
        None => host
            .default_input_device()
            .ok_or(CaptureError::NoInputDevice)?,
        Some(name) => host
            .input_devices()
            .map_err(|e| CaptureError::Device(e.to_string()))?
            .find(|d| d.name().is_ok_and(|n| n.contains(name)))
            .ok_or_else(|| CaptureError::UnknownDevice(name.to_string()))?,
    };
    let device_name = device.name().unwrap_or_else(|_| "input device".to_string());
    let open_error = |detail: String| CaptureError::Open {
        device: device_name.clone(),
        detail,
    };
    let supported = device
        .default_input_config()
        .map_err(|e| open_error(e.to_string()))?;
    let channels = usize::from(supported.channels().max(1));
    let rate = supported.sample_rate().0;
    let config: cpal::StreamConfig = supported.config();
    let (mut producer, consumer) =
        rtrb::RingBuffer::<f32>::new(rate as usize * channels * RING_SECONDS);
    let on_error = move |e: cpal::StreamError| {
        if let Ok(mut fault) = fault.lock() {
            fault.get_or_insert(e.to_string());
        }
    };
    macro_rules! stream_of {
        ($t:ty, $scale:expr) => {
            device.build_input_stream(
                &config,
                move |data: &[$t], _: &cpal::InputCallbackInfo| {
                    let mut lost = 0u64;
                    for &s in data {
                        if producer.push($scale(s)).is_err() {
                            lost += 1;
                        }
                    }
                    if lost > 0 {
                        dropped.fetch_add(lost, Ordering::Relaxed);
                    }
                },
                on_error,
                None,
            )
        };
    }
    let stream = match supported.sample_format() {
        cpal::SampleFormat::F32 => stream_of!(f32, |s: f32| s),
        cpal::SampleFormat::I16 => stream_of!(i16, |s: i16| f32::from(s) / 32_768.0),
        cpal::SampleFormat::I32 => {
            stream_of!(i32, |s: i32| (f64::from(s) / 2_147_483_648.0) as f32)
        }
        cpal::SampleFormat::U16 => stream_of!(u16, |s: u16| (f32::from(s) - 32_768.0) / 32_768.0),
        other => return Err(open_error(format!("unsupported sample format {other}"))),
    }
    .map_err(|e| open_error(e.to_string()))?;
    stream.play().map_err(|e| open_error(e.to_string()))?;
    Ok((stream, consumer, channels, rate))
}

impl AudioSource for Microphone {
    fn read(&mut self, out: &mut Vec<f32>, timeout: Duration) -> Result<bool, CaptureError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(fault) = self.fault.lock().ok().and_then(|f| f.clone()) {
                return Err(CaptureError::Device(fault));
            }
            let available = self.consumer.slots();
            let whole = available - available % self.channels;
            if whole > 0 {
                self.raw.clear();
                if let Ok(chunk) = self.consumer.read_chunk(whole) {
                    let (a, b) = chunk.as_slices();
                    self.raw.extend_from_slice(a);
                    self.raw.extend_from_slice(b);
                    chunk.commit_all();
                }
                self.mono.clear();
                audio::downmix(&self.raw, self.channels, &mut self.mono);
                self.resampler.push(&self.mono, out)?;
                self.last_audio = Instant::now();
                return Ok(true);
            }
            if self.last_audio.elapsed() >= STALL_TIMEOUT {
                return Err(CaptureError::Device(format!(
                    "no audio from it for {} s; it was probably unplugged or switched off",
                    STALL_TIMEOUT.as_secs()
                )));
            }
            if Instant::now() >= deadline {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn discard_pending(&mut self) {
        let available = self.consumer.slots();
        if let Ok(chunk) = self.consumer.read_chunk(available) {
            chunk.commit_all();
        }
        if let Ok(resampler) = To16k::new(self.input_rate) {
            self.resampler = resampler;
        }
        self.last_audio = Instant::now();
    }

    fn lost_seconds(&self) -> f64 {
        // The ring holds interleaved device samples: one frame is `channels` of them.
        self.dropped.load(Ordering::Relaxed) as f64
            / (f64::from(self.input_rate) * self.channels as f64)
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A WAV file played in place of the microphone, in real time (or faster, for benchmarks).
/// The clock only runs while rehearse listens: time spent speaking a question does not consume
/// the recording, as a person would also wait for the question to end.
///
/// The file is decoded as it is played, a block at a time, so an hour-long recording costs no
/// more memory than a short one.
pub struct WavFileSource {
    stream: WavStream<BufReader<File>>,
    /// Decoded 16 kHz samples that are not yet due: the ones right after `position`.
    ahead: Vec<f32>,
    /// The decoder has returned its last block.
    decoded_all: bool,
    position: usize,
    speed: f64,
    listening_since: Instant,
    consumed_at_start: usize,
}

impl WavFileSource {
    /// `speed` 1.0 is real time; higher plays faster.
    pub fn open(path: &Path, speed: f64) -> Result<Self, CaptureError> {
        audio::check_wav(path)?;
        Ok(WavFileSource {
            stream: audio::open_wav(path)?,
            ahead: Vec::new(),
            decoded_all: false,
            position: 0,
            speed: speed.max(0.01),
            listening_since: Instant::now(),
            consumed_at_start: 0,
        })
    }

    /// Samples decoded and held but not yet delivered, counting spare capacity.
    #[cfg(test)]
    fn held_samples(&self) -> usize {
        self.ahead.capacity()
    }
}

impl AudioSource for WavFileSource {
    fn read(&mut self, out: &mut Vec<f32>, timeout: Duration) -> Result<bool, CaptureError> {
        if self.decoded_all && self.ahead.is_empty() {
            return Ok(false);
        }
        std::thread::sleep(timeout.min(Duration::from_millis(20)));
        let elapsed = self.listening_since.elapsed().as_secs_f64() * self.speed;
        let due = self.consumed_at_start + (elapsed * f64::from(SAMPLE_RATE)) as usize;
        let wanted = due.saturating_sub(self.position);
        // One sample past what is due is decoded, so the read that delivers the last sample
        // already knows the file is over, and the next one says so.
        while !self.decoded_all && self.ahead.len() <= wanted {
            self.decoded_all = !self.stream.read_block(&mut self.ahead)?;
        }
        let delivered = wanted.min(self.ahead.len());
        out.extend(self.ahead.drain(..delivered));
        self.position += delivered;
        Ok(true)
    }

    fn discard_pending(&mut self) {
        self.listening_since = Instant::now();
        self.consumed_at_start = self.position;
    }
}

/// Input and output device names, for `rehearse devices`.
pub fn list_devices() -> Result<(Vec<String>, Vec<String>), CaptureError> {
    let _quiet = quiet_alsa();
    let host = cpal::default_host();
    let error = |e: cpal::DevicesError| CaptureError::Device(e.to_string());
    let inputs = host
        .input_devices()
        .map_err(error)?
        .filter_map(|d| d.name().ok())
        .collect();
    let outputs = host
        .output_devices()
        .map_err(error)?
        .filter_map(|d| d.name().ok())
        .collect();
    Ok((inputs, outputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: usize = SAMPLE_RATE as usize;

    /// A 16 kHz mono WAV whose samples do not repeat for 4 s, so a skipped or repeated stretch
    /// shows up when the output is compared with them.
    fn write_wav(path: &Path, seconds: usize) -> Vec<f32> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        let mut expected = Vec::with_capacity(seconds * RATE);
        for i in 0..seconds * RATE {
            let sample = ((i * 7_919) % 65_536) as i32 - 32_768;
            writer.write_sample(sample as i16).unwrap();
            expected.push(sample as f32 / 32_768.0);
        }
        writer.finalize().unwrap();
        expected
    }

    fn samples_for(elapsed: Duration, speed: f64) -> f64 {
        elapsed.as_secs_f64() * speed * f64::from(SAMPLE_RATE)
    }

    #[test]
    fn a_long_file_is_played_while_holding_only_a_little_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.wav");
        let expected = write_wav(&path, 60);
        let mut source = WavFileSource::open(&path, 20.0).unwrap();
        let mut out = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(300) {
            assert!(source.read(&mut out, Duration::from_millis(20)).unwrap());
        }
        assert!(out.len() >= 2 * RATE, "only {} samples played", out.len());
        assert_eq!(out[..], expected[..out.len()]);
        // Held whole, the file would be 960,000 samples.
        assert!(
            source.held_samples() < expected.len() / 10,
            "{} samples held after playing {}",
            source.held_samples(),
            out.len()
        );
    }

    #[test]
    fn playback_is_paced_by_the_clock_and_pauses_while_a_question_is_spoken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answer.wav");
        let expected = write_wav(&path, 4);
        let speed = 10.0;
        let mut source = WavFileSource::open(&path, speed).unwrap();
        let mut out = Vec::new();

        let before_discard = Instant::now();
        source.discard_pending();
        let after_discard = Instant::now();
        let mut last_read_start = after_discard;
        while after_discard.elapsed() < Duration::from_millis(200) {
            last_read_start = Instant::now();
            assert!(source.read(&mut out, Duration::from_millis(20)).unwrap());
        }
        let played = out.len() as f64;
        assert!(played <= samples_for(before_discard.elapsed(), speed));
        assert!(played >= samples_for(last_read_start - after_discard, speed) - 1.0);

        // A question is spoken for 300 ms: none of the recording goes by meanwhile.
        std::thread::sleep(Duration::from_millis(300));
        let before_discard = Instant::now();
        source.discard_pending();
        let before_read = out.len();
        assert!(source.read(&mut out, Duration::from_millis(20)).unwrap());
        let after_question = (out.len() - before_read) as f64;
        assert!(
            after_question <= samples_for(before_discard.elapsed(), speed),
            "{after_question} samples due after the question"
        );
        assert_eq!(out[..], expected[..out.len()]);

        let mut reads_at_the_end = 0;
        while source.read(&mut out, Duration::from_millis(20)).unwrap() {
            if out.len() == expected.len() {
                reads_at_the_end += 1;
            }
        }
        assert_eq!(out, expected);
        // The read that delivers the last sample is the last to say the file is open.
        assert_eq!(reads_at_the_end, 1);
        assert!(!source.read(&mut out, Duration::from_millis(20)).unwrap());
    }

    #[test]
    fn a_file_with_no_audio_fails_to_open_and_a_cut_one_plays() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.wav");
        write_wav(&good, 2);
        let bytes = std::fs::read(&good).unwrap();
        // A file cut off mid-data plays what it has; one with no audio at all is refused.
        let truncated = dir.path().join("truncated.wav");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert!(WavFileSource::open(&truncated, 1.0).is_ok());
        let header_only = dir.path().join("header-only.wav");
        std::fs::write(&header_only, &bytes[..44]).unwrap();
        let empty = dir.path().join("empty.wav");
        write_wav(&empty, 0);
        for (path, expected) in [
            (header_only, "is damaged after 0.0 s"),
            (empty, "contains no audio"),
        ] {
            let error = match WavFileSource::open(&path, 1.0) {
                Ok(_) => panic!("{} opened", path.display()),
                Err(e) => e.to_string(),
            };
            assert!(error.contains(expected), "{error}");
        }
    }
}
