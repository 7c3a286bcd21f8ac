#!/usr/bin/env bash
# What the test suite needs beyond Python: Debian's Chromium (browser tests) and PostgreSQL (database tests).
# Installs them with apt-get when missing (needs root or sudo) and starts PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ -x /usr/lib/postgresql/*/bin/postgres ] 2>/dev/null || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]} from Debian's packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PG_FRESH=1 bash scripts/setup-postgres.sh >/dev/null
