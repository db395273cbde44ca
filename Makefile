# IoT Streaming Lab. The two commands a newcomer needs:
#   make lab    set up what is missing, start the lab, open JupyterLab
#   make test   set up what is missing, start the lab, run unit, integration and notebook tests
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NBVAL_CELL_TIMEOUT ?= 900
# The exact known-good package set is verified on Python 3.11; other versions get pyproject's ranges.
CONSTRAINTS := $(shell $(PYTHON) -c 'import sys; print("-c constraints-py311.txt" if sys.version_info[:2] == (3, 11) else "")' 2>/dev/null)
NBVAL_OPTIONS := --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider --durations=15
# `make test` runs three pytest passes, each writing a JUnit XML report to REPORTS (per-test and per-cell
# durations; tests/durations.py sums them per pass and per notebook, and lists the slowest items):
# The one-node lab runs with its monitoring profile (Prometheus; tests marked `monitoring` need it) for passes 1-2.
#   1. side by side, WORKERS at a time (pytest-xdist; conftest.py says how): tests/ (unit and integration, a test
#      module at a time per worker) and the notebooks: solutions/ with outputs compared, notebooks/ (the learner
#      copies) only run, as with --nbval-lax; a notebook and its learner copy one after the other, on one worker;
#      the longest units first (conftest.py's LONGEST_SCOPES_FIRST), so that no worker waits for the other at the end;
#   2. what must have nothing beside it, one at a time: the tests and notebook cells marked `alone` (they kill or
#      restart a lab service, or drop keyspaces they do not own; conftest.py's ALONE_NOTEBOOKS);
#   3. on the three-node lab (started for it, then the one-node lab again): the tests and notebook cells marked
#      `three_nodes` (notebook 11), one at a time.
REPORTS ?= test-reports
WORKERS ?= 2

.PHONY: setup lab up jupyter test test-unit down status reset notebooks bench lint

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints-py311.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 9) <= v <= (3, 12) else "error: Python %d.%d found, the course needs 3.9-3.12: run `make PYTHON=python3.11 ...`, or use conda (environment.yml)" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(CONSTRAINTS) -e ".[dev]"
	touch $@

up: setup
	$(BIN)/iotlab lab up

lab: up jupyter

# JupyterLab refuses to start as root unless told to (containers, cloud boxes, CI): tell it, and say so.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

jupyter: setup
	@[ -z "$(ALLOW_ROOT)" ] || echo "Running as root: starting JupyterLab with --allow-root."
	@echo "JupyterLab: open the http://127.0.0.1:8888/lab?token=... address it prints when it is ready (Ctrl-C stops it)."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=8888 $(ALLOW_ROOT) notebooks/00_welcome_and_lab_check.ipynb

test: setup
	$(BIN)/lint-imports --no-cache
	$(BIN)/iotlab lab up --with monitoring --no-progress
	$(BIN)/iotlab course build --check
	rm -rf $(REPORTS)
	$(BIN)/pytest --nbval tests solutions notebooks -m "not alone and not three_nodes" -n $(WORKERS) $(NBVAL_OPTIONS) \
		--junitxml=$(REPORTS)/1-side-by-side.xml
	$(BIN)/pytest --nbval tests solutions notebooks -m "alone and not three_nodes" $(NBVAL_OPTIONS) \
		--junitxml=$(REPORTS)/2-alone.xml
	$(BIN)/iotlab lab down
	$(BIN)/iotlab lab up --nodes 3 --no-progress
	$(BIN)/pytest --nbval tests solutions notebooks -m three_nodes $(NBVAL_OPTIONS) --junitxml=$(REPORTS)/3-three-nodes.xml
	$(BIN)/iotlab lab down
	$(BIN)/iotlab lab up --no-progress
	$(BIN)/python tests/durations.py $(REPORTS) --slowest 15

test-unit: setup
	$(BIN)/pytest tests/unit

down:
	@if [ -x $(BIN)/iotlab ]; then $(BIN)/iotlab lab down; else echo "no environment yet: nothing to stop"; fi

status: setup
	$(BIN)/iotlab lab status

reset: setup
	$(BIN)/iotlab lab reset --yes

notebooks: setup
	$(BIN)/iotlab course build

bench: setup
	$(BIN)/iotlab bench lab --runs 3

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports --no-cache
