"""data/scaling.py: statistics from the training rows only, pooled or per series, and their JSON."""

from __future__ import annotations

import numpy as np

from lstmkit.data.scaling import SeriesScalers, Standardizer


def test_standardizer_round_trip_and_constant_columns():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    s = Standardizer.fit(x, ["a", "b"])
    np.testing.assert_allclose(s.transform(x)[:, 0], [-1.2247449, 0, 1.2247449], rtol=1e-6)
    np.testing.assert_array_equal(s.transform(x)[:, 1], 0)  # a constant column stays put (std 1)
    np.testing.assert_allclose(s.inverse(s.transform(x)[:, 0]), x[:, 0])
    again = Standardizer.from_dict(s.to_dict())
    np.testing.assert_array_equal(again.transform(x), s.transform(x))


def test_each_series_by_its_own_statistics_and_the_pooled_ones_for_the_rest():
    rng = np.random.default_rng(0)
    rows = {
        "big": 1000 + 50 * rng.normal(size=(200, 1)),
        "small": 2 + 0.1 * rng.normal(size=(200, 1)),
        "short": np.array([[7.0]]),
    }
    per = SeriesScalers.fit(rows, ["y"], per_series=True, min_rows=10)
    for name in ("big", "small"):
        z = per.get(name).transform(rows[name])
        assert abs(z.mean()) < 1e-9 and abs(z.std() - 1) < 1e-9
    pooled = Standardizer.fit(np.concatenate(list(rows.values())), ["y"])
    for name in ("short", "never seen"):  # too few training rows, or none: the pooled statistics
        assert per.get(name).mean == pooled.mean and per.get(name).std == pooled.std
    one = SeriesScalers.fit(rows, ["y"], per_series=False)
    assert one.series == {} and one.get("big").mean == pooled.mean
    again = SeriesScalers.from_dict(per.to_dict())
    assert set(again.series) == {"big", "small"}
    small = rows["small"]
    np.testing.assert_array_equal(
        again.get("small").transform(small), per.get("small").transform(small)
    )
    # scaler.json of a run saved before per-series scaling
    old = SeriesScalers.from_dict(pooled.to_dict())
    assert old.series == {} and old.get("big").mean == pooled.mean
