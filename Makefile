# The two commands of the README. Both set up whatever is missing first (virtualenv, Temporal CLI, ...).
.PHONY: dev test setup lint bench

setup:
	bash scripts/bootstrap.sh

dev: setup
	.venv/bin/itilflow dev

test: setup
	bash scripts/test.sh

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench: setup
	.venv/bin/python bench/engine.py --quick
