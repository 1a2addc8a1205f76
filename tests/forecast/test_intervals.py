"""Conformal intervals (forecast/intervals.py): the quantile of the error window, the
rolling window and adaptive level on errors made by hand, no look-ahead, and coverage near the
nominal level where the errors' spread shifts between validation and test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.windows import TEST, VAL, SeriesArrays
from lstmkit.forecast import intervals as fi


def _arrays(errors_val: np.ndarray, errors_test: np.ndarray, horizon: int = 1):
    """A series whose point forecast is 0 and whose actuals are the given errors."""
    T = len(errors_val) + len(errors_test)
    y = np.concatenate([errors_val, errors_test])[:, None].repeat(horizon, 1)
    split = np.r_[np.full(len(errors_val), VAL), np.full(len(errors_test), TEST)]
    a = SeriesArrays(
        "s",
        pd.date_range("2020", periods=T, freq="h"),
        np.zeros(T),
        np.zeros((T, 0)),
        np.zeros((T, 0)),
        np.zeros((T, 1)),
        y,
        split,
    )
    return a, np.zeros((T, horizon, 3))


def test_the_quantile_is_numpys_linear_one_and_clips_past_the_ends():
    values = sorted(np.random.default_rng(0).normal(size=101).tolist())
    for level in (0.0, 0.1, 0.37, 0.5, 0.9, 1.0):
        assert fi._quantile(values, level) == pytest.approx(float(np.quantile(values, level)))
    assert fi._quantile(values, -0.2) == values[0] and fi._quantile(values, 1.3) == values[-1]


def test_validation_bounds_are_the_error_quantiles_and_too_few_errors_keep_the_heads():
    rng = np.random.default_rng(1)
    val = rng.normal(size=200)
    a, pred = _arrays(val, rng.normal(size=50))
    out, info = fi.conformal([a], [pred], [0.1, 0.5, 0.9], 1, gamma=0.0)
    assert info["calibrated"] and info["calibration"] == 200
    np.testing.assert_allclose(out[0][:200, 0, 0], np.quantile(val, 0.1))
    np.testing.assert_allclose(out[0][:200, 0, 2], np.quantile(val, 0.9))
    a, pred = _arrays(val[:10], rng.normal(size=50))
    same, info = fi.conformal([a], [pred], [0.1, 0.5, 0.9], 1)
    assert not info["calibrated"] and same[0] is pred


def test_no_bound_reads_an_outcome_not_yet_known():
    rng = np.random.default_rng(2)
    a, pred = _arrays(rng.normal(size=300), rng.normal(size=200), horizon=3)
    first, _ = fi.conformal([a], [pred], [0.1, 0.5, 0.9], 1)
    t = 300 + 120
    a.y[t + 1 :] += 50.0  # outcomes after origin t (step h's is known at t + h + 1) change
    a.y[t - 2 : t + 1, 1:] += 50.0  # and the later steps of the last origins, still unknown at t
    second, _ = fi.conformal([a], [pred], [0.1, 0.5, 0.9], 1)
    np.testing.assert_array_equal(first[0][: t + 1], second[0][: t + 1])


def test_adaptation_and_the_rolling_window_hold_coverage_when_the_spread_doubles():
    rng = np.random.default_rng(3)
    # the test period is twice as noisy
    a, pred = _arrays(rng.normal(0, 1, 2000), rng.normal(0, 2, 4000))

    def coverage(gamma):
        out, _ = fi.conformal([a], [pred], [0.1, 0.5, 0.9], 1, gamma=gamma)
        test = a.split == TEST
        return float(
            np.mean((a.y[test, 0] >= out[0][test, 0, 0]) & (a.y[test, 0] <= out[0][test, 0, 2]))
        )

    static = coverage(0.0)  # the window alone: catches up once the test errors fill it
    adaptive = coverage(fi.GAMMA)
    assert static < 0.78 and abs(adaptive - 0.8) < abs(static - 0.8) and abs(adaptive - 0.8) <= 0.02


def test_the_interval_scores_per_step():
    actual = np.array([[1.0, 5.0], [3.0, 0.0]])
    lower, upper = np.zeros((2, 2)), np.full((2, 2), 2.0)
    s = fi.interval_scores(actual, lower, upper, 0.8)  # alpha 0.2: misses cost 10 per unit outside
    assert s["per_step"][0] == {
        "coverage": 0.5,
        "width": 2.0,
        "winkler": pytest.approx(2.0 + 10 * 0.5),
    }
    assert s["per_step"][1] == {
        "coverage": 0.5,
        "width": 2.0,
        "winkler": pytest.approx(2.0 + 10 * 1.5),
    }
    assert s["coverage"] == 0.5 and s["winkler"] == pytest.approx(2.0 + 10 * 1.0)
