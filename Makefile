# The two commands of the README: `make demo` (embedded: SQLite, a Celery worker on a filesystem broker) and `make test`.
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

# The embedded profile runs a real queue: one Celery worker process beside the web server, on kombu's
# filesystem transport (folders under var/broker: no service), so "Start the run" returns at once and the
# run page shows progress as in production. The worker starts before seed_demo, whose CLIP run it takes.
# The port is checked before anything is announced.
demo: export DEBUG ?= true
demo: export CELERY_BROKER_URL ?= filesystem://
demo: export CLIP_MODEL ?= artalign/tiny-clip
demo: install
	@$(PY) -c "import socket; s = socket.socket(); s.bind(('$(HOST)', $(PORT))); s.close()" 2>/dev/null || { \
	  echo "make demo: port $(PORT) on $(HOST) is in use (another demo or server?)." >&2; \
	  echo "Stop it, or pick another port: PORT=$$(( $(PORT) + 1 )) make demo" >&2; exit 1; }
	$(PY) manage.py migrate --noinput
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT; \
	$(VENV)/bin/celery -A config worker -Q default,clip -c 1 --prefetch-multiplier 1 -n demo@%h -l warning & \
	$(PY) manage.py seed_demo --host http://$(HOST):$(PORT) && \
	$(PY) manage.py runserver $(HOST):$(PORT)

# In parallel (pytest-xdist: a worker per core, each with its own test database), each test file on one
# worker (its module-scoped data built once), handed out in the suite's order (tests/conftest.py puts the long
# files first; xdist would reorder them by test count, leaving the one-test browser files for last), and
# the slowest tests printed at the end.
PYTEST_PARALLEL ?= -n auto --dist loadfile --no-loadscope-reorder --durations=15
# PostgreSQL and Redis at their default addresses are found by a quick connection (1 s) when DATABASE_URL /
# TEST_REDIS_URL are not set (.ci/run sets both); where absent, their tests skip with the reason.
TEST_PG_URL ?= postgres://postgres@127.0.0.1:5432/artalign
TEST_REDIS_DEFAULT ?= redis://127.0.0.1:6379/15
test: install-dev js
	@if [ -z "$${DATABASE_URL:-}" ]; then \
	  if $(PY) -c "import psycopg; psycopg.connect('$(TEST_PG_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=1).close()" 2>/dev/null; \
	  then export DATABASE_URL='$(TEST_PG_URL)'; echo "make test: PostgreSQL found: DATABASE_URL=$$DATABASE_URL"; \
	  else echo "make test: no PostgreSQL at $(TEST_PG_URL) (SQLite; its tests skip; set DATABASE_URL)"; fi; fi; \
	if [ -z "$${TEST_REDIS_URL:-}" ]; then \
	  if $(PY) -c "import redis; redis.Redis.from_url('$(TEST_REDIS_DEFAULT)', socket_connect_timeout=1).ping()" 2>/dev/null; \
	  then export TEST_REDIS_URL='$(TEST_REDIS_DEFAULT)'; echo "make test: Redis found: TEST_REDIS_URL=$$TEST_REDIS_URL"; \
	  else echo "make test: no Redis at $(TEST_REDIS_DEFAULT) (its tests skip; set TEST_REDIS_URL)"; fi; fi; \
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
