#!/usr/bin/env bash
# Real window check: runs the seesay window under Xvfb (mesa, software OpenGL), once with no
# picture and once with a picture on the command line; waits until the app reports the caption
# it shows (SEESAY_PRINT_CAPTIONS=1 prints "caption: ..." when the caption is put on screen);
# screenshots the screen (ImageMagick `import -window root`) into target/app-window/; and checks
# that the captioned screen differs from the empty one where the caption and the word/candidate
# panel are drawn.
#
# What this proves: a real X11 window opened with OpenGL, the worker loaded a model and captioned
# the picture, the app put that caption in its state for drawing, and the screen's caption band and
# details panel changed. It does not read the text back (no OCR is installed): look at
# target/app-window/captioned.png to see it.
# Usage: scripts/check-app-window.sh [IMAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/app-window
mkdir -p "$out"
rm -f "$out"/*.png "$out"/*.log
bin=target/release/seesay
[ -x "$bin" ] || cargo build --release

image=${1:-assets/examples/coffee.jpg}
if [ ! -f "$image" ]; then
  image="$out/test-picture.png"
  convert -size 640x480 plasma:fractal -seed 7 "$image" 2>/dev/null \
    || convert -size 640x480 gradient:orange-navy "$image"
fi

# Use the bundled model when it is trained; otherwise a small untrained one (random words).
model_args=()
if ! "$bin" caption "$image" >/dev/null 2>&1; then
  model_dir="$out/untrained-model"
  rm -rf "$model_dir"
  SEESAY_WRITE_TEST_MODEL="$PWD/$model_dir" \
    cargo test --release --test app write_test_model_for_scripts -- --ignored --quiet >&2
  model_args=(--model "$model_dir")
  echo "bundled model not usable; using an untrained test model" >&2
fi

export XDG_RUNTIME_DIR
XDG_RUNTIME_DIR=$(mktemp -d /tmp/seesay-window.XXXXXX)
chmod 700 "$XDG_RUNTIME_DIR"
# Settings must not leak between runs: a fresh config dir.
export XDG_CONFIG_HOME="$XDG_RUNTIME_DIR/config" XDG_DATA_HOME="$XDG_RUNTIME_DIR/data"
export LIBGL_ALWAYS_SOFTWARE=1 WAYLAND_DISPLAY= SEESAY_PRINT_CAPTIONS=1
display=:${SEESAY_XVFB_DISPLAY:-97}
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
xvfb_pid=$!
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$XDG_RUNTIME_DIR"
}
trap cleanup EXIT
export DISPLAY=$display
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

# run NAME TIMEOUT PATTERN ARGS...: start the app, wait for PATTERN in its log, screenshot.
run() {
  local name=$1 timeout=$2 pattern=$3
  shift 3
  : >"$out/$name.log"
  "$bin" "${model_args[@]}" "$@" >"$out/$name.log" 2>&1 &
  app_pid=$!
  local waited=0
  until grep -q "$pattern" "$out/$name.log"; do
    if ! kill -0 "$app_pid" 2>/dev/null; then
      echo "the app exited early:" >&2; cat "$out/$name.log" >&2; exit 1
    fi
    sleep 0.5; waited=$((waited + 1))
    if [ "$waited" -gt $((timeout * 2)) ]; then
      echo "timed out waiting for '$pattern':" >&2; cat "$out/$name.log" >&2; exit 1
    fi
  done
  xdotool mousemove 1279 799 2>/dev/null || true # no tooltip under the pointer
  sleep 2 # let it draw the frame after the event
  import -window root "$out/$name.png"
  kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""
}

run empty 120 '^model: '
run captioned 180 '^caption: ' "$image"
caption=$(grep -m1 '^caption: ' "$out/captioned.log" | cut -d' ' -f2-)
echo "the app shows the caption: $caption" >&2

# Pixels that differ between the two screens: whole screen, the caption band under the toolbar,
# and the right-hand details panel (words and candidates), which exists only with a caption.
diff_in() {
  # compare exits 1 when the images differ, which is what we hope for.
  { compare -metric AE -fuzz 5% -extract "$1" "$out/empty.png" "$out/captioned.png" null: 2>&1 || true; } \
    | awk '{print int($1)}'
}
whole=$(diff_in 1280x800+0+0)
band=$(diff_in 640x70+0+40)
panel=$(diff_in 360x300+740+40)
echo "changed pixels: screen $whole, caption band $band, details panel $panel" >&2
if [ "$whole" -gt 5000 ] && [ "$band" -gt 500 ] && [ "$panel" -gt 500 ]; then
  echo "window check passed: $out/captioned.png shows \"$caption\""
else
  echo "window check FAILED: the screen did not change where the caption is drawn" >&2
  exit 1
fi
