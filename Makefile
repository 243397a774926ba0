# Two commands: `make run` (app with demo data on SQLite) and `make test` (the whole suite).
VENV      ?= .venv
PYTHON    ?= python3
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST      ?= 127.0.0.1
PORT      ?= 5000

.PHONY: run test lint install translations browser bench bench-load bench-trace clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-*; touch $(STAMP)

translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d webapp/translations -D messages

# A real browser for the page tests: Debian's chromium and chromedriver, and a CJK font so Chinese
# pages render as text (not boxes) in screenshots; installed when we may.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium, chromium-driver and fonts-wqy-microhei (Debian packages) for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null) \
	  || echo "could not install chromium: the browser tests will skip (and fail in CI)"; \
	else echo "chromium/chromedriver or a CJK font not found: the browser tests will skip (apt-get install chromium chromium-driver fonts-wqy-microhei)"; fi

# The local demo deploys without QA approval (TRACEFLOW_DEPLOYMENT_APPROVAL=0); production keeps it on.
run: export TRACEFLOW_DEPLOYMENT_APPROVAL ?= 0
run: install translations
	$(VENV)/bin/traceflow init
	$(VENV)/bin/traceflow deploy
	@echo "Demo logins (username  password  roles):"
	@$(VENV)/bin/traceflow demo
	$(VENV)/bin/traceflow serve --host $(HOST) --port $(PORT)

# Layers (import-linter), lint and format (ruff), types (mypy): configured in pyproject.toml.
lint: install
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check engine webapp tests bench
	$(VENV)/bin/ruff format --check engine webapp tests bench
	$(VENV)/bin/mypy

# Tests run in parallel (pytest-xdist, one worker per core); PYTEST_ARGS adds to or overrides that.
PYTEST_WORKERS ?= auto
test: install translations browser lint
	mkdir -p instance
	$(PY) -m pytest -n $(PYTEST_WORKERS) --junitxml=instance/test-results.xml $(PYTEST_ARGS)

bench: install
	$(PY) bench/bench_complete_task.py

# 8 concurrent API clients for 30 s against `traceflow serve` on SQLite and PostgreSQL (not part of `make test`).
bench-load: install
	$(PY) bench/bench_load.py

# ERP import and trace at 1,000,000 movements on SQLite and PostgreSQL (several minutes; not part of `make test`).
bench-trace: install
	$(PY) bench/bench_trace.py

clean:
	rm -rf $(VENV) instance .pytest_cache
