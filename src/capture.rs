//! Audio capture: the microphone through cpal, or a WAV file played in real time in its place.
//!
//! The cpal callback only copies samples into a wait-free ring (rtrb): no locks, no allocation,
//! no resampling on the audio thread. The session thread drains the ring, downmixes and resamples
//! to 16 kHz mono.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::audio::{self, To16k, SAMPLE_RATE};

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

    /// Device frames lost because the session thread fell behind (the ring overflowed).
    pub fn dropped_samples(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
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
pub struct WavFileSource {
    samples: Vec<f32>,
    position: usize,
    speed: f64,
    listening_since: Instant,
    consumed_at_start: usize,
}

impl WavFileSource {
    /// `speed` 1.0 is real time; higher plays faster.
    pub fn open(path: &Path, speed: f64) -> Result<Self, CaptureError> {
        Ok(WavFileSource {
            samples: audio::read_wav_16k_mono(path)?,
            position: 0,
            speed: speed.max(0.01),
            listening_since: Instant::now(),
            consumed_at_start: 0,
        })
    }
}

impl AudioSource for WavFileSource {
    fn read(&mut self, out: &mut Vec<f32>, timeout: Duration) -> Result<bool, CaptureError> {
        if self.position >= self.samples.len() {
            return Ok(false);
        }
        std::thread::sleep(timeout.min(Duration::from_millis(20)));
        let elapsed = self.listening_since.elapsed().as_secs_f64() * self.speed;
        let due = self.consumed_at_start + (elapsed * f64::from(SAMPLE_RATE)) as usize;
        let end = due.min(self.samples.len());
        if end > self.position {
            out.extend_from_slice(&self.samples[self.position..end]);
            self.position = end;
        }
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
