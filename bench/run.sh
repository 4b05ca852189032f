#!/usr/bin/env bash
# `make bench`: huyingd's hot paths next to their ceilings, in one run (DESIGN §8).
#
#   bash bench/run.sh
#
# Builds build/huyingd and bench_hello, starts a throwaway PostgreSQL cluster (bench/out/pg,
# port 54349, unix socket only), migrates, loads the demo district plus $BENCH_UNITS bulk
# department units, starts huyingd on 127.0.0.1:18080 and bench_hello (plain civetweb, fixed
# ~600-byte JSON) on 127.0.0.1:18081 (civetweb's header API) and :18082 (one mg_write, like
# huyingd's http.c), imports the demo list (POST /v1/imports/items), then for each client count
# measures with wrk:
#   hello one-write                         the HTTP ceiling (one mg_write per answer, as huyingd)
#   hello                                   civetweb's header API (information only)
#   GET /v1/items/{id}                      item read (ZRZY-01 with its scenarios and flow)
#   GET /v1/units/{id}                      a small read (a department's own unit)
#   GET /v1/units?kind=department&limit=20  list hot path (stand-in for the department inbox)
# and with pgbench the same SQL as each daemon path (extracted from server/items.c, server/ref.c
# and server/db.c at run time), through huying_api, one pipeline = one implicit transaction per
# request like the daemon, generic plans like the daemon. Then it times a bulk import of
# ~100,000 grid cells (bench/grids.sh) twice (inserts, then unchanged), and saves EXPLAIN plans
# of the keyword search over $BENCH_SEARCH_ITEMS synthetic items (bench/search-*.sql) in
# bench/out/search-explain.txt. Prints one table and the DESIGN §8 verdicts; raw outputs go to
# bench/out/. Everything it started is stopped and the cluster destroyed on exit, failure
# included.
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_CLIENTS ("16 64"), BENCH_UNITS (2000),
# BENCH_WRK_THREADS (2), BENCH_PG_SKIP (2), BENCH_DB_POOL (huyingd's default), BENCH_API_PORT (18080), BENCH_HELLO_PORT (18081; one-write
# mode on the next port), BENCH_PG_PORT (54349), BENCH_GRID_VILLAGES (100 per township),
# BENCH_GRIDS_PER_VILLAGE (124), BENCH_SEARCH_ITEMS (20000; 0 skips the EXPLAIN part).
set -euo pipefail
export LC_ALL=C
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO_ROOT"

DURATION=${BENCH_DURATION:-10s}
CLIENTS=${BENCH_CLIENTS:-"16 64"}
UNITS=${BENCH_UNITS:-2000}
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
LIST_QUERY='kind=department&limit=20'
START=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

step() { printf '==> %s\n' "$*" >&2; }
for tool in wrk pgbench curl jq perl gcc cmake; do
  command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install wrk postgresql-client-15 curl jq)"
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
token=$("$BIN" token --role department --unit "$dept")
payload=$(cut -d. -f2 <<<"$token" | tr '_-' '/+')
while (( ${#payload} % 4 )); do payload+='='; done
claims=$(base64 -d <<<"$payload" | jq -c '{sub, role, unit_id, district}') || die "cannot read the token's claims"
# Imports need the district role (the office's token).
district_token=$("$BIN" token --role district --unit "$office")

# ---- 3. servers ----------------------------------------------------------------------------
step "huyingd on 127.0.0.1:$API_PORT (128 threads, pool ${BENCH_DB_POOL:-default}), bench_hello on 127.0.0.1:$HELLO_PORT"
# The per-subject rate limit stays on (its cost is part of the hot path) but so high that
# one token's load is never refused: a 429 is not what we measure.
# BENCH_DB_POOL overrides the pool size for experiments (default: the daemon's own default).
env HUYING_LISTEN="127.0.0.1:$API_PORT" HUYING_THREADS=128 HUYING_LOG_LEVEL=warn \
  HUYING_RATE_LIMIT=1000000 HUYING_RATE_BURST=1000000 ${BENCH_DB_POOL:+HUYING_DB_POOL=$BENCH_DB_POOL} "$BIN" serve >"$RAW/huyingd.log" 2>&1 &
daemon_pid=$!
"$HELLO" "127.0.0.1:$HELLO_PORT" 128 headers >"$RAW/hello.log" 2>&1 &
hello_pid=$!
"$HELLO" "127.0.0.1:$HELLO1_PORT" 128 one-write >"$RAW/hello1.log" 2>&1 &
hello1_pid=$!
API=http://127.0.0.1:$API_PORT
HELLO_URL=http://127.0.0.1:$HELLO_PORT/
HELLO1_URL=http://127.0.0.1:$HELLO1_PORT/
UNIT_URL=$API/v1/units/$dept
LIST_URL="$API/v1/units?$LIST_QUERY"
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
fetch list "$LIST_URL" "$token"
[[ $(jq '.data | length' "$RAW/list.json") == 20 ]] || die "the list did not answer 20 rows"

# ---- the daemon's SQL, for pgbench ------------------------------------------------------------
# Taken from the sources at run time so that it cannot drift: the statements of server/items.c
# and server/ref.c (after the preprocessor, for REVISION_AT and DB_LIST_JSON) and auth.begin
# from server/db.c. $N becomes :pN.
stmt_sql() {   # stmt_sql FILE STMT_NAME [CPP]: the SQL text of DB_STMT("STMT_NAME", ...)
  local src
  if [[ ${3:-} == cpp ]]; then src=$(gcc -E -P -D_GNU_SOURCE -Iserver "$1"); else src=$(<"$1"); fi
  perl -0777 -e '
    my ($name, $src) = @ARGV;
    $src =~ /(?:DB_STMT\s*\(|\{)\s*"\Q$name\E"\s*,(.*?),\s*\d+\s*(?:,\s*0\s*\}|\))\s*;/s or exit 1;
    my $s = join "", ($1 =~ /"((?:[^"\\]|\\.)*)"/g);
    $s =~ s/\\(.)/$1/g;
    print $s;' "$2" "$src" || die "cannot find statement $2 in $1 (bench/run.sh extracts it; update the pattern)"
}
begin_sql=$(stmt_sql server/db.c auth_begin)
item_sql=$(stmt_sql server/items.c items_get cpp)
get_sql=$(stmt_sql server/ref.c units_get cpp)
list_sql=$(stmt_sql server/ref.c units_list cpp)
[[ $begin_sql == *'auth.begin($1, $2)'* ]] || die "unexpected auth.begin statement: $begin_sql"
write_script() {   # write_script FILE SQL SOURCE: one request = one pipeline (one Sync = one transaction)
  {
    printf -- '-- generated by bench/run.sh from server/db.c (auth_begin) and %s; do not edit\n' "$3"
    printf '\\startpipeline\n%s;\n%s;\n\\endpipeline\n' \
      "$(sed -E 's/\$([0-9]+)/:p\1/g; s/:p1/:claims/; s/:p2/:timeout/' <<<"$begin_sql")" \
      "$(sed -E 's/\$([0-9]+)/:p\1/g' <<<"$2")"
  } >"$1"
}
write_script "$OUT/items_get.sql" "$item_sql" server/items.c
write_script "$OUT/units_get.sql" "$get_sql" server/ref.c
write_script "$OUT/units_list.sql" "$list_sql" server/ref.c
# The daemon's parameters. pgbench cannot send NULL, so where the daemon sends NULL we send the
# value the SQL would take in its place, which keeps it a parameter: the item read's `at`
# (coalesce($2::date, api.today())) is today's date, and no cursor is the same as the cursor
# [""] (coalesce(... ->> 0, '')).
today=$(owner_sql -c "select api.today()")
ITEM_ARGS=(-D "p1=$item_id" -D "p2=$today")
GET_ARGS=(-D "p1=$dept")
LIST_ARGS=(-D p1=20 -D 'p2=[""]' -D p3=department)

# ---- 4./5. load -----------------------------------------------------------------------------
declare -A R
run_wrk() {   # run_wrk NAME CLIENTS URL [TOKEN]
  local f=$RAW/wrk-$1-c$2.txt line k v
  TOKEN=${4:-} wrk -t"$WRK_THREADS" -c"$2" -d"$DURATION" --latency -s bench/auth.lua "$3" >"$f" 2>&1 ||
    { cat "$f" >&2; die "wrk failed ($1, c$2)"; }
  line=$(grep '^BENCH ' "$f") || die "no summary line in $f"
  for kv in ${line#BENCH }; do
    k=${kv%%=*} v=${kv#*=}
    R[$1,$2,$k]=$v
  done
  R[$1,$2,errors]=$((R[$1,$2,connect] + R[$1,$2,read] + R[$1,$2,write] + R[$1,$2,status] + R[$1,$2,timeout]))
  printf '    %-7s c%-3s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s\n' "$1" "$2" "${R[$1,$2,rps]}" \
    "$(ms "${R[$1,$2,p50_us]}")" "$(ms "${R[$1,$2,p99_us]}")" "${R[$1,$2,errors]}" >&2
}
run_pgbench() {   # run_pgbench NAME CLIENTS PLAN_CACHE_MODE SCRIPT ARGS...
  local name=$1 c=$2 mode=$3 script=$4 f
  shift 4
  f=$RAW/pgbench-$name-$mode-c$c.txt
  PGOPTIONS="-c plan_cache_mode=$mode" "$PGBENCH" -n -M prepared -c "$c" -j "$WRK_THREADS" -T "${DURATION%s}" -P 1 \
    -f "$script" -D "claims=$claims" -D timeout=5000 "$@" "$HUYING_DATABASE_URL" >"$f" 2>&1 ||
    { cat "$f" >&2; die "pgbench failed ($name, $mode, c$c)"; }
  grep -q 'aborted' "$f" && { cat "$f" >&2; die "pgbench clients aborted ($name, c$c)"; }
  R[pg-$name-$mode,$c,tps]=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$f")
  R[pg-$name-$mode,$c,lat]=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$f")
  [[ -n ${R[pg-$name-$mode,$c,tps]} ]] || { cat "$f" >&2; die "no tps in $f"; }
  # Fresh backends start cold (fork, catalog caches, plpgsql compile: about a second at c64 on
  # 2 cores) while the daemon's pool is warm, so the ceiling is the steady rate: the mean of
  # the per-second progress reports after the first PG_SKIP seconds.
  R[pg-$name-$mode,$c,steady]=$(awk -v skip="$PG_SKIP" '
    /^progress: / { t = $2 + 0; if (t > skip) { sum += $4; n++ } }
    END { if (n) printf "%.1f", sum / n }' "$f")
  [[ -n ${R[pg-$name-$mode,$c,steady]} ]] || R[pg-$name-$mode,$c,steady]=${R[pg-$name-$mode,$c,tps]}
  printf '    pg %-4s c%-3s %9.0f tps steady, %.0f overall (%s plans, latency avg %s ms)\n' "$name" "$c" \
    "${R[pg-$name-$mode,$c,steady]}" "${R[pg-$name-$mode,$c,tps]}" "$mode" "${R[pg-$name-$mode,$c,lat]}" >&2
}
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

# Check the pgbench scripts once (and prepare nothing on the daemon's side).
for s in items_get units_get units_list; do
  case $s in
    items_get) a=("${ITEM_ARGS[@]}") ;;
    units_get) a=("${GET_ARGS[@]}") ;;
    *) a=("${LIST_ARGS[@]}") ;;
  esac
  "$PGBENCH" -n -M prepared -t 1 -f "$OUT/$s.sql" -D "claims=$claims" -D timeout=5000 "${a[@]}" \
    "$HUYING_DATABASE_URL" >"$RAW/pgbench-check-$s.txt" 2>&1 ||
    { cat "$RAW/pgbench-check-$s.txt" >&2; die "pgbench cannot run $OUT/$s.sql"; }
done

step "warm-up (1 s per path at c64)"
for u in "$HELLO_URL" "$HELLO1_URL" "$ITEM_URL" "$UNIT_URL" "$LIST_URL"; do
  TOKEN=$token wrk -t"$WRK_THREADS" -c64 -d1s -s bench/auth.lua "$u" >>"$RAW/warmup.txt" 2>&1 || true
done

for c in $CLIENTS; do
  step "load at $c connections / clients ($DURATION each)"
  run_wrk hello "$c" "$HELLO_URL"
  run_wrk hello1 "$c" "$HELLO1_URL"
  run_wrk item "$c" "$ITEM_URL" "$token"
  run_wrk unit "$c" "$UNIT_URL" "$token"
  run_wrk list "$c" "$LIST_URL" "$token"
  run_pgbench item "$c" force_generic_plan "$OUT/items_get.sql" "${ITEM_ARGS[@]}"
  run_pgbench unit "$c" force_generic_plan "$OUT/units_get.sql" "${GET_ARGS[@]}"
  run_pgbench list "$c" force_generic_plan "$OUT/units_list.sql" "${LIST_ARGS[@]}"
done
# For the record: the list with custom plans (what generic plans are chosen over, DESIGN §3).
first_c=${CLIENTS%% *}
step "list with plan_cache_mode=auto at c$first_c (information only)"
run_pgbench list "$first_c" auto "$OUT/units_list.sql" "${LIST_ARGS[@]}"

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
table() {
  printf 'huying bench  %s  %s  %s cores  git %s%s  wrk -t%s -d%s  pgbench -M prepared -j%s -T%s\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -n)" "$JOBS" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD -- server schema 2>/dev/null || echo '+dirty')" "$WRK_THREADS" "$DURATION" \
    "$WRK_THREADS" "$DURATION"
  printf 'data: %s units in the district (%s bulk departments), %s items imported; item = GET /v1/items/%s (ZRZY-01, %s bytes);\n' \
    "$units_total" "$UNITS" "$items_total" "$item_id" "$(wc -c <"$RAW/item.json")"
  printf '      unit = GET /v1/units/%s (%s bytes); list = GET /v1/units?%s (%s bytes)\n' "$dept" "$(wc -c <"$RAW/unit.json")" \
    "$LIST_QUERY" "$(wc -c <"$RAW/list.json")"
  printf 'huyingd: %s threads, pool %s; ' "$(sed -n 's/.*"msg":"listening".*"threads":\([0-9]*\).*/\1/p' "$RAW/huyingd.log")" \
    "$(sed -n 's/.*"msg":"listening".*"db_pool":\([0-9]*\).*/\1/p' "$RAW/huyingd.log")"
  printf 'load average before the run: %s (the machine may be shared: compare ratios, not absolutes)\n\n' "$LOAD_BEFORE"
  printf '%-22s %3s %9s  %-17s %9s %6s %7s %8s %8s %7s %6s\n' \
    path c 'req/s' ceiling 'ceil/s' ratio target 'p50 ms' 'p99 ms' p99/p50 errors
  local c row
  for c in $CLIENTS; do
    for row in 'hello1|hello one-write (ceil)' 'hello|hello header API'; do
      IFS='|' read -r p label <<<"$row"
      printf '%-22s %3s %9.0f  %-17s %9s %6s %7s %8s %8s %7s %6s\n' "${label:0:22}" "$c" "${R[$p,$c,rps]}" \
        '-' '-' '-' '-' "$(ms "${R[$p,$c,p50_us]}")" "$(ms "${R[$p,$c,p99_us]}")" \
        "$(ratio "${R[$p,$c,p99_us]}" "${R[$p,$c,p50_us]}")" "${R[$p,$c,errors]}"
    done
    for row in 'item|GET /v1/items/{id}|hello1|hello one-write|0.50' 'item|GET /v1/items/{id}|pg-item-force_generic_plan|pgbench generic|' \
               'unit|GET /v1/units/{id}|hello1|hello one-write|' 'unit|GET /v1/units/{id}|pg-unit-force_generic_plan|pgbench generic|' \
               'list|GET /v1/units?kind..|pg-list-force_generic_plan|pgbench generic|0.60' 'list|GET /v1/units?kind..|hello1|hello one-write|'; do
      IFS='|' read -r p label ck clabel target <<<"$row"
      local d=${R[$p,$c,rps]} cv
      if [[ $ck == hello1 ]]; then cv=${R[hello1,$c,rps]}; else cv=${R[$ck,$c,steady]}; fi
      printf '%-22s %3s %9.0f  %-17s %9.0f %6s %7s %8s %8s %7s %6s\n' "$label" "$c" "$d" "$clabel" "$cv" \
        "$(pct "$d" "$cv")" "${target:+>=$(pct "$target" 1)}" "$(ms "${R[$p,$c,p50_us]}")" "$(ms "${R[$p,$c,p99_us]}")" \
        "$(ratio "${R[$p,$c,p99_us]}" "${R[$p,$c,p50_us]}")" "${R[$p,$c,errors]}"
    done
  done
  printf '\npgbench tps are steady rates (after the first %s s); overall:' "$PG_SKIP"
  for c in $CLIENTS; do
    printf ' item c%s %.0f, unit c%s %.0f, list c%s %.0f;' "$c" "${R[pg-item-force_generic_plan,$c,tps]}" \
      "$c" "${R[pg-unit-force_generic_plan,$c,tps]}" "$c" "${R[pg-list-force_generic_plan,$c,tps]}"
  done
  printf '\npgbench list with custom plans (plan_cache_mode=auto) at c%s: %.0f tps steady (generic: %.0f)\n' "$first_c" \
    "${R[pg-list-auto,$first_c,steady]}" "${R[pg-list-force_generic_plan,$first_c,steady]}"
  printf 'huyingd memory after the load: VmRSS %s MiB, peak VmHWM %s MiB, %s threads (bench_hello VmRSS %s MiB);' \
    "$(mib "$rss")" "$(mib "$hwm")" "$threads" "$(mib "$hello_rss")"
  printf ' peak after the grid imports %s MiB\n' "$(mib "$hwm_import")"
  local r
  for r in 1 2; do
    printf 'grid import %s: %s cells in %.2f s = %.0f rows/s (inserted %s, updated %s, unchanged %s)\n' "$r" \
      "${R[import$r,rows]}" "${R[import$r,time]}" "$(awk -v n="${R[import$r,rows]}" -v t="${R[import$r,time]}" 'BEGIN { print n / t }')" \
      "${R[import$r,inserted]}" "${R[import$r,updated]}" "${R[import$r,unchanged]}"
  done
  if [[ -s $OUT/search-summary.txt ]]; then
    printf '\nkeyword search over %s synthetic items (plans in %s/search-explain.txt): heading | first scan | time\n' "$SEARCH_ITEMS" "$OUT"
    sed 's/^/  /' "$OUT/search-summary.txt"
  fi
  printf '\nDESIGN §8 targets:\n'
  local items='' items0='' lists='' tails='' errs='' e=0
  for c in $CLIENTS; do
    items+=" c$c $(pct "${R[item,$c,rps]}" "${R[hello1,$c,rps]}") $(verdict ge "${R[item,$c,rps]}" "${R[hello1,$c,rps]}" 0.5);"
    items0+=" c$c $(pct "${R[item,$c,rps]}" "${R[hello,$c,rps]}");"
    lists+=" c$c $(pct "${R[list,$c,rps]}" "${R[pg-list-force_generic_plan,$c,steady]}") $(verdict ge "${R[list,$c,rps]}" "${R[pg-list-force_generic_plan,$c,steady]}" 0.6);"
    for p in item unit list; do
      tails+=" $p c$c $(ratio "${R[$p,$c,p99_us]}" "${R[$p,$c,p50_us]}") $(verdict ge "$(awk -v a="${R[$p,$c,p50_us]}" 'BEGIN { print 2.5 * a }')" "${R[$p,$c,p99_us]}" 1);"
      e=$((e + R[$p,$c,errors]))
    done
  done
  errs="$e errors (non-2xx, socket errors, timeouts) on the daemon paths $(verdict test "$e" -eq 0)"
  printf '  item read >= 50%% of hello one-write:   %s\n' "${items%;}"
  printf '    (information: item read / hello header API:%s)\n' "${items0%;}"
  printf '  list >= 60%% of pgbench (generic plans): %s\n' "${lists%;}"
  printf '  p99 <= 2.5 x p50:                       %s\n' "${tails%;}"
  printf '  no client starved:                      %s\n' "$errs"
  printf '  RSS < 32 MiB with 128 threads:          %s MiB (peak %s) %s\n' "$(mib "$rss")" "$(mib "$hwm")" \
    "$(verdict test "$hwm" -lt 32768)"
  printf '  import %s grid cells < 5 s:         first %.2f s %s, second (unchanged) %.2f s %s\n' "${R[import1,rows]}" \
    "${R[import1,time]}" "$(verdict lt "${R[import1,time]}" 5)" "${R[import2,time]}" "$(verdict lt "${R[import2,time]}" 5)"
}
echo >&2
table | tee "$OUT/results.txt"
printf '\n(%s s; raw outputs in %s/)\n' "$((SECONDS - START))" "$OUT" >&2
