"""The benchmark scripts still run against the current API (timings live in benchmarks/, not here)."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from lstmkit import Forecaster

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_article_recipe_runs_on_lstmkits_split():
    recipe = load_script("forecast").article_recipe
    fc = Forecaster(epochs=1, hidden_size=8).fit("seattle-weather", quiet=True)
    r = recipe(fc, "seattle-weather", epochs=1, seed=0)
    assert r["epochs"] == 1 and r["n"] > 0 and np.isfinite(r["rmse"]) and r["seconds"] > 0


def test_horizon_ceiling_scores_trees_beside_the_ar():
    fc = Forecaster(horizon=2, epochs=1, hidden_size=8).fit("seattle-weather", quiet=True)
    out = load_script("horizon").trees(fc, steps=(1, 2), iterations=10)
    for h in (1, 2):
        assert {"ar", "trees", "ar_plus_trees"} <= set(out[h]) and 1 <= out[h]["trees_iterations"] <= 10
        assert all(np.isfinite(out[h][k]) and out[h][k] > 0 for k in ("ar", "trees", "ar_plus_trees"))
    # the AR's RMSE here is the one the forecaster reports for its linear_ar baseline at that step
    ar = fc.predictions[fc.predictions.step == 1]
    assert out[1]["ar"] == pytest.approx(float(np.sqrt(((ar.linear_ar - ar.actual) ** 2).mean())), rel=1e-6)


def test_layer_benchmark_quick_plan_writes_json(tmp_path, monkeypatch):
    layers = load_script("layers")
    monkeypatch.setattr(layers, "run_bench", lambda sizes, names, **kw: [])  # the wiring, not the timing
    assert layers.main(["--quick", "--out", str(tmp_path / "l.json")]) == 0
    assert (tmp_path / "l.json").is_file()
