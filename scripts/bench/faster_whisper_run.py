#!/usr/bin/env python3
"""Times faster-whisper on one WAV: model load, then transcription with beam size 1 and word
timestamps, CPU, the given compute type and thread count. Prints one JSON line."""
import json, sys, time

ct2_dir, wav, compute_type, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
started = time.perf_counter()
from faster_whisper import WhisperModel  # noqa: E402  (import time counts as load time)
model = WhisperModel(ct2_dir, device="cpu", compute_type=compute_type, cpu_threads=threads)
loaded = time.perf_counter()
segments, info = model.transcribe(wav, beam_size=1, word_timestamps=True, language="en",
                                  condition_on_previous_text=False)
text = " ".join(s.text.strip() for s in segments)
done = time.perf_counter()
print(json.dumps({"load_s": loaded - started, "transcribe_s": done - loaded,
                  "duration_s": info.duration, "text": text}))
