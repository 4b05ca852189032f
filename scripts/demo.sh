#!/usr/bin/env bash
# `make demo`: dependencies, build, a private PostgreSQL in .data/pg (unless HUYING_DATABASE_URL
# is set), migrations, the demo district CD with its reference data, one token per role, then
# huyingd in the foreground on 127.0.0.1:8080 until Ctrl-C. Running it again reuses everything.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

PG_DIR=$REPO_ROOT/.data/pg
PG_PORT=54329
BIN=build/huyingd
JOBS=$(nproc 2>/dev/null || echo 2)
export HUYING_LISTEN=${HUYING_LISTEN:-127.0.0.1:8080}
step() { printf '\n==> %s\n' "$*" >&2; }

trap 'exit 130' INT
trap 'exit 143' TERM

step "dependencies"
scripts/deps.sh

step "build ($BIN)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo --log-level=WARNING
cmake --build build -j "$JOBS"

if [[ -n ${HUYING_DATABASE_URL:-} ]]; then
  [[ -n ${HUYING_MIGRATE_DATABASE_URL:-} ]] ||
    die "HUYING_DATABASE_URL is set, so HUYING_MIGRATE_DATABASE_URL (the owner role) must be set too"
  step "database: using HUYING_DATABASE_URL (not starting a private cluster)"
else
  step "database: private PostgreSQL in .data/pg (port $PG_PORT, unix socket only)"
  trap 'scripts/pg.sh stop "$PG_DIR" || true' EXIT
  scripts/pg.sh start "$PG_DIR" "$PG_PORT"
  eval "$(scripts/pg.sh urls "$PG_DIR" "$PG_PORT")"
fi

step "migrate"
"$BIN" migrate

step "demo district CD and its reference data"
out=$("$BIN" district add --code CD --name 长岛综合试验区)
printf '%s\n' "$out" >&2
district=$(sed -n 's/.*"district_id"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p' <<<"$out")
[[ -n $district ]] || die "could not read district_id from: $out"
scripts/load-demo.sh "$district" >&2

# HS256 secret for the development tokens, kept across runs.
mkdir -p .data
if [[ -z ${HUYING_JWT_SECRET:-} ]]; then
  if [[ ! -s .data/jwt-secret ]]; then
    (umask 077 && openssl rand -hex 32 >.data/jwt-secret)
  fi
  chmod 600 .data/jwt-secret
  HUYING_JWT_SECRET=$(<.data/jwt-secret)
  export HUYING_JWT_SECRET
fi

psql=$(psql_bin)
unit_id() {   # unit_id CODE -> id of that unit in the demo district
  "$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -At \
    -c "select id from huying.units where district_id = $district and code = '$1'"
}
office=$("$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -At \
  -c "select id from huying.units where district_id = $district and kind = 'district_office'")
township=$(unit_id TS-NCS)
department=$(unit_id CD-ZRZY)
[[ -n $office && -n $township && -n $department ]] || die "demo units not found in district $district"

tok_township=$("$BIN" token --role township --unit "$township")
tok_department=$("$BIN" token --role department --unit "$department")
tok_district=$("$BIN" token --role district --unit "$office")
tok_integration=$("$BIN" token --role integration --unit "$office" --system 89000)

base="http://$HUYING_LISTEN"
(umask 077 && cat >.data/demo-tokens.env <<EOF
export TOKEN_TOWNSHIP=$tok_township
export TOKEN_DEPARTMENT=$tok_department
export TOKEN_DISTRICT=$tok_district
export TOKEN_INTEGRATION=$tok_integration
EOF
)

cat <<EOF

==> tokens (HS256, valid 8h; also in .data/demo-tokens.env: source it in another shell)
# township    TS-NCS 南长山街道      unit $township
export TOKEN_TOWNSHIP=$tok_township
# department  CD-ZRZY 区自然资源局   unit $department
export TOKEN_DEPARTMENT=$tok_department
# district    CD-BGS 区工委管委办公室 unit $office
export TOKEN_DISTRICT=$tok_district
# integration CD-BGS, system 89000   unit $office
export TOKEN_INTEGRATION=$tok_integration

==> try
curl -s -H "Authorization: Bearer \$TOKEN_DISTRICT" '$base/v1/units'
curl -s -H "Authorization: Bearer \$TOKEN_TOWNSHIP" '$base/v1/units/$township'
curl -s -H "Authorization: Bearer \$TOKEN_DEPARTMENT" '$base/v1/grids?level=village'
curl -s -H "Authorization: Bearer \$TOKEN_INTEGRATION" -H 'Accept: text/csv' '$base/v1/domains'
curl -s -H "Authorization: Bearer \$TOKEN_TOWNSHIP" '$base/v1/items?q=%E6%B8%94%E8%88%B9'
curl -s -H "Authorization: Bearer \$TOKEN_DEPARTMENT" -H 'Accept: image/svg+xml' '$base/v1/items/1/flow' > flow.svg
curl -s -H "Authorization: Bearer \$TOKEN_DISTRICT" -H 'Content-Type: text/csv' --data-binary @data/demo/grids.csv '$base/v1/imports/grids?dry_run=true'
curl -s -H "Authorization: Bearer \$TOKEN_TOWNSHIP" '$base/v1/calendar/2026'
curl -s -H "Authorization: Bearer \$TOKEN_DEPARTMENT" '$base/v1/sla-policies'
curl -s '$base/readyz'
EOF

# Run the daemon as a child so that the EXIT trap (stopping the private cluster) still runs.
# Ctrl-C / SIGTERM are passed on as SIGTERM, which makes huyingd drain and exit.
"$BIN" serve &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM

# The responsibility list goes in the way a district clerk would load it: one import
# request (items with their scenarios and flowcharts), in force since 2026-01-01. A second
# run of the demo changes nothing ("unchanged": 72).
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
printf '\n==> the responsibility list (POST /v1/imports/items)\n'
curl -sS -H "Authorization: Bearer $tok_district" -H 'Content-Type: application/x-ndjson' \
     --data-binary @data/demo/items.ndjson "$base/v1/imports/items?effective_from=2026-01-01"
# The 2026 calendar (holidays and adjusted workdays 调休) the same way: every deadline is
# counted over it. Again a second run changes nothing ("unchanged": 39).
printf '\n\n==> the 2026 calendar (POST /v1/imports/calendar)\n'
curl -sS -H "Authorization: Bearer $tok_district" -H 'Content-Type: text/csv' \
     --data-binary @data/demo/calendar-2026.csv "$base/v1/imports/calendar"
printf '\n\n==> serving on %s (Ctrl-C to stop)\n' "$base"
set +e
while :; do
  wait "$pid"
  rc=$?
  kill -0 "$pid" 2>/dev/null || break
done
set -e
exit "$rc"
