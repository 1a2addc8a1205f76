"""report/forecast.py: the per-step errors of model and baselines, the whole forecasts regrouped by
origin, and the report that shows them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.evaluate import rmse_by_step
from lstmkit.report.forecast import forecast_paths, forecast_report


def predictions(origins=10, horizon=3, series=("a",)):
    """predictions.csv's rows: origin o forecasts hour o + h; actual = that hour's number; the model
    is off by h, persistence by 2h, seasonal naive by 1, the AR by 0.5."""
    rows = []
    for s in series:
        for o in range(origins):
            for h in range(1, horizon + 1):
                t = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=o + h)
                y = float(o + h)
                rows.append(
                    {
                        "time": t,
                        "series": s,
                        "step": h,
                        "actual": y,
                        "predicted": y + h,
                        "q0.1": y + h - 1,
                        "q0.5": y + h,
                        "q0.9": y + h + 1,
                        "persistence": y - 2 * h,
                        "seasonal_naive": y + 1,
                        "linear_ar": y - 0.5,
                    }
                )
    return pd.DataFrame(rows).sort_values(["series", "time", "step"], ignore_index=True)


def test_rmse_by_step_of_the_model_and_every_baseline():
    table = rmse_by_step(predictions(), ["predicted", "persistence", "seasonal_naive", "linear_ar"])
    assert list(table.index) == [1, 2, 3]
    np.testing.assert_allclose(table["predicted"], [1, 2, 3])
    np.testing.assert_allclose(table["persistence"], [2, 4, 6])
    np.testing.assert_allclose(table["seasonal_naive"], 1)
    np.testing.assert_allclose(table["linear_ar"], 0.5)


def test_forecast_paths_tile_the_time_axis_one_origin_per_horizon():
    rows = predictions(origins=10, horizon=3)
    assert len(forecast_paths(rows, "h")) == 4  # origins 0, 3, 6, 9
    paths = forecast_paths(rows.iloc[:-1], "h")  # origin 9 lacks its third step: left out
    assert len(paths) == 3
    for k, p in enumerate(paths):
        assert list(p["step"]) == [1, 2, 3]
        assert list(p["actual"]) == [3 * k + 1, 3 * k + 2, 3 * k + 3]
    assert forecast_paths(predictions(horizon=1), "h") == []  # one step: nothing to regroup
    # 0, 3, 6, 9
    assert len(forecast_paths(predictions(origins=60, horizon=3), "h", span=12, most=8)) == 4
    assert len(forecast_paths(predictions(origins=60, horizon=3), "h", most=2)) == 2


@pytest.mark.parametrize("horizon", [1, 3])
def test_the_report_shows_steps_and_paths_when_there_are_several(tmp_path, horizon):
    pred = predictions(origins=40, horizon=horizon, series=("a", "b"))
    metric = {"rmse": 1.0, "mae": 1.0, "mape": 1.0, "mase": 1.0}
    metrics = {
        "test": {k: metric for k in ("model", "persistence", "seasonal_naive", "linear_ar")},
        "data": {"freq": "h"},
    }
    by_step = rmse_by_step(pred, ["predicted", "persistence", "seasonal_naive", "linear_ar"])
    forecast_report(tmp_path, metrics, pred, {"quantiles": [0.1, 0.5, 0.9]}, "title", by_step)
    page = (tmp_path / "report.html").read_text()
    several = horizon > 1
    assert ("By horizon step" in page) == several and (
        "Whole forecasts from a few origins" in page
    ) == several
    assert (tmp_path / "plots" / "paths.png").exists() == several
    assert (tmp_path / "plots" / "test_week.png").exists()
