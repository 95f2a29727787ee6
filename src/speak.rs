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
