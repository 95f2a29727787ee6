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
    /// Connects to the speech service; `rate` is 0..=1 of the voice's range (None: normal).
    pub fn open(rate: Option<f32>) -> Result<Self, SpeakError> {
        let mut tts = tts::Tts::default().map_err(|e| SpeakError::Unavailable(e.to_string()))?;
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
        use cpal::traits::{DeviceTrait, HostTrait};
        let _quiet = gag::Gag::stderr().ok();
        let host = cpal::default_host();
        let device = host
            .output_devices()
            .map_err(|e| SpeakError::Unavailable(e.to_string()))?
            .find(|d| d.name().is_ok_and(|n| n.contains(name)))
            .ok_or_else(|| {
                SpeakError::Unavailable(format!(
                    "no output device named {name:?}; `rehearse devices` lists them"
                ))
            })?;
        let supported = device
            .supported_output_configs()
            .map_err(|e| SpeakError::Unavailable(e.to_string()))?
            .filter(|c| c.sample_format() == cpal::SampleFormat::F32)
            .find(|c| {
                c.min_sample_rate().0 <= ESPEAK_RATE && ESPEAK_RATE <= c.max_sample_rate().0
            })
            .ok_or_else(|| {
                SpeakError::Unavailable(format!(
                    "the output device {name:?} cannot play {ESPEAK_RATE} Hz audio; choose another, e.g. \"default\" or \"pulse\""
                ))
            })?;
        let config = supported
            .with_sample_rate(cpal::SampleRate(ESPEAK_RATE))
            .config();
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
        use cpal::traits::{DeviceTrait, StreamTrait};
        let samples = self.render(text)?;
        let channels = usize::from(self.config.channels.max(1));
        let total = samples.len();
        let (mut producer, mut consumer) = rtrb::RingBuffer::<f32>::new(total.max(1));
        for s in samples {
            let _ = producer.push(s);
        }
        let (done_tx, done) = mpsc::channel();
        let done_tx = Mutex::new(done_tx);
        let stream = self
            .device
            .build_output_stream(
                &self.config,
                move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
                    for frame in out.chunks_mut(channels) {
                        let value = consumer.pop().unwrap_or(0.0);
                        frame.fill(value);
                    }
                    if consumer.is_empty() {
                        if let Ok(tx) = done_tx.lock() {
                            let _ = tx.send(());
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
        done.recv_timeout(length + Duration::from_secs(5))
            .map_err(|_| SpeakError::Failed("the output device stopped playing".to_string()))?;
        // Let the device drain its own buffer before the stream is dropped.
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    }
}
