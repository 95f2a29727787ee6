#!/usr/bin/env python3
"""Synthesises a spoken answer of about N minutes with espeak-ng: sentences from the labelled
corpus (tests/corpus/team), 16 kHz mono, with realistic pauses between sentences (0.3-2 s thinking
pauses, never as long as the 3 s end-of-answer silence) and 4.5 s of silence at the end.
Writes the WAV and the reference text (for word error rate). sox resamples without dither, so
every run hears the same audio and word error rates compare across runs."""
import subprocess, sys, tempfile, tomllib, wave
from pathlib import Path

minutes, out_wav, out_txt = float(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
repo = Path(__file__).resolve().parents[2]
sentences = []
for path in sorted((repo / "tests" / "corpus" / "team").glob("*.toml")):
    with open(path, "rb") as f:
        sentences += [s["text"] for s in tomllib.load(f)["sentence"]]

RATE = 16000
PAUSES = [0.35, 0.6, 0.9, 0.45, 1.4, 0.7, 2.0, 0.5]
frames, text = bytearray(), []
with tempfile.TemporaryDirectory() as tmp:
    raw, conv = Path(tmp) / "s.wav", Path(tmp) / "s16.wav"
    for i, sentence in enumerate(sentences):
        if len(frames) / 2 / RATE >= minutes * 60:
            break
        subprocess.run(["espeak-ng", "-s", "160", "-w", str(raw), sentence], check=True)
        subprocess.run(["sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", str(conv)], check=True)
        with wave.open(str(conv)) as w:
            frames += w.readframes(w.getnframes())
        frames += bytes(2 * int(PAUSES[i % len(PAUSES)] * RATE))
        text.append(sentence)
frames += bytes(2 * int(4.5 * RATE))
with wave.open(str(out_wav), "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(RATE); w.writeframes(bytes(frames))
out_txt.write_text(" ".join(text))
