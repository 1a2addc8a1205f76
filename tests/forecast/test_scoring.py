"""forecast/scoring.py: model and baselines scored on the same test origins, in the target's
units, checked against numbers written out by hand on a ten-step series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.scaling import SeriesScalers, Standardizer
from lstmkit.data.windows import NONE, TEST, TRAIN, SeriesArrays
from lstmkit.forecast.scoring import METHODS, score

MEAN, STD = 10.0, 2.0  # the target's units: value = scaled * 2 + 10


def arrays(horizon=2):
    y = np.array([10.0, 12, 14, 12, 10, 12, 14, 12, 10, 12])  # a cycle of 4 steps
    z = (y - MEAN) / STD
    T = len(y)
    ahead = np.full((T, horizon), np.nan)
    for h in range(1, horizon + 1):
        ahead[: T - h, h - 1] = z[h:]
    split = np.array([TRAIN] * 5 + [TEST] * (T - 5 - horizon) + [NONE] * horizon)
    times = pd.date_range("2024-01-01", periods=T, freq="h")
    a = SeriesArrays("s", times, z, np.zeros((T, 0)), np.zeros((T, 0)), z[:, None], ahead, split)
    return a, y


def scalers():
    return SeriesScalers(Standardizer(np.array([MEAN]), np.array([STD]), ["temp"]), {})


def test_model_and_baselines_on_the_same_origins_in_the_targets_units():
    a, y = arrays()
    pred = np.zeros((len(y), 2, 1)) + 0.5  # the model says 11 everywhere
    design = np.ones((len(y), 1))
    ar = np.array([[0.25, -0.25]])  # the AR says 10.5 one step ahead, 9.5 two steps ahead
    s = score([a], [design], [pred], ar, scalers(), "h", 4, [], 0)
    # test origins 5, 6, 7 (origins 8, 9 lack a complete horizon); season 4: every one has seasonal
    # naive
    p = s.predictions  # sorted by the forecast's time, then step
    origin = (p["time"] - a.times[0]) // pd.Timedelta(hours=1) - p["step"]
    p = p.assign(origin=origin).sort_values(["origin", "step"])
    assert list(p["origin"]) == [5, 5, 6, 6, 7, 7] and list(p["step"]) == [1, 2] * 3
    assert list(p["actual"]) == [14, 12, 12, 10, 10, 12]
    assert list(p["persistence"]) == [12, 12, 14, 14, 12, 12]  # y[t] for both steps
    assert list(p["seasonal_naive"]) == [y[2], y[3], y[3], y[4], y[4], y[5]]  # y[t + h - 4]
    np.testing.assert_allclose(p["linear_ar"], [10.5, 9.5] * 3)
    np.testing.assert_allclose(p["predicted"], 11.0)
    actual = np.array([14.0, 12, 12, 10, 10, 12])
    for name, column in (("model", "predicted"), *((b, b) for b in METHODS[1:])):
        rmse = np.sqrt(np.mean((p[column].to_numpy() - actual) ** 2))
        assert s.test[name]["rmse"] == pytest.approx(rmse) and s.test[name]["n"] == 6
    # MASE's scale: the training part's seasonal-naive error, |y[4] - y[0]| = 0
    assert np.isnan(s.test["model"]["mase"])
    assert s.per_step[0]["rmse"] == pytest.approx(np.sqrt(np.mean((11 - actual[::2]) ** 2)))
    assert s.interval is None


def test_an_origin_a_baseline_cannot_forecast_is_left_out_for_every_method():
    a, y = arrays(horizon=1)
    pred = np.zeros((len(y), 1, 1))
    pred[6] = np.nan  # the model has no forecast at origin 6
    s = score([a], [np.zeros((len(y), 1))], [pred], np.zeros((1, 1)), scalers(), "h", 7, [], 0)
    # season 7: seasonal naive for y[t+1] needs y[t-6], which exists from origin 6 on; 6 is the
    # model's gap
    assert list(s.predictions["time"]) == [a.times[t] + pd.Timedelta(hours=1) for t in (7, 8)]
    assert {m["n"] for m in s.test.values()} == {2}


def test_quantiles_give_the_intervals_coverage_and_their_columns():
    a, y = arrays(horizon=1)
    pred = np.zeros((len(y), 1, 3))
    pred[..., 0], pred[..., 2] = -0.6, 0.6  # the interval [8.8, 11.2]
    s = score(
        [a],
        [np.zeros((len(y), 1))],
        [pred],
        np.zeros((1, 1)),
        scalers(),
        "h",
        4,
        [0.1, 0.5, 0.9],
        1,
    )
    # test origins 5..8: actuals y[6..9] = 14, 12, 10, 12; inside [8.8, 11.2]: only 10
    # width 2.4; Winkler: the width plus 2 / 0.2 times how far outside: (2.8 + 0.8 + 0 + 0.8) / 4 =
    # 1.1
    one = {"coverage": 0.25, "width": pytest.approx(2.4), "winkler": pytest.approx(2.4 + 10 * 1.1)}
    assert s.interval == {
        "lower": 0.1,
        "upper": 0.9,
        "nominal": pytest.approx(0.8),
        **one,
        "per_step": [one],
    }
    np.testing.assert_allclose(s.predictions["q0.1"], 8.8)
    np.testing.assert_allclose(s.predictions["q0.9"], 11.2)
    np.testing.assert_allclose(s.predictions["predicted"], 10.0)  # the median's column
