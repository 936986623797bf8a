#!/usr/bin/env bash
# Installs the system packages seesay needs on Debian/Ubuntu, and Rust if it is missing.
#   build:   pkg-config, clang/libclang (bindgen for speech-dispatcher), libspeechd (tts),
#            xcb/xrandr/dbus/pipewire/wayland/egl/gbm headers (xcap screenshots, the window)
#   run:     speech-dispatcher + espeak-ng (the voice), mesa (OpenGL),
#            tesseract-ocr + tesseract-ocr-eng (reading text; tesseract-ocr pulls in the library,
#            libtesseract5 on Debian 12 / Ubuntu 24.04). seesay opens the library at run time,
#            so libtesseract-dev (headers) is not needed to build, and without it seesay still runs.
#            zenity (the file dialog where there is no desktop portal)
#   tests:   xvfb, x11-utils, pulseaudio(-utils: parec, pactl), sox, xdotool, imagemagick (real window and speech checks)
#            dbus, at-spi2-core, libglib2.0-bin (gdbus), python3-pyatspi (the screen-reader check)
#            orca, matchbox-window-manager (the Orca check: a real screen reader, a window manager)
set -euo pipefail
packages=(
  pkg-config clang libclang-dev libspeechd-dev
  libxcb1-dev libxcb-randr0-dev libxcb-shm0-dev libxrandr-dev libdbus-1-dev
  libpipewire-0.3-dev libwayland-dev libegl-dev libgbm-dev libxkbcommon-dev
  speech-dispatcher speech-dispatcher-espeak-ng espeak-ng libgl1-mesa-dri
  tesseract-ocr tesseract-ocr-eng
  zenity
  xvfb x11-utils pulseaudio pulseaudio-utils sox xdotool imagemagick
  dbus at-spi2-core libglib2.0-bin python3-pyatspi
  orca matchbox-window-manager
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust from https://rustup.rs (rustup), then run this again" >&2
  exit 1
fi
