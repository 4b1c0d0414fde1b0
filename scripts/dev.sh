#!/usr/bin/env bash
# Command one: run SalesOps locally with demo data.
#   scripts/dev.sh [cargo-leptos watch args...]
# Loads .env if present, installs what is missing, starts Postgres (.data/pg,
# 127.0.0.1:55432) and Keycloak (.data/keycloak, 127.0.0.1:8180) unless
# DATABASE_URL / OIDC_ISSUER_URL point elsewhere, then runs `cargo leptos watch`
# on http://127.0.0.1:3000 (the server migrates and loads demo data itself). Demo users: see keycloak/salesops-realm.json,
# password salesops-demo. Ctrl-C stops everything this script started.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_dotenv "$ROOT/.env"
"$ROOT/scripts/setup.sh"
use_stack dev

PG_STARTED=0 KC_STARTED=0 APP_PID=''
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $APP_PID ]]; then stop_group "$APP_PID" 10; fi
  if ((KC_STARTED)); then stop_keycloak; fi
  if ((PG_STARTED)); then stop_postgres; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

if [[ ${DATABASE_URL:-$PG_URL_BASE/salesops} == "$PG_URL_BASE/salesops" && -z ${DATABASE_URL_FILE:-} ]]; then
  start_postgres
  ensure_database salesops
  export DATABASE_URL=$PG_URL_BASE/salesops
fi
external_oidc || start_keycloak
export_app_env "${SALESOPS_PUBLIC_URL:-http://127.0.0.1:3000}"
export SALESOPS_SEED_DEMO=${SALESOPS_SEED_DEMO:-true}

log "starting SalesOps: ${SALESOPS_PUBLIC_URL} (Ctrl-C stops everything)"
cd "$ROOT"
# Own process group so cleanup can stop cargo-leptos together with the server it runs.
setsid cargo leptos watch "$@" </dev/null &
APP_PID=$!
wait "$APP_PID"
