# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BENCH_POSTGRES ?= postgresql://postgres@127.0.0.1:5432/test
BIN := $(VENV)/bin

.PHONY: run test install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/allmenning serve

test: install-dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python bench/booking.py
	$(BIN)/python bench/booking.py --skip-mail --database-url $(BENCH_POSTGRES)
	$(BIN)/python bench/notifications.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/allocation.py

clean:
	rm -rf $(VENV) var
