#!/usr/bin/env bash
# Runs every cargo-fuzz target briefly from its committed seeds (fuzz/seeds/<target>), as CI
# does; any crash fails the script and leaves the input in fuzz/artifacts/<target>/.
#   scripts/fuzz-smoke.sh            # 30 s per target
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh wav_reader   # a long run of one target
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# No sanitizer: the targets are safe Rust, and instrumented whisper.cpp would only slow it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo/fuzz"
seconds="${FUZZ_SECONDS:-30}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build --sanitizer none -O
for target in "${targets[@]}"; do
  echo "==> fuzzing $target for ${seconds} s" >&2
  mkdir -p "corpus/$target"
  cargo fuzz run --sanitizer none -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
done
