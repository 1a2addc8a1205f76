"""evaluate: metrics on hand-checked numbers, baselines on known series."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.evaluate import coverage, fit_least_squares, mase_scale, metrics, persistence, pinball, seasonal_naive


def test_metrics_by_hand():
    m = metrics(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0]), mase_scale=0.5)
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert m["mape"] == pytest.approx((100 + 0 + 50) / 3)
    assert m["mase"] == pytest.approx(2.0)


def test_naive_baselines():
    y = np.arange(10, dtype=float)
    np.testing.assert_array_equal(persistence(y, 2)[3], [3, 3])
    s = seasonal_naive(y, 3, season=2)
    np.testing.assert_array_equal(s[5], [4, 5, 4])  # y[t+h - 2*ceil(h/2)]: t-1, t, t-1
    assert np.isnan(s[0, 0])
    assert mase_scale([y], 2) == pytest.approx(2.0)


def test_least_squares_recovers_an_ar2():
    rng = np.random.default_rng(0)
    y = np.zeros(3000)
    for t in range(2, len(y)):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal(0, 0.1)
    design = np.stack([y[1:-1], y[:-2], np.ones(len(y) - 2)], 1)
    W = fit_least_squares(design, y[2:, None])
    np.testing.assert_allclose(W[:, 0], [0.6, -0.3, 0.0], atol=0.03)


def test_pinball_and_coverage():
    assert pinball(np.array([1.0]), np.array([0.0]), 0.9) == pytest.approx(0.9)
    assert pinball(np.array([0.0]), np.array([1.0]), 0.9) == pytest.approx(0.1)
    assert coverage(np.array([0, 1, 2, 3.0]), np.zeros(4), np.full(4, 1.5)) == 0.5
