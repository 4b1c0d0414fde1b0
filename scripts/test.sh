#!/usr/bin/env bash
# Command two: run every test against a throwaway stack that never collides with dev.
#   scripts/test.sh                     fmt, sqlx cache and clippy checks, Rust tests,
#                                       then build + browser tests
#   scripts/test.sh --only-rust [ARGS]  only `cargo test -p kit -p app -p server ARGS`
#                                       (e.g. --only-rust -p server import -- --nocapture)
#   scripts/test.sh --only-e2e [ARGS]   only build + `playwright test ARGS`
#                                       (e.g. --only-e2e tests/login.spec.ts --headed)
# Stack: Postgres .data/pg-test on 127.0.0.1:55433, exported as
#   TEST_DATABASE_URL=postgres://salesops@127.0.0.1:55433/postgres (maintenance db:
#   each integration test creates its own database); Keycloak .data/keycloak-test on
#   127.0.0.1:8181 (management 9181), realm re-imported every run; the built server on
#   127.0.0.1:3100 with a fresh database salesops_e2e and demo data.
# Playwright gets SALESOPS_URL, SALESOPS_URL_2 (second instance, port 3102), KEYCLOAK_URL
# and DATABASE_URL (the e2e database). A preset TEST_DATABASE_URL / OIDC_ISSUER_URL
# is used instead of starting the local service. Logs: .data/logs/.
# Prints a summary; exits non-zero if any step failed. Stops everything it started.
# shellcheck disable=SC2317  # functions below are invoked through step/trap
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

mode=all
case ${1:-} in
  --only-rust) mode=rust; shift ;;
  --only-e2e) mode=e2e; shift ;;
  -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
  "") ;;
  *) die "arguments need --only-rust or --only-e2e first (see $0 --help)" ;;
esac

"$ROOT/scripts/setup.sh"
use_stack test
cd "$ROOT"

# Builds read sqlx's committed query cache (.sqlx/), never a database, even if
# DATABASE_URL is set in the caller's environment; only sqlx_check below compiles online.
export SQLX_OFFLINE=true

APP_PORT=3100
export SALESOPS_URL=http://127.0.0.1:$APP_PORT SALESOPS_URL_2=http://127.0.0.1:3102

PG_STARTED=0 KC_STARTED=0 APP_PID='' FAILED=0 SUMMARY=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $APP_PID ]]; then stop_group "$APP_PID" 10; fi
  if ((KC_STARTED)); then stop_keycloak; fi
  if ((PG_STARTED)); then stop_postgres; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

# record NAME ok|skip|RC
record() {
  case $2 in
    0 | ok) SUMMARY+=("  ok    $1") ;;
    skip) SUMMARY+=("  skip  $1") ;;
    *) SUMMARY+=("  FAIL  $1"); FAILED=1 ;;
  esac
}
# step NAME CMD...: run CMD, record its result, return its status.
step() {
  local name=$1 rc=0; shift
  log "$name"
  "$@" || rc=$?
  record "$name" "$rc"
  return "$rc"
}

# Not --workspace: that would build `app` with both ssr and hydrate at once.
rust_tests() { cargo test -p kit -p app -p server "$@" 2>&1 | tee "$LOG_DIR/cargo-test.log"; }

# Not given DATABASE_URL: sqlx's compile-time checks must not see the test cluster.
build() { cargo leptos build 2>&1 | tee "$LOG_DIR/leptos-build.log"; }

# The committed query cache (.sqlx/) must match the queries and the migrations:
# recompile `app`'s server side (the only crate with query macros; its browser build
# has none) against a freshly migrated throwaway database and compare.
# After changing a query: scripts/postgres.sh start test, create and migrate a
# database, then `cargo sqlx prepare --workspace -D <its URL> -- -p app --features ssr`.
sqlx_check() {
  local db=salesops_sqlx_check rc=0 url
  url=${TEST_DATABASE_URL%/*}/$db
  PGOPTIONS='-c client_min_messages=warning' psql "$TEST_DATABASE_URL" -Xq -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" || return 1
  { cargo sqlx migrate run --source migrations --database-url "$url" &&
    cargo sqlx prepare --check --workspace --database-url "$url" -- -p app --features ssr; } 2>&1 |
    tee "$LOG_DIR/sqlx-check.log" || rc=$? # pipefail: cargo's status, not tee's
  PGOPTIONS='-c client_min_messages=warning' psql "$TEST_DATABASE_URL" -Xq \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  return "$rc"
}

# Hygiene the whole run enforces: formatting, and clippy with warnings as errors
# for both builds of `app` (the server build with the tests' features, so it
# shares their compiled dependencies; the browser build for wasm32).
fmt_check() { cargo fmt --all --check 2>&1 | tee "$LOG_DIR/fmt.log"; }
clippy_server() {
  cargo clippy -p kit -p app -p server --tests --benches -- -D warnings 2>&1 | tee "$LOG_DIR/clippy-server.log"
}
clippy_wasm() {
  cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings 2>&1 | tee "$LOG_DIR/clippy-wasm.log"
}

e2e_db_url() { echo "${TEST_DATABASE_URL%/*}/salesops_e2e"; }

start_server() {
  local log=$LOG_DIR/server-e2e.log
  if curl -s --max-time 2 -o /dev/null "$SALESOPS_URL/"; then
    log "port $APP_PORT is already in use (a leftover server?)"; return 1
  fi
  PGOPTIONS='-c client_min_messages=warning' psql "$TEST_DATABASE_URL" -Xq -v ON_ERROR_STOP=1 \
    -c 'DROP DATABASE IF EXISTS salesops_e2e WITH (FORCE)' -c 'CREATE DATABASE salesops_e2e' || return 1
  : >"$log"
  DATABASE_URL=$(e2e_db_url) SALESOPS_SEED_DEMO=true LEPTOS_SITE_ADDR=127.0.0.1:$APP_PORT \
    LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=salesops \
    start_group "$log" "${CARGO_TARGET_DIR:-target}/debug/server"
  APP_PID=$GROUP_PID
  wait_for_url "$SALESOPS_URL/readyz" 120 "" "$APP_PID" || { tail -n 30 "$log" >&2; return 1; }
}

e2e_tests() {
  (cd end2end && DATABASE_URL=$(e2e_db_url) npx --no-install playwright test "$@") 2>&1 |
    tee "$LOG_DIR/playwright.log"
}

# --- the stack
if [[ -z ${TEST_DATABASE_URL:-} ]]; then
  start_postgres
  export TEST_DATABASE_URL=$PG_URL_BASE/postgres
fi
if external_oidc; then KEYCLOAK_URL=${OIDC_ISSUER_URL%/realms/*}; else start_keycloak; fi
export KEYCLOAK_URL
export_app_env "$SALESOPS_URL"
# Every Playwright sign-in comes from 127.0.0.1: the per-client limit (30 a
# minute by default) would throttle the suite, not an attacker.
export SALESOPS_LOGIN_RATE_PER_MINUTE=${SALESOPS_LOGIN_RATE_PER_MINUTE:-1000}
# Sessions ask Keycloak again every 3 s instead of 5 minutes, so the test of a
# role removed in Keycloak sees it take effect within seconds.
export SALESOPS_SESSION_REVALIDATE_SECS=${SALESOPS_SESSION_REVALIDATE_SECS:-3}

# --- the tests
if [[ $mode == all ]]; then
  step "format (cargo fmt --check)" fmt_check || true
  step "sqlx query cache (cargo sqlx prepare --check)" sqlx_check || true
  step "clippy, server build (-D warnings)" clippy_server || true
  step "clippy, browser build (-D warnings)" clippy_wasm || true
fi
if [[ $mode != e2e ]]; then
  step "Rust tests (cargo test -p kit -p app -p server)" rust_tests "$@" || true
fi
if [[ $mode != rust ]]; then
  if step "build (cargo leptos build)" build && step "start server on $SALESOPS_URL" start_server; then
    if [[ -n $(find end2end/tests \( -name '*.spec.*' -o -name '*.test.*' \) 2>/dev/null) ]]; then
      step "browser tests (playwright)" e2e_tests "$@" || true
    else
      log "no browser tests in end2end/tests yet"; record "browser tests (none written yet)" skip
    fi
  else
    record "browser tests" skip
  fi
fi

log "summary"
printf '%s\n' "${SUMMARY[@]}"
exit "$FAILED"
