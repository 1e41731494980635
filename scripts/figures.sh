#!/usr/bin/env bash
# Renders the README figures: runs each docs/figures/sources/NAME.moesim, writes its HTML timeline with the
# options on its "# figure:" line, and screenshots it with headless Chromium into docs/figures/NAME.png.
# Installs Debian's chromium package when it is missing. Usage: scripts/figures.sh [NAME…]
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
OUT=.build/figures
mkdir -p "$OUT" docs/figures

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (headless screenshots)"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi

if ! build_log=$($SWIFT build --product moesim 2>&1); then
  echo "$build_log" | grep -E "error" | head -20 >&2
  echo "figures: swift build --product moesim failed" >&2
  exit 1
fi
MOESIM="$($SWIFT build --show-bin-path)/moesim"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for file in docs/figures/sources/*.moesim; do names+=("$(basename "$file" .moesim)"); done
fi

for name in "${names[@]}"; do
  source="docs/figures/sources/$name.moesim"
  options=$(sed -n 's/^# figure: //p' "$source" | head -1)
  window=$(sed -n 's/^# window: //p' "$source" | head -1)
  window=${window:-1600x900}
  html="$OUT/$name.html"
  { cat "$source"; echo; echo "trace html $html $options"; } | "$MOESIM" run - >/dev/null
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="${window/x/,}" --screenshot="docs/figures/$name.png" "file://$PWD/$html" 2>/dev/null
  echo "docs/figures/$name.png  <- $source ($(wc -c <"$html") bytes of HTML)"
done
