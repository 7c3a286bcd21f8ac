#!/usr/bin/env bash
# Set up everything itilflow needs on a fresh machine; safe to run again (it skips what is done).
#   - a virtualenv in .venv with itilflow and its dev tools (from PyPI)
#   - the Temporal CLI v1.5.1 built from its Go module into .cache/bin (minutes, once)
#   - the production Temporal server v1.29.1 and temporal-sql-tool, likewise (when Go is present)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "itilflow needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $python"
  "$python" -m venv .venv
fi
stamp=.venv/.itilflow-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing itilflow and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
# The PDF service reports embed Noto Sans CJK (Debian's fonts-noto-cjk; sla/fonts.py): installed here
# when missing and we may (root or sudo), else said once, so `make dev` serves Chinese PDFs too.
if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
  if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> installing fonts-noto-cjk from Debian's packages (PDF reports in Chinese)"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "note: PDF reports need Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk)" >&2
  fi
fi
# The web page's Mermaid and Swagger UI files and the studio's code editor (CodeMirror 6, bundled with
# esbuild), from the npm registry at setup (never at run time), with their brotli and gzip forms.
.venv/bin/python -m api.web.vendor

if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  command -v go >/dev/null || [ -x .cache/bin/temporal ] || [ -n "${TEMPORAL_CLI_PATH:-}" ] || {
    echo "building the Temporal CLI needs Go (apt-get install golang, or set TEMPORAL_CLI_PATH)" >&2; exit 1; }
  .venv/bin/itilflow server install
fi
# The production Temporal server and temporal-sql-tool (PostgreSQL), for `itilflow server
# start-cluster` and the production tests: built once from the same Go module cache (minutes).
if command -v go >/dev/null; then
  .venv/bin/itilflow server install --cluster
fi
