#!/usr/bin/env bash
# What a browser downloads to hydrate one page, raw and brotli (quality 11), against the
# target: initial WASM + JS <= 250 KB brotli (KB = 1000 bytes), for every page.
#   bench/wasm-size.sh              cargo leptos build --release, then measure
#   bench/wasm-size.sh --no-build   measure what target/site/pkg holds now
#   (PKG_DIR=DIR measures another directory instead of target/site/pkg)
# Initial WASM + JS of a page = main .wasm + main .js + split loader (__wasm_split*.js)
# + every <stem>.wasm that __wasm_split_manifest.json lists for the page's lazy
# function __<route>_route_view_<hash>. Each file is brotli'd on its own (one download
# each). Without a manifest (no --split): all *.wasm + *.js count as one initial bundle.
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
  -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
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
code=("$PKG_DIR"/*.wasm "$PKG_DIR"/*.js) # everything a user may download, every page visited
((${#code[@]})) || die "nothing in $PKG_DIR: build the site first (run without --no-build)"
manifest=$PKG_DIR/__wasm_split_manifest.json

kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000 }'; }

# Sizes per file, measured once (a chunk shared by many pages is compressed once).
declare -A RAW=() BR=()
measure() {
  [[ -v "RAW[$1]" ]] && return 0
  RAW[$1]=$(wc -c <"$1" | tr -d ' ')
  BR[$1]=$(brotli_bytes "$1")
}

# Route of a lazy function's snake name -> URL path (unknown names print as-is).
route_path() {
  case $1 in
    accounts | contacts | deals | pipeline) echo "/$1" ;;
    account | contact | deal) echo "/$1s/:id" ;;
    account_new | contact_new | deal_new) echo "/${1%_new}s/new" ;;
    account_edit | contact_edit | deal_edit) echo "/${1%_edit}s/:id/edit" ;;
    *) echo "$1" ;;
  esac
}

# Base (shell) files: every .wasm/.js except the split chunks, i.e. the main .wasm, the
# wasm-bindgen glue and the split loader; without --split, simply every .wasm/.js.
base=() loader=()
for f in "${code[@]}"; do
  case ${f##*/} in
    chunk_*.wasm | split_*.wasm) ;;
    __wasm_split*.js) loader+=("$f") ;;
    *) base+=("$f") ;;
  esac
done
base+=(${loader[@]+"${loader[@]}"}) # listed last: main .wasm, main .js, loader
row() { printf '%-40s %12s %12s %12s %12s\n' "$@"; }
echo "$PKG_DIR:"
row file "raw bytes" "raw KB" "brotli bytes" "brotli KB"
base_raw=0 base_br=0
for f in "${base[@]}" "$PKG_DIR"/*.css; do
  measure "$f"
  row "${f##*/}" "${RAW[$f]}" "$(kb "${RAW[$f]}")" "${BR[$f]}" "$(kb "${BR[$f]}")"
  case $f in
    *.wasm | *.js) base_raw=$((base_raw + RAW[$f])) base_br=$((base_br + BR[$f])) ;;
  esac
done

if [[ -f $manifest ]]; then
  row "shell WASM + JS" "$base_raw" "$(kb "$base_raw")" "$base_br" "$(kb "$base_br")"
else
  row "WASM + JS total" "$base_raw" "$(kb "$base_raw")" "$base_br" "$(kb "$base_br")"
fi

# Per page: one line "<lazy function> <stem> <stem> ..." per manifest entry whose value is
# a list (other values are skipped), sorted by name, each stem once.
pages=0 others=0
if [[ -f $manifest ]]; then
  entries=$(python3 -c '
import json, sys
with open(sys.argv[1]) as f:
    manifest = json.load(f)
if not isinstance(manifest, dict):
    sys.exit(f"{sys.argv[1]}: expected a JSON object")
for name, stems in sorted(manifest.items()):
    if isinstance(stems, list):
        print(name, *dict.fromkeys(str(s) for s in stems))
' "$manifest") || die "cannot read $manifest"

  echo
  echo "per page (initial = shell + the page's chunks, each file brotli'd on its own):"
  fmt='%-14s %-19s %6s %12s %12s %14s %14s %7s\n'
  # shellcheck disable=SC2059 # the format is ours
  printf "$fmt" route path chunks "chunks raw" "chunks br" "initial raw KB" "initial br KB" verdict
  max_br=-1 min_br=-1 max_route='' min_route='' rows=''
  while read -r name stems; do
    [[ -n $name ]] || continue
    if [[ ! $name =~ ^__(.+)_route_view(_[0-9A-Fa-f]+)?$ ]]; then
      others=$((others + 1)); continue
    fi
    route=${BASH_REMATCH[1]}
    n=0 raw=0 br=0
    for stem in $stems; do
      f=$PKG_DIR/$stem.wasm
      [[ -f $f ]] || die "$manifest lists $stem for $name, but $f is missing"
      measure "$f"
      n=$((n + 1)) raw=$((raw + RAW[$f])) br=$((br + BR[$f]))
    done
    init_raw=$((base_raw + raw)) init_br=$((base_br + br))
    if ((init_br <= TARGET_BYTES)); then verdict=ok; else verdict=MISSED; fi
    # shellcheck disable=SC2059
    rows+=$(printf "$fmt" "$route" "$(route_path "$route")" "$n" "$raw" "$br" "$(kb "$init_raw")" "$(kb "$init_br")" "$verdict")$'\n'
    pages=$((pages + 1))
    if ((init_br > max_br)); then max_br=$init_br max_route=$route; fi
    if ((min_br < 0 || init_br < min_br)); then min_br=$init_br min_route=$route; fi
  done <<<"$entries"
  printf '%s' "$rows" | LC_ALL=C sort -b -k2,2 -k1,1 # by URL path: /accounts, /accounts/:id, ...
  ((pages)) || echo "(no __<route>_route_view_<hash> function in $manifest)"
fi

all_raw=0 all_br=0
for f in "${code[@]}"; do
  measure "$f"
  all_raw=$((all_raw + RAW[$f])) all_br=$((all_br + BR[$f]))
done

echo
if [[ -f $manifest ]]; then
  echo "shell:    main WASM + JS + split loader $(kb "$base_br") KB brotli ($(kb "$base_raw") KB raw)"
  if ((pages)); then
    echo "largest:  $max_route ($(route_path "$max_route")) $(kb "$max_br") KB brotli initial"
    echo "smallest: $min_route ($(route_path "$min_route")) $(kb "$min_br") KB brotli initial"
  fi
  ((others == 0)) || echo "other:    $others lazy function(s) that are not routes, loaded when first called"
  echo "all:      ${#code[@]} .wasm + .js files (every page visited) $(kb "$all_br") KB brotli ($(kb "$all_raw") KB raw)"
fi
if [[ -f $manifest ]] && ((pages)); then
  if ((max_br <= TARGET_BYTES)); then verdict=ok; else verdict=MISSED; fi
  echo "target: initial WASM + JS <= $(kb "$TARGET_BYTES") KB brotli: $verdict (largest page: $max_route $(kb "$max_br") KB)"
else
  # No split manifest (or no route in it): the shell is the whole initial download.
  if ((base_br <= TARGET_BYTES)); then verdict=ok; else verdict=MISSED; fi
  echo "target: initial WASM + JS <= $(kb "$TARGET_BYTES") KB brotli: $verdict ($(kb "$base_br") KB)"
fi
echo "built:  $(stat -c '%y' "${base[0]:-${code[0]}}" | cut -d. -f1) ($([[ $build == 1 ]] && echo 'cargo leptos build --release' || echo 'existing build, --no-build'))"
echo "brotli: $(command -v brotli >/dev/null && brotli --version || echo "python brotli $(python3 -c 'import brotli; print(brotli.__version__)')"), quality 11"
