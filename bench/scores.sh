#!/usr/bin/env bash
# The scores benchmark (issue 6, DESIGN §8: "Scores for a month with 1,000,000 orders: under
# 300 ms"): a private cluster with one calendar month (the previous one, Asia/Shanghai) of
# $BENCH_SCORE_ORDERS (1,000,000) orders, their calls, ratings and notices (bench/scores.sql),
# the score deltas folded by api.score_compact (timed), then
#   1. GET /v1/scores?by=department for the month through huyingd: one request cold, the
#      median of 10 single requests (curl), and p50/p99 over a wrk run with 1 and 4
#      connections; next to the same SQL (api.scores as huying_api, with the daemon's
#      session settings and the district's claims, median of 10) and its EXPLAIN (ANALYZE,
#      BUFFERS) as the daemon's generic plan and as a custom plan (bench/out/scores-explain.txt);
#   2. by=township and by=domain, the same way;
#   3. with one open order past its deadline that the sweep has not marked yet (the normal
#      state between two sweeps: it is counted at read time); with 100,000 deltas not yet folded (100,000 orders of the month changed by SQL, each
#      through the trigger), and the cost of that update with and without the trigger;
#   4. a department's series of 12 months (interval=month) with eleven earlier months copied
#      into the roll-up (synthetic history: a year of 12 million orders);
#   5. the create path: api.call_create (one township call auto-dispatched to 3 departments)
#      with the score triggers and without them (disabled in this throwaway cluster): pgbench
#      at 1 client and the database time per create, 3 interleaved rounds, medians and ratio;
#   6. for information, the month's league table where no replica sweeps: the lapse marks of
#      the open orders cleared, so that every open order past a deadline is counted at read
#      time.
# Prints the figures (also in bench/out/scores-results.txt).
#   bash bench/scores.sh   (BENCH_SCORE_ORDERS, BENCH_DURATION=10s, BENCH_CREATE_SECONDS=10,
#                           BENCH_PG_PORT=54379, BENCH_API_PORT=18180; BENCH_KEEP=1 keeps the cluster)
set -euo pipefail
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO_ROOT"
N=${BENCH_SCORE_ORDERS:-1000000}
PORT=${BENCH_PG_PORT:-54379}
API_PORT=${BENCH_API_PORT:-18180}
DURATION=${BENCH_DURATION:-10s}
DIR=bench/out/pg-scores
OUT=bench/out
RAW=$OUT/raw-scores
mkdir -p "$OUT" "$RAW"
RES=$OUT/scores-results.txt
: >"$RES"
step() { printf '==> %s\n' "$*" >&2; }
say() { printf '%s\n' "$*" | tee -a "$RES"; }
cleanup() {
  [[ -n ${DPID:-} ]] && kill "$DPID" 2>/dev/null
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept: scripts/pg.sh psql $DIR $PORT"; else scripts/pg.sh destroy "$DIR" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
for t in curl jq wrk pgbench bc; do command -v "$t" >/dev/null || die "$t is needed"; done
! curl -s -o /dev/null "http://127.0.0.1:$API_PORT/healthz" || die "something already answers on 127.0.0.1:$API_PORT"
[[ -x build/huyingd ]] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j "$(nproc)" >/dev/null; }
scripts/pg.sh destroy "$DIR" >/dev/null 2>&1 || true
scripts/pg.sh start --fast "$DIR" "$PORT" >/dev/null
eval "$(scripts/pg.sh urls "$DIR" "$PORT")"
export HUYING_JWT_SECRET=$(head -c 48 /dev/urandom | base64)
build/huyingd migrate >/dev/null
DID=$(build/huyingd district add --code SB --name 考核基准区 | jq .district_id)
scripts/load-demo.sh "$DID" >/dev/null
psql=$(psql_bin)
P() { "$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# the daemon's session settings (server/db.c)
A() { PGOPTIONS='-c jit=off -c plan_cache_mode=force_generic_plan' "$psql" "$HUYING_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now_s() { date +%s.%N; }
rollups() { P -c "select (select count(*) from huying.score_rollup where district_id = $DID) || ' rows in score_rollup, ' || (select count(*) from huying.score_rollup_dept where district_id = $DID) || ' in score_rollup_dept'"; }
since() { echo "$(now_s) - $1" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

OFFICE=$(P -c "select id from huying.units where district_id = $DID and kind = 'district_office'")
DEPT=$(P -c "select id from huying.units where district_id = $DID and code = 'CD-ZRZY'")
TOWN=$(P -c "select id from huying.units where district_id = $DID and code = 'TS-NCS'")
TK=$(build/huyingd token --role district --unit "$OFFICE")
CLAIMS=$(jq -cn --arg d "$DID" --arg u "$OFFICE" '{sub: "bench-district", role: "district", unit_id: ($u | tonumber), district: ($d | tonumber)}')
TCLAIMS=$(jq -cn --arg d "$DID" --arg u "$TOWN" '{sub: "bench-township", role: "township", unit_id: ($u | tonumber), district: ($d | tonumber)}')
# the month: the previous calendar month in Asia/Shanghai
M_FROM=$(P -c "select (date_trunc('month', now() at time zone 'Asia/Shanghai') - interval '1 month')::date")
M_TO=$(P -c "select (date_trunc('month', now() at time zone 'Asia/Shanghai') - interval '1 day')::date")
Y_FROM=$(P -c "select ('$M_FROM'::date - interval '11 months')::date")

# The daemon does not sweep: this script folds the deltas itself, when it means to.
(HUYING_LISTEN=127.0.0.1:$API_PORT HUYING_SWEEP_INTERVAL_MS=0 HUYING_RATE_LIMIT=0 HUYING_LOG_LEVEL=warn \
   build/huyingd serve >"$RAW/daemon.log" 2>&1) &
DPID=$!
API=http://127.0.0.1:$API_PORT
for i in $(seq 1 100); do curl -sf -o /dev/null "$API/healthz" && break; sleep 0.1; done
code=$(curl -s -o "$RAW/import-items.json" -w '%{http_code}' -H "Authorization: Bearer $TK" \
  -H 'Content-Type: application/x-ndjson' --data-binary @data/demo/items.ndjson "$API/v1/imports/items?effective_from=2026-01-01")
[[ $code == 200 ]] || die "POST /v1/imports/items answered $code: $(head -c 400 "$RAW/import-items.json")"

step "seeding $M_FROM .. $M_TO with $N orders"
t0=$(now_s)
P -v district="$DID" -v n="$N" -v m_from="$M_FROM" -v m_to="$M_TO" -f bench/scores.sql
say "seed: $(P -c "select count(*) from huying.orders where district_id = $DID") orders of $(P -c "select count(*) from huying.calls where district_id = $DID") calls in $(printf '%.1f' "$(since "$t0")") s, $M_FROM .. $M_TO"
say "      $(P -c "select string_agg(status || ' ' || n, ', ' order by n desc) from (select status, count(*) n from huying.orders where district_id = $DID group by 1) x")"
say "      $(P -c "select count(*) || ' ratings (' || round(100.0 * count(*) filter (where speed >= 4 and effectiveness >= 4) / count(*)) || ' % satisfied)' from huying.ratings where district_id = $DID"), $(P -c "select count(*) || ' notices (' || count(*) filter (where kind <> 'reminder') || ' counted)' from huying.notices where district_id = $DID"), $(P -c "select count(*) from huying.orders where district_id = $DID and status in ('dispatched', 'accepted')") open orders"
deltas=$(P -c "select count(*) from huying.score_deltas")

step "folding $deltas deltas with api.score_compact(100000)"
t0=$(now_s)
folded=0
while :; do k=$(P -c "select api.score_compact(100000)"); folded=$((folded + k)); ((k > 0)) || break; done
fold_s=$(since "$t0")
P -c "vacuum analyze" >/dev/null 2>&1
say "fold: $folded deltas folded in $(printf '%.1f' "$fold_s") s ($(echo "$folded / $fold_s" | bc) per second): $(rollups)"

# every figure of the league table adds up to what the base tables hold (a cheap check that
# the seeding wrote the facts the triggers would have written)
sum_api=$(A -c "select set_config('huying.claims', '$CLAIMS', false)" -c "select sum((x ->> 'orders')::int) || '/' || sum((x ->> 'ratings')::int) || '/' || sum((x ->> 'notices')::int) from jsonb_array_elements(api.scores('department', '$M_FROM', '$M_TO') -> 'data') x" | tail -1)
sum_sql=$(P -c "select (select count(*) from huying.orders where district_id = $DID and status not in ('cancelled', 'returned')) || '/' || (select count(*) from huying.ratings where district_id = $DID) || '/' || (select count(*) from huying.notices where district_id = $DID and kind <> 'reminder')")
[[ $sum_api == "$sum_sql" ]] || die "the league table's orders/ratings/notices ($sum_api) differ from the base tables' ($sum_sql)"
say "check: orders/ratings/notices of the league table = the base tables' ($sum_api)"

# ---- measuring ------------------------------------------------------------------------------
# one_url NAME PATH: cold, median of 10 single requests (curl), then wrk at 1 and 4 connections
one_url() {
  local name=$1 url=$API$2 cold singles w1 w4
  code=$(curl -s -o "$RAW/$name.json" -w '%{http_code}' -H "Authorization: Bearer $TK" "$url")
  if [[ $code != 200 ]]; then
    say "$(printf '%-26s answered %s: %s' "$name" "$code" "$(jq -r .detail "$RAW/$name.json" 2>/dev/null || head -c 200 "$RAW/$name.json")")"
    return 0
  fi
  cold=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TK" "$url")
  singles=$(for _ in $(seq 1 10); do curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TK" "$url"; done | median)
  TOKEN=$TK wrk -t1 -c1 -d"$DURATION" --timeout 10s --latency -s bench/auth.lua "$url" >"$RAW/$name-c1.txt" 2>&1
  TOKEN=$TK wrk -t2 -c4 -d"$DURATION" --timeout 10s --latency -s bench/auth.lua "$url" >"$RAW/$name-c4.txt" 2>&1
  w1=$(grep '^BENCH' "$RAW/$name-c1.txt")
  w4=$(grep '^BENCH' "$RAW/$name-c4.txt")
  kv() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
  printf '%-26s %8.1f %8.1f %7d %8.1f %8.1f %7.1f %8.1f %8.1f %6d\n' "$name" \
    "$(echo "$cold * 1000" | bc)" "$(echo "$singles * 1000" | bc)" \
    "$(kv requests "$w1")" "$(echo "$(kv p50_us "$w1") / 1000" | bc -l)" "$(echo "$(kv p99_us "$w1") / 1000" | bc -l)" \
    "$(kv rps "$w4")" "$(echo "$(kv p50_us "$w4") / 1000" | bc -l)" "$(echo "$(kv p99_us "$w4") / 1000" | bc -l)" \
    "$(( $(kv status "$w1") + $(kv status "$w4") + $(kv timeout "$w1") + $(kv timeout "$w4") ))" | tee -a "$RES"
}
# sql_ms SQL: the median of 10 runs as huying_api with the district's claims and the daemon's settings
sql_ms() {
  local args=(-c "select set_config('huying.claims', '$CLAIMS', false)" -c '\timing on')
  for _ in $(seq 1 10); do args+=(-c "select length(($1)::text)"); done
  A "${args[@]}" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | median
}
# explain TITLE BY FROM TO MONTH: EXPLAIN (ANALYZE, BUFFERS) of the league table's query, as the
# owner with the claims and the work_mem api.scores sets (the functions are inlined into it),
# generic plan and custom plan
WORK_MEM=$(P -c "select coalesce((select option_value from pg_options_to_table((select proconfig from pg_proc where oid = 'api.scores'::regproc)) where option_name = 'work_mem'), current_setting('work_mem'))")
explain() {
  {
    printf '\n==== %s: generic plan (as the daemon runs it, plan_cache_mode = force_generic_plan)\n' "$1"
    P -c "set jit = off" -c "set work_mem = '$WORK_MEM'" -c "select set_config('huying.claims', '$CLAIMS', false)" -c "set plan_cache_mode = force_generic_plan" \
      -c "prepare q(bigint, text, date, date, boolean) as select * from huying.score_table(\$1, \$2, \$3, \$4, \$5)" \
      -c "explain (analyze, buffers) execute q($DID, '$2', '$3', '$4', $5)" -c "explain (analyze, buffers) execute q($DID, '$2', '$3', '$4', $5)" | tail -n +2
    printf '\n==== %s: custom plan\n' "$1"
    P -c "set jit = off" -c "set work_mem = '$WORK_MEM'" -c "select set_config('huying.claims', '$CLAIMS', false)" \
      -c "explain (analyze, buffers) select * from huying.score_table($DID, '$2', '$3', '$4', $5)" | tail -n +2
  } >>"$OUT/scores-explain.txt"
}
: >"$OUT/scores-explain.txt"
HEAD=$(printf '%-26s %8s %8s %7s %8s %8s %7s %8s %8s %6s' 'GET (ms)' cold single 'c1 req' 'c1 p50' 'c1 p99' 'c4 rps' 'c4 p50' 'c4 p99' errors)

step "league tables of the month through huyingd"
say ""
say "$HEAD"
one_url "by=department" "/v1/scores?by=department&from=$M_FROM&to=$M_TO"
one_url "by=township" "/v1/scores?by=township&from=$M_FROM&to=$M_TO"
one_url "by=domain" "/v1/scores?by=domain&from=$M_FROM&to=$M_TO"
one_url "department $DEPT, month" "/v1/scores/departments/$DEPT?from=$M_FROM&to=$M_TO"
step "the same SQL, and its plans"
say ""
say "SQL as huying_api (median of 10, ms): by=department $(sql_ms "api.scores('department', '$M_FROM', '$M_TO')"), by=township $(sql_ms "api.scores('township', '$M_FROM', '$M_TO')"), by=domain $(sql_ms "api.scores('domain', '$M_FROM', '$M_TO')")"
explain "by=department, the month, all folded" department "$M_FROM" "$M_TO" false
explain "by=domain, the month, all folded" domain "$M_FROM" "$M_TO" false

step "one open order past its deadline that the sweep has not marked yet (the state between two sweeps)"
X=$(P -c "select min(id) from huying.orders where district_id = $DID and status = 'dispatched' and accept_lapsed")
P -c "update huying.orders set accept_lapsed = false, resolve_lapsed = false where id = $X" >/dev/null
while (( $(P -c "select api.score_compact(100000)") > 0 )); do :; done
say ""
say "one unmarked: order $X past its deadlines without the lapse marks (folded): it alone is counted at read time"
say "$HEAD"
one_url "by=department, 1 unmarked" "/v1/scores?by=department&from=$M_FROM&to=$M_TO"
say "SQL as huying_api (median of 10, ms): by=department $(sql_ms "api.scores('department', '$M_FROM', '$M_TO')"), by=township $(sql_ms "api.scores('township', '$M_FROM', '$M_TO')")"
explain "by=department, the month, one order past its deadline unmarked" department "$M_FROM" "$M_TO" false
P -c "update huying.orders set accept_lapsed = true, resolve_lapsed = (resolve_by < now()) where id = $X" >/dev/null
while (( $(P -c "select api.score_compact(100000)") > 0 )); do :; done

step "100,000 deltas not yet folded"
ids="select id from huying.orders where district_id = $DID and status = 'resolved' order by id limit 100000"
off=$(P -c '\timing on' -c "begin" -c "alter table huying.orders disable trigger orders_scores" \
        -c "update huying.orders set overdue = not overdue where id in ($ids)" -c "rollback" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sed -n 3p)
on=$(P -c '\timing on' -c "update huying.orders set overdue = not overdue where id in ($ids)" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
changed=$(P -c "select count(*) from ($ids) x")
P -c "analyze huying.score_deltas" >/dev/null
say ""
say "$changed orders updated by SQL (overdue flipped): $(printf '%.0f' "$on") ms with orders_scores, $(printf '%.0f' "$off") ms without: $(echo "scale=3; ($on - $off) / $changed" | bc) ms per changed order for its delta; $(P -c "select count(*) from huying.score_deltas") deltas pending"
say "$HEAD"
one_url "by=department, 100k pending" "/v1/scores?by=department&from=$M_FROM&to=$M_TO"
say "SQL as huying_api (median of 10, ms): by=department with 100,000 deltas pending $(sql_ms "api.scores('department', '$M_FROM', '$M_TO')")"
explain "by=department, the month, 100,000 deltas pending" department "$M_FROM" "$M_TO" false
t0=$(now_s)
while (( $(P -c "select api.score_compact(5000)") > 0 )); do :; done
say "folding them back in sweeper-sized batches of 5,000: $(printf '%.1f' "$(since "$t0")") s"
P -c "vacuum analyze huying.score_deltas, huying.score_rollup" >/dev/null

step "a year: eleven earlier months copied into the roll-up"
P -v district="$DID" -v m_from="$M_FROM" >/dev/null <<'SQL'
-- synthetic history (bench only): the month's roll-up rows again in each of the eleven months
-- before it, day d of the month to day d of that month (days past its end fold onto its last
-- day), written as deltas and folded like any others
insert into huying.score_deltas (district_id, day, department_id, township_id, domain_id, calls, orders, accept_counted,
                                 accepted_on_time, resolve_counted, resolved_on_time, overdue, returned, notices, ratings,
                                 satisfied, speed_sum, effectiveness_sum)
select district_id, (m + least(x.day - :'m_from'::date, (m + interval '1 month')::date - m - 1))::date, department_id,
       township_id, domain_id, calls, orders, accept_counted, accepted_on_time, resolve_counted, resolved_on_time, overdue,
       returned, notices, ratings, satisfied, speed_sum, effectiveness_sum
  from huying.score_rollup x
 cross join lateral (select (:'m_from'::date - k * interval '1 month')::date as m from generate_series(1, 11) k) mm
 where x.district_id = :district and x.day between :'m_from'::date and (:'m_from'::date + interval '1 month')::date - 1;
SQL
while (( $(P -c "select api.score_compact(200000)") > 0 )); do :; done
P -c "vacuum analyze huying.score_deltas" -c "vacuum analyze huying.score_rollup" -c "vacuum analyze huying.score_rollup_dept" >/dev/null 2>&1
say "roll-up for $Y_FROM .. $M_TO: $(rollups)"
say "$HEAD"
one_url "department $DEPT, 12 months" "/v1/scores/departments/$DEPT?from=$Y_FROM&to=$M_TO&interval=month"
one_url "by=department, 12 months" "/v1/scores?by=department&from=$Y_FROM&to=$M_TO"
one_url "by=department, the month" "/v1/scores?by=department&from=$M_FROM&to=$M_TO"
say "SQL as huying_api (median of 10, ms): department series of 12 months $(sql_ms "api.score_department($DEPT, '$Y_FROM', '$M_TO', true, false)")"
explain "by=department by month, 12 months" department "$Y_FROM" "$M_TO" true

step "the create path: api.call_create with and without the score triggers"
body='{"title": "考核压测新呼叫", "item_code": "ZRZY-01"}'
printf '%s\n' "begin;" "select set_config('huying.claims', '$TCLAIMS', true);" \
  "select status from api.call_create('$body'::jsonb, null);" "commit;" >"$RAW/create.sql"
# the answer once: 201 and dispatched to 3 departments
A -c "select set_config('huying.claims', '$TCLAIMS', false)" -c "select status || ' ' || (body::jsonb ->> 'status') || ' ' || jsonb_array_length(body::jsonb -> 'orders') from api.call_create('$body'::jsonb, null)" | tail -1 | grep -qx '201 dispatched 3' ||
  die "api.call_create did not answer 201 with a call dispatched to 3 departments"
variant() {   # variant with|without on|off
  case $1/$2 in
    without/on) P -c "alter table huying.orders disable trigger orders_scores" -c "alter table huying.calls disable trigger calls_scores" ;;
    without/off) P -c "alter table huying.orders enable trigger orders_scores" -c "alter table huying.calls enable trigger calls_scores" ;;
  esac
}
tps() {   # pgbench -c1 for $BENCH_CREATE_SECONDS: tps
  PGOPTIONS='-c jit=off -c plan_cache_mode=force_generic_plan' pgbench -n -M prepared -c1 -j1 -T "$CREATE_S" \
    -f "$RAW/create.sql" "$HUYING_DATABASE_URL" >"$RAW/create-$1-$2.txt" 2>&1
  sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$RAW/create-$1-$2.txt" | head -1
}
indb() {      # ms per create in the database: 50 creates in one statement after 10 to warm up, rolled back
  local q="select count(*) from generate_series(1, %s) g cross join lateral api.call_create(('{\"title\": \"考核压测 ' || g || '\", \"item_code\": \"ZRZY-01\"}')::jsonb, null) a"
  # shellcheck disable=SC2059
  A -c "begin" -c "select set_config('huying.claims', '$TCLAIMS', true)" -c "$(printf "$q" 10)" -c '\timing on' -c "$(printf "$q" 50)" \
    -c "rollback" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | head -1 | awk '{printf "%.3f\n", $1 / 50}'
}
CREATE_S=${BENCH_CREATE_SECONDS:-10}
declare -A T=() M=()
for round in 1 2 3; do
  for v in with without; do
    variant "$v" on
    T[$v]+="$(printf '%.0f' "$(tps "$v" "$round")") "
    M[$v]+="$(indb) "
    variant "$v" off
  done
done
med() { tr ' ' '\n' | grep . | median; }
tw=$(med <<<"${T[with]}"); to=$(med <<<"${T[without]}")
mw=$(med <<<"${M[with]}"); mo=$(med <<<"${M[without]}")
say ""
say "create (1 call + 3 orders + 4 deltas), medians of 3 interleaved rounds:"
say "  pgbench c1, ${CREATE_S} s each (tps): with the score triggers ${T[with]}-> $(printf '%.0f' "$tw"); without ${T[without]}-> $(printf '%.0f' "$to"); ratio $(echo "scale=2; $tw / $to" | bc)"
say "  in the database (ms per create): with ${M[with]}-> $mw; without ${M[without]}-> $mo; the triggers add $(echo "scale=3; $mw - $mo" | bc) ms (ratio $(echo "scale=2; $mw / $mo" | bc))"

step "information: the month where no replica sweeps (every lapse mark of the month's open orders cleared)"
lapsed=$(P -c "select count(*) from huying.orders where district_id = $DID and status in ('dispatched', 'accepted') and (accept_lapsed or resolve_lapsed)")
P -c "update huying.orders set accept_lapsed = false, resolve_lapsed = false where district_id = $DID and status in ('dispatched', 'accepted') and (accept_lapsed or resolve_lapsed)" >/dev/null
while (( $(P -c "select api.score_compact(100000)") > 0 )); do :; done
P -c "vacuum analyze huying.orders, huying.score_rollup, huying.score_deltas" >/dev/null 2>&1
say ""
say "no sweep: the lapse marks of $lapsed open orders cleared (folded): all counted at read time"
say "$HEAD"
one_url "by=department, no sweep" "/v1/scores?by=department&from=$M_FROM&to=$M_TO"
one_url "by=township, no sweep" "/v1/scores?by=township&from=$M_FROM&to=$M_TO"
say "SQL as huying_api (median of 10, ms): by=department $(sql_ms "api.scores('department', '$M_FROM', '$M_TO')"), by=township $(sql_ms "api.scores('township', '$M_FROM', '$M_TO')")"
explain "by=department, the month, no sweep" department "$M_FROM" "$M_TO" false
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
say ""
say "plans: $OUT/scores-explain.txt; answers and wrk outputs: $RAW/"
