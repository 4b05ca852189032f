# shellcheck shell=bash
# Helpers shared by the scripts in this folder. Source it; do not run it.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# The repository root (this file lives in scripts/).
# shellcheck disable=SC2034
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

log()  { printf '%s\n' "$*" >&2; }
die()  { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# psql from the PostgreSQL 15 installation, falling back to the one on PATH.
psql_bin() {
  if [[ -x $PGBIN/psql ]]; then printf '%s\n' "$PGBIN/psql"; else command -v psql || die "psql not found"; fi
}
