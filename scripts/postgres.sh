#!/usr/bin/env bash
# Manage the project-local Postgres cluster by hand (dev.sh/test.sh do it for you).
#   scripts/postgres.sh start|stop|status [dev|test]
# dev: .data/pg on 127.0.0.1:${PGPORT:-55432}; test: .data/pg-test on ${TEST_PGPORT:-55433}.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
use_stack "${2:-dev}"
case ${1:-} in
  start)
    start_postgres
    [[ $STACK == test ]] || ensure_database salesops
    echo "DATABASE_URL=$PG_URL_BASE/$([[ $STACK == test ]] && echo postgres || echo salesops)" ;;
  stop) stop_postgres ;;
  status) if pg_running; then echo "running on 127.0.0.1:$PGPORT"; else echo stopped; exit 3; fi ;;
  *) die "usage: $0 start|stop|status [dev|test]" ;;
esac
