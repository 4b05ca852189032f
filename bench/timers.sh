#!/usr/bin/env bash
# The timer sweep benchmark (DESIGN §8): a private cluster with $BENCH_TIMER_ORDERS (1,000,000)
# open orders and their 2,000,000 running timers, then
#   1. an idle sweep (nothing due): api.sweep(500) timed over 20 runs, and its EXPLAIN;
#   2. 10,000 timers made due at once, fired by one huyingd (HUYING_SWEEP_INTERVAL_MS=200):
#      the time from due to the last warning event, and each timer fired once;
#   3. the same 10,000 fired by api.sweep(10000) in one statement (database time only).
# Prints the figures; plans go to bench/out/timers-explain.txt.
#   bash bench/timers.sh         (BENCH_TIMER_ORDERS, BENCH_PG_PORT=54369)
set -euo pipefail
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO_ROOT"
N=${BENCH_TIMER_ORDERS:-1000000}
PORT=${BENCH_PG_PORT:-54369}
DIR=bench/out/pg-timers
OUT=bench/out
mkdir -p "$OUT"
step() { printf '==> %s\n' "$*" >&2; }
cleanup() { [[ -n ${DPID:-} ]] && kill "$DPID" 2>/dev/null; scripts/pg.sh destroy "$DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
[[ -x build/huyingd ]] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j "$(nproc)" >/dev/null; }
scripts/pg.sh destroy "$DIR" >/dev/null 2>&1 || true
scripts/pg.sh start --fast "$DIR" "$PORT" >/dev/null
eval "$(scripts/pg.sh urls "$DIR" "$PORT")"
export HUYING_JWT_SECRET=$(head -c 48 /dev/urandom | base64)
build/huyingd migrate >/dev/null
DID=$(build/huyingd district add --code TB --name 计时基准区 | jq .district_id)
scripts/load-demo.sh "$DID" >/dev/null
psql=$(psql_bin)
P() { "$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
A() { "$psql" "$HUYING_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
step "seeding $N open orders with 2 running timers each"
t0=$(date +%s.%N)
P -v district="$DID" -v n="$N" -f bench/timers.sql
printf '    seeded in %.1f s: %s timers\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$(P -c 'select count(*) from huying.timers')"

step "idle sweep (nothing due), as the daemon runs it (huying_api, jit off, generic plans)"
A -c "set jit = off" -c "set plan_cache_mode = force_generic_plan" -c '\timing on' \
  -c "select api.sweep(500)" -c "select api.sweep(500)" -c "select api.sweep(500)" -c "select api.sweep(500)" \
  -c "select api.sweep(500)" -c "select api.sweep(500)" -c "select api.sweep(500)" -c "select api.sweep(500)" \
  -c "select api.sweep(500)" -c "select api.sweep(500)" 2>&1 | grep -E '^Time' | awk '{print $2}' | sort -n > "$OUT/timers-idle.txt"
printf '    idle api.sweep(500): median %s ms, max %s ms over 10 runs\n' "$(sed -n 5p "$OUT/timers-idle.txt")" "$(tail -1 "$OUT/timers-idle.txt")"
P -c "explain (analyze, buffers, costs off) select * from huying.timers x where x.fire_at <= now() order by x.fire_at limit 500 for update skip locked" > "$OUT/timers-explain.txt"
P -c "explain (analyze, buffers, costs off) select x.* from huying.calls x left join huying.settings s on s.district_id = x.district_id where x.status = 'resolved' and x.resolved_at <= now() - interval '1 day' and x.resolved_at <= now() - make_interval(days => coalesce(s.auto_close_days, 7)) order by x.resolved_at limit 500 for update of x skip locked" >> "$OUT/timers-explain.txt"
P -c "explain (analyze, buffers, costs off) select i.ctid from huying.idempotency i where i.created_at < now() - interval '24 hours' limit 500" >> "$OUT/timers-explain.txt"
grep -E 'Index|Seq Scan' "$OUT/timers-explain.txt" | sed 's/^ */    plan: /'

step "10,000 timers due at once, fired by one huyingd sweeping every 200 ms"
(HUYING_LISTEN=127.0.0.1:18190 HUYING_SWEEP_INTERVAL_MS=200 HUYING_LOG_LEVEL=warn build/huyingd >"$OUT/timers-daemon.log" 2>&1) &
DPID=$!
sleep 1
P -c "update huying.timers set warn_at = now() + interval '2 s', fire_at = now() + interval '2 s' where id in (select id from huying.timers where kind = 'resolve' order by id limit 10000)"
due=$(P -c "select extract(epoch from max(warn_at)) from huying.timers where kind = 'resolve' and warn_at < now() + interval '1 minute'")
for _ in $(seq 1 120); do
  n=$(P -c "select count(*) from huying.events where type = 'order.timer_warning'")
  [[ $n -ge 10000 ]] && break
  sleep 0.5
done
P -c "select count(*) || ' warnings for ' || count(distinct data ->> 'timer_id') || ' timers; first ' || round(extract(epoch from min(created_at)) - $due, 3) || ' s, last ' || round(extract(epoch from max(created_at)) - $due, 3) || ' s after the due time' from huying.events where type = 'order.timer_warning'" | sed 's/^/    /'
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=

step "10,000 more fired by one api.sweep(10000) (database time only)"
P -c "update huying.timers set warn_at = now() - interval '1 s', fire_at = now() - interval '1 s' where id in (select id from huying.timers where kind = 'accept' order by id limit 10000)"
A -c "set jit = off" -c '\timing on' -c "select api.sweep(10000)" 2>&1 | sed 's/^/    /'
