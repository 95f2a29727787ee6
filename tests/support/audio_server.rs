//! The real audio stack for end-to-end tests: PulseAudio with a virtual microphone fed from a
//! FIFO and a virtual speaker whose monitor can be recorded (scripts/audio-env.sh starts it).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

pub struct AudioServer {
    pub env: HashMap<String, String>,
}

impl AudioServer {
    /// Starts (or reuses) the server; panics with the script's output if it cannot.
    pub fn start() -> AudioServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/audio-env.sh");
        let output = Command::new("bash").arg(&script).output().unwrap();
        assert!(
            output.status.success(),
            "audio-env.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let env = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("export "))
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        AudioServer { env }
    }

    /// Environment for a program that should use this server through ALSA and PulseAudio.
    pub fn apply(&self, cmd: &mut Command) {
        for key in ["XDG_RUNTIME_DIR", "PULSE_SERVER"] {
            cmd.env(key, &self.env[key]);
        }
        cmd.env("HOME", &self.env["REHEARSE_AUDIO_HOME"]);
    }

    /// Records the virtual speaker into a WAV until the returned child is killed.
    pub fn record_speaker(&self, out: &Path) -> Child {
        let mut cmd = Command::new("parecord");
        cmd.args(["-d", "spk.monitor", "--file-format=wav"])
            .arg(out);
        self.apply(&mut cmd);
        cmd.spawn()
            .expect("parecord must be installed (scripts/setup.sh)")
    }

    /// Stops a recording of `record_speaker` with SIGTERM, not SIGKILL, so that parecord
    /// completes the WAV header, and waits for it.
    pub fn stop_recording(mut recorder: Child) {
        let _ = Command::new("kill")
            .args(["-TERM", &recorder.id().to_string()])
            .status();
        let _ = recorder.wait();
    }

    /// Opens the microphone FIFO for writing.
    pub fn microphone(&self) -> Microphone {
        Microphone::open(&PathBuf::from(&self.env["REHEARSE_MIC_FIFO"]))
    }

    /// Runs pactl against this server and returns what it printed; panics if it fails.
    pub fn pactl(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("pactl");
        cmd.args(args);
        self.apply(&mut cmd);
        let output = cmd.output().unwrap();
        assert!(output.status.success(), "pactl {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

/// A WAV converted with sox to what the microphone takes, next to it (`NAME.16k.wav`).
pub fn microphone_samples(wav: &Path) -> Vec<i16> {
    let converted = wav.with_extension("16k.wav");
    let status = Command::new("sox")
        .arg(wav)
        .args(["-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer"])
        .arg(&converted)
        .status()
        .expect("sox must be installed (scripts/setup.sh installs it)");
    assert!(status.success(), "sox could not convert {}", wav.display());
    hound::WavReader::open(&converted)
        .unwrap()
        .samples::<i16>()
        .map(|s| s.unwrap())
        .collect()
}

/// Sentences spoken by espeak-ng as the microphone delivers them, each followed by half a second
/// of silence; the WAVs go in `dir` as `NAME-I.wav`.
pub fn spoken(dir: &Path, name: &str, sentences: &[&str]) -> Vec<i16> {
    let mut samples = Vec::new();
    for (i, sentence) in sentences.iter().enumerate() {
        let raw = dir.join(format!("{name}-{i}.wav"));
        super::speech::espeak(sentence, &raw);
        samples.extend(microphone_samples(&raw));
        samples.extend(std::iter::repeat_n(0, 8_000));
    }
    samples
}

/// The virtual microphone: 16 kHz mono s16le written in real time.
pub struct Microphone {
    fifo: File,
}

impl Microphone {
    /// Opens the FIFO of a `module-pipe-source` for writing (waits until PulseAudio has it open).
    pub fn open(fifo: &Path) -> Microphone {
        Microphone {
            fifo: std::fs::OpenOptions::new().write(true).open(fifo).unwrap(),
        }
    }

    /// Plays samples into the microphone at the pace of real time (100 ms at a time).
    pub fn play(&mut self, samples: &[i16]) {
        for chunk in samples.chunks(1600) {
            let bytes: Vec<u8> = chunk.iter().flat_map(|s| s.to_le_bytes()).collect();
            self.fifo.write_all(&bytes).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn silence(&mut self, seconds: f64) {
        self.play(&vec![0; (seconds * 16_000.0) as usize]);
    }
}
