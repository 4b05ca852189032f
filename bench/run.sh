#!/usr/bin/env bash
# `make bench`: huyingd's hot paths next to their ceilings, in one run (DESIGN §8).
#
#   bash bench/run.sh
#
# Builds build/huyingd and bench_hello, starts a throwaway PostgreSQL cluster (bench/out/pg,
# port 54349, unix socket only), migrates, loads the demo district plus $BENCH_UNITS bulk
# department units, starts huyingd (as a copy, bench/out/hyb-daemon) on 127.0.0.1:18080 and bench_hello (plain civetweb, fixed
# ~600-byte JSON) on 127.0.0.1:18081 (civetweb's header API) and :18082 (one mg_write, like
# huyingd's http.c), imports the demo list (POST /v1/imports/items), seeds $BENCH_CALLS
# historical calls with their orders and events (bench/calls-data.sql, as the owner), then
# measures with wrk, for each client count:
#   hello one-write                          the HTTP ceiling (one mg_write per answer, as huyingd)
#   hello                                    civetweb's header API (information only)
#   GET /v1/items/{id}                       item read (ZRZY-01 with its scenarios and flow)
#   GET /v1/units/{id}                       a small read (a department's own unit)
#   GET /v1/orders?status=dispatched&limit=20  the department inbox (the department with the
#                                            most dispatched orders)
#   POST /v1/calls                           a township's call (bench/call-body.json: ZRZY-01,
#                                            lead + 2 cooperating departments, auto-dispatch)
# and with pgbench the same SQL as each daemon path (extracted from server/items.c,
# server/ref.c, server/orders.c, server/calls.c and server/db.c at run time), through
# huying_api, one pipeline = one implicit transaction per request like the daemon, the
# daemon's session settings (generic plans). Reads are measured first, on the seeded data;
# then the creates, each run followed by a reset (the calls it made are deleted) so that every
# create run starts from the same data. During every wrk run `ss` reads each wrk connection's
# received bytes twice (1 s after the start, 2.5 s before the end): a connection that
# received nothing in between was starved; at the same moments /proc gives the CPU each part
# (huyingd, its backends, the rest of the cluster, wrk; or pgbench and its backends) spent per
# request. During the create runs pg_stat_activity is sampled for what the sessions wait for.
# Information-only runs ($BENCH_INFO): pgbench of the inbox with custom plans, of the inbox and
# the create with jit = off, of the create at 1 client and at the daemon's pool size. Then it
# saves the plans of the inbox and the nested statements of api.call_create() (auto_explain)
# in bench/out/calls-explain.txt, times a bulk import of ~100,000 grid cells (bench/grids.sh) twice
# (inserts, then unchanged), and saves EXPLAIN plans of the keyword search over
# $BENCH_SEARCH_ITEMS synthetic items (bench/search-*.sql) in bench/out/search-explain.txt.
# Prints one table and the DESIGN §8 verdicts; raw outputs go to bench/out/. Everything it
# started is stopped and the cluster destroyed on exit, failure included.
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_CLIENTS ("16 64"), BENCH_UNITS (2000),
# BENCH_CALLS (200000 seeded calls), BENCH_INFO (1; 0 skips the information-only runs),
# BENCH_JIT (unset: the server's default, as the daemon runs; off or on: ALTER ROLE huying_api),
# BENCH_WRK_THREADS (2), BENCH_PG_SKIP (2), BENCH_DB_POOL (huyingd's default),
# BENCH_API_PORT (18080), BENCH_HELLO_PORT (18081; one-write mode on the next port),
# BENCH_PG_PORT (54349), BENCH_GRID_VILLAGES (100 per township), BENCH_GRIDS_PER_VILLAGE (124),
# BENCH_SEARCH_ITEMS (20000; 0 skips the EXPLAIN part).
set -euo pipefail
export LC_ALL=C
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO_ROOT"

DURATION=${BENCH_DURATION:-10s}
CLIENTS=${BENCH_CLIENTS:-"16 64"}
UNITS=${BENCH_UNITS:-2000}
CALLS=${BENCH_CALLS:-200000}
INFO=${BENCH_INFO:-1}
JIT=${BENCH_JIT:-}
[[ -z $JIT || $JIT == on || $JIT == off ]] || { echo "BENCH_JIT is on, off or unset" >&2; exit 2; }
GRID_VILLAGES=${BENCH_GRID_VILLAGES:-100}
GRIDS_PER_VILLAGE=${BENCH_GRIDS_PER_VILLAGE:-124}
SEARCH_ITEMS=${BENCH_SEARCH_ITEMS:-20000}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
PG_SKIP=${BENCH_PG_SKIP:-2}
API_PORT=${BENCH_API_PORT:-18080}
HELLO_PORT=${BENCH_HELLO_PORT:-18081}
HELLO1_PORT=$((HELLO_PORT + 1))
PG_PORT=${BENCH_PG_PORT:-54349}
OUT=bench/out
PG_DIR=$OUT/pg
RAW=$OUT/raw
BIN=build/huyingd
JOBS=$(nproc 2>/dev/null || echo 2)
INBOX_QUERY='status=dispatched&limit=20'
START=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

step() { printf '==> %s\n' "$*" >&2; }
for tool in wrk pgbench curl jq perl gcc cmake ss; do
  command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install wrk postgresql-client-15 curl jq iproute2)"
done
PGBENCH=$PGBIN/pgbench
[[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench)
psql=$(psql_bin)

# Nothing else may answer on our ports: we would measure it instead.
for p in "$API_PORT" "$HELLO_PORT" "$HELLO1_PORT"; do
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then
    die "something already listens on 127.0.0.1:$p (set BENCH_API_PORT / BENCH_HELLO_PORT)"
  fi
done

# ---- cleanup: whatever happens, stop what we started and destroy the cluster ---------------
daemon_pid='' hello_pid='' hello1_pid=''
stop_pid() {   # stop_pid PID: TERM, up to 10 s, then KILL
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$daemon_pid"
  stop_pid "$hello_pid"
  stop_pid "$hello1_pid"
  bash scripts/pg.sh destroy "$PG_DIR" >/dev/null 2>&1 || log "bench: could not destroy $PG_DIR"
  ((rc == 0)) || log "bench: failed (exit $rc); raw outputs in $OUT/"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$RAW"
mkdir -p "$RAW"

# ---- 1. build ------------------------------------------------------------------------------
step "build (build/, $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' build/CMakeCache.txt 2>/dev/null || echo new))"
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo --log-level=WARNING >"$RAW/cmake.log" 2>&1 ||
    { cat "$RAW/cmake.log" >&2; die "cmake configure failed"; }
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' build/CMakeCache.txt)
if grep -q '^HUYING_SANITIZE:BOOL=ON' build/CMakeCache.txt || [[ $build_type == Debug || -z $build_type ]]; then
  log "bench: WARNING: build/ is configured as '${build_type:-none}' (sanitize: $(sed -n 's/^HUYING_SANITIZE:BOOL=//p' build/CMakeCache.txt)); the figures will not mean much"
fi
cmake --build build -j "$JOBS" --target huyingd >"$RAW/build.log" 2>&1 ||
  { tail -n 40 "$RAW/build.log" >&2; die "building huyingd failed"; }
# bench_hello: the CMake target when the tree knows it (reconfigure once: the target only
# exists when bench/hello.c did at configure time), else compiled directly.
if cmake --build build -j "$JOBS" --target bench_hello >>"$RAW/build.log" 2>&1 ||
   { cmake -S . -B build --log-level=WARNING >>"$RAW/build.log" 2>&1 &&
     cmake --build build -j "$JOBS" --target bench_hello >>"$RAW/build.log" 2>&1; }; then
  HELLO=build/bench_hello
else
  HELLO=$OUT/bench_hello
  gcc -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE bench/hello.c -lcivetweb -lpthread -o "$HELLO" ||
    die "compiling bench/hello.c failed"
fi

# ---- 2. database ---------------------------------------------------------------------------
step "throwaway cluster $PG_DIR (port $PG_PORT), migrate, demo district, $UNITS bulk units"
bash scripts/pg.sh destroy "$PG_DIR" >/dev/null 2>&1 || true
bash scripts/pg.sh start --fast "$PG_DIR" "$PG_PORT" 2>"$RAW/pg-start.log" ||
  { cat "$RAW/pg-start.log" >&2; die "could not start PostgreSQL"; }
eval "$(bash scripts/pg.sh urls "$PG_DIR" "$PG_PORT")"
# Only what this run sets: no config file, default pool, no separate metrics listener.
unset HUYING_CONFIG HUYING_DB_POOL HUYING_METRICS_LISTEN HUYING_CORS_ORIGINS HUYING_JWT_ISS HUYING_JWT_AUD \
  HUYING_JWT_ALG HUYING_JWT_PUBLIC_KEY_FILE HUYING_STATEMENT_TIMEOUT_MS HUYING_IMPORT_TIMEOUT_MS HUYING_IMPORT_LIMIT \
  HUYING_REQUEST_TIMEOUT_MS
export HUYING_JWT_SECRET
HUYING_JWT_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

"$BIN" migrate >"$RAW/migrate.log" 2>&1 || { cat "$RAW/migrate.log" >&2; die "migrate failed"; }
district_out=$("$BIN" district add --code CD --name 长岛综合试验区)
district=$(jq -er .district_id <<<"$district_out") || die "district add printed: $district_out"
bash scripts/load-demo.sh "$district" >"$RAW/load-demo.log" 2>&1 ||
  { cat "$RAW/load-demo.log" >&2; die "load-demo failed"; }
owner_sql() { "$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
owner_sql -v district="$district" -v n="$UNITS" >/dev/null <<'SQL'
insert into huying.units (district_id, code, kind, name, parent_id, phone)
select :district, format('BENCH-%s', lpad(i::text, 4, '0')), 'department', format('压测部门%s', i),
       (select id from huying.units where district_id = :district and kind = 'district_office'),
       format('0535-%s', lpad((20000000 + i)::text, 8, '0'))
  from generate_series(1, :n) i;
vacuum analyze huying.units;
SQL
units_total=$(owner_sql -c "select count(*) from huying.units where district_id = $district")
dept=$(owner_sql -c "select id from huying.units where district_id = $district and code = 'CD-ZRZY'")
[[ -n $dept ]] || die "demo unit CD-ZRZY not found in district $district"
office=$(owner_sql -c "select id from huying.units where district_id = $district and kind = 'district_office'")

# A department token, and the claims JSON the daemon sets from it (server/auth.c builds
# {"sub","role","unit_id","district"} in that order, no spaces).
claims_of() {   # claims_of TOKEN: the claims JSON as the daemon passes it to auth.begin()
  local payload
  payload=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
  while (( ${#payload} % 4 )); do payload+='='; done
  base64 -d <<<"$payload" | jq -c '{sub, role, unit_id, district}' || die "cannot read the token's claims"
}
token=$("$BIN" token --role department --unit "$dept")
claims=$(claims_of "$token")
# Imports need the district role (the office's token).
district_token=$("$BIN" token --role district --unit "$office")

# BENCH_JIT=off|on: jit for huying_api's sessions (ALTER ROLE in this throwaway cluster), the
# daemon's and pgbench's alike, to measure what that setting would change. Unset: the server's
# default, as the daemon runs today.
if [[ -n $JIT ]]; then
  bash scripts/pg.sh psql "$PG_DIR" "$PG_PORT" -X -q -v ON_ERROR_STOP=1 -c "alter role huying_api set jit = $JIT" >/dev/null ||
    die "could not set jit for huying_api"
fi
jit_default=$(bash scripts/pg.sh psql "$PG_DIR" "$PG_PORT" -X -At -c 'show jit')

# ---- 3. servers ----------------------------------------------------------------------------
step "huyingd on 127.0.0.1:$API_PORT (128 threads, pool ${BENCH_DB_POOL:-default}), bench_hello on 127.0.0.1:$HELLO_PORT"
# The per-subject rate limit stays on (its cost is part of the hot path) but so high that
# one token's load is never refused: a 429 is not what we measure.
# BENCH_DB_POOL overrides the pool size for experiments (default: the daemon's own default).
# The daemon runs as a copy named bench/out/hyb-daemon: on a shared machine a `pkill huyingd`
# of someone else's test run would otherwise end the measurement half-way (it happened).
cp "$BIN" "$OUT/hyb-daemon"
env HUYING_LISTEN="127.0.0.1:$API_PORT" HUYING_THREADS=128 HUYING_LOG_LEVEL=warn \
  HUYING_RATE_LIMIT=1000000 HUYING_RATE_BURST=1000000 ${BENCH_DB_POOL:+HUYING_DB_POOL=$BENCH_DB_POOL} "$OUT/hyb-daemon" serve >"$RAW/huyingd.log" 2>&1 &
daemon_pid=$!
"$HELLO" "127.0.0.1:$HELLO_PORT" 128 headers >"$RAW/hello.log" 2>&1 &
hello_pid=$!
"$HELLO" "127.0.0.1:$HELLO1_PORT" 128 one-write >"$RAW/hello1.log" 2>&1 &
hello1_pid=$!
API=http://127.0.0.1:$API_PORT
HELLO_URL=http://127.0.0.1:$HELLO_PORT/
HELLO1_URL=http://127.0.0.1:$HELLO1_PORT/
UNIT_URL=$API/v1/units/$dept
for ((i = 0; ; i++)); do
  if curl -sf -o /dev/null "$API/readyz" && curl -sf -o /dev/null "$HELLO_URL" && curl -sf -o /dev/null "$HELLO1_URL"; then
    break
  fi
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$RAW/huyingd.log" >&2; die "huyingd exited"; }
  kill -0 "$hello_pid" 2>/dev/null || { cat "$RAW/hello.log" >&2; die "bench_hello exited"; }
  kill -0 "$hello1_pid" 2>/dev/null || { cat "$RAW/hello1.log" >&2; die "bench_hello (one-write) exited"; }
  ((i < 100)) || die "huyingd or bench_hello not ready after 10 s"
  sleep 0.1
done
# The responsibility list goes in through the API, as a district clerk would load it (the
# same request as scripts/demo.sh): the full demo list, in force since 2026-01-01.
code=$(curl -s -o "$RAW/import-items.json" -w '%{http_code}' -H "Authorization: Bearer $district_token" \
  -H 'Content-Type: application/x-ndjson' --data-binary @data/demo/items.ndjson \
  "$API/v1/imports/items?effective_from=2026-01-01")
[[ $code == 200 ]] || die "POST /v1/imports/items answered $code: $(head -c 400 "$RAW/import-items.json")"
items_total=$(jq -er '.inserted' "$RAW/import-items.json") || die "unexpected import answer: $(head -c 400 "$RAW/import-items.json")"
item_id=$(owner_sql -c "select id from huying.items where district_id = $district and code = 'ZRZY-01'")
[[ -n $item_id ]] || die "demo item ZRZY-01 not found after the import"
ITEM_URL=$API/v1/items/$item_id
# The answers we are about to measure, once, checked and kept.
fetch() {   # fetch NAME URL [TOKEN]: 200 or die; body in $RAW/NAME.json
  local code
  code=$(curl -s -o "$RAW/$1.json" -w '%{http_code}' ${3:+-H "Authorization: Bearer $3"} "$2")
  [[ $code == 200 ]] || die "GET $2 answered $code: $(head -c 400 "$RAW/$1.json")"
}
fetch hello "$HELLO_URL"
fetch hello1 "$HELLO1_URL"
cmp -s "$RAW/hello.json" "$RAW/hello1.json" || die "the two bench_hello modes answer different bodies"
fetch item "$ITEM_URL" "$token"
[[ $(jq -r '.code' "$RAW/item.json") == ZRZY-01 && $(jq '.scenarios | length' "$RAW/item.json") -gt 0 ]] ||
  die "GET $ITEM_URL did not answer ZRZY-01 with its scenarios"
fetch unit "$UNIT_URL" "$token"

# ---- historical calls -------------------------------------------------------------------------
# $CALLS calls of the past year with their orders and events, written by the owner in a few
# INSERT ... SELECT statements (bench/calls-data.sql), then VACUUM ANALYZE, so that the inbox
# and the create path meet tables of a realistic size and statistics.
step "seeding $CALLS historical calls with their orders and events (bench/calls-data.sql)"
t0=$(date +%s.%N)
owner_sql -v district="$district" -v n="$CALLS" -f bench/calls-data.sql >"$RAW/calls-data.log" 2>&1 ||
  { cat "$RAW/calls-data.log" >&2; die "seeding the calls failed"; }
t1=$(date +%s.%N)
# The whole database, not only the new rows: the items imported a moment ago have no
# statistics yet either, and a plan made without them (and kept until autovacuum happens to
# analyze) would decide the figures of whichever path runs first.
PGOPTIONS='-c client_min_messages=error' owner_sql -c 'vacuum analyze' >/dev/null
t2=$(date +%s.%N)
read -r seed_calls seed_orders seed_events seed_dispatched < <(owner_sql -F ' ' -c "select
  (select count(*) from huying.calls where district_id = $district), (select count(*) from huying.orders where district_id = $district),
  (select count(*) from huying.events where district_id = $district and subject_type in ('call', 'order')),
  (select count(*) from huying.orders where district_id = $district and status = 'dispatched')")
seed_time=$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.1f s + vacuum analyze %.1f s", b - a, c - b }')
printf '    %s calls, %s orders (%s dispatched), %s events in %s\n' "$seed_calls" "$seed_orders" "$seed_dispatched" \
  "$seed_events" "$seed_time" >&2
# The highest ids after seeding: reset_calls deletes whatever a create run added above them.
read -r max_call max_order max_event < <(owner_sql -F ' ' -c "select (select coalesce(max(id), 0) from huying.calls),
  (select coalesce(max(id), 0) from huying.orders), (select coalesce(max(id), 0) from huying.events)")
# The owner may read every session's state (for quiesce and the wait samples below).
bash scripts/pg.sh psql "$PG_DIR" "$PG_PORT" -X -q -c 'grant pg_read_all_stats to huying_owner' >/dev/null
quiesce() {   # until no huying_api session has been busy for 0.3 s (the daemon drains its queue after wrk has gone)
  local i quiet=0
  for ((i = 0; i < 600 && quiet < 3; i++)); do
    if [[ $(owner_sql -c "select count(*) from pg_stat_activity where usename = 'huying_api' and state <> 'idle'") == 0 ]]; then
      quiet=$((quiet + 1))
    else
      quiet=0
    fi
    sleep 0.1
  done
  ((quiet >= 3)) || die "huying_api sessions still busy 60 s after the load"
}
reset_calls() {   # the calls, orders and events of the create runs go; the seeded data stays
  quiesce
  # As the cluster's superuser with session_replication_role = replica, i.e. without the
  # foreign-key triggers: orders.rework_of (a reference to orders) has no index, so every
  # deleted order would otherwise scan all orders for one that reworks it (minutes for a
  # run's worth). Nothing seeded refers to the rows going.
  bash scripts/pg.sh psql "$PG_DIR" "$PG_PORT" -X -q -v ON_ERROR_STOP=1 -v c="$max_call" -v o="$max_order" \
    -v e="$max_event" >/dev/null <<'SQL' || die "could not reset the calls"
set session_replication_role = replica;
delete from huying.events where id > :e;
delete from huying.orders where id > :o;
delete from huying.calls where id > :c;
reset session_replication_role;
vacuum huying.events, huying.orders, huying.calls, huying.call_counters;
SQL
}

# The inbox: the department with the most dispatched orders, with its own token.
read -r inbox_dept inbox_code inbox_n < <(owner_sql -F ' ' -c "select o.department_id, u.code, count(*)
  from huying.orders o join huying.units u on u.id = o.department_id
 where o.district_id = $district and o.status = 'dispatched' group by 1, 2 order by 3 desc, 1 limit 1")
[[ -n ${inbox_dept:-} ]] || die "no dispatched orders after seeding (BENCH_CALLS=$CALLS)"
inbox_token=$("$BIN" token --role department --unit "$inbox_dept")
inbox_claims=$(claims_of "$inbox_token")
INBOX_URL="$API/v1/orders?$INBOX_QUERY"
fetch inbox "$INBOX_URL" "$inbox_token"
[[ $(jq '.data | length' "$RAW/inbox.json") == 20 && $(jq '[.data[] | select(.status == "dispatched" and .department_id == '"$inbox_dept"')] | length' "$RAW/inbox.json") == 20 ]] ||
  die "the inbox did not answer 20 dispatched orders of $inbox_code"

# The create: a township's call (TS-NCS) naming ZRZY-01, whose lead and cooperating
# departments get their orders at once; no Idempotency-Key.
township=$(owner_sql -c "select id from huying.units where district_id = $district and code = 'TS-NCS'")
[[ -n $township ]] || die "demo unit TS-NCS not found"
township_token=$("$BIN" token --role township --unit "$township")
township_claims=$(claims_of "$township_token")
CALL_BODY=$(jq -c . bench/call-body.json) || die "bench/call-body.json is not JSON"
CREATE_URL=$API/v1/calls
code=$(curl -s -o "$RAW/create.json" -w '%{http_code}' -H "Authorization: Bearer $township_token" \
  -H 'Content-Type: application/json' --data-binary "$CALL_BODY" "$CREATE_URL")
[[ $code == 201 ]] || die "POST /v1/calls answered $code: $(head -c 400 "$RAW/create.json")"
create_orders=$(jq '.orders | length' "$RAW/create.json")
[[ $(jq -r .status "$RAW/create.json") == dispatched && $create_orders -ge 2 ]] ||
  die "POST /v1/calls did not dispatch the call to a lead and cooperating departments: $(head -c 400 "$RAW/create.json")"

# ---- the daemon's SQL, for pgbench ------------------------------------------------------------
# Taken from the sources at run time so that it cannot drift: the statements of server/items.c
# and server/ref.c (after the preprocessor, for REVISION_AT and DB_LIST_JSON), server/orders.c
# and server/calls.c, auth.begin and the session settings from server/db.c, and the statement
# timeout's default from server/config.c. $N becomes :pN.
stmt_sql() {   # stmt_sql FILE STMT_NAME [cpp] [nparams]: the SQL text (or parameter count) of DB_STMT("STMT_NAME", ...)
  local src
  if [[ ${3:-} == cpp ]]; then src=$(gcc -E -P -D_GNU_SOURCE -Iserver "$1"); else src=$(<"$1"); fi
  perl -0777 -e '
    my ($name, $what, $src) = @ARGV;
    $src =~ /(?:DB_STMT\s*\(|\{)\s*"\Q$name\E"\s*,(.*?),\s*(\d+)\s*(?:,\s*0\s*\}|\))\s*;/s or exit 1;
    if ($what eq "nparams") { print $2; exit 0 }
    my $s = join "", ($1 =~ /"((?:[^"\\]|\\.)*)"/g);
    $s =~ s/\\(.)/$1/g;
    print $s;' "$2" "${4:-sql}" "$src" || die "cannot find statement $2 in $1 (bench/run.sh extracts it; update the pattern)"
}
# The query parameter names of a list handler, in the order of its statement's parameters
# (handlers pass {limit, cursor, v[2], v[3], ...}: the names[] array's order).
handler_names() {   # handler_names FILE FUNCTION
  perl -0777 -e '
    my ($fn, $src) = @ARGV;
    $src =~ /\nvoid\s+\Q$fn\E\s*\(http_req \*r\)\s*\{(.*?)\n\}/s or exit 1;
    my $body = $1;
    $body =~ /names\[\]\s*=\s*\{(.*?)\}/s or exit 1;
    my @names = ($1 =~ /"([^"]*)"/g);
    $body =~ /params\[\]\s*=\s*\{(.*?)\}/s or exit 1;
    my @params = split /,/, $1;
    exit 2 if @params != @names;
    print join(" ", @names);' "$2" "$(<"$1")" || die "cannot read the query names of $2 in $1 (bench/run.sh; update the pattern)"
}
begin_sql=$(stmt_sql server/db.c auth_begin)
item_sql=$(stmt_sql server/items.c items_get cpp)
get_sql=$(stmt_sql server/ref.c units_get cpp)
inbox_sql=$(stmt_sql server/orders.c orders_list cpp)
inbox_nparams=$(stmt_sql server/orders.c orders_list cpp nparams)
create_sql=$(stmt_sql server/calls.c calls_create cpp)
create_nparams=$(stmt_sql server/calls.c calls_create cpp nparams)
[[ $begin_sql == *'auth.begin($1, $2)'* ]] || die "unexpected auth.begin statement: $begin_sql"
# The daemon's session settings (db_init's "set name = value;" list) and its statement timeout,
# as PGOPTIONS for pgbench; application_name aside.
STATEMENT_TIMEOUT=$(perl -ne 'print $1 if /"HUYING_STATEMENT_TIMEOUT_MS",\s*"(\d+)"/' server/config.c)
[[ -n $STATEMENT_TIMEOUT ]] || die "cannot find HUYING_STATEMENT_TIMEOUT_MS's default in server/config.c"
SESSION_OPTS=$(perl -0777 -e '
  my ($t, $src) = @ARGV;
  $src =~ /snprintf\s*\(\s*pool\.session_sql\s*,[^,]*,(.*?)\)\s*;/s or exit 1;
  my $f = join "", ($1 =~ /"((?:[^"\\]|\\.)*)"/g);
  $f =~ s/%d/$t/g;
  my @o;
  while ($f =~ /set\s+(\w+)\s*=\s*(\x27[^\x27]*\x27|[^;]+?)\s*(?:;|$)/g) {
    my ($k, $v) = ($1, $2);
    $v =~ s/^\x27|\x27$//g;
    push @o, "-c $k=$v" unless $k eq "application_name";
  }
  print join " ", @o;' "$STATEMENT_TIMEOUT" "$(<server/db.c)") || die "cannot read the session settings in server/db.c"
[[ $SESSION_OPTS == *plan_cache_mode=* ]] || die "unexpected session settings in server/db.c: $SESSION_OPTS"

# The daemon's parameters. pgbench cannot send NULL. Where the SQL has a value that stands for
# NULL and keeps it a parameter, that is sent: the item read's `at` (coalesce($2::date,
# api.today())) is today's date. Elsewhere a NULL parameter $N becomes nullif(:pN, 'null') in
# the script and pgbench sends the text null: still a parameter of the generic plan, NULL at
# run time (an optional filter, the absent cursor, the absent Idempotency-Key).
bind_params() {   # bind_params NAME NPARAMS [N=VALUE]...: ARGS_NAME (-D pN=...) and NULLS_NAME; other positions NULL
  local name=$1 n=$2 i kv
  shift 2
  local -A val=()
  local -a args=() nulls=()
  for kv in "$@"; do val[${kv%%=*}]=${kv#*=}; done
  for ((i = 1; i <= n; i++)); do
    if [[ -v val[$i] ]]; then args+=(-D "p$i=${val[$i]}"); else args+=(-D "p$i=null"); nulls+=("$i"); fi
  done
  eval "ARGS_$name=(\"\${args[@]}\")"
  eval "NULLS_$name=\"\${nulls[*]}\""
}
write_script() {   # write_script FILE SQL SOURCE [NULL_POSITIONS]: one request = one pipeline (one Sync = one transaction)
  {
    printf -- '-- generated by bench/run.sh from server/db.c (auth_begin) and %s; do not edit\n' "$3"
    printf '\\startpipeline\n%s;\n%s;\n\\endpipeline\n' \
      "$(sed -E 's/\$([0-9]+)/:p\1/g; s/:p1/:claims/; s/:p2/:timeout/' <<<"$begin_sql")" \
      "$(perl -pe 'BEGIN { %n = map { $_ => 1 } split " ", shift } s/\$(\d+)/$n{$1} ? "nullif(:p$1, \x27null\x27)" : ":p$1"/ge' "${4:-}" <<<"$2")"
  } >"$1"
}
NULLS_inbox='' NULLS_create=''   # (set by bind_params)
today=$(owner_sql -c "select api.today()")
ARGS_item=(-D "claims=$claims" -D "p1=$item_id" -D "p2=$today")
ARGS_unit=(-D "claims=$claims" -D "p1=$dept")
# The inbox: the query's values by name (limit, status), every other parameter NULL.
read -r -a inbox_names <<<"$(handler_names server/orders.c orders_list)"
((${#inbox_names[@]} == inbox_nparams)) ||
  die "orders_list in server/orders.c has ${#inbox_names[@]} query names for $inbox_nparams parameters"
declare -A inbox_q=()
IFS='&' read -r -a kvs <<<"$INBOX_QUERY"
for kv in "${kvs[@]}"; do inbox_q[${kv%%=*}]=${kv#*=}; done
inbox_bind=()
for ((i = 0; i < inbox_nparams; i++)); do
  [[ -v inbox_q[${inbox_names[i]}] ]] && inbox_bind+=("$((i + 1))=${inbox_q[${inbox_names[i]}]}")
done
bind_params inbox "$inbox_nparams" "${inbox_bind[@]}"
ARGS_inbox=(-D "claims=$inbox_claims" "${ARGS_inbox[@]}")
# The create: $1 the body as sent, the rest (the Idempotency-Key) NULL.
bind_params create "$create_nparams" "1=$CALL_BODY"
ARGS_create=(-D "claims=$township_claims" "${ARGS_create[@]}")
write_script "$OUT/items_get.sql" "$item_sql" server/items.c
write_script "$OUT/units_get.sql" "$get_sql" server/ref.c
write_script "$OUT/orders_list.sql" "$inbox_sql" server/orders.c "$NULLS_inbox"
write_script "$OUT/calls_create.sql" "$create_sql" server/calls.c "$NULLS_create"

# ---- 4./5. load -----------------------------------------------------------------------------
declare -A R
# Every connection of the load must get answers: wrk times only completed requests, so a
# connection that never gets an answer shows only as timeouts (if at all). ss reads each wrk
# connection's received bytes 1 s after the start and 2.5 s before the end; one that received nothing in
# between was starved. "share" is the least a connection received, over the mean.
conn_bytes() {   # conn_bytes PORT CLIENTS: "local-address bytes_received" of each client connection to PORT
  local i
  for ((i = 0; i < 3; i++)); do   # (ss may answer short on a busy machine: read again)
    conn_bytes1 "$1" >"$RAW/ss.tmp"
    (($(wc -l <"$RAW/ss.tmp") >= $2)) && break
    sleep 0.1
  done
  cat "$RAW/ss.tmp"
}
conn_bytes1() {
  ss -Htni state established "( dport = :$1 )" | awk '
    /^[^ \t]/ { if (k != "") print k, b; k = $3; b = 0; next }
    { if (match($0, /bytes_received:[0-9]+/)) b = substr($0, RSTART + 15, RLENGTH - 15) }
    END { if (k != "") print k, b }'
}
# Who spends the machine's CPU, per request, over the same window: cpu_snap FILE GROUP=PIDS...
# notes /proc/stat's total and idle ticks, the time, and each process's user+system ticks
# (/proc/PID/stat, all threads); cpu_report OLD NEW RATE prints each group's CPU ms per request
# (over the processes found at both readings) and how busy the whole machine was, including
# what no group explains (other processes: the machine may be shared).
CLK_TCK=$(getconf CLK_TCK)
cpu_snap() {   # one awk for all the files: on a saturated machine every fork takes a while
  local out=$1 g p
  local -a files=() names=()
  shift
  for g in "$@"; do
    for p in ${g#*=}; do
      if [[ -r /proc/$p/stat ]]; then files+=("/proc/$p/stat"); names+=("${g%%=*}:$p"); fi
    done
  done
  awk -v now="$EPOCHREALTIME" -v groups="${*%%=*}" -v names="${names[*]}" '
    BEGIN { split(names, nm, " ") }
    FILENAME == "/proc/stat" { if ($1 == "cpu") { t = 0; for (i = 2; i <= NF; i++) t += $i; print "machine", t, $5 + $6 } next }
    FNR == 1 { k++; split(nm[k], x, ":"); sub(/^.*\) /, ""); print "pid", x[1], x[2], $12 + $13 }
    END {
      print "time", now
      n = split(groups, gr, " "); for (i = 1; i <= n; i++) print "group", gr[i]
    }' /proc/stat "${files[@]}" >"$out" 2>/dev/null || true
}
cpu_report() {
  awk -v rate="$3" -v hz="$CLK_TCK" -v ncpu="$JOBS" '
    NR == FNR { if ($1 == "pid") a[$2 " " $3] = $4; else { a[$1] = $2; b[$1] = $3 } next }
    $1 == "machine" { dt = $2 - a[$1]; di = $3 - b[$1]; next }
    $1 == "time" { secs = $2 - a[$1]; next }
    $1 == "group" { g[++n] = $2; next }
    $1 == "pid" && (($2 " " $3) in a) { d = $4 - a[$2 " " $3]; u[$2] += d; sum += d; seen[$2 " " $3] = 1 }
    END {
      for (k in a) if (split(k, x, " ") == 2 && !(k in seen)) lost++
      req = rate * secs
      if (req <= 0 || dt <= 0) { print "-"; exit }
      for (i = 1; i <= n; i++) printf "%s %.3f ms, ", g[i], u[g[i]] * 1000 / hz / req
      printf "machine busy %.0f%% of %d cores (others %.0f%%)", 100 * (dt - di) / dt, ncpu, 100 * (dt - di - sum) / dt
      if (lost) printf " [%d processes not found at the second reading]", lost
    }' "$1" "$2"
}
usecs() { local t=$EPOCHREALTIME; printf '%s' "${t/./}"; }
sleep_until() {   # sleep_until MICROSECONDS (since the epoch); no fork before the sleep itself
  local t=$EPOCHREALTIME d
  d=$(($1 - ${t/./}))
  ((d > 0)) || return 0
  sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
}
pg_others() {   # pg_others PIDS...: the cluster's other processes (postmaster, its other children)
  local pm
  pm=$(head -n 1 "$PG_DIR/pgdata/postmaster.pid" 2>/dev/null) || return 0
  { printf '%s\n' "$pm" $(pgrep -P "$pm") | grep -vxF -f <(printf '%s\n' "$@" 0) | paste -sd' '; } || true
}
backends() {   # backends APPLICATION: the pids of its client backends
  owner_sql -c "select coalesce(string_agg(pid::text, ' '), '') from pg_stat_activity
                 where application_name = '$1' and usename = 'huying_api' and backend_type = 'client backend'"
}
run_wrk() {   # run_wrk NAME CLIENTS URL [TOKEN [BODY_FILE]]
  local f=$RAW/wrk-$1-c$2.txt line k v port wp dur=${DURATION%s}
  port=${3#http://*:} port=${port%%/*}
  rm -f "$f.ss1" "$f.ss2"
  local t0 groups=() late=0
  t0=$(usecs)
  TOKEN=${4:-} BODY_FILE=${5:-} wrk -t"$WRK_THREADS" -c"$2" -d"$DURATION" --latency -s bench/auth.lua "$3" >"$f" 2>&1 &
  wp=$!
  groups=("wrk=$wp")
  if [[ $port == "$API_PORT" ]]; then
    local be
    be=$(backends huyingd)
    # shellcheck disable=SC2086  # (pids, split on purpose)
    groups=("huyingd=$daemon_pid" "postgres=$be" "pg-other=$(pg_others $be)" "wrk=$wp")
  fi
  if [[ $dur =~ ^[0-9]+$ ]] && ((dur >= 4)); then
    # readings 1 s after the start and 2.5 s before the end, CPU first (on a saturated
    # machine every fork takes a while); a reading that comes after wrk has gone is void
    sleep_until $((t0 + 1000000))
    echo "reading 1 at $(usecs) (start $t0)" >"$f.times"
    cpu_snap "$f.cpu1" "${groups[@]}"
    conn_bytes "$port" "$2" >"$f.ss1"
    sleep_until $((t0 + dur * 1000000 - 2500000))
    echo "reading 2 at $(usecs)" >>"$f.times"
    kill -0 "$wp" 2>/dev/null || late=1
    cpu_snap "$f.cpu2" "${groups[@]}"
    conn_bytes "$port" "$2" >"$f.ss2"
    kill -0 "$wp" 2>/dev/null || late=1
    echo "done at $(usecs)$( ((late)) && printf ' (wrk had finished: readings void)')" >>"$f.times"
  fi
  wait "$wp" || { cat "$f" >&2; die "wrk failed ($1, c$2)"; }
  quiesce   # requests still queued in the daemon when wrk stops must not load the next run
  kill -0 "$daemon_pid" 2>/dev/null || { tail -n 5 "$RAW/huyingd.log" >&2; die "huyingd is gone (during $1 c$2)"; }
  line=$(grep '^BENCH ' "$f") || { cat "$f" >&2; die "no summary line in $f"; }
  for kv in ${line#BENCH }; do
    k=${kv%%=*} v=${kv#*=}
    R[$1,$2,$k]=$v
  done
  R[$1,$2,errors]=$((R[$1,$2,connect] + R[$1,$2,read] + R[$1,$2,write] + R[$1,$2,status] + R[$1,$2,timeout]))
  if [[ -s $f.ss1 ]] && ((!late)); then
    read -r "R[$1,$2,conns]" "R[$1,$2,starved]" "R[$1,$2,share]" < <(awk '
      NR == FNR { a[$1] = $2; next }
      ($1 in a) { d = $2 - a[$1]; n++; sum += d; if (d <= 0) s++; if (n == 1 || d < mn) mn = d }
      END { printf "%d %d %.2f\n", n, s, (n && sum > 0) ? mn / (sum / n) : 0 }' "$f.ss1" "$f.ss2")
    R[$1,$2,cpu]=$(cpu_report "$f.cpu1" "$f.cpu2" "${R[$1,$2,rps]}")
  else
    R[$1,$2,conns]=- R[$1,$2,starved]=- R[$1,$2,share]=- R[$1,$2,cpu]=-
  fi
  printf '    %-7s c%-3s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s  connections answered %s of %s (least %s of the mean)\n' \
    "$1" "$2" "${R[$1,$2,rps]}" "$(ms "${R[$1,$2,p50_us]}")" "$(ms "${R[$1,$2,p99_us]}")" "${R[$1,$2,errors]}" \
    "$(answered "$1" "$2")" "$2" "${R[$1,$2,share]}" >&2
}
answered() {   # answered NAME CLIENTS: how many connections got answers during the window
  if [[ ${R[$1,$2,conns]} == - ]]; then printf -- '-'; else printf '%s' $((R[$1,$2,conns] - R[$1,$2,starved])); fi
}
run_pgbench() {   # run_pgbench NAME CLIENTS MODE SCRIPT ARGS...  (MODE: generic = the daemon's session settings; auto, nojit: and that change)
  local name=$1 c=$2 mode=$3 script=$4 f opts=$SESSION_OPTS
  shift 4
  case $mode in
    generic) ;;
    auto) opts+=' -c plan_cache_mode=auto' ;;
    nojit) opts+=' -c jit=off' ;;
    *) die "run_pgbench: unknown mode $mode" ;;
  esac
  f=$RAW/pgbench-$name-$mode-c$c.txt
  # A client whose statement fails (the statement timeout) is aborted and the run goes on
  # without it: that is a result (counted in R[...,aborted] and shown under the table), not a
  # failure of the bench. Any other failure stops the bench.
  local pp rc=0 dur=${DURATION%s} t0
  t0=$(usecs)
  rm -f "$f.cpu1" "$f.cpu2"
  PGOPTIONS=$opts "$PGBENCH" -n -M prepared -c "$c" -j "$((c < WRK_THREADS ? c : WRK_THREADS))" -T "$dur" -P 1 \
    -f "$script" -D timeout="$STATEMENT_TIMEOUT" "$@" "$HUYING_DATABASE_URL" >"$f" 2>&1 &
  pp=$!
  if ((dur - 1 > PG_SKIP)); then   # CPU over the steady part: from PG_SKIP s to 1 s before the end
    sleep_until $((t0 + PG_SKIP * 1000000 - 300000))
    local be groups
    be=$(backends pgbench)
    # shellcheck disable=SC2086  # (pids, split on purpose)
    groups=("pgbench=$pp" "postgres=$be" "pg-other=$(pg_others $be)")
    sleep_until $((t0 + PG_SKIP * 1000000))
    cpu_snap "$f.cpu1" "${groups[@]}"
    sleep_until $((t0 + dur * 1000000 - 1000000))
    cpu_snap "$f.cpu2" "${groups[@]}"
    kill -0 "$pp" 2>/dev/null || rm -f "$f.cpu2"   # pgbench had finished: no reading
  fi
  wait "$pp" || rc=$?
  ((rc == 0)) || grep -q 'Run was aborted' "$f" || { cat "$f" >&2; die "pgbench failed ($name, $mode, c$c)"; }
  R[pg-$name-$mode,$c,aborted]=$(grep -c 'aborted in command' "$f" || true)
  if ((R[pg-$name-$mode,$c,aborted])) && ! grep -q 'aborted in command.*statement timeout' "$f"; then
    cat "$f" >&2; die "pgbench clients aborted ($name, $mode, c$c)"
  fi
  R[pg-$name-$mode,$c,tps]=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$f")
  R[pg-$name-$mode,$c,lat]=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$f")
  if [[ -z ${R[pg-$name-$mode,$c,tps]} ]]; then
    ((R[pg-$name-$mode,$c,aborted])) || { cat "$f" >&2; die "no tps in $f"; }
    R[pg-$name-$mode,$c,tps]=0 R[pg-$name-$mode,$c,lat]=-
  fi
  # Fresh backends start cold (fork, catalog caches, plpgsql compile: about a second at c64 on
  # 2 cores) while the daemon's pool is warm, so the ceiling is the steady rate: the mean of
  # the per-second progress reports after the first PG_SKIP seconds.
  R[pg-$name-$mode,$c,steady]=$(awk -v skip="$PG_SKIP" '
    /^progress: / { t = $2 + 0; if (t > skip) { sum += $4; n++ } }
    END { if (n) printf "%.1f", sum / n }' "$f")
  [[ -n ${R[pg-$name-$mode,$c,steady]} ]] || R[pg-$name-$mode,$c,steady]=${R[pg-$name-$mode,$c,tps]}
  R[pg-$name-$mode,$c,cpu]=-
  [[ -s $f.cpu2 ]] && R[pg-$name-$mode,$c,cpu]=$(cpu_report "$f.cpu1" "$f.cpu2" "${R[pg-$name-$mode,$c,steady]}")
  printf '    pg %-6s c%-3s %9.0f tps steady, %.0f overall (%s, latency avg %s ms)%s\n' "$name" "$c" \
    "${R[pg-$name-$mode,$c,steady]}" "${R[pg-$name-$mode,$c,tps]}" "$mode" "${R[pg-$name-$mode,$c,lat]}" \
    "$( ((R[pg-$name-$mode,$c,aborted])) && printf ', %s of %s clients aborted by the statement timeout' "${R[pg-$name-$mode,$c,aborted]}" "$c")" >&2
}
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

# Check the pgbench scripts once (the create's check call goes with the first reset).
for s in item:items_get unit:units_get inbox:orders_list create:calls_create; do
  eval "a=(\"\${ARGS_${s%%:*}[@]}\")"
  PGOPTIONS=$SESSION_OPTS "$PGBENCH" -n -M prepared -t 1 -f "$OUT/${s#*:}.sql" -D timeout="$STATEMENT_TIMEOUT" "${a[@]}" \
    "$HUYING_DATABASE_URL" >"$RAW/pgbench-check-${s%%:*}.txt" 2>&1 ||
    { cat "$RAW/pgbench-check-${s%%:*}.txt" >&2; die "pgbench cannot run $OUT/${s#*:}.sql"; }
done
reset_calls

step "warm-up (1 s per read path at c64)"
for u in "$HELLO_URL" "$HELLO1_URL" "$ITEM_URL" "$UNIT_URL"; do
  TOKEN=$token wrk -t"$WRK_THREADS" -c64 -d1s -s bench/auth.lua "$u" >>"$RAW/warmup.txt" 2>&1 || true
done
TOKEN=$inbox_token wrk -t"$WRK_THREADS" -c64 -d1s -s bench/auth.lua "$INBOX_URL" >>"$RAW/warmup.txt" 2>&1 || true

# Reads first, on the seeded data as it is (the creates add orders to the inbox's department).
for c in $CLIENTS; do
  step "reads at $c connections / clients ($DURATION each)"
  run_wrk hello "$c" "$HELLO_URL"
  run_wrk hello1 "$c" "$HELLO1_URL"
  run_wrk item "$c" "$ITEM_URL" "$token"
  run_wrk unit "$c" "$UNIT_URL" "$token"
  run_wrk inbox "$c" "$INBOX_URL" "$inbox_token"
  run_pgbench item "$c" generic "$OUT/items_get.sql" "${ARGS_item[@]}"
  run_pgbench unit "$c" generic "$OUT/units_get.sql" "${ARGS_unit[@]}"
  run_pgbench inbox "$c" generic "$OUT/orders_list.sql" "${ARGS_inbox[@]}"
done
first_c=${CLIENTS%% *}
if ((INFO)); then
  # For the record: the inbox with custom plans (what generic plans are chosen over, DESIGN §3)
  # and without JIT (the daemon's sessions leave jit at the server's default).
  step "inbox with plan_cache_mode=auto and with jit=off at c$first_c (information only)"
  run_pgbench inbox "$first_c" auto "$OUT/orders_list.sql" "${ARGS_inbox[@]}"
  [[ $JIT == off ]] || run_pgbench inbox "$first_c" nojit "$OUT/orders_list.sql" "${ARGS_inbox[@]}"
fi

# Then the creates, each run from the same data: reset_calls after every one.
printf '%s' "$CALL_BODY" >"$RAW/call-body.json"
step "warm-up (1 s of POST /v1/calls at c64)"
BODY_FILE=$RAW/call-body.json TOKEN=$township_token wrk -t"$WRK_THREADS" -c64 -d1s -s bench/auth.lua "$CREATE_URL" \
  >>"$RAW/warmup.txt" 2>&1 || true
reset_calls
# What the database sessions wait for during a create run: pg_stat_activity of the huying_api
# backends of one application (huyingd or pgbench), sampled every 0.2 s by one owner session
# (granted pg_read_all_stats above). "CPU" = running or runnable.
waits_start() {   # waits_start APPLICATION FILE (in the background; waits_stop collects it)
  local n=$(((${DURATION%s} - 2) * 5))
  waits_pid=''
  ((n > 0)) || return 0
  (
    sleep 1
    owner_sql -v app="$1" -v n="$n" <<'SQL'
select set_config('bench.app', :'app', false), set_config('bench.n', :'n', false) \g /dev/null
create temp table w (e text);
do $$ begin
  for i in 1 .. current_setting('bench.n')::int loop
    perform pg_stat_clear_snapshot();
    insert into w select coalesce(wait_event_type || ':' || wait_event, 'CPU') from pg_stat_activity
     where usename = 'huying_api' and state = 'active' and application_name = current_setting('bench.app');
    perform pg_sleep(0.2);
  end loop;
end $$;
select e || ' ' || round(100.0 * count(*) / sum(count(*)) over ()) || '%' from w group by e order by count(*) desc limit 4;
SQL
  ) >"$2" 2>&1 &
  waits_pid=$!
}
waits_stop() {   # waits_stop FILE: "event share, event share, ..." of the samples
  [[ -n $waits_pid ]] || { printf -- '-'; return; }
  wait "$waits_pid" || true
  paste -sd, "$1" | sed 's/,/, /g'
}
for c in $CLIENTS; do
  step "creates at $c connections / clients ($DURATION each, reset after each)"
  waits_start huyingd "$RAW/waits-create-c$c.txt"
  run_wrk create "$c" "$CREATE_URL" "$township_token" "$RAW/call-body.json"
  R[create,$c,waits]=$(waits_stop "$RAW/waits-create-c$c.txt")
  quiesce
  R[create,$c,made]=$(owner_sql -c "select count(*) from huying.calls where id > $max_call")
  reset_calls
  waits_start pgbench "$RAW/waits-pg-create-c$c.txt"
  run_pgbench create "$c" generic "$OUT/calls_create.sql" "${ARGS_create[@]}"
  R[pg-create-generic,$c,waits]=$(waits_stop "$RAW/waits-pg-create-c$c.txt")
  R[pg-create-generic,$c,made]=$(owner_sql -c "select count(*) from huying.calls where id > $max_call")
  reset_calls
  printf '    waits: huyingd %s; pgbench %s\n' "${R[create,$c,waits]}" "${R[pg-create-generic,$c,waits]}" >&2
done
if ((INFO)); then
  # ... and the create at one client (its cost without contention) and at as many clients as
  # the daemon has connections (the contention the daemon's pool allows).
  pool=$(sed -n 's/.*"msg":"listening".*"db_pool":\([0-9]*\).*/\1/p' "$RAW/huyingd.log")
  step "create with jit=off at c$first_c, at c1 and at c$pool (information only)"
  if [[ $JIT != off ]]; then
    run_pgbench create "$first_c" nojit "$OUT/calls_create.sql" "${ARGS_create[@]}"
    reset_calls
  fi
  run_pgbench create 1 generic "$OUT/calls_create.sql" "${ARGS_create[@]}"
  reset_calls
  run_pgbench create "$pool" generic "$OUT/calls_create.sql" "${ARGS_create[@]}"
  reset_calls
fi

# ---- the calls paths: plans ------------------------------------------------------------------
# bench/out/calls-explain.txt: the inbox as the daemon runs it (prepared, generic plan, the
# inbox department's claims), EXPLAIN ANALYZE twice (the second is the steady one) and once
# with jit = off; then every statement that api.call_create() runs for the create's body, with
# its duration (auto_explain with log_nested_statements, loaded by the cluster's superuser
# that then becomes huying_api; the call is rolled back; the fourth of four calls is kept).
step "plans of the inbox and of api.call_create()'s statements ($OUT/calls-explain.txt)"
sql_lit() { if [[ $1 == null ]]; then printf 'null'; else printf "'%s'" "${1//\'/\'\'}"; fi; }
inbox_exec='' create_exec=''
for ((i = 1; i <= inbox_nparams; i++)); do
  v=null
  for kv in "${inbox_bind[@]}"; do [[ ${kv%%=*} == "$i" ]] && v=${kv#*=}; done
  inbox_exec+="${inbox_exec:+, }$(sql_lit "$v")"
done
for ((i = 1; i <= create_nparams; i++)); do
  if ((i == 1)); then v=$CALL_BODY; else v=null; fi
  create_exec+="${create_exec:+, }$(sql_lit "$v")"
done
pg_set=$(sed -E 's/-c ([a-z_]+)=([^ ]+)/set \1 = '"'"'\2'"'"';/g' <<<"$SESSION_OPTS")
{
  printf -- '-- bench/run.sh %s: inbox of %s (%s dispatched orders), %s calls seeded\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
    "$inbox_code" "$inbox_n" "$seed_calls"
  "$psql" "$HUYING_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<SQL
$pg_set
begin;
select auth.begin('${inbox_claims//\'/\'\'}', $STATEMENT_TIMEOUT);
prepare inbox as $inbox_sql;
\\echo == inbox, first execution, session settings as the daemon
explain (analyze, buffers) execute inbox($inbox_exec);
\\echo == inbox, second execution, session settings as the daemon
explain (analyze, buffers) execute inbox($inbox_exec);
\\echo == inbox, jit = off
set local jit = off;
explain (analyze, buffers) execute inbox($inbox_exec);
rollback;
SQL
  printf '== api.call_create(), nested statements (auto_explain, duration of each)\n'
  bash scripts/pg.sh psql "$PG_DIR" "$PG_PORT" -X -q -v ON_ERROR_STOP=1 2>&1 >/dev/null <<SQL
set role huying_api;
$pg_set
${JIT:+set jit = $JIT;}
begin; select auth.begin('${township_claims//\'/\'\'}', $STATEMENT_TIMEOUT); select status from api.call_create($create_exec); rollback;
begin; select auth.begin('${township_claims//\'/\'\'}', $STATEMENT_TIMEOUT); select status from api.call_create($create_exec); rollback;
begin; select auth.begin('${township_claims//\'/\'\'}', $STATEMENT_TIMEOUT); select status from api.call_create($create_exec); rollback;
reset role;
load 'auto_explain';
set auto_explain.log_min_duration = 0;
set auto_explain.log_analyze = on;
set auto_explain.log_timing = off;
set auto_explain.log_nested_statements = on;
set auto_explain.log_level = notice;
set client_min_messages = notice;
set role huying_api;
$pg_set
${JIT:+set jit = $JIT;}
begin; select auth.begin('${township_claims//\'/\'\'}', $STATEMENT_TIMEOUT); select status from api.call_create($create_exec); rollback;
SQL
} >"$OUT/calls-explain.txt" 2>&1 || { cat "$OUT/calls-explain.txt" >&2; die "the calls EXPLAIN failed"; }
# One line per inbox plan: its heading, the scan, JIT time and execution time; and the
# statements of api.call_create() by duration.
awk '/^== inbox/ { if (h != "") print h " | " sc " | " jit " | " et; h = substr($0, 4); sc = "-"; jit = "no JIT"; et = "-"; next }
     /^== api/ { if (h != "") print h " | " sc " | " jit " | " et; h = ""; exit }
     /Scan/ && sc == "-" { x = $0; sub(/^[ ->]*/, "", x); sub(/ *\((actual|cost).*/, "", x); sc = x }
     /Timing: Generation/ { x = $0; sub(/.*Total /, "", x); jit = "JIT " x }
     /Execution Time/ { et = $3 " ms" }' "$OUT/calls-explain.txt" >"$OUT/calls-summary.txt"
perl -ne '
  if (/^== api/) { $on = 1; next } next unless $on;
  if (/^NOTICE:\s+duration: ([\d.]+) ms/) { $d = $1; $want = 1; next }
  if ($want) {
    s/^Query Text:\s*//; s/\s+/ /g; s/^ //;
    next if $_ eq "";   # the text starts on the next line
    $want = 0;
    if (/auth\.begin\(/) { @s = (); next }   # what came before was auth.begin()
    push @s, [$d, substr($_, 0, 90)];
  }
  END {
    my ($top) = grep { $_->[1] =~ /api\.call_create/ } @s;
    my @in = grep { $_->[1] !~ /api\.call_create/ } @s;
    my $sum = 0; $sum += $_->[0] for @in;
    printf "call_create %.2f ms in all (auto_explain on), %d nested statements %.2f ms; the longest:\n", $top ? $top->[0] : 0, scalar @in, $sum;
    printf "  %7.3f ms  %s\n", @$_ for (sort { $b->[0] <=> $a->[0] } @in)[0 .. 7];
  }' "$OUT/calls-explain.txt" >>"$OUT/calls-summary.txt"

# ---- memory, after the load -----------------------------------------------------------------
kib() { awk -v k="$1" '/^'"$1"':/ { print $2 }' "/proc/$2/status"; }
rss=$(kib VmRSS "$daemon_pid") hwm=$(kib VmHWM "$daemon_pid") threads=$(kib Threads "$daemon_pid")
hello_rss=$(kib VmRSS "$hello1_pid")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---- 6. bulk import (DESIGN §8: 100,000 grid cells in under 5 s) ----------------------------
# A province-sized grid as CSV, posted twice with curl: the first import inserts every cell,
# the second (the same file) finds every cell unchanged. curl's time_total is the whole
# request: upload, the daemon's parsing and COPY, api.import_grids() and the commit.
bash bench/grids.sh "$GRID_VILLAGES" "$GRIDS_PER_VILLAGE" >"$OUT/grids.csv"
grid_rows=$(($(wc -l <"$OUT/grids.csv") - 1))
step "bulk import: $grid_rows grid cells ($(du -h "$OUT/grids.csv" | cut -f1)) to POST /v1/imports/grids, twice"
import_grids() {   # import_grids N: POST the file, check the answer, keep time and counts in R[import$N,...]
  local f=$RAW/import-grids-$1.json code t k
  # No "Expect: 100-continue": curl would send it for a body this size, and the upload would
  # then depend on how soon the server answers it; we time the import, not that handshake.
  read -r code t < <(curl -s -o "$f" -w '%{http_code} %{time_total}\n' -H 'Expect:' \
    -H "Authorization: Bearer $district_token" -H 'Content-Type: text/csv' \
    --data-binary @"$OUT/grids.csv" "$API/v1/imports/grids")
  [[ $code == 200 ]] || die "POST /v1/imports/grids answered $code: $(head -c 600 "$f")"
  R[import$1,time]=$t
  for k in rows inserted updated unchanged; do
    R[import$1,$k]=$(jq -er ".$k" "$f") || die "unexpected import answer: $(head -c 600 "$f")"
  done
  printf '    import %s: %s s, %s rows (inserted %s, updated %s, unchanged %s), %.0f rows/s\n' "$1" "$t" \
    "${R[import$1,rows]}" "${R[import$1,inserted]}" "${R[import$1,updated]}" "${R[import$1,unchanged]}" \
    "$(awk -v n="${R[import$1,rows]}" -v t="$t" 'BEGIN { print n / t }')" >&2
}
import_grids 1
[[ ${R[import1,rows]} == "$grid_rows" && ${R[import1,inserted]} == "$grid_rows" ]] ||
  die "the first grid import did not insert all $grid_rows cells: $(head -c 600 "$RAW/import-grids-1.json")"
import_grids 2
[[ ${R[import2,unchanged]} == "$grid_rows" ]] ||
  die "the second grid import did not find all $grid_rows cells unchanged: $(head -c 600 "$RAW/import-grids-2.json")"
hwm_import=$(kib VmHWM "$daemon_pid")
grep -v -e '"level":"info"' -e 'HUYING_JWT_ISS and HUYING_JWT_AUD' "$RAW/huyingd.log" | grep -q . && log "bench: huyingd logged warnings or errors, see $RAW/huyingd.log"

# ---- 7. keyword search: EXPLAIN (DESIGN §5: the trigram index item_revisions_text) ----------
# $SEARCH_ITEMS synthetic items in a separate district BX (written by the owner role), then
# the search subquery of items_list and items_list itself, EXPLAINed as huying_api with the
# claims set (the daemon's view, row-level security on) and, for contrast, as the owner (its
# owner_all policy adds no condition). Plans: bench/out/search-explain.txt.
if ((SEARCH_ITEMS > 0)); then
  step "keyword search: $SEARCH_ITEMS synthetic items in district BX, EXPLAIN"
  bx_out=$("$BIN" district add --code BX --name 基准区)
  bx=$(jq -er .district_id <<<"$bx_out") && bx_office=$(jq -er .office_unit_id <<<"$bx_out") ||
    die "district add printed: $bx_out"
  owner_sql -v district="$bx" -v n="$SEARCH_ITEMS" -f bench/search-data.sql >/dev/null
  bx_claims=$(jq -nc --argjson u "$bx_office" --argjson d "$bx" '{sub: "bench:search", role: "district", unit_id: $u, district: $d}')
  items_list_sql=$(stmt_sql server/items.c items_list cpp)
  {
    printf -- '-- bench/run.sh %s: %s synthetic items in district BX (id %s); plans from bench/search-explain*.sql\n' \
      "$(date -u +%Y-%m-%dT%H:%MZ)" "$SEARCH_ITEMS" "$bx"
    "$psql" "$HUYING_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -v claims="$bx_claims" -v district="$bx" \
      -v list_sql="$items_list_sql" -f bench/search-explain.sql
    "$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -v district="$bx" -f bench/search-explain-owner.sql
  } >"$OUT/search-explain.txt" 2>&1 || { cat "$OUT/search-explain.txt" >&2; die "the keyword search EXPLAIN failed"; }
  # One line per plan: its heading, how it reads item_revisions for the search (the scans of
  # alias m and the index behind a bitmap scan of it) and the execution time.
  awk 'function flush() { if (h != "") print h " | " (sc == "" ? "-" : substr(sc, 3)) " | " et }
       /^== / { flush(); h = substr($0, 4); sc = ""; et = "-"; next }
       /Seq Scan on item_revisions m|Index Scan using [^ ]+ on item_revisions m|Bitmap Index Scan on item_revisions_(text|district)/ {
         x = $0; sub(/^[ ->]*/, "", x); sub(/ *\((actual|cost).*/, "", x); sc = sc "; " x }
       /Execution Time/ { et = $3 " ms" }
       END { flush() }' "$OUT/search-explain.txt" >"$OUT/search-summary.txt"
fi

# ---- 8. the table ---------------------------------------------------------------------------
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ge() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { exit !(b > 0 && a / b >= t) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
verdict() { if "$@"; then printf 'ok'; else printf 'MISS'; fi; }
shaky() {   # shaky PATH CLIENTS: a note when the ceiling's pgbench lost clients to the statement timeout
  local a=${R[pg-$1-generic,$2,aborted]:-0}
  ((a == 0)) || printf ' (but %s of %s pgbench clients timed out: no ceiling)' "$a" "$2"
}
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
table() {
  printf 'huying bench  %s  %s  %s cores  git %s%s  wrk -t%s -d%s  pgbench -M prepared -j%s -T%s\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -n)" "$JOBS" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD -- server schema 2>/dev/null || echo '+dirty')" "$WRK_THREADS" "$DURATION" \
    "$WRK_THREADS" "$DURATION"
  printf 'data: %s units in the district (%s bulk departments), %s items imported; %s calls, %s orders (%s dispatched),\n' \
    "$units_total" "$UNITS" "$items_total" "$seed_calls" "$seed_orders" "$seed_dispatched"
  printf '      %s events seeded in %s\n' "$seed_events" "$seed_time"
  printf 'item  = GET /v1/items/%s (ZRZY-01, %s bytes); unit = GET /v1/units/%s (%s bytes)\n' \
    "$item_id" "$(wc -c <"$RAW/item.json")" "$dept" "$(wc -c <"$RAW/unit.json")"
  printf 'inbox = GET /v1/orders?%s as %s (%s dispatched orders; %s bytes)\n' "$INBOX_QUERY" "$inbox_code" "$inbox_n" \
    "$(wc -c <"$RAW/inbox.json")"
  printf 'create = POST /v1/calls as TS-NCS, bench/call-body.json (%s bytes: ZRZY-01, %s orders; answer %s bytes)\n' \
    "${#CALL_BODY}" "$create_orders" "$(wc -c <"$RAW/create.json")"
  printf 'huyingd: %s threads, pool %s; pgbench sessions: %s; jit for huying_api: %s\n' \
    "$(sed -n 's/.*"msg":"listening".*"threads":\([0-9]*\).*/\1/p' "$RAW/huyingd.log")" \
    "$(sed -n 's/.*"msg":"listening".*"db_pool":\([0-9]*\).*/\1/p' "$RAW/huyingd.log")" "$SESSION_OPTS" \
    "${JIT:+$JIT (BENCH_JIT, ALTER ROLE)}${JIT:-$jit_default (the server default)}"
  printf 'load average before the run: %s, after it: %s (the machine may be shared: compare ratios)\n\n' \
    "$LOAD_BEFORE" "$LOAD_AFTER"
  printf '%-21s %3s %8s  %-15s %8s %5s %6s %7s %7s %7s %6s %8s\n' \
    path c 'req/s' ceiling 'ceil/s' ratio target 'p50 ms' 'p99 ms' p99/p50 errors answered
  local c row p label ck clabel target d cv
  for c in $CLIENTS; do
    for row in 'hello1|hello one-write=ceil' 'hello|hello header API'; do
      IFS='|' read -r p label <<<"$row"
      printf '%-21s %3s %8.0f  %-15s %8s %5s %6s %7s %7s %7s %6s %8s\n' "$label" "$c" "${R[$p,$c,rps]}" \
        '-' '-' '-' '-' "$(ms "${R[$p,$c,p50_us]}")" "$(ms "${R[$p,$c,p99_us]}")" \
        "$(ratio "${R[$p,$c,p99_us]}" "${R[$p,$c,p50_us]}")" "${R[$p,$c,errors]}" "$(answered "$p" "$c")/$c"
    done
    for row in 'item|GET /v1/items/{id}|hello1|hello one-write|0.50' 'item|GET /v1/items/{id}|pg-item-generic|pgbench|' \
               'unit|GET /v1/units/{id}|hello1|hello one-write|' 'unit|GET /v1/units/{id}|pg-unit-generic|pgbench|' \
               'inbox|GET /v1/orders inbox|pg-inbox-generic|pgbench|0.60' 'inbox|GET /v1/orders inbox|hello1|hello one-write|' \
               'create|POST /v1/calls|pg-create-generic|pgbench|0.85'; do
      IFS='|' read -r p label ck clabel target <<<"$row"
      d=${R[$p,$c,rps]}
      if [[ $ck == hello1 ]]; then cv=${R[hello1,$c,rps]}; else cv=${R[$ck,$c,steady]}; fi
      printf '%-21s %3s %8.0f  %-15s %8.0f %5s %6s %7s %7s %7s %6s %8s\n' "$label" "$c" "$d" "$clabel" "$cv" \
        "$(pct "$d" "$cv")" "${target:+>=$(pct "$target" 1)}" "$(ms "${R[$p,$c,p50_us]}")" "$(ms "${R[$p,$c,p99_us]}")" \
        "$(ratio "${R[$p,$c,p99_us]}" "${R[$p,$c,p50_us]}")" "${R[$p,$c,errors]}" "$(answered "$p" "$c")/$c"
    done
  done
  printf '\npgbench tps are steady rates (after the first %s s); overall:' "$PG_SKIP"
  for c in $CLIENTS; do
    printf ' c%s item %.0f, unit %.0f, inbox %.0f, create %.0f;' "$c" "${R[pg-item-generic,$c,tps]}" \
      "${R[pg-unit-generic,$c,tps]}" "${R[pg-inbox-generic,$c,tps]}" "${R[pg-create-generic,$c,tps]}"
  done
  local ab='' k
  for k in "${!R[@]}"; do
    [[ $k == *,aborted && ${R[$k]} != 0 ]] && ab+=" ${k%,aborted} ${R[$k]};"
  done
  [[ -n $ab ]] && printf '\npgbench clients aborted by the statement timeout (%s ms; their ceiling is then what the rest did):%s' \
    "$STATEMENT_TIMEOUT" "$(tr ';' '\n' <<<"${ab%;}" | sort | paste -sd';')"
  printf '\ncalls made by the create runs:'
  for c in $CLIENTS; do
    printf ' c%s huyingd %s, pgbench %s;' "$c" "${R[create,$c,made]}" "${R[pg-create-generic,$c,made]}"
  done
  printf '\nwhat the create sessions waited for (pg_stat_activity samples):\n'
  for c in $CLIENTS; do
    printf '  c%s huyingd: %s\n  c%s pgbench: %s\n' "$c" "${R[create,$c,waits]}" "$c" "${R[pg-create-generic,$c,waits]}"
  done
  printf 'CPU per request over the measured window (/proc: user+system; postgres = the backends of huyingd or pgbench,\n'
  printf '  pg-other = the rest of the cluster: postmaster, walwriter, autovacuum...; others = the rest of the machine):\n'
  for c in $CLIENTS; do
    for p in item unit inbox create; do
      printf '  %-6s c%-3s huyingd: %s\n' "$p" "$c" "${R[$p,$c,cpu]}"
      printf '  %-6s c%-3s pgbench: %s\n' "$p" "$c" "${R[pg-$p-generic,$c,cpu]}"
    done
  done
  if ((INFO)); then
    printf 'information, pgbench at c%s: inbox with custom plans (plan_cache_mode=auto) %.0f tps' \
      "$first_c" "${R[pg-inbox-auto,$first_c,steady]}"
    [[ $JIT == off ]] || printf ', with jit=off %.0f tps; create with jit=off %.0f tps' \
      "${R[pg-inbox-nojit,$first_c,steady]}" "${R[pg-create-nojit,$first_c,steady]}"
    printf ';\n  create at c1 %.0f tps (latency %s ms), at c%s (the daemon'"'"'s pool) %.0f tps (latency %s ms)\n' \
      "${R[pg-create-generic,1,steady]}" "${R[pg-create-generic,1,lat]}" "$pool" "${R[pg-create-generic,$pool,steady]}" \
      "${R[pg-create-generic,$pool,lat]}"
  fi
  printf 'huyingd memory after the load: VmRSS %s MiB, peak VmHWM %s MiB, %s threads (bench_hello VmRSS %s MiB);' \
    "$(mib "$rss")" "$(mib "$hwm")" "$threads" "$(mib "$hello_rss")"
  printf ' peak after the grid imports %s MiB\n' "$(mib "$hwm_import")"
  local r
  for r in 1 2; do
    printf 'grid import %s: %s cells in %.2f s = %.0f rows/s (inserted %s, updated %s, unchanged %s)\n' "$r" \
      "${R[import$r,rows]}" "${R[import$r,time]}" "$(awk -v n="${R[import$r,rows]}" -v t="${R[import$r,time]}" 'BEGIN { print n / t }')" \
      "${R[import$r,inserted]}" "${R[import$r,updated]}" "${R[import$r,unchanged]}"
  done
  printf '\nplans (%s/calls-explain.txt): inbox heading | first scan | JIT | time\n' "$OUT"
  sed 's/^/  /' "$OUT/calls-summary.txt"
  if [[ -s $OUT/search-summary.txt ]]; then
    printf '\nkeyword search over %s synthetic items (plans in %s/search-explain.txt): heading | first scan | time\n' "$SEARCH_ITEMS" "$OUT"
    sed 's/^/  /' "$OUT/search-summary.txt"
  fi
  printf '\nDESIGN §8 targets:\n'
  local items='' items0='' inboxes='' creates='' tails='' e=0 s=0 n=0
  for c in $CLIENTS; do
    items+=" c$c $(pct "${R[item,$c,rps]}" "${R[hello1,$c,rps]}") $(verdict ge "${R[item,$c,rps]}" "${R[hello1,$c,rps]}" 0.5);"
    items0+=" c$c $(pct "${R[item,$c,rps]}" "${R[hello,$c,rps]}");"
    inboxes+=" c$c $(pct "${R[inbox,$c,rps]}" "${R[pg-inbox-generic,$c,steady]}") $(verdict ge "${R[inbox,$c,rps]}" "${R[pg-inbox-generic,$c,steady]}" 0.6)$(shaky inbox "$c");"
    creates+=" c$c $(pct "${R[create,$c,rps]}" "${R[pg-create-generic,$c,steady]}") $(verdict ge "${R[create,$c,rps]}" "${R[pg-create-generic,$c,steady]}" 0.85)$(shaky create "$c");"
    for p in item unit inbox create; do
      tails+=" $p c$c $(ratio "${R[$p,$c,p99_us]}" "${R[$p,$c,p50_us]}") $(verdict ge "$(awk -v a="${R[$p,$c,p50_us]}" 'BEGIN { print 2.5 * a }')" "${R[$p,$c,p99_us]}" 1);"
      e=$((e + R[$p,$c,errors]))
      if [[ ${R[$p,$c,conns]} == - ]]; then n=-1; elif ((n >= 0)); then
        s=$((s + R[$p,$c,starved] + c - R[$p,$c,conns])) n=$((n + c))
      fi
    done
  done
  printf '  create >= 85%% of pgbench:              %s\n' "${creates%;}"
  printf '  item read >= 50%% of hello one-write:   %s\n' "${items%;}"
  printf '    (information: item read / hello header API:%s)\n' "${items0%;}"
  printf '  inbox >= 60%% of pgbench (generic plans):%s\n' "${inboxes%;}"
  printf '  p99 <= 2.5 x p50:                       %s\n' "${tails%;}"
  if ((n >= 0)); then
    printf '  no client starved:                      %s errors (non-2xx, socket, timeouts); %s of %s connections without answers %s\n' \
      "$e" "$s" "$n" "$(verdict test $((e + s)) -eq 0)"
  else
    printf '  no client starved:                      %s errors (non-2xx, socket, timeouts); connections not checked (BENCH_DURATION < 4s) %s\n' \
      "$e" "$(verdict test "$e" -eq 0)"
  fi
  printf '  RSS < 32 MiB with 128 threads:          %s MiB (peak %s) %s\n' "$(mib "$rss")" "$(mib "$hwm")" \
    "$(verdict test "$hwm" -lt 32768)"
  printf '  import %s grid cells < 5 s:         first %.2f s %s, second (unchanged) %.2f s %s\n' "${R[import1,rows]}" \
    "${R[import1,time]}" "$(verdict lt "${R[import1,time]}" 5)" "${R[import2,time]}" "$(verdict lt "${R[import2,time]}" 5)"
}
echo >&2
table | tee "$OUT/results.txt"
printf '\n(%s s; raw outputs in %s/)\n' "$((SECONDS - START))" "$OUT" >&2
