# Hemei: `make run` serves the demo county; `make test` runs the whole suite.
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := $(UV) run --frozen
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run serve demo test test-sqlite test-postgres lint typecheck check-deploy messages clean

help:
	@echo "make run    install, migrate, load the demo county, serve on http://$(HOST):$(PORT)/"
	@echo "make test   the whole suite (SQLite; PostgreSQL too when HEMEI_TEST_POSTGRES is set)"
	@echo "make lint | typecheck | check-deploy | messages | clean"

# uv itself, when the machine has none: a private venv keeps it out of the system Python.
.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

static/vendor/.copied: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js static/vendor/
	mkdir -p static/vendor/leaflet && cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images static/vendor/leaflet/
	@touch $@

locale/.compiled: $(wildcard locale/*/LC_MESSAGES/*.po)
	$(PY) python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	@touch $@

install: .venv/.synced static/vendor/.copied locale/.compiled

# The device listener joins `hemei serve` when HEMEI_MQTT_URL names a broker: the local
# Mosquitto by default, so a newcomer's call-box press (`hemei simulate-devices`) arrives.
run: export HEMEI_MQTT_URL ?= mqtt://127.0.0.1:1883

run: install
	$(PY) hemei demo
	$(PY) hemei serve --host $(HOST) --port $(PORT)

serve: install
	$(PY) hemei serve --host $(HOST) --port $(PORT)

test: install
	$(PY) python scripts/run_tests.py

lint: install
	$(PY) ruff check .
	$(PY) ruff format --check hemei tests bench

typecheck: install
	$(PY) mypy hemei

check-deploy: install
	HEMEI_PRODUCTION=1 SECRET_KEY=$$(python3 -c 'import secrets;print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=hemei.example.org $(PY) python manage.py check --deploy --fail-level WARNING

messages:
	$(PY) python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=node_modules --ignore=var
	$(PY) python manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf var/static static/vendor node_modules locale/.compiled .venv/.synced
