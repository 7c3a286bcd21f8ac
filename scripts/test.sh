#!/usr/bin/env bash
# The whole test suite, as CI runs it: SQLite first, then every database-touching test on PostgreSQL
# (a fresh database each run: a machine keeps its PostgreSQL between runs, and a schema left by an
# unreleased migration must not outlive it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
export PYTHONDONTWRITEBYTECODE=1
echo "==> static checks"
.venv/bin/ruff check .
.venv/bin/mypy
echo "==> tests on SQLite"
.venv/bin/pytest -q -p no:cacheprovider "$@"
echo "==> database tests on PostgreSQL"
ITILFLOW_TEST_DATABASE_URL=$(PG_FRESH=1 bash scripts/setup-postgres.sh 2>/dev/null) \
  .venv/bin/pytest -q -p no:cacheprovider -m db "$@"
