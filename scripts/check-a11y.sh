#!/usr/bin/env bash
# Screen-reader check through the real accessibility bus, the way Orca sees seesay: starts the
# app under Xvfb in a private D-Bus session with the AT-SPI bus (at-spi2-core), with
# org.a11y.Status.IsEnabled and ScreenReaderEnabled set (as a desktop running Orca sets them),
# on a folder of two pictures; scripts/check-a11y.py then walks the tree with pyatspi and
# listens to its events.
# Asserts: the window is named after the picture; no focusable node is nameless; the caption is
# a focusable node of role caption (not label: Orca 43 ignores a label's name changes) named
# with the caption; the candidates are a table with a header row; the Right arrow shows the next
# picture, its caption is announced (object:announcement) and the focused caption takes it as
# its name (what Orca 43 presents; scripts/check-orca.sh checks that Orca speaks it).
# Needs: xvfb, x11-utils, xdotool, imagemagick, at-spi2-core, python3-pyatspi (install-deps.sh).
# Usage: scripts/check-a11y.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=headless-common.sh
. scripts/headless-common.sh
out=target/a11y
bin=target/release/seesay

if [ -z "${SEESAY_A11Y_INNER:-}" ]; then
  mkdir -p "$out"
  rm -rf "${out:?}"/*
  [ -x "$bin" ] || cargo build --release
  make_pictures "$out"
  model=$(fallback_model "$bin" "$out")
  if [ -n "$model" ]; then export SEESAY_A11Y_MODEL="$model"; fi
  private_dirs seesay-a11y
  # A private session bus: the accessibility bus is started from it and dies with it.
  export SEESAY_A11Y_INNER=1
  rc=0
  dbus-run-session -- bash "$0" "$@" || rc=$?
  rm -rf "$XDG_RUNTIME_DIR"
  exit "$rc"
fi

model_args=()
[ -n "${SEESAY_A11Y_MODEL:-}" ] && model_args=(--model "$SEESAY_A11Y_MODEL")
export LIBGL_ALWAYS_SOFTWARE=1 WAYLAND_DISPLAY= SEESAY_PRINT_CAPTIONS=1 NO_AT_BRIDGE=0
display=:${SEESAY_XVFB_DISPLAY:-96}
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
xvfb_pid=$!
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
}
trap cleanup EXIT
export DISPLAY=$display
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

# Turn accessibility on (this starts the AT-SPI bus), and say a screen reader runs, as a desktop
# running Orca does (Orca 43 itself sets only IsEnabled).
status() {
  gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus \
    --method org.freedesktop.DBus.Properties.Set org.a11y.Status "$1" '<true>' >/dev/null
}
status IsEnabled
status ScreenReaderEnabled

"$bin" "${model_args[@]}" "$out/pictures/picture1.png" >"$out/app.log" 2>&1 &
app_pid=$!
rc=0
timeout 240 /usr/bin/python3 scripts/check-a11y.py "$out/app.log" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "--- app log ($out/app.log) ---" >&2
  tail -20 "$out/app.log" >&2
fi
exit "$rc"
