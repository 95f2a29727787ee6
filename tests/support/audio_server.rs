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

    /// Opens the microphone FIFO for writing.
    pub fn microphone(&self) -> Microphone {
        let path = PathBuf::from(&self.env["REHEARSE_MIC_FIFO"]);
        Microphone {
            fifo: std::fs::OpenOptions::new().write(true).open(path).unwrap(),
        }
    }
}

/// The virtual microphone: 16 kHz mono s16le written in real time.
pub struct Microphone {
    fifo: File,
}

impl Microphone {
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
