# Two commands for a newcomer: `make sandbox` and `make test`. Each creates .venv on first use and
# installs the exact, hash-checked versions in requirements/dev.txt (reused until the lock changes).
# Only Python >= 3.11 and make are needed.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
ARGS ?=
# The suite runs in parallel (pytest-xdist): much of it waits (the emulator, bots starting and stopping,
# clocks, PostgreSQL), so three workers per core pay (measured: 6 took 9:49, 4 took 12:38, serial 19:25);
# many more would starve the tests that hold the bot to Discord's 3 s. `worksteal`, not `loadfile`: a
# few files hold minutes of tests each. `make test TEST_WORKERS=0` runs it serially.
TEST_WORKERS ?= 6

.PHONY: sandbox test check lock

sandbox: $(STAMP)
	$(VENV)/bin/backrun-bot sandbox $(ARGS)

test: $(STAMP)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal $(ARGS)

# What CI runs besides the tests.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

$(STAMP): requirements/dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Backrun needs Python 3.11 or newer; run make PYTHON=python3.11 ...")'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# After changing dependencies in pyproject.toml: pin them again (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev requirements/build.in --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet -o requirements/dev.txt
	uv pip compile pyproject.toml --extra postgres requirements/build.in --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet -c requirements/dev.txt -o requirements/run.txt
