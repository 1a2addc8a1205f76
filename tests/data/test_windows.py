"""data.windows: splits by time without leakage, targets shifted right, lag designs exact."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmkit.data.io import Segment
from lstmkit.data.windows import (
    TEST,
    TRAIN,
    VAL,
    build_arrays,
    calendar_features,
    cut_times,
    lag_design,
)


def segment(n=100):
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    return Segment("s", t, np.arange(n, dtype=float), np.zeros((n, 0)))


def test_splits_never_leak_targets_across_a_boundary():
    seg = segment()
    splits = cut_times([seg], 0.7, 0.1)
    a = build_arrays(seg, seg.target, seg.past, "h", 3, splits)
    last_target = seg.times[np.minimum(np.arange(100) + 3, 99)]
    first_target = seg.times[np.minimum(np.arange(100) + 1, 99)]
    assert (last_target[a.split == TRAIN] < splits.val_start).all()
    assert (first_target[a.split == VAL] >= splits.val_start).all()
    assert (last_target[a.split == VAL] < splits.test_start).all()
    assert (first_target[a.split == TEST] >= splits.test_start).all()
    assert (a.split == TEST).sum() > 0 and (a.split[-3:] == -1).all()  # incomplete horizons


def test_targets_are_the_next_h_values():
    seg = segment(10)
    a = build_arrays(seg, seg.target, seg.past, "h", 2, cut_times([seg], 0.5, 0.2))
    np.testing.assert_array_equal(a.y[0], [1, 2])
    np.testing.assert_array_equal(a.y[7], [8, 9])
    assert np.isnan(a.y[8, 1])


def test_lag_design_holds_the_lags():
    y = np.arange(6, dtype=float)
    past = np.arange(6, dtype=float)[:, None] * 10
    d = lag_design(y, past, np.zeros((6, 0)), p=3, q=2)
    np.testing.assert_array_equal(d[4], [4, 3, 2, 40, 30, 1])
    assert np.isnan(d[1]).any() and not np.isnan(d[2]).any()


def test_a_lag_longer_than_the_series_is_nan_not_a_crash():
    y = np.arange(4, dtype=float)  # 4 steps, 6 lags: once "could not broadcast (3,) into (0,)"
    d = lag_design(y, np.zeros((4, 0)), np.zeros((4, 0)), p=6, q=0)
    assert d.shape == (4, 7)
    np.testing.assert_array_equal(d[3, :4], [3, 2, 1, 0])
    assert np.isnan(d[:, 4:6]).all() and (d[:, 6] == 1).all()


def test_calendar_features_follow_the_clock():
    t = pd.date_range("2024-01-01", periods=48, freq="h")
    cal = calendar_features(t, "h")
    np.testing.assert_allclose(cal[0, :2], cal[24, :2], atol=1e-12)  # hour of day: same
    assert not np.allclose(cal[0, 2:4], cal[24, 2:4])  # day of week: Monday, Tuesday
    np.testing.assert_allclose(cal[0, 4:], cal[24, 4:], atol=0.02)  # day of year: one day apart
    assert cal.shape[1] == 6 and np.allclose(cal[:, 0] ** 2 + cal[:, 1] ** 2, 1)
    assert calendar_features(pd.date_range("2024", periods=3, freq="MS"), "MS").shape == (3, 2)


def test_business_days_keep_day_of_week_and_of_year():
    t = pd.bdate_range("2024-01-01", periods=10)  # Monday 1 January to Friday 12 January
    cal = calendar_features(t, "B")
    assert cal.shape[1] == 4  # day of week, day of year (once only the month of year)
    np.testing.assert_allclose(cal[0, :2], cal[5, :2], atol=1e-12)  # Mondays alike
    np.testing.assert_allclose(cal[0, :2], [np.sin(0), np.cos(0)])
    assert not np.allclose(cal[0, 2:], cal[5, 2:])  # a week apart in the year
