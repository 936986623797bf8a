# Sourced by the headless checks (check-a11y.sh, check-orca.sh): two test pictures, the model
# to run, and private XDG directories, so that nothing touches the user's own settings, audio
# server or screen reader.

# make_pictures DIR: two different pictures in DIR/pictures (opening the first makes the
# arrows browse the folder).
make_pictures() {
  mkdir -p "$1/pictures"
  convert -size 320x240 gradient:orange-navy "$1/pictures/picture1.png"
  convert -size 320x240 plasma:fractal -seed 3 "$1/pictures/picture2.png" 2>/dev/null \
    || convert -size 320x240 gradient:green-white "$1/pictures/picture2.png"
}

# fallback_model BIN DIR: prints nothing when BIN has a trained bundled model; otherwise
# writes a small untrained one (random words) to DIR/untrained-model and prints its path.
fallback_model() {
  if ! "$1" caption "$2/pictures/picture1.png" >/dev/null 2>&1; then
    SEESAY_WRITE_TEST_MODEL="$PWD/$2/untrained-model" \
      cargo test --release --test app write_test_model_for_scripts -- --ignored --quiet >&2
    echo "$PWD/$2/untrained-model"
  fi
}

# private_dirs NAME: a fresh XDG_RUNTIME_DIR (mode 700) holding the config, data and cache
# directories. Made before the private bus, whose services (dconf, which keeps the
# accessibility switches) must not write into the user's own settings.
private_dirs() {
  XDG_RUNTIME_DIR=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR XDG_CONFIG_HOME="$XDG_RUNTIME_DIR/config"
  export XDG_DATA_HOME="$XDG_RUNTIME_DIR/data" XDG_CACHE_HOME="$XDG_RUNTIME_DIR/cache"
}
