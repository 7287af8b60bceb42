# posecast: `make run` serves the app, `make test` runs every test. Both set up what they need
# first (virtualenv, front-end libraries, pose weights; for tests also Debian chromium, ffmpeg,
# postgresql, redis-server and nginx: tests start their own throwaway servers)
# and skip every step whose inputs have not changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run cluster test setup bench clean
WORKERS ?= 2

run: setup
	$(BIN)/posecast serve

# nginx in front of $(WORKERS) workers joined by Redis, on PostgreSQL (README "Scale out")
cluster: setup .cache/system-deps.ok
	$(BIN)/posecast cluster --workers $(WORKERS)

test: setup .cache/system-deps.ok
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup .cache/system-deps.ok
	$(BIN)/python -m bench.live_page
	$(BIN)/python -m bench.training
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.soak
	$(BIN)/python -m bench.edge
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.shared_state

setup: $(VENV)/.installed assets/.stamp.json

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,train,postgres,edge]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json .npmrc
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

assets/.stamp.json: $(VENV)/.installed node_modules/.package-lock.json tools/assets.py tools/assets.json
	$(BIN)/python tools/assets.py
	touch $@

.cache/system-deps.ok: tools/system-deps.sh
	bash tools/system-deps.sh
	mkdir -p .cache && touch $@

clean:
	rm -rf $(VENV) node_modules assets .cache .pytest_cache
