# The two commands of the README. Both set up whatever is missing first (virtualenv, Temporal CLI, ...).
.PHONY: dev test test-fast setup lint bench bundle

setup:
	bash scripts/bootstrap.sh

dev: setup
	.venv/bin/itilflow dev

test: setup
	bash scripts/test.sh

# The unit tier for the inner loop: definitions, the engine, calendars, the architecture rules; no
# Temporal, no database, no browser (well under a minute).
test-fast: setup
	.venv/bin/pytest -q -p no:cacheprovider tests/unit

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench: setup
	.venv/bin/python bench/engine.py --quick

# One archive that installs and runs itilflow without network (docs/production.md, section 7).
bundle: setup
	bash scripts/bundle.sh
