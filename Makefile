# The two quick-start commands: `make run` and `make test`. Each sets up
# everything it needs on a fresh machine (virtual environment, dependencies,
# the services and browser the tests use) and is cheap to repeat.
# `make test-quick` is the same check without the slow proofs (@pytest.mark.slow),
# for a developer's inner loop; CI runs `make test`, everything.

PYTHON ?= python3.11
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
# pytest-xdist workers: the tests mostly wait on servers, subprocesses and databases,
# so more workers than cores pays (measured in README "Development"). worksteal: an idle
# worker takes queued tests from a busy one, so a minute-long proof never holds a queue
# behind it (tests/conftest.py starts the slow modules first).
TEST_WORKERS ?= 4
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test test-quick lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(VENV)/bin/vacrec serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	scripts/ensure-test-services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy  # strict on the whole package (pyproject.toml)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal

test-quick: $(STAMP)
	scripts/ensure-test-services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow"

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(VENV)/bin/vacrec bench relevance --json
	$(VENV)/bin/vacrec bench train --seed 0 --seed 1 --seed 2 --json
	$(VENV)/bin/vacrec bench serve --json

clean:
	rm -rf $(VENV) .vacrec .pytest_cache .ruff_cache .mypy_cache
