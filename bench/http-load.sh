#!/usr/bin/env bash
# HTTP load on a release build with wrk (Debian package): what a signed-in request costs,
# and whether an anonymous flood of /auth/login slows a signed-in user (issue 9, items 3
# and 8). Prints wrk's own output; docs/benchmarks.md records the figures.
#   bench/http-load.sh            cargo build --release -p server, then measure
#   bench/http-load.sh --no-build measure target/release/server as it is
# Runs against the test cluster (scripts/postgres.sh start test) in its own database,
# salesops_bench_http, with demo data. The session is made in the database for a demo
# manager, as a sign-in would make it; the test stack's Keycloak (port 8181, started
# here unless running) is there so that each /auth/login does its real work (store the
# attempt, redirect to Keycloak) instead of answering "sign-in unavailable".
# Runs, each DURATION (default 10s):
#   1. /healthz without the session cookie, 50 connections
#   2. /healthz with the cookie, 50 connections
#   3. the signed-in account list (/accounts), 50 connections
#   4. the account list, one connection (one user browsing): latency alone
#   5. the same while a second wrk floods /auth/login from one address (50 connections)
#   6. the same with the per-address limit lifted (a flood from many addresses): the
#      bound on sign-ins in progress (SALESOPS_LOGIN_ATTEMPTS_MAX) is what holds
# wrk's --latency prints p50/p75/p90/p99, and a one-line wrk script adds p95.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

DURATION=${DURATION:-10s}
PORT=${BENCH_HTTP_PORT:-3200}
build=1
case ${1:-} in
  --no-build) build=0 ;;
  -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
  "") ;;
  *) die "usage: $0 [--no-build]" ;;
esac

command -v wrk >/dev/null || die "wrk is missing: scripts/setup.sh installs it (apt-get install wrk)"
use_stack test
start_postgres
start_keycloak
DB=salesops_bench_http
psql "$PG_URL_BASE/postgres" -XqAc "drop database if exists $DB" >/dev/null
ensure_database "$DB"
((build)) && cargo build --release -p server
[[ -x target/release/server ]] || die "target/release/server is missing (run without --no-build)"

LOG=$LOG_DIR/bench-http.log
start_server() { # $1 = extra env assignments
  env DATABASE_URL="$PG_URL_BASE/$DB" SALESOPS_SEED_DEMO=true LEPTOS_SITE_ADDR=127.0.0.1:$PORT \
    SALESOPS_PUBLIC_URL=http://127.0.0.1:$PORT OIDC_ISSUER_URL="$KEYCLOAK_URL/realms/salesops" \
    OIDC_CLIENT_SECRET=salesops-dev-secret RUST_LOG=warn \
    LEPTOS_SITE_ROOT=target/site "$@" target/release/server >>"$LOG" 2>&1 &
  SERVER_PID=$!
  wait_for_url "http://127.0.0.1:$PORT/readyz" 120 "" "$SERVER_PID" || { tail -n 30 "$LOG" >&2; exit 1; }
}
stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
cleanup() { stop_server; if ((KC_STARTED)); then stop_keycloak; fi; }
trap cleanup EXIT

start_server
# A session for the demo manager, as a sign-in makes it (the cookie holds the token,
# the table its SHA-256).
TOKEN=bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
psql "$PG_URL_BASE/$DB" -Xq -v ON_ERROR_STOP=1 -c "
  insert into sessions (token_hash, user_id, id_token, expires_at)
  select '$HASH', id, 'bench', now() + interval '1 hour' from users
  where 'sales-manager' = any(roles) order by username limit 1"
COOKIE="Cookie: salesops_session=$TOKEN"
URL=http://127.0.0.1:$PORT
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "$COOKIE" "$URL/accounts") == 200 ]] ||
  die "the bench session does not reach /accounts"

# wrk prints p50/p75/p90/p99; this makes it print p95 as well (the targets' percentile).
P95_SCRIPT=$LOG_DIR/bench-http-p95.lua
echo 'done = function(summary, latency, requests) io.write(string.format("     95%%  %.2fms\n", latency:percentile(95) / 1000)) end' >"$P95_SCRIPT"
run() { echo; echo "== $1"; shift; wrk -s "$P95_SCRIPT" "$@"; }
run "1. /healthz, no cookie" -t2 -c50 -d"$DURATION" --latency "$URL/healthz"
run "2. /healthz, with the session cookie" -t2 -c50 -d"$DURATION" --latency -H "$COOKIE" "$URL/healthz"
run "3. signed-in account list, 50 connections" -t2 -c50 -d"$DURATION" --latency -H "$COOKIE" "$URL/accounts"
run "4. signed-in account list, one connection" -t1 -c1 -d"$DURATION" --latency -H "$COOKIE" "$URL/accounts"

flood() { # while one user browses, 50 connections hammer /auth/login
  echo; echo "-- one /auth/login before the flood answers $(curl -s -o /dev/null -w '%{http_code}' "$URL/auth/login")"
  wrk -t1 -c50 -d"$DURATION" "$URL/auth/login" >"$LOG_DIR/bench-http-flood.txt" 2>&1 &
  local flood_pid=$!
  run "$1" -t1 -c1 -d"$DURATION" --latency -H "$COOKIE" "$URL/accounts"
  wait "$flood_pid"
  echo "-- the flood itself:"; cat "$LOG_DIR/bench-http-flood.txt"
  psql "$PG_URL_BASE/$DB" -XtAc "select 'sign-in attempts stored: ' || count(*) from login_attempts"
}
flood "5. account list, one connection, under a /auth/login flood from one address"
stop_server
psql "$PG_URL_BASE/$DB" -Xqc "delete from login_attempts"
start_server SALESOPS_LOGIN_RATE_PER_MINUTE=100000000
flood "6. the same, per-address limit lifted (many addresses)"
