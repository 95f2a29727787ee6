#!/usr/bin/env bash
# Starts a real audio stack with no sound card: a PulseAudio server with a virtual speaker
# (null sink "spk") and a virtual microphone ("mic", fed from a FIFO), ALSA routed to it.
# Prints `export` lines for the environment the tests use; safe to run again.
#   eval "$(scripts/audio-env.sh)"
set -euo pipefail
root="${REHEARSE_AUDIO_DIR:-/tmp/rehearse-audio}"
mkdir -p "$root/runtime" "$root/home"
chmod 700 "$root/runtime"
export XDG_RUNTIME_DIR="$root/runtime"
export PULSE_SERVER="unix:$root/runtime/pulse/native"
fifo="$root/mic.fifo"

if ! pactl info >/dev/null 2>&1; then
  pulseaudio -D --exit-idle-time=-1 -n -F /dev/null \
    --load="module-native-protocol-unix" \
    --load="module-null-sink sink_name=spk" 2>"$root/pulseaudio.log" || true
  for _ in $(seq 1 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  pactl info >/dev/null 2>&1 || { echo "PulseAudio did not start; see $root/pulseaudio.log" >&2; exit 1; }
fi
if ! pactl list short sources | grep -q "^[0-9]*\smic\s"; then
  rm -f "$fifo"
  pactl load-module module-pipe-source source_name=mic file="$fifo" format=s16le rate=16000 channels=1 >/dev/null
fi
pactl set-default-source mic
pactl set-default-sink spk

# ALSA (what cpal uses on Linux) goes to PulseAudio, for programs run with HOME=$root/home.
cat > "$root/home/.asoundrc" <<'ASOUND'
pcm.!default { type pulse }
ctl.!default { type pulse }
ASOUND

cat <<ENV
export XDG_RUNTIME_DIR="$root/runtime"
export PULSE_SERVER="unix:$root/runtime/pulse/native"
export REHEARSE_AUDIO_HOME="$root/home"
export REHEARSE_MIC_FIFO="$fifo"
ENV
