#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for development and tests.
#
#   scripts/pg.sh start [--fast] DIR PORT   create (initdb) if needed, start, ensure roles, database, extensions
#   scripts/pg.sh stop DIR                  stop it (no error when it is not running)
#   scripts/pg.sh destroy DIR               stop it and delete its files
#   scripts/pg.sh urls DIR PORT             print `export HUYING_*DATABASE_URL=...` lines for eval
#   scripts/pg.sh psql DIR PORT [ARGS...]   psql as the cluster superuser (database huying unless ARGS name one)
#
# Layout: DIR/pgdata (the cluster), DIR/run (its unix socket; it listens on no TCP port),
# DIR/log (server log). --fast (for throwaway test clusters only) turns fsync off.
# When run as root, initdb and the server run as the `postgres` OS user (initdb refuses root).
# If that user cannot reach DIR (or the socket path would be too long), the cluster lives in
# /tmp/huying-pg-<uid>-<hash of DIR> instead and DIR becomes a symlink to it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

# Run a command as the OS user that owns the cluster.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# Absolute path of $1 (its parent resolved; $1 itself is kept even when it is a symlink).
abspath() {
  local p=$1 parent
  [[ $p == /* ]] || p=$PWD/$p
  while [[ $p == */ && $p != / ]]; do p=${p%/}; done
  parent=$(dirname "$p")
  if [[ -d $parent ]]; then parent=$(cd "$parent" && pwd -P); fi
  printf '%s/%s\n' "${parent%/}" "$(basename "$p")"
}

fallback_dir() {
  local h
  h=$(printf '%s' "$1" | sha1sum | cut -c1-12)
  printf '/tmp/huying-pg-%s-%s\n' "$EUID" "$h"
}

# The directory that really holds the cluster named DIR (without creating anything).
resolve() {
  local d fb
  d=$(abspath "$1")
  if [[ -L $d ]]; then readlink -f "$d"; return; fi
  fb=$(fallback_dir "$d")
  if [[ ! -d $d/pgdata && -d $fb/pgdata ]]; then printf '%s\n' "$fb"; else printf '%s\n' "$d"; fi
}

# Can the cluster's OS user create and use files in $1?
usable() {
  local d=$1
  # unix socket paths are limited to 107 bytes: DIR/run/.s.PGSQL.NNNNN.lock must fit
  (( ${#d} <= 80 )) || return 1
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$d" 2>/dev/null || return 1
    as_pg test -r "$d" -a -w "$d" -a -x "$d"
  else
    [[ -r $d && -w $d && -x $d ]]
  fi
}

# Create (if needed) the directory for cluster DIR and print the real one.
prepare() {
  local name d fb
  name=$(abspath "$1")
  d=$(resolve "$name")
  if [[ $EUID -eq 0 ]] && ! getent passwd postgres >/dev/null; then
    die "running as root, but there is no 'postgres' OS user to run PostgreSQL as (install postgresql-15)"
  fi
  mkdir -p "$d"
  if ! usable "$d"; then
    fb=$(fallback_dir "$name")
    log "pg.sh: $d is not usable by the PostgreSQL OS user; using $fb"
    mkdir -p "$fb"
    chmod 700 "$fb"
    usable "$fb" || die "cannot use $fb either"
    # leave a symlink at DIR when DIR is ours to replace
    if [[ ! -L $name ]] && rmdir "$name" 2>/dev/null; then
      ln -s "$fb" "$name" && log "pg.sh: $name -> $fb"
    fi
    d=$fb
  fi
  printf '%s\n' "$d"
}

write_conf() {
  local d=$1 port=$2 fast=$3 qrun
  qrun=${d//\'/\'\'}/run
  cat >"$d/pgdata/huying.conf" <<EOF
# written by scripts/pg.sh on every start; edit pg.sh, not this file
listen_addresses = ''
unix_socket_directories = '$qrun'
port = $port
max_connections = 200
shared_buffers = 128MB
EOF
  if [[ $fast == 1 ]]; then
    cat >"$d/pgdata/huying-fast.conf" <<'EOF'
# throwaway test cluster (pg.sh start --fast): durability off
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  fi
  [[ $EUID -ne 0 ]] || chown postgres:postgres "$d/pgdata/huying.conf" "$d/pgdata/huying-fast.conf" 2>/dev/null || true
}

running() { [[ -f $1/pgdata/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" status -D "$1/pgdata" >/dev/null 2>&1; }

superuser_psql() {
  local d=$1 port=$2; shift 2
  PGDATABASE=${PGDATABASE:-huying} "$(psql_bin)" -h "$d/run" -p "$port" -U postgres -X "$@"
}

cmd_start() {
  local fast=0 args=()
  for a in "$@"; do
    case $a in --fast) fast=1 ;; -*) usage ;; *) args+=("$a") ;; esac
  done
  (( ${#args[@]} == 2 )) || usage
  local port=${args[1]} d
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
  d=$(prepare "${args[0]}")

  if [[ ! -f $d/pgdata/PG_VERSION ]]; then
    rm -rf "$d/pgdata"
    if ! as_pg "$PGBIN/initdb" -D "$d/pgdata" -U postgres --locale=C.UTF-8 --encoding=UTF8 \
           -A trust --auth-local=trust >"$d/initdb.log" 2>&1; then
      cat "$d/initdb.log" >&2
      die "initdb failed"
    fi
    printf "\ninclude_if_exists 'huying.conf'\ninclude_if_exists 'huying-fast.conf'\n" >>"$d/pgdata/postgresql.conf"
    log "pg.sh: created cluster in $d/pgdata"
  fi
  mkdir -p "$d/run"
  [[ $EUID -ne 0 ]] || chown postgres:postgres "$d/run"
  chmod 755 "$d/run"

  if running "$d"; then
    log "pg.sh: already running ($d)"
  else
    write_conf "$d" "$port" "$fast"
    if ! as_pg "$PGBIN/pg_ctl" -D "$d/pgdata" -l "$d/log" -w -t 60 start >/dev/null; then
      tail -n 30 "$d/log" >&2 || true
      die "PostgreSQL did not start (log: $d/log)"
    fi
    log "pg.sh: PostgreSQL started (socket $d/run, port $port)"
  fi

  # Roles, database and extensions; idempotent. The extensions need the superuser.
  PGOPTIONS='-c client_min_messages=warning' \
    superuser_psql "$d" "$port" -d postgres -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
select 'create role huying_owner login'
 where not exists (select from pg_roles where rolname = 'huying_owner') \gexec
select 'create role huying_api login nosuperuser nocreatedb nocreaterole noinherit'
 where not exists (select from pg_roles where rolname = 'huying_api') \gexec
alter role huying_api login nosuperuser nocreatedb nocreaterole noinherit;
select 'create database huying owner huying_owner'
 where not exists (select from pg_database where datname = 'huying') \gexec
-- DESIGN §3: list queries run with generic plans on the API role
alter role huying_api in database huying set plan_cache_mode = force_generic_plan;
\c huying
create extension if not exists pg_trgm;
select 'create extension if not exists pgtap'
 where exists (select from pg_available_extensions where name = 'pgtap') \gexec
SQL
}

cmd_stop() {
  (( $# == 1 )) || usage
  local d
  d=$(resolve "$1")
  if running "$d"; then
    if ! as_pg "$PGBIN/pg_ctl" -D "$d/pgdata" -m fast -w -t 60 stop >/dev/null; then
      as_pg "$PGBIN/pg_ctl" -D "$d/pgdata" -m immediate -w stop >/dev/null
    fi
    log "pg.sh: PostgreSQL stopped ($d)"
  fi
}

cmd_destroy() {
  (( $# == 1 )) || usage
  local name d
  name=$(abspath "$1")
  d=$(resolve "$name")
  cmd_stop "$name"
  rm -rf "$d"
  [[ ! -L $name ]] || rm -f "$name"
}

urlenc() { local s=$1; s=${s//%/%25}; s=${s// /%20}; s=${s//&/%26}; s=${s//#/%23}; s=${s//+/%2B}; s=${s//=/%3D}; s=${s//\'/%27}; printf '%s' "$s"; }

cmd_urls() {
  (( $# == 2 )) || usage
  local d host
  d=$(resolve "$1")
  host=$(urlenc "$d/run")
  printf "export HUYING_DATABASE_URL='postgresql:///huying?host=%s&port=%s&user=huying_api'\n" "$host" "$2"
  printf "export HUYING_MIGRATE_DATABASE_URL='postgresql:///huying?host=%s&port=%s&user=huying_owner'\n" "$host" "$2"
}

cmd_psql() {
  (( $# >= 2 )) || usage
  local d port=$2
  d=$(resolve "$1")
  shift 2
  superuser_psql "$d" "$port" "$@"
}

sub=${1:-}
[[ -n $sub ]] || usage
shift
case $sub in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  destroy) cmd_destroy "$@" ;;
  urls) cmd_urls "$@" ;;
  psql) cmd_psql "$@" ;;
  *) usage ;;
esac
