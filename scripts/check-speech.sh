#!/usr/bin/env bash
# Real speech check: starts a private PulseAudio with a null sink, has `seesay speak` say a
# caption through the tts crate (speech-dispatcher + espeak-ng), records the sink's monitor,
# and fails unless the recording's RMS amplitude is above 0.01 (sox). Keeps the recording in
# target/speech-check/. Usage: scripts/check-speech.sh [TEXT]
set -euo pipefail
cd "$(dirname "$0")/.."
text=${1:-"A cup of coffee on a wooden table."}
out=target/speech-check
mkdir -p "$out"
bin=target/release/seesay
[ -x "$bin" ] || cargo build --release

# A private runtime dir: our own pulseaudio and speech-dispatcher, nothing of the user's.
export XDG_RUNTIME_DIR
XDG_RUNTIME_DIR=$(mktemp -d /tmp/seesay-speech.XXXXXX)
chmod 700 "$XDG_RUNTIME_DIR"
export PULSE_RUNTIME_PATH="$XDG_RUNTIME_DIR/pulse"
rec_pid=""
cleanup() {
  [ -n "$rec_pid" ] && kill "$rec_pid" 2>/dev/null || true
  spd_pid=$(cat "$XDG_RUNTIME_DIR"/speech-dispatcher/pid/speech-dispatcher.pid 2>/dev/null || true)
  [ -n "$spd_pid" ] && kill "$spd_pid" 2>/dev/null || true
  pulseaudio --kill 2>/dev/null || true
  rm -rf "$XDG_RUNTIME_DIR"
}
trap cleanup EXIT

pulseaudio -n --daemonize=yes --exit-idle-time=-1 --log-target=stderr \
  -L module-native-protocol-unix -L "module-null-sink sink_name=seesay_null" 2>/dev/null
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl set-default-sink seesay_null

parec -d seesay_null.monitor --format=s16le --rate=22050 --channels=1 >"$out/speech.raw" &
rec_pid=$!
sleep 0.5
echo "speaking: $text" >&2
timeout 60 "$bin" speak --timeout 30 "$text"
sleep 1
kill "$rec_pid" 2>/dev/null || true
wait "$rec_pid" 2>/dev/null || true
rec_pid=""

sox -t raw -r 22050 -e signed -b 16 -c 1 "$out/speech.raw" "$out/speech.wav"
rm -f "$out/speech.raw"
stats=$(sox "$out/speech.wav" -n stat 2>&1)
rms=$(awk '/RMS +amplitude/ {print $3}' <<<"$stats")
len=$(awk '/Length \(seconds\)/ {print $3}' <<<"$stats")
echo "recorded ${len}s, RMS amplitude $rms ($out/speech.wav)" >&2
if awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }'; then
  echo "speech check passed: the caption was spoken (RMS $rms > 0.01)"
else
  echo "speech check FAILED: the recording is silent (RMS $rms <= 0.01)" >&2
  exit 1
fi
