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
