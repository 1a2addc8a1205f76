"""linear/autoregression.py: the AR's coefficients widened to more lags, and the AR averaged with
seasonal naive where validation is too short to choose on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.windows import TRAIN, VAL, lag_design
from lstmkit.forecast.estimator import Forecaster, lag_designs
from lstmkit.linear import autoregression
from lstmkit.linear.autoregression import combine_seasonal, widen


def test_widened_coefficients_give_the_same_forecast_on_the_longer_design():
    rng = np.random.default_rng(0)
    T, n_cov, season = 200, 2, 12
    target, past, calendar = (
        rng.normal(size=T),
        rng.normal(size=(T, n_cov)),
        rng.normal(size=(T, 4)),
    )
    for p, order in ((3, 12), (5, 30), (12, 14)):
        small = lag_design(target, past, calendar, p, min(p, season))
        large = lag_design(target, past, calendar, order, min(order, season))
        W = rng.normal(size=(small.shape[1], 3))
        Wl = widen(W, p, order, season, n_cov)
        assert Wl.shape == (large.shape[1], 3)
        np.testing.assert_allclose(large[order:] @ Wl, small[order:] @ W, atol=1e-12)


def _short_seasonal(n=72, seed=2):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    shape = np.array([3, 2.5, 2, 1, 0, -1, -2, -2.5, -2, -1, 0, 2]) * 300
    y = (
        2000
        + shape[t % 12] * (1 + 0.1 * rng.normal(size=n))
        + np.cumsum(rng.normal(0, 30, n))
        + rng.normal(0, 80, n)
    )
    return pd.DataFrame({"t": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y})


def test_with_few_validation_origins_the_ar_is_averaged_with_seasonal_naive_by_bates_granger():
    df = _short_seasonal()
    fc = Forecaster(horizon=3, epochs=1, hidden_size=4).fit(df, time="t", target="y", quiet=True)
    arrays, _ = fc.series_arrays(df)
    p, W_ar = fc.baseline_ar
    ar = {"order": p, "coefficients": W_ar}
    out = combine_seasonal(arrays, lambda q: lag_designs(arrays, q, fc.state.season), ar, 12, 0)
    assert out is not None and out["order"] == max(p, 12) and out["val_origins"] < 20 * 3
    (d,) = lag_designs(arrays, out["order"], fc.state.season)
    (a,) = arrays
    # the two forecasts, written out: the AR on its own design, seasonal naive from the target
    ar_pred = lag_designs(arrays, p, fc.state.season)[0] @ W_ar
    naive = np.full_like(ar_pred, np.nan)
    for h in range(1, 4):
        naive[12 - h :, h - 1] = a.target[: len(a.target) - 12 + h]  # y[t + h - 12]
    ok = ~np.isnan(d).any(1)
    w = out["weight"]
    np.testing.assert_allclose(
        (d @ out["coefficients"])[ok], (w * ar_pred + (1 - w) * naive)[ok], atol=1e-10
    )
    # the weight: Bates & Granger's, from the validation errors' variances and covariance
    v = (a.split == VAL) & ok
    e1, e2 = (ar_pred[v] - a.y[v]).ravel(), (naive[v] - a.y[v]).ravel()
    va, vb, c = np.mean(e1**2), np.mean(e2**2), np.mean(e1 * e2)
    assert w == pytest.approx(np.clip((vb - c) / (va + vb - 2 * c), 0, 1))
    assert 0 < w < 1
    # a season of lags that would take more than half of the training origins: no average
    # 40 > half of training
    assert (
        combine_seasonal(arrays, lambda q: lag_designs(arrays, q, fc.state.season), ar, 40, 0)
        is None
    )


def test_enough_validation_origins_keep_the_ar_alone(monkeypatch):
    df = _short_seasonal()
    fc = Forecaster(horizon=3, epochs=1, hidden_size=4).fit(df, time="t", target="y", quiet=True)
    arrays, _ = fc.series_arrays(df)
    p, W_ar = fc.baseline_ar
    monkeypatch.setattr(autoregression, "MIN_INDEPENDENT_ORIGINS", 1)
    assert (
        combine_seasonal(
            arrays,
            lambda q: lag_designs(arrays, q, fc.state.season),
            {"order": p, "coefficients": W_ar},
            12,
            0,
        )
        is None
    )
    assert (arrays[0].split == TRAIN).sum() > 24
