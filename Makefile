# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast bench lint sz clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Until the forecaster lands, the demo is the layer benchmark at a small size.
demo: $(STAMP)
	$(BIN)/lstmkit bench --quick

# The whole suite, slow acceptance runs included (2 workers: one per core, one thread each).
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/python tools/sz.py
	$(BIN)/python -m pytest -n 2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/layers.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools

sz: $(STAMP)
	$(BIN)/python tools/sz.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
