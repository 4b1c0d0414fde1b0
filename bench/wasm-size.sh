#!/usr/bin/env bash
# Size of what a browser downloads to hydrate: raw and brotli (quality 11) bytes of
# target/site/pkg/*.wasm, *.js and *.css, and the WASM + JS total against the
# target (initial WASM + JS <= 250 KB brotli, KB = 1000 bytes). Prints figures only.
#   bench/wasm-size.sh              cargo leptos build --release, then measure
#   bench/wasm-size.sh --no-build   measure what target/site/pkg holds now
#   (PKG_DIR=DIR measures another directory instead of target/site/pkg)
# Brotli: the `brotli` CLI (Debian package, installed with apt-get when missing and
# allowed), else Python's `brotli` module (PyPI). See docs/benchmarks.md.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

TARGET_BYTES=250000
PKG_DIR=${PKG_DIR:-target/site/pkg} # override to measure another build
build=1
case ${1:-} in
  --no-build) build=0 ;;
  -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
  "") ;;
  *) die "usage: $0 [--no-build]" ;;
esac

have_py_brotli() { python3 -c 'import brotli' 2>/dev/null; }

ensure_brotli() {
  command -v brotli >/dev/null && return 0
  have_py_brotli && return 0
  if command -v apt-get >/dev/null; then
    local sudo=()
    ((EUID == 0)) || sudo=(sudo -n)
    log "installing the brotli CLI (apt-get install brotli)"
    if "${sudo[@]}" apt-get install -y -q brotli >/dev/null 2>&1 ||
      { "${sudo[@]}" apt-get update -q >/dev/null 2>&1 && "${sudo[@]}" apt-get install -y -q brotli >/dev/null 2>&1; }; then
      return 0
    fi
  fi
  log "installing Python's brotli module (pip install --user brotli)"
  python3 -m pip install -q --user brotli >/dev/null 2>&1 && have_py_brotli && return 0
  die "no brotli: install the 'brotli' package (apt-get install brotli) or 'pip install brotli'"
}

# brotli_bytes FILE: size of FILE compressed at quality 11 (as served precompressed).
brotli_bytes() {
  if command -v brotli >/dev/null; then
    brotli -q 11 -c -- "$1" | wc -c | tr -d ' '
  else
    python3 -c 'import brotli, sys; print(len(brotli.compress(open(sys.argv[1], "rb").read(), quality=11)))' "$1"
  fi
}

ensure_brotli

if ((build)); then
  command -v cargo-leptos >/dev/null || die "cargo-leptos not found; run scripts/setup.sh"
  log "cargo leptos build --release (wasm-opt: $(command -v wasm-opt || echo 'not on PATH, skipped by cargo-leptos'))"
  started=$SECONDS
  cargo leptos build --release
  log "release build took $((SECONDS - started)) s"
fi

shopt -s nullglob
files=("$PKG_DIR"/*.wasm "$PKG_DIR"/*.js "$PKG_DIR"/*.css)
((${#files[@]})) || die "nothing in $PKG_DIR: build the site first (run without --no-build)"

kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000 }'; }

printf '%-34s %12s %12s %12s %12s\n' file "raw bytes" "raw KB" "brotli bytes" "brotli KB"
raw_total=0 br_total=0
for f in "${files[@]}"; do
  raw=$(wc -c <"$f" | tr -d ' ')
  br=$(brotli_bytes "$f")
  printf '%-34s %12s %12s %12s %12s\n' "$f" "$raw" "$(kb "$raw")" "$br" "$(kb "$br")"
  case $f in
    *.wasm | *.js) raw_total=$((raw_total + raw)) br_total=$((br_total + br)) ;;
  esac
done
printf '%-34s %12s %12s %12s %12s\n' "WASM + JS total" "$raw_total" "$(kb "$raw_total")" "$br_total" "$(kb "$br_total")"

if ((br_total <= TARGET_BYTES)); then verdict=ok; else verdict=MISSED; fi
echo
echo "target: initial WASM + JS <= $(kb "$TARGET_BYTES") KB brotli: $verdict ($(kb "$br_total") KB)"
echo "built:  $(stat -c '%y' "${files[0]}" | cut -d. -f1) ($([[ $build == 1 ]] && echo 'cargo leptos build --release' || echo 'existing build, --no-build'))"
echo "brotli: $(command -v brotli >/dev/null && brotli --version || echo "python brotli $(python3 -c 'import brotli; print(brotli.__version__)')"), quality 11"
