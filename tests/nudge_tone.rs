//! `--nudge tone`: the live nudge's tone plays on a real output device (the PulseAudio server's
//! virtual speaker, recorded back), soft and short, without holding up the caller.

mod support;

use std::time::{Duration, Instant};

use rehearse::speech::speak::{Chime, Tone};
use support::audio_server::AudioServer;
use support::speech;

#[test]
fn the_nudge_tone_is_a_soft_short_note_on_the_output_device() {
    let server = AudioServer::start();
    // This process plays through the server as a session would (the only test in this file).
    for key in ["XDG_RUNTIME_DIR", "PULSE_SERVER"] {
        std::env::set_var(key, &server.env[key]);
    }
    std::env::set_var("HOME", &server.env["REHEARSE_AUDIO_HOME"]);
    let work = tempfile::tempdir().unwrap();
    let recorded = work.path().join("speaker.wav");
    let speaker = server.record_speaker(&recorded);
    std::thread::sleep(Duration::from_secs(1));

    let mut tone = Tone::open(Some("pulse")).expect("the virtual speaker opens");
    let started = Instant::now();
    tone.ring();
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "ringing waited for the tone: {:?}",
        started.elapsed()
    );
    // The tone reaches the virtual speaker's monitor up to a second after it is rung, and the
    // recorder loses what it still buffers when it is stopped: 2 s here cut the tone short about
    // one run in six.
    std::thread::sleep(Duration::from_secs(4));
    AudioServer::stop_recording(speaker);

    let (spec, samples) = speech::read_wav(&recorded);
    let channels = usize::from(spec.channels);
    let mono: Vec<f64> = samples
        .chunks(channels)
        .map(|frame| f64::from(frame[0]) / 32_768.0)
        .collect();
    let rate = f64::from(spec.sample_rate);
    // Where the tone is: 10 ms windows louder than near-silence.
    let window = (rate / 100.0) as usize;
    let loud: Vec<usize> = mono
        .chunks(window)
        .enumerate()
        .filter(|(_, w)| (w.iter().map(|s| s * s).sum::<f64>() / w.len() as f64).sqrt() > 0.01)
        .map(|(i, _)| i)
        .collect();
    assert!(!loud.is_empty(), "nothing played");
    let seconds = (loud[loud.len() - 1] - loud[0] + 1) as f64 / 100.0;
    assert!((0.15..=0.4).contains(&seconds), "tone lasted {seconds} s");
    let sound = &mono[loud[0] * window..(loud[loud.len() - 1] + 1) * window];
    let peak = sound.iter().fold(0.0f64, |m, s| m.max(s.abs()));
    assert!(peak < 0.3, "a soft tone, not an alarm: peak {peak}");
    // Its pitch from the zero crossings: about 660 Hz.
    let crossings = sound
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    let hertz = crossings as f64 / 2.0 / (sound.len() as f64 / rate);
    assert!((600.0..=720.0).contains(&hertz), "pitch {hertz} Hz");
}
