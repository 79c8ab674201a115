# The two commands: `make run` (set up and run the product on its embedded default) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8001

.PHONY: gettext chromium install run test lint typecheck check messages clean stack test-stack bench wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Debian packages: gettext compiles the catalogues; Debian's Chromium drives the browser tests.
gettext:
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }

chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

messages: install gettext
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0

# runserver on PORT and the TikTok sandbox on SANDBOX_PORT (scripts/run_dev.py): a taken port stops it in one line;
# the OAuth redirect URI and the webhook callback URL follow PORT.
run: install messages
	$(BIN)/python -m scripts.run_dev --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT)

test: install messages chromium
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/mypy

# mypy with django-stubs and djangorestframework-stubs over the product packages ([tool.mypy] in pyproject.toml).
typecheck: install
	$(BIN)/mypy

# The production process types (Procfile) on loopback against PostgreSQL and Redis, with the sandbox; Ctrl-C stops.
stack: install messages
	$(BIN)/python -m scripts.stack up --port $(PORT) --sandbox-port $(SANDBOX_PORT)

# The long suites through the real stack: production smoke test, faults, security (see docs/operations.md).
test-stack: install messages
	$(BIN)/pytest -m stack $(PYTEST_ARGS)

# wrk, the HTTP load generator of the benchmark (Debian's package).
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# The benchmark (B10): prints the table and writes benchmarks/RESULTS.md. Loopback only; bounded in time.
bench: install messages wrk
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .sandbox-state.pickle
