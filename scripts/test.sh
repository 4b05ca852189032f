#!/usr/bin/env bash
# `make test`: dependencies, two builds (build/ with unit tests, build-asan/ with ASan+UBSan),
# a throwaway PostgreSQL in .data/test-pg, then unit, SQL, OpenAPI lint and API tests.
# The API tests get HUYING_BIN (the sanitizer daemon), the two database URLs, and
# HUYING_TEST_PG_DIR / HUYING_TEST_PG_PORT / HUYING_PG_SH to stop and start the cluster
# (`$HUYING_PG_SH stop $HUYING_TEST_PG_DIR`, `$HUYING_PG_SH start $HUYING_TEST_PG_DIR $HUYING_TEST_PG_PORT`).
# Stops at the first failing stage with a non-zero exit; the cluster is always removed
# (set HUYING_KEEP_TEST_PG=1 to keep it for a look after a failure).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

PG_DIR=$REPO_ROOT/.data/test-pg
PG_PORT=54339
JOBS=$(nproc 2>/dev/null || echo 2)
started=$SECONDS
stages=0

cleanup() {
  local rc=$?
  if [[ ${HUYING_KEEP_TEST_PG:-0} == 1 ]]; then
    log "test: keeping the test cluster: scripts/pg.sh psql $PG_DIR $PG_PORT"
  else
    scripts/pg.sh destroy "$PG_DIR" 2>/dev/null || true
  fi
  if (( rc == 0 )); then
    log "test: all $stages stages passed in $((SECONDS - started))s"
  else
    log "test: FAILED (exit $rc) after $((SECONDS - started))s"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stage NAME COMMAND...: run COMMAND in a subshell with errexit; print one summary line.
stage() {
  local name=$1 t0=$SECONDS rc
  shift
  log ""
  log "==> $name"
  set +e
  (set -e; "$@")
  rc=$?
  set -e
  if (( rc != 0 )); then
    log "--- $name: FAILED (exit $rc, $((SECONDS - t0))s)"
    exit "$rc"
  fi
  stages=$((stages + 1))
  log "--- $name: ok ($((SECONDS - t0))s)"
}

deps() { timeout 1200 scripts/deps.sh; }

build() {
  timeout 300 cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUYING_TESTS=ON
  timeout 900 cmake --build build -j "$JOBS"
  timeout 300 cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUYING_SANITIZE=ON -DHUYING_TESTS=ON
  timeout 900 cmake --build build-asan -j "$JOBS"
  [[ -x build/huyingd && -x build-asan/huyingd ]] || { log "build/huyingd or build-asan/huyingd is missing"; exit 1; }
}

postgres() {
  scripts/pg.sh destroy "$PG_DIR"
  timeout 120 scripts/pg.sh start --fast "$PG_DIR" "$PG_PORT"
}

# the unit tests run in both trees: plain, and under ASan+UBSan
unit_tests() {
  timeout 600 ctest --test-dir build --output-on-failure --no-tests=error
  timeout 600 ctest --test-dir build-asan --output-on-failure --no-tests=error
}

migrate() { timeout 120 build-asan/huyingd migrate; }

sql_tests() {
  local f out rc n=0 psql
  psql=$(psql_bin)
  shopt -s nullglob
  for f in tests/sql/*.sql; do
    n=$((n + 1))
    set +e
    out=$(PGOPTIONS='-c client_min_messages=warning' timeout 300 \
          "$psql" "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 -f "$f" 2>&1)
    rc=$?
    set -e
    if (( rc != 0 )) || grep -qE '^(not ok|# Looks like you (failed|planned))' <<<"$out"; then
      printf '%s\n' "$out" >&2
      log "FAILED: $f (psql exit $rc)"
      return 1
    fi
    log "ok: $f ($(grep -c '^ok' <<<"$out" || true) passed)"
  done
  (( n > 0 )) || log "no SQL tests in tests/sql/"
}

openapi_lint() {
  [[ -f tests/package.json ]] || { log "tests/package.json is missing: it must list @redocly/cli (and tests/package-lock.json pin it)"; exit 1; }
  [[ -x tests/node_modules/.bin/redocly ]] || { log "tests/node_modules/.bin/redocly is missing: add @redocly/cli to tests/package.json and run scripts/deps.sh"; exit 1; }
  local config=()
  [[ ! -f openapi/redocly.yaml ]] || config=(--config openapi/redocly.yaml)
  timeout 300 npx --prefix tests --no-install redocly lint "${config[@]}" openapi/openapi.yaml
}

api_tests() {
  local files
  files=$(find tests/api -type f \( -name '*.test.*' -o -name '*-test.*' -o -name '*_test.*' -o -name 'test-*' \) | wc -l)
  (( files > 0 )) || { log "no API tests found in tests/api/ (files must be named *.test.mjs)"; exit 1; }
  HUYING_BIN=$REPO_ROOT/build-asan/huyingd \
  HUYING_TEST_PG_DIR=$PG_DIR HUYING_TEST_PG_PORT=$PG_PORT HUYING_PG_SH=$REPO_ROOT/scripts/pg.sh \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$REPO_ROOT/tests/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    timeout 1200 node --test --test-concurrency=1 tests/api/
}

stage "dependencies" deps
stage "build (build/, build-asan/)" build
stage "PostgreSQL ($PG_DIR, port $PG_PORT)" postgres
eval "$(scripts/pg.sh urls "$PG_DIR" "$PG_PORT")"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
stage "unit tests (ctest: build/, build-asan/)" unit_tests
stage "migrate (build-asan/huyingd)" migrate
stage "SQL tests (tests/sql)" sql_tests
stage "OpenAPI lint (redocly)" openapi_lint
stage "API tests (tests/api, ASan+UBSan daemon)" api_tests
