#!/usr/bin/env bash
# Measures what users feel, side by side, on this machine, with one model (base, rehearse's
# default, or tiny.en with REHEARSE_BENCH_WHISPER=tiny.en) and one thread count: the wait after the answer ends
# (incremental session vs transcribing the whole answer afterwards), transcription throughput
# against faster-whisper (int8 and float32, same CTranslate2 weights, beam size 1, word
# timestamps), word error rate, peak memory, model load.
#   scripts/bench.sh            answers of 1, 3 and 5 minutes, a 10-minute session, faster-whisper;
#                               throughput is the median of 3 interleaved runs
#                               (REHEARSE_BENCH_REPEATS)
#   scripts/bench.sh --smoke    one 30 s answer, no faster-whisper: checks the bench runs (CI)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1

[ -n "${REHEARSE_BENCH_SKIP_SETUP:-}" ] || scripts/setup.sh >&2
bin="$repo/target/release/rehearse"
# REHEARSE_BENCH_WHISPER picks the Whisper model setup.sh provisions: base (rehearse's default)
# or tiny.en. Each is measured as its q8_0 conversion (what rehearse runs), its f16 conversion (what
# the 8-bit weights buy) and faster-whisper on the same CTranslate2 weights.
whisper="${REHEARSE_BENCH_WHISPER:-base}"
case "$whisper" in
  tiny.en|base) ;;
  *) echo "error: REHEARSE_BENCH_WHISPER is '$whisper'; use tiny.en or base" >&2; exit 1 ;;
esac
model="${REHEARSE_BENCH_MODEL:-$repo/models/ggml-$whisper-q8_0.bin}"
model_f16="$repo/models/ggml-$whisper.bin"
ct2="$repo/models/cache/$whisper-ct2"
# Sessions analyse each answer: the sentence model setup.sh provisions.
export REHEARSE_SENTENCE_MODEL="$repo/models/all-MiniLM-L6-v2"
threads="${REHEARSE_BENCH_THREADS:-$(nproc)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ "$smoke" = 1 ]; then
  lengths=(0.5); speed=4; session_minutes=""; repeats=1
else
  lengths=(1 3 5); speed=2; session_minutes=10; repeats="${REHEARSE_BENCH_REPEATS:-3}"
  venv="$repo/target/bench-venv"
  pins="$repo/scripts/bench/peer-requirements.txt"
  # The peer's whole environment is pinned: (re)installed whenever it differs from the pins.
  if [ ! -x "$venv/bin/python" ] \
    || ! diff -q <(grep -v '^#' "$pins" | sort -f) <("$venv/bin/pip" freeze 2>/dev/null | sort -f) >/dev/null; then
    echo "==> installing faster-whisper and its pinned dependencies into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$pins"
  fi
fi

py() { python3 "$@"; }
field() { sed -n "s/.*$1 \([0-9.]*\) ms.*/\1/p" "$2" | head -n1; }
after_end() {
  py -c 'import json,sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "report_written": print(round(e["detail"]["after_end_s"], 3)); break' "$1"
}
transcript_text() { py -c 'import json,sys; print(" ".join(w["text"] for w in json.load(open(sys.argv[1]))["words"]))' "$1"; }
ratio() { py -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.1f}x' if b>0 else '-')" "$1" "$2"; }
fmt() { py -c "import sys; print(f'{float(sys.argv[1]):.${2:-2}f}')" "$1"; }
median() { py -c "import statistics,sys; print(statistics.median(float(a) for a in sys.argv[1:]))" "$@"; }

# Whisper's threads for the runs below: the bench fixes them, so runs compare like with like.
threads_args=(--threads "$threads")
# Runs one session on a WAV (played $speed x real time) with $3 questions (default 1); prints
# "latency_s wer peak_rss_mb" for its first answer.
session_run() {
  local wav="$1" ref="$2" questions="${3:-1}" data="$work/data-$RANDOM"
  REHEARSE_DATA_DIR="$data" /usr/bin/time -f "%M" -o "$work/session.time" \
    "$bin" session --input "$wav" --input-speed "$speed" --silent --count "$questions" --max-answer 1200 \
    --model "$model" "${threads_args[@]}" >"$work/session.out" 2>"$work/session.err"
  local dir; dir="$(ls -d "$data"/sessions/*/ | head -n1)"
  transcript_text "$dir/answer-1.transcript.json" >"$work/inc.txt"
  echo "$(after_end "$dir/events.jsonl") $(py scripts/bench/wer.py "$ref" "$work/inc.txt") $(( $(cat "$work/session.time") / 1024 ))"
}

echo "rehearse benchmark: $(nproc) cores, $threads whisper threads, model $(basename "$model"), incremental input at ${speed}x real time, throughput the median of $repeats runs"
# What the int8 kernels of either engine can use on this processor.
features="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' \
  | grep -x -E 'avx2|avx512f|avx512_vnni|avx_vnni|amx_int8|amx_tile' | tr '\n' ' ' || true)"
echo "processor: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1); int8 features: ${features:-none of avx2, avx512f, avx512_vnni, avx_vnni, amx_int8}"
if [ "$smoke" = 0 ]; then
  echo "peer: $("$venv/bin/python" -c 'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ("faster-whisper", "ctranslate2", "numpy", "onnxruntime")))')"
fi
echo
printf '%-7s | %-26s | %-15s | %-47s\n' "answer" "wait after the answer ends" "word error rate" "throughput (real-time factor, lower is faster)"
printf '%-7s | %8s %8s %8s | %7s %7s | %8s %8s %8s %8s %8s\n' "" "session" "batch" "" "session" "batch" "rehearse" "f16" "fw int8" "fw f32" "vs int8"
declare -A rss load
for minutes in "${lengths[@]}"; do
  wav="$work/answer-$minutes.wav"; ref="$work/answer-$minutes.txt"
  py scripts/bench/make_answer.py "$minutes" "$wav" "$ref"
  duration="$(soxi -D "$wav")"
  # Throughput: each engine $repeats times, interleaved so drift on the machine hits all of
  # them alike; the median counts (as hyperfine reports it).
  q8_s=(); f16_s=(); int8_s=(); f32_s=()
  for ((run = 1; run <= repeats; run++)); do
    /usr/bin/time -f "%M" -o "$work/batch.time" "$bin" -v transcribe --model "$model" --threads "$threads" "$wav" \
      >"$work/batch.txt" 2>"$work/batch.log"
    q8_s+=("$(py -c "print($(field 'audio in' "$work/batch.log")/1000)")")
    if [ "$run" = 1 ]; then
      load["rehearse"]="$(field 'model loaded in' "$work/batch.log")"
      rss["transcribe ${minutes} min"]=$(( $(cat "$work/batch.time") / 1024 ))
    fi
    [ "$smoke" = 1 ] && continue
    "$bin" -v transcribe --model "$model_f16" --threads "$threads" "$wav" >/dev/null 2>"$work/f16.log"
    f16_s+=("$(py -c "print($(field 'audio in' "$work/f16.log")/1000)")")
    for ct in int8 float32; do
      "$venv/bin/python" scripts/bench/faster_whisper_run.py "$ct2" "$wav" "$ct" "$threads" >"$work/fw-$ct.json"
      seconds="$(py -c "import json; print(json.load(open('$work/fw-$ct.json'))['transcribe_s'])")"
      if [ "$ct" = int8 ]; then int8_s+=("$seconds"); else f32_s+=("$seconds"); fi
      [ "$run" = 1 ] && load["faster-whisper $ct"]="$(py -c "import json; print(round(json.load(open('$work/fw-$ct.json'))['load_s']*1000))")"
    done
  done
  batch_s="$(median "${q8_s[@]}")"
  batch_wer="$(py scripts/bench/wer.py "$ref" "$work/batch.txt")"
  read -r latency inc_wer session_rss < <(session_run "$wav" "$ref")
  rss["session ${minutes} min"]="$session_rss"
  rtf="$(py -c "print($batch_s/$duration)")"
  fw_int8="-"; fw_f32="-"; vs="-"; rtf_f16="-"
  if [ "$smoke" = 0 ]; then
    rtf_f16="$(fmt "$(py -c "print($(median "${f16_s[@]}")/$duration)")" 3)"
    fw_rtf="$(py -c "print($(median "${int8_s[@]}")/$duration)")"
    fw_int8="$(fmt "$fw_rtf" 3)"; vs="$(ratio "$fw_rtf" "$rtf")"
    fw_f32="$(fmt "$(py -c "print($(median "${f32_s[@]}")/$duration)")" 3)"
  fi
  printf '%-7s | %7ss %7ss %8s | %7s %7s | %8s %8s %8s %8s %8s\n' \
    "$(py -c "print(f'{$duration/60:.1f} min')")" "$(fmt "$latency" 3)" "$(fmt "$batch_s")" "" \
    "$(fmt "$inc_wer" 3)" "$(fmt "$batch_wer" 3)" "$(fmt "$rtf" 3)" "$rtf_f16" "$fw_int8" "$fw_f32" "$vs"
done
if [ -n "$session_minutes" ]; then
  wav="$work/answer-long.wav"; ref="$work/answer-long.txt"
  py scripts/bench/make_answer.py "$session_minutes" "$wav" "$ref"
  speed=4
  read -r _ _ session_rss < <(session_run "$wav" "$ref")
  rss["session ${session_minutes} min"]="$session_rss"
  # Memory as a session grows: the 1-minute answer again and again, 3 s apart, each answer
  # (question or follow-up) ending at the silence; every question takes two.
  sox -n -r 16000 -c 1 -b 16 "$work/gap.wav" trim 0 3
  speed=8
  for answers in 2 8; do
    parts=()
    for ((i = 0; i < answers; i++)); do parts+=("$work/answer-1.wav" "$work/gap.wav"); done
    sox "${parts[@]}" "$work/answers-$answers.wav"
    read -r _ _ session_rss < <(session_run "$work/answers-$answers.wav" "$work/answer-1.txt" $((answers / 2)))
    rss["session ${answers} answers"]="$session_rss"
  done
fi
# A busy machine: another program keeps one core busy (a loop, as a browser tab or a video
# call would). The wait after the answer and the transcription of the shortest answer with
# rehearse's default threads (the cores the other program leaves free, read before each
# transcription) and with every core (whisper.cpp's usual choice, whose spinning workers then
# stall each other).
wav="$work/answer-${lengths[0]}.wav"; ref="$work/answer-${lengths[0]}.txt"
bash -c 'while :; do :; done' &
busy=$!
trap 'kill "$busy" 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 2
echo
echo "busy machine (one core kept busy by another program), the $(fmt "$(py -c "print($(soxi -D "$wav")/60)")" 1) min answer:"
printf '  %-28s %18s %12s\n' "whisper threads" "wait after answer" "transcribe"
for choice in default all; do
  if [ "$choice" = default ]; then threads_args=(); label="default (the free cores)"
  else threads_args=(--threads "$(nproc)"); label="all $(nproc) cores (--threads)"; fi
  read -r latency _ _ < <(session_run "$wav" "$ref")
  "$bin" -v transcribe --model "$model" "${threads_args[@]}" "$wav" >/dev/null 2>"$work/busy.log"
  printf '  %-28s %17ss %11ss\n' "$label" "$(fmt "$latency" 3)" "$(fmt "$(py -c "print($(field 'audio in' "$work/busy.log")/1000)")")"
done
kill "$busy" 2>/dev/null || true
# The loop is gone: the exit trap goes back to removing the work folder (a kill of a finished
# process fails, and under `set -e` a failing trap ends the script with status 1).
trap 'rm -rf "$work"' EXIT
threads_args=(--threads "$threads")

echo
echo "peak memory (RSS, MB):"
printf '%s\n' "${!rss[@]}" | sort -t' ' -k1,1 -k2,2n | while read -r what n unit; do
  printf '  %-22s %6s\n' "$what $n $unit" "${rss["$what $n $unit"]}"
done
echo "model load (ms):"
printf '%s\n' "${!load[@]}" | sort | while read -r what; do printf '  %-22s %6s\n' "$what" "${load[$what]}"; done
if [ "$smoke" = 0 ]; then
  echo
  echo "real speech (recordings that packages ship, Whisper-style normalisation):"
  scripts/bench/real-speech.sh --model "$model" --model "$model_f16"
  echo
  echo "fillers (espeak-ng answers with 40 um/uh said; precision: transcribed fillers that were said; recall: said fillers transcribed):"
  scripts/bench/fillers.sh "$model"
fi
