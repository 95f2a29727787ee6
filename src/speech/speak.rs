//! Speaking to the candidate: the system's text-to-speech through the `tts` crate
//! (speech-dispatcher with espeak-ng on Linux), or printed text when speech is unavailable.

use std::sync::{mpsc, Mutex};
use std::time::Duration;

/// Why speaking failed.
#[derive(Debug, thiserror::Error)]
pub enum SpeakError {
    #[error("text-to-speech is unavailable: {0}")]
    Unavailable(String),
    #[error("text-to-speech failed: {0}")]
    Failed(String),
    #[error("the speech service has no voice named {wanted:?}; it has {available}")]
    NoSuchVoice { wanted: String, available: String },
}

/// What sounds a cue (`--nudge tone`). Ringing must not block the live loop, and a tone that
/// cannot play is not worth interrupting an answer for: it returns nothing.
pub trait Chime: Send {
    fn ring(&mut self);
}

/// Anything that can say a line to the candidate and return once it has been said.
pub trait Voice {
    fn say(&mut self, text: &str) -> Result<(), SpeakError>;
}

/// The system's speech service.
pub struct SystemVoice {
    tts: tts::Tts,
    finished: mpsc::Receiver<()>,
}

impl SystemVoice {
    /// Connects to the speech service; `rate` is 0..=1 of the voice's range (None: normal);
    /// `voice` picks the first voice whose name contains it, ignoring case (None: the default).
    pub fn open(rate: Option<f32>, voice: Option<&str>) -> Result<Self, SpeakError> {
        let mut tts = tts::Tts::default().map_err(|e| SpeakError::Unavailable(e.to_string()))?;
        if let Some(wanted) = voice {
            choose_voice(&mut tts, wanted)?;
        }
        if let Some(rate) = rate {
            let value = tts.min_rate() + (tts.max_rate() - tts.min_rate()) * rate.clamp(0.0, 1.0);
            tts.set_rate(value)
                .map_err(|e| SpeakError::Unavailable(e.to_string()))?;
        }
        let (done_tx, finished) = mpsc::channel();
        let done_tx = Mutex::new(done_tx);
        let stop_tx = Mutex::new(
            done_tx
                .lock()
                .map_err(|e| SpeakError::Unavailable(e.to_string()))?
                .clone(),
        );
        tts.on_utterance_end(Some(Box::new(move |_| {
            if let Ok(tx) = done_tx.lock() {
                let _ = tx.send(());
            }
        })))
        .map_err(|e| SpeakError::Unavailable(e.to_string()))?;
        tts.on_utterance_stop(Some(Box::new(move |_| {
            if let Ok(tx) = stop_tx.lock() {
                let _ = tx.send(());
            }
        })))
        .map_err(|e| SpeakError::Unavailable(e.to_string()))?;
        Ok(SystemVoice { tts, finished })
    }
}

fn choose_voice(tts: &mut tts::Tts, wanted: &str) -> Result<(), SpeakError> {
    let voices = tts
        .voices()
        .map_err(|e| SpeakError::Unavailable(format!("cannot list voices: {e}")))?;
    let needle = wanted.to_lowercase();
    match voices
        .iter()
        .find(|v| v.name().to_lowercase().contains(&needle))
    {
        Some(found) => tts
            .set_voice(found)
            .map_err(|e| SpeakError::Unavailable(format!("cannot choose a voice: {e}"))),
        None => {
            // Speech-dispatcher lists every language with every variant: show the plain ones.
            let mut names: Vec<String> = voices.iter().map(|v| v.name()).collect();
            names.sort();
            names.dedup();
            let plain: Vec<&String> = names.iter().filter(|n| !n.contains('+')).collect();
            let examples: Vec<&str> = plain.iter().take(8).map(|n| n.as_str()).collect();
            let available = format!("{} voices, e.g. {}", names.len(), examples.join(", "));
            Err(SpeakError::NoSuchVoice {
                wanted: wanted.to_string(),
                available,
            })
        }
    }
}

impl Voice for SystemVoice {
    fn say(&mut self, text: &str) -> Result<(), SpeakError> {
        while self.finished.try_recv().is_ok() {}
        self.tts
            .speak(text, true)
            .map_err(|e| SpeakError::Failed(e.to_string()))?;
        // Generous bound: slow voices speak about 8 characters a second.
        let limit = Duration::from_secs(5) + Duration::from_millis(130 * text.len() as u64);
        self.finished.recv_timeout(limit).map_err(|_| {
            SpeakError::Failed("the speech service did not finish speaking".to_string())
        })
    }
}

/// espeak-ng renders speech at this rate.
const ESPEAK_RATE: u32 = 22_050;

/// Speaks through a chosen output device: espeak-ng renders the line, cpal plays it. Used when
/// the user picks an output device, which the system speech service cannot be told.
pub struct DeviceVoice {
    device: cpal::Device,
    config: cpal::StreamConfig,
    words_per_minute: u32,
}

impl DeviceVoice {
    /// Opens the output device whose name contains `name` (as `rehearse devices` lists it).
    pub fn open(name: &str, words_per_minute: u32) -> Result<Self, SpeakError> {
        let (device, config) = output_device(Some(name))?;
        Ok(DeviceVoice {
            device,
            config,
            words_per_minute,
        })
    }

    /// Renders `text` to mono samples with espeak-ng. It writes a file rather than stdout:
    /// its stdout WAV has no length in the header.
    fn render(&self, text: &str) -> Result<Vec<f32>, SpeakError> {
        let path = std::env::temp_dir().join(format!("rehearse-voice-{}.wav", std::process::id()));
        let output = std::process::Command::new("espeak-ng")
            .args(["-s", &self.words_per_minute.to_string(), "-w"])
            .arg(&path)
            .arg(text)
            .output()
            .map_err(|e| SpeakError::Unavailable(format!("cannot run espeak-ng: {e}")))?;
        let samples = if output.status.success() {
            hound::WavReader::open(&path)
                .and_then(|reader| {
                    reader
                        .into_samples::<i16>()
                        .map(|s| s.map(|v| f32::from(v) / 32_768.0))
                        .collect::<Result<Vec<f32>, _>>()
                })
                .map_err(|e| SpeakError::Failed(format!("espeak-ng gave broken audio: {e}")))
        } else {
            Err(SpeakError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ))
        };
        let _ = std::fs::remove_file(&path);
        samples
    }
}

impl Voice for DeviceVoice {
    fn say(&mut self, text: &str) -> Result<(), SpeakError> {
        let samples = self.render(text)?;
        play(&self.device, &self.config, samples)
    }
}

/// The output device whose name contains `name` (the system's default without one), set up to
/// play mono f32 audio at `ESPEAK_RATE`.
fn output_device(name: Option<&str>) -> Result<(cpal::Device, cpal::StreamConfig), SpeakError> {
    use cpal::traits::{DeviceTrait, HostTrait};
    let _quiet = gag::Gag::stderr().ok();
    let host = cpal::default_host();
    let shown = name.unwrap_or("default");
    let device = match name {
        Some(name) => host
            .output_devices()
            .map_err(|e| SpeakError::Unavailable(e.to_string()))?
            .find(|d| d.name().is_ok_and(|n| n.contains(name))),
        None => host.default_output_device(),
    }
    .ok_or_else(|| {
        SpeakError::Unavailable(format!(
            "no output device named {shown:?}; `rehearse devices` lists them"
        ))
    })?;
    let supported = device
        .supported_output_configs()
        .map_err(|e| SpeakError::Unavailable(e.to_string()))?
        .filter(|c| c.sample_format() == cpal::SampleFormat::F32)
        .find(|c| c.min_sample_rate().0 <= ESPEAK_RATE && ESPEAK_RATE <= c.max_sample_rate().0)
        .ok_or_else(|| {
            SpeakError::Unavailable(format!(
                "the output device {shown:?} cannot play {ESPEAK_RATE} Hz audio; choose another, e.g. \"default\" or \"pulse\""
            ))
        })?;
    let config = supported
        .with_sample_rate(cpal::SampleRate(ESPEAK_RATE))
        .config();
    Ok((device, config))
}

/// Plays mono samples at `ESPEAK_RATE` on every channel of `device`, until they are done.
fn play(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    samples: Vec<f32>,
) -> Result<(), SpeakError> {
    use cpal::traits::{DeviceTrait, StreamTrait};
    let channels = usize::from(config.channels.max(1));
    let total = samples.len();
    let (mut producer, mut consumer) = rtrb::RingBuffer::<f32>::new(total.max(1));
    for s in samples {
        let _ = producer.push(s);
    }
    let rate = f64::from(config.sample_rate.0);
    // Sent once, when the last sample is handed over: how long until the device has played it
    // (its buffer's latency, and the samples of this last callback).
    let (done_tx, done) = mpsc::channel::<Duration>();
    let done_tx = Mutex::new(done_tx);
    let mut told = false;
    let stream = device
        .build_output_stream(
            config,
            move |out: &mut [f32], info: &cpal::OutputCallbackInfo| {
                let mut frames = 0usize;
                for frame in out.chunks_mut(channels) {
                    let value = consumer.pop().unwrap_or(0.0);
                    frame.fill(value);
                    frames += 1;
                }
                if consumer.is_empty() && !told {
                    told = true;
                    let when = info.timestamp();
                    let latency = when
                        .playback
                        .duration_since(&when.callback)
                        .unwrap_or_default();
                    if let Ok(tx) = done_tx.lock() {
                        let _ = tx.send(latency + Duration::from_secs_f64(frames as f64 / rate));
                    }
                }
            },
            |_| {},
            None,
        )
        .map_err(|e| SpeakError::Failed(e.to_string()))?;
    stream
        .play()
        .map_err(|e| SpeakError::Failed(e.to_string()))?;
    let length = Duration::from_secs_f64(total as f64 / f64::from(ESPEAK_RATE));
    let still_playing = done
        .recv_timeout(length + Duration::from_secs(5))
        .map_err(|_| SpeakError::Failed("the output device stopped playing".to_string()))?;
    // Dropping the stream throws away what the device has not played yet: wait until the last
    // sample has left its buffer (a buffer of half a second cut a quarter-second tone short).
    std::thread::sleep(still_playing.max(Duration::from_millis(200)) + Duration::from_millis(100));
    Ok(())
}

/// The live nudge's tone (`--nudge tone`): a soft, short 660 Hz note with gentle edges, played on
/// its own thread so the answer's capture never waits for it.
pub struct Tone {
    device: cpal::Device,
    config: cpal::StreamConfig,
}

impl Tone {
    /// Seconds the tone lasts, and its loudness (full scale is 1): a glance, not an alarm.
    const SECONDS: f64 = 0.25;
    const LOUDNESS: f32 = 0.15;
    const HERTZ: f64 = 660.0;
    /// Fade in and out, so the tone starts and ends without a click.
    const EDGE_S: f64 = 0.03;

    /// The output device named `name` (as for the questions), else the system's default.
    pub fn open(name: Option<&str>) -> Result<Tone, SpeakError> {
        let (device, config) = output_device(name)?;
        Ok(Tone { device, config })
    }

    /// The tone's samples at `ESPEAK_RATE`.
    pub fn samples() -> Vec<f32> {
        let rate = f64::from(ESPEAK_RATE);
        let count = (Self::SECONDS * rate) as usize;
        (0..count)
            .map(|i| {
                let t = i as f64 / rate;
                let edge = (t / Self::EDGE_S)
                    .min((Self::SECONDS - t) / Self::EDGE_S)
                    .clamp(0.0, 1.0);
                (edge * (2.0 * std::f64::consts::PI * Self::HERTZ * t).sin()) as f32
                    * Self::LOUDNESS
            })
            .collect()
    }
}

impl Chime for Tone {
    fn ring(&mut self) {
        let (device, config) = (self.device.clone(), self.config.clone());
        std::thread::spawn(move || {
            // A tone that cannot play is dropped: the cue is in the live line either way.
            let _ = play(&device, &config, Tone::samples());
        });
    }
}
