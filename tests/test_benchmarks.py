"""The benchmark scripts still run against the current API (timings live in benchmarks/, not
here)."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_script(name):
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
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
        assert {"ar", "trees", "ar_plus_trees"} <= set(out[h]) and 1 <= out[h][
            "trees_iterations"
        ] <= 10
        assert all(
            np.isfinite(out[h][k]) and out[h][k] > 0 for k in ("ar", "trees", "ar_plus_trees")
        )
    # the AR's RMSE here is the one the forecaster reports for its linear_ar baseline at that step
    ar = fc.predictions[fc.predictions.step == 1]
    assert out[1]["ar"] == pytest.approx(
        float(np.sqrt(((ar.linear_ar - ar.actual) ** 2).mean())), rel=1e-6
    )


def test_horizon_ensemble_averages_its_members():
    settings = dict(epochs=2, hidden_size=8, correction_test="off")
    out = load_script("horizon").ensemble(2, "seattle-weather", horizon=2, settings=settings)
    assert out["settings"]["seeds"] == [0, 1] and len(out["members_rmse"]) == 2
    assert len(set(out["members_rmse"])) == 2  # the seeds made different networks
    # the mean forecast's RMSE is at most its members' mean RMSE (the triangle inequality)
    assert out["rmse"] <= np.mean(out["members_rmse"]) + 1e-12
    assert set(out["per_step"]) == {1, 2} and out["baselines"]["linear_ar"] > 0


def test_layer_benchmark_quick_plan_writes_json(tmp_path, monkeypatch):
    layers = load_script("layers")
    # the wiring, not the timing
    monkeypatch.setattr(layers, "run_bench", lambda sizes, names, **kw: [])
    assert layers.main(["--quick", "--out", str(tmp_path / "l.json")]) == 0
    assert (tmp_path / "l.json").is_file()


def test_scale_benchmark_times_a_fresh_forecast_on_a_synthetic_csv(tmp_path):
    scale = load_script("scale")
    df = scale.synthetic(2000, covariates=3, seed=1, missing=0.01)
    assert list(df.columns) == ["time", "temp", "cov0", "cov1", "cov2"] and 1950 < len(df) < 2000
    assert df.time.iloc[0] == pd.Timestamp(
        "2020-01-01"
    ) and df.time.diff().dropna().min() == pd.Timedelta("1h")
    assert (
        scale.main(["--years", "0.05", "--covariates", "2", "--json", str(tmp_path / "s.json")])
        == 0
    )
    r = json.loads((tmp_path / "s.json").read_text())["result"]
    assert (
        r["rows"] + r["missing_hours"] == int(0.05 * 365.25 * 24)
        and r["wall_seconds"] > r["train_seconds"] > 0
    )
    assert (
        set(r["rmse"]) == {"model", "persistence", "seasonal_naive", "linear_ar"}
        and r["peak_memory_mb"] > 0
    )


def test_series_benchmark_scores_every_kind_with_and_without_the_gate(tmp_path, monkeypatch):
    series = load_script("series")
    kinds = series.synthetic_kinds()
    assert len(kinds) == 8 and all(
        len(y) >= 144 and np.isfinite(y).all() for _, y in kinds.values()
    )
    small = {k: kinds[k] for k in ("white noise, hourly", "short weekly (400)")}
    monkeypatch.setattr(series, "synthetic_kinds", lambda: small)
    monkeypatch.setattr(
        series, "Forecaster", lambda **kw: Forecaster(epochs=1, hidden_size=4, **kw)
    )
    assert series.main(["--quick", "--gate-off", "--json", str(tmp_path / "s.json")]) == 0
    out = json.loads((tmp_path / "s.json").read_text())
    assert [r["series"] for r in out["rows"]] == list(small)
    for r in out["rows"]:
        assert (
            r["test"]["lstm"]["gate"] == "test"
            and r["off"]["lstm"]["gate"] == "off"
            and r["off"]["lstm"]["kept"]
        )
        assert r["ar_form"] in ("levels", "differences") and r["test"]["vs_ar"] > 0
        assert {"auto_ets", "auto_theta"} <= set(r["test"]["rmse"]) and r["base"]["name"]
    assert out["worst_vs_best"] == max(r["test"]["vs_best"] for r in out["rows"])


def test_series_benchmark_rolls_statsforecast_as_its_user_would():
    """A user's statsforecast: fitted on training + validation, rolled through lstmkit's test
    origins; its one-step RMSE recomputed here from the model's own forecast at each origin."""
    from lstmkit import statistical

    series = load_script("series")
    df = pd.read_csv(ROOT / "benchmarks" / "data" / "series" / "nile-annual.csv")
    fc = Forecaster(epochs=1, hidden_size=4).fit(df, time="time", target="y", quiet=True)
    out = series.user_statsforecast(fc, df)
    assert set(out) == {"auto_ets", "auto_theta", "auto_arima"}
    y = df["y"].to_numpy(float)
    n_fit = int((pd.to_datetime(df["time"]) < fc.state.splits.test_start).sum())
    params = statistical.fit("auto_theta", y[:n_fit], 1)
    test = fc.predictions
    origins = [
        int(np.flatnonzero(pd.to_datetime(df["time"]) == t - pd.DateOffset(years=1))[0])
        for t in test["time"]
    ]
    # prefix by prefix
    expected = [statistical.roll("auto_theta", params, y[: o + 1], 1)[-1, 0] for o in origins]
    rmse = float(np.sqrt(np.mean((np.array(expected) - test["actual"].to_numpy()) ** 2)))
    assert out["auto_theta"]["rmse"] == pytest.approx(rmse, rel=1e-9)


def test_serve_benchmark_times_update_and_the_exported_step(tmp_path):
    """benchmarks/serve.py's in-process ways on a small run: each gives a p50 and p99 over the
    calls it made (the process and HTTP ways start lstmkit itself: run by the script only)."""
    pytest.importorskip("onnxruntime")
    from cli_support import run

    bench = load_script("serve")
    fc = Forecaster(epochs=1, hidden_size=8, statistical="off").fit("seattle-weather", quiet=True)
    fc.save(tmp_path / "run")
    assert run("export", "--run", str(tmp_path / "run")).exit_code == 0
    for result in (
        bench.update_latency(Forecaster.load(tmp_path / "run"), 5),
        bench.onnx_step_latency(str(tmp_path / "run"), Forecaster.load(tmp_path / "run"), 5),
    ):
        assert result["n"] == 5 and 0 < result["p50_ms"] <= result["p99_ms"]
