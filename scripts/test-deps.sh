#!/usr/bin/env bash
# What the test suite needs beyond Python: Debian's Chromium (browser tests) with a CJK font (Noto CJK,
# so screenshots show Chinese rather than empty boxes), PostgreSQL (database tests) and OpenLDAP's
# slapd (LDAP sign-in tests, which start their own server in a temporary folder), and axe-core (npm).
# Installs them with apt-get when missing (needs root or sudo) and starts PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ -x /usr/lib/postgresql/*/bin/postgres ] 2>/dev/null || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
# The PDF reports embed Noto Sans CJK itself (sla/fonts.py), not just any Chinese font.
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
[ -x /usr/sbin/slapd ] && [ -x /usr/sbin/slapadd ] || missing+=(slapd)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]} from Debian's packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PG_FRESH=1 bash scripts/setup-postgres.sh >/dev/null
# axe-core for the accessibility checks run inside the page (npm registry, into .cache; tests only).
if command -v npm >/dev/null; then .venv/bin/python -m api.web.vendor --test-tools; fi
