#!/usr/bin/env bash
# Load the demo reference data (data/demo/{domains,units,grids}.csv) into one district.
#   HUYING_MIGRATE_DATABASE_URL=... scripts/load-demo.sh DISTRICT_ID
# The district and its office come from `huyingd district add`. Safe to run again.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 && $1 =~ ^[0-9]+$ ]] || die "usage: scripts/load-demo.sh DISTRICT_ID"
[[ -n ${HUYING_MIGRATE_DATABASE_URL:-} ]] || die "HUYING_MIGRATE_DATABASE_URL (the owner role) is not set"
data=${HUYING_DEMO_DATA:-$REPO_ROOT/data/demo}
psql=$(psql_bin)

cd "$data"
PGOPTIONS='-c client_min_messages=warning' \
  "$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 -v district="$1" \
  -f "$REPO_ROOT/scripts/load-demo.sql"
