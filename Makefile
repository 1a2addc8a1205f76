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

# The article's temperature example, made real: embedded NYC hourly data, model vs baselines.
demo: $(STAMP)
	$(BIN)/lstmkit forecast --data weather-nyc-hourly --out runs/weather-nyc-hourly

# The whole suite, slow acceptance runs included (2 workers: one per core, one thread each).
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/python tools/sz.py
	$(BIN)/python -m pytest -n 2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/layers.py
	$(BIN)/python benchmarks/forecast.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools

sz: $(STAMP)
	$(BIN)/python tools/sz.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
