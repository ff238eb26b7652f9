# The two commands of the README: `make demo` (set up, load the demo, serve it) and `make test` (set up, test);
# `make test-fast` leaves out the browser tests and those that start gunicorn, and runs on every core (pytest-xdist).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup demo serve test test-fast lint translations clean

setup: $(VENV)/.installed static/vendor/htmx.min.js translations

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/htmx.org/dist/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/htmx.min.js: node_modules/htmx.org/dist/htmx.min.js
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -f -d translations

# Links and emails point at where the demo is served unless BASE_URL says otherwise (make demo PORT=5090).
demo: export BASE_URL ?= http://$(HOST):$(PORT)
demo: setup
	$(FLASK) demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

serve: setup
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

# Browser tests drive Debian's Chromium; install it when it is missing and we may (root on Debian).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); } || \
	  echo "chromium not installed: browser tests will fail; install Debian's chromium package"

test: setup chromium
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -n auto -m "not browser and not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules static/vendor instance .pytest_cache
