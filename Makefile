# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast bench experiments lint sz clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The article's temperature example, made real: embedded NYC hourly data, model vs baselines.
demo: $(STAMP)
	$(BIN)/lstmkit forecast --data weather-nyc-hourly --out runs/weather-nyc-hourly --overwrite

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
	$(BIN)/python benchmarks/horizon.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/series.py
	$(BIN)/python benchmarks/classify.py
	$(BIN)/python benchmarks/explain.py

# The variant table (issue 5): every registered cell, 3 seeds, adding T=100 and temporal order at
# half scale, both cores. Results and curves land in runs/experiment-*/ (docs/experiments.md).
experiments: $(STAMP)
	$(BIN)/lstmkit experiment adding --length 100 --cells all --seeds 3 --steps 2000 --forget-bias 1 \
		--stop-when-solved --jobs 2 --out runs/experiment-adding
	$(BIN)/lstmkit experiment temporal --scale 0.5 --cells all --seeds 3 --steps 1500 --forget-bias 3 \
		--stop-when-solved --jobs 2 --out runs/experiment-temporal

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools

sz: $(STAMP)
	$(BIN)/python tools/sz.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
