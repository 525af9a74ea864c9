# The README and .ci/run call these targets; each sets up what it needs first.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
LOWINC := $(VENV)/bin/lowinc

.PHONY: setup system-packages demo test lint bench clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

setup: $(UV)  ## create .venv from the committed uv.lock
	@# --compile-bytecode: .pyc up front, so imports stay fast where PYTHONDONTWRITEBYTECODE is set
	$(UV) sync --frozen --quiet --compile-bytecode

demo: setup  ## the main job on the embedded default region
	$(LOWINC) up

system-packages:  ## PostgreSQL, Chromium and a CJK font from Debian, when missing
	scripts/system-packages.sh

test: setup system-packages  ## lint, layers, types and the test suite (benchmarks excluded)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

lint: setup  ## fix what ruff can; check the layers (import-linter) and the types (mypy)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: setup  ## large-scale benchmarks: wall time and peak memory
	$(PY) -m benchmarks.simulate --households 1000000 --months 36 --home .home/bench
	$(PY) -m benchmarks.ingest --home .home/bench

clean:
	rm -rf .home
