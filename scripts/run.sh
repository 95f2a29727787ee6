#!/usr/bin/env bash
# Sets up the machine (packages, build, model) and runs rehearse with the given arguments.
# With no arguments it runs a demo: a spoken answer synthesised with espeak-ng, transcribed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
bin="$repo/target/release/rehearse"
if [ "$#" -gt 0 ]; then
  exec "$bin" "$@"
fi
demo="$(mktemp -d)"
trap 'rm -rf "$demo"' EXIT
espeak-ng -s 150 -w "$demo/answer.wav" \
  "The time I failed was when I shipped a report with the wrong numbers. I did not check the source data myself. Since then I run a checklist before every release."
echo "==> rehearse transcribe (demo answer synthesised with espeak-ng)" >&2
"$bin" transcribe "$demo/answer.wav" --json
