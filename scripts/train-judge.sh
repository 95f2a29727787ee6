#!/usr/bin/env bash
# Reproduces the judge's shipped weights from the committed corpus, in two steps:
#   1. the sentence adapter (models/sentence-adapter.safetensors): MiniLM fine-tuned with
#      low-rank adapters on the training split's sentence parts and properties (PyTorch,
#      scripts/train/finetune_adapter.py, Debian's python3-torch on the CPU);
#   2. the context model and finding models (models/judge-failure.safetensors): `rehearse-dev
#      train` over the adapted sentence vectors, which the binary embeds once rebuilt.
# About 8 + 17 minutes on 2 cores, after hearing the heard answers once (about 30 minutes;
# cached). Development only: the suite checks the recorded hashes
# (rehearse-dev/tests/corpus_eval.rs) instead of retraining.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export REHEARSE_SENTENCE_MODEL="$repo/models/all-MiniLM-L6-v2"
# The default Whisper model hears the training answers read aloud (train::HEARD_MODEL).
whisper="$repo/models/ggml-base-q8_0.bin"

if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "==> installing PyTorch (Debian's python3-torch) and OpenBLAS" >&2
  apt-get update -qq >&2
  apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread >&2
fi
# The development tools are a crate of their own (rehearse-dev), not part of the shipped binary.
bin="${CARGO_TARGET_DIR:-target}/release/rehearse-dev"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --locked --quiet -p rehearse-dev
"$bin" train tests/corpus --model "$whisper" --export-sentences "$work/sentences.jsonl" "$@"
echo "==> fine-tuning the sentence adapter" >&2
OPENBLAS_NUM_THREADS=2 /usr/bin/python3 scripts/train/finetune_adapter.py \
  "$work/sentences.jsonl" "$REHEARSE_SENTENCE_MODEL" models/sentence-adapter.safetensors
echo "==> training the context and finding models on the adapted vectors" >&2
cargo build --release --locked --quiet -p rehearse-dev
"$bin" train tests/corpus --model "$whisper" "$@"
# The binary embeds the new weights from here on.
cargo build --release --locked --quiet
