#!/usr/bin/env bash
# Manage the project-local Keycloak by hand (dev.sh/test.sh do it for you).
#   scripts/keycloak.sh start|stop|status [dev|test]
# dev: .data/keycloak on 127.0.0.1:${KEYCLOAK_PORT:-8180} (management ${KEYCLOAK_MGMT_PORT:-9180});
# test: .data/keycloak-test on 8181 (9181). Admin console: admin / admin.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
use_stack "${2:-dev}"
case ${1:-} in
  start) start_keycloak; echo "OIDC_ISSUER_URL=$KEYCLOAK_URL/realms/salesops" ;;
  stop) stop_keycloak ;;
  status)
    if curl -fsS --max-time 2 "http://127.0.0.1:$KEYCLOAK_MGMT_PORT/health/ready" 2>/dev/null | grep '"UP"' >/dev/null; then
      echo "running on $KEYCLOAK_URL"
    else echo stopped; exit 3; fi ;;
  *) die "usage: $0 start|stop|status [dev|test]" ;;
esac
