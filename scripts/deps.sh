#!/usr/bin/env bash
# Install what `make demo` and `make test` need on Debian 12 (bookworm).
# As root, missing packages are installed with apt-get; otherwise the apt-get line to run is
# printed and the script exits 1. Then the npm tooling of tests/ is installed from its lockfile.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

installed() { [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]; }

# bookworm ships contrib inside postgresql-15 and has only the postgresql-contrib metapackage
contrib=postgresql-contrib
if apt-cache show postgresql-contrib-15 2>/dev/null | grep -q '^Package: postgresql-contrib-15$'; then
  contrib=postgresql-contrib-15
fi

want=(build-essential cmake pkg-config libcivetweb-dev libcjson-dev libjwt-dev libpq-dev libssl-dev
      libcurl4-openssl-dev
      libyaml-dev libcmocka-dev libgraphviz-dev fonts-wqy-microhei postgresql-15 "$contrib"
      postgresql-15-pgtap wrk curl openssl)
missing=()
for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
# Node may come from NodeSource (its nodejs package bundles npm), so look for the commands.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if (( ${#missing[@]} )); then
  if [[ $EUID -ne 0 ]]; then
    log "deps: missing Debian packages; run:"
    printf 'sudo apt-get install -y --no-install-recommends %s\n' "${missing[*]}"
    exit 1
  fi
  log "deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "deps: all Debian packages present"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 20 )) || log "deps: warning: Node $node_major found; the API tests need Node 20 or later (node --test --test-concurrency)"

# npm tooling for the tests (@redocly/cli, ...), pinned by tests/package-lock.json
tests=$REPO_ROOT/tests
if [[ -f $tests/package-lock.json ]]; then
  if [[ ! -d $tests/node_modules || $tests/package-lock.json -nt $tests/node_modules/.package-lock.json ]]; then
    log "deps: npm ci in tests/"
    (cd "$tests" && npm ci --no-audit --no-fund --loglevel=error)
  else
    log "deps: tests/node_modules is up to date"
  fi
elif [[ -f $tests/package.json ]]; then
  log "deps: warning: tests/package.json has no package-lock.json; not installing npm tooling"
fi
