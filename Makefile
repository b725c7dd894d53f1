# The two commands of the README: `make demo` (embedded: SQLite, Celery eager) and `make test`.
# `make install` (and demo, serve-prod) installs what a deployment needs (requirements.txt); `make test`
# and `make lint` add the tests', benchmarks' and linters' packages (requirements-dev.txt) to the same venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint install install-dev js serve-prod

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# Its own stamp, so that `make test` after `make demo` still installs the dev packages, and a change to
# requirements.txt (which remakes .installed) reinstalls both.
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

demo: export DEBUG ?= true
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --host http://$(HOST):$(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

# In parallel (pytest-xdist: a worker per core, each with its own test database), each test file on one
# worker (its module-scoped data built once), and the slowest tests printed at the end.
PYTEST_PARALLEL ?= -n auto --dist loadfile --durations=15
test: install-dev js
	$(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# ruff (rules in pyproject.toml) over the tree, mypy with django-stubs over the modules pyproject.toml lists.
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# axe-core (package.json) for the browser tests' accessibility audits. Without npm, or offline, the
# audits are skipped with the reason (under CI they fail: .ci/run installs npm first).
js: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error || echo "npm ci failed: the accessibility audits will be skipped"; \
	else echo "npm not found: the accessibility audits will be skipped"; fi

# The production profile on one machine (README, "Deployment"): the environment says where the
# database and broker are (DATABASE_URL, CELERY_BROKER_URL, DEBUG=false, SECRET_KEY, ALLOWED_HOSTS).
# gunicorn (WEB_CONCURRENCY workers on GUNICORN_BIND) and one Celery worker per queue run until
# Ctrl-C, which stops them all.
WEB_CONCURRENCY ?= 4
DEFAULT_WORKERS ?= 2
serve-prod: install
	$(PY) manage.py check --deploy
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT; \
	$(VENV)/bin/celery -A config worker -Q default -c $(DEFAULT_WORKERS) -n default@%h -l info & \
	$(VENV)/bin/celery -A config worker -Q clip -c 1 --prefetch-multiplier 1 -n clip@%h -l info & \
	WEB_CONCURRENCY=$(WEB_CONCURRENCY) $(VENV)/bin/gunicorn -c config/gunicorn.conf.py config.wsgi
