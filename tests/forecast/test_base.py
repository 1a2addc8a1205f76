"""The forecaster's base (forecast/base.py): which candidate the rules choose, on candidate
forecasts whose validation errors are made by hand; the choice as design coefficients; the
statistical models fitted in the worker process give what they give in this one; a forecaster
with a statistical base saves, loads and predicts the same numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.windows import TEST, TRAIN, VAL, SeriesArrays
from lstmkit.evaluate import diebold_mariano
from lstmkit.forecast import base as forecast_base
from lstmkit.forecast.base import Classical, base_weights, choose_base
from lstmkit.forecast.estimator import Forecaster


def _case(n_val: int, noise: dict, horizon: int = 1, seed: int = 0, near_ar: float | None = None):
    """One series: y_{t+1} = 0.8 y_t + e (sd noise["linear_ar"]); the design is [y_t, 1] (an AR of
    order 1, coefficients [0.8, 0]) then one column per statistical model, whose forecast is the
    next value plus its own noise (or, with near_ar, the AR's forecast plus that much noise)."""
    rng = np.random.default_rng(seed)
    T = 50 + n_val + 10
    split = np.r_[np.full(50, TRAIN), np.full(n_val, VAL), np.full(10, TEST)]
    target = rng.normal(size=T)
    y = 0.8 * target[:, None] + rng.normal(0, noise["linear_ar"], (T, horizon))
    ar = 0.8 * target[:, None]
    stats = [
        (ar if near_ar else y) + rng.normal(0, near_ar or noise[m], (T, horizon))
        for m in noise
        if m != "linear_ar"
    ]
    design = np.concatenate([target[:, None], np.ones((T, 1)), *stats], 1)
    a = SeriesArrays(
        "s",
        pd.date_range("2020", periods=T, freq="h"),
        target,
        np.zeros((T, 0)),
        np.zeros((T, 0)),
        target[:, None],
        y,
        split,
    )
    W = np.zeros((2, horizon))
    W[0] = 0.8
    models = [m for m in noise if m != "linear_ar"]
    return a, design, W, Classical(models, {m: {} for m in models}, {})


def test_long_validation_keeps_the_ar_unless_a_challenger_wins_beyond_chance():
    a, d, W, classical = _case(400, {"linear_ar": 1.0, "auto_ets": 0.5, "auto_theta": 1.0})
    base = choose_base([a], [d], W, classical, 1)
    assert base["name"] in ("auto_ets", "combination") and base["dm_t"] < -1.645
    val = a.split == VAL
    e_ar = 0.8 * a.target[val] - a.y[val, 0]
    # the chosen, as coefficients
    e_best = (d @ base_weights(base, W, classical.models, 1)[:, 0])[val] - a.y[val, 0]
    assert base["dm_t"] == pytest.approx(diebold_mariano(e_best**2 - e_ar**2, 1))
    # a model that is the AR plus a little noise: nothing beyond chance, the AR stays
    a, d, W, classical = _case(400, {"linear_ar": 1.0, "auto_ets": 1.0}, near_ar=0.02, seed=3)
    base = choose_base([a], [d], W, classical, 1)
    assert base["name"] == "linear_ar" and base["rule"] == "no challenger beat the AR beyond chance"


def test_short_validation_takes_the_combination_weighted_by_inverse_squared_errors():
    a, d, W, classical = _case(12, {"linear_ar": 1.0, "auto_ets": 0.5, "auto_theta": 2.0})
    base = choose_base([a], [d], W, classical, 1)
    assert base["name"] == "combination" and base["rule"] == "too few validation origins to choose"
    val = a.split == VAL
    cols = {"linear_ar": 0.8 * a.target, "auto_ets": d[:, 2], "auto_theta": d[:, 3]}
    mse = {k: float(np.mean((v[val] - a.y[val, 0]) ** 2)) for k, v in cols.items()}
    inv = {k: 1 / v**2 for k, v in mse.items()}
    expected = {k: v / sum(inv.values()) for k, v in inv.items()}
    assert base["weights"] == pytest.approx(expected)
    # the choice as one linear map on the design: the weighted candidates, exactly
    Wb = base_weights(base, W, classical.models, 1)
    np.testing.assert_allclose(d @ Wb[:, 0], sum(w * cols[k] for k, w in expected.items()))


def test_the_worker_process_fits_what_this_process_fits():
    y = 10 + np.sin(np.arange(300) * 2 * np.pi / 12) + np.random.default_rng(0).normal(0, 0.2, 300)
    df = pd.DataFrame({"t": pd.date_range("2000-01", periods=300, freq="MS"), "y": y})
    fc = Forecaster(epochs=1, hidden_size=4, statistical="off").fit(
        df, time="t", target="y", quiet=True
    )
    arrays, _ = fc.series_arrays(df)
    background = forecast_base.ClassicalJob.start(arrays, fc.state.scaler_y, 12, ()).result()
    here = forecast_base.ClassicalJob.start(
        arrays, fc.state.scaler_y, 12, (), background=False
    ).result()
    assert background.to_dict() == here.to_dict() or _same_numbers(
        background.to_dict(), here.to_dict()
    )
    assert background.models == ["auto_ets", "auto_theta", "auto_arima"] and background.final


def _same_numbers(
    a, b
) -> bool:  # NaN-tolerant equality of the JSON (ETS's unused parameters are NaN)
    import json

    return json.dumps({k: v for k, v in a.items() if k != "seconds"}) == json.dumps(
        {k: v for k, v in b.items() if k != "seconds"}
    )


def test_a_statistical_base_is_saved_loaded_and_predicts_the_same(tmp_path):
    rng = np.random.default_rng(4)
    t = np.arange(160)
    # short, seasonal, monthly
    y = 200 + 40 * np.sin(2 * np.pi * t / 12) + 0.5 * t + rng.normal(0, 4, 160)
    df = pd.DataFrame({"t": pd.date_range("2000-01", periods=160, freq="MS"), "y": y})
    fc = Forecaster(horizon=3, epochs=2, hidden_size=4).fit(df, time="t", target="y", quiet=True)
    base = fc.metrics["base"]
    assert base["name"] == "combination" and fc.model.skip.in_features > fc.state.n_lag_columns
    assert set(base["weights"]) == {"linear_ar", *fc.state.classical.models}
    fc.save(tmp_path)
    assert (
        json.loads((tmp_path / "state.json").read_text())["classical"]["models"]
        == fc.state.classical.models
    )
    loaded = Forecaster.load(tmp_path)
    pd.testing.assert_frame_equal(fc.predict(df), loaded.predict(df))
    pd.testing.assert_frame_equal(fc.predict(df.iloc[:150]), loaded.predict(df.iloc[:150]))
