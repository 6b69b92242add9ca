# The template repository's own commands. Run `make help` for the list.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := bash "{{cookiecutter.project_slug}}/scripts/services.sh"
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k render -x"
PYTEST_ARGS ?=
# Arguments for the benchmark runner, e.g. make bench BENCH_ARGS=--quick
BENCH_ARGS ?=

.PHONY: help demo bench test test-fast venv services services-stop clean

help:
	@echo "make demo          bake the template into .demo/ and serve the example at http://127.0.0.1:8000"
	@echo "make test          run every test: hooks, rendering, and the baked projects' suites"
	@echo "make test-fast     hooks and rendering only, without npm and browser suites"
	@echo "make bench         bake into .bench/ and run the benchmarks (BENCH_ARGS=--quick for a smoke run)"
	@echo "make services      start Redis and the MongoDB wire server on 127.0.0.1"
	@echo "make services-stop stop the servers that 'make services' started"
	@echo "make clean         remove .venv, .demo and .bench"

$(VENV)/.installed: requirements.txt {{cookiecutter.project_slug}}/backend/requirements.txt {{cookiecutter.project_slug}}/backend/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

services:
	$(SERVICES) start >/dev/null

services-stop:
	$(SERVICES) stop

test: venv services
	eval "$$($(SERVICES) env)" && PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: venv services
	eval "$$($(SERVICES) env)" && PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

demo: venv services
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

bench: venv services
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/bench.sh $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .demo .bench
