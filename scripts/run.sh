#!/usr/bin/env bash
# Sets up the machine (packages, build, model) and runs rehearse: a mock interview session by
# default, or `rehearse ARGS...` when arguments are given.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
bin="$repo/target/release/rehearse"
if [ "$#" -eq 0 ]; then
  set -- session
fi
exec "$bin" "$@"
