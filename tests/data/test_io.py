"""data.io: reading, validation and regularisation, each error one line naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit import LstmkitError, data
from lstmkit.data.io import column_span, default_season, infer_freq, prepare, read_table


def hourly(n=100, start="2024-01-01", **cols):
    t = pd.date_range(start, periods=n, freq="h")
    return pd.DataFrame({"t": t, "y": np.sin(np.arange(n) / 5.0), **cols})


def test_short_gaps_are_interpolated_and_counted():
    df = hourly().drop(index=[10, 11, 50])
    p = prepare(df, "t", "y", past_covariates=None)
    (seg,) = p.segments
    assert len(seg.target) == 100 and p.report["filled"] == 3
    np.testing.assert_allclose(seg.target[10], (seg.target[9] * 2 + seg.target[12]) / 3)


def test_long_gaps_split_the_series():
    df = hourly(200).drop(index=range(50, 80))  # 30 h > 6 h
    p = prepare(df, "t", "y", past_covariates=None)
    assert [len(s.target) for s in p.segments] == [50, 120]
    assert [s.series for s in p.segments] == ["series#0", "series#1"] and p.report[
        "long_gap_splits"
    ] == 1


def test_off_grid_times_snap_to_the_grid():
    df = hourly(50)
    df.loc[5, "t"] += pd.Timedelta("2min")
    p = prepare(df, "t", "y", past_covariates=None, freq="h")
    assert p.report["snapped_to_grid"] == 1 and len(p.segments[0].target) == 50


def test_auto_covariates_say_why_they_skip():
    n = 100
    df = hourly(
        n,
        x=np.arange(n, dtype=float),
        hour=np.arange(n) % 24,
        label=["a"] * n,
        sparse=[np.nan] * 50 + [1.0] * 50,
        blowup=[1.0] * 99 + [np.inf],
    )
    p = prepare(df, "t", "y")
    assert p.past_covariates == ["x"]
    skipped = p.report["covariates_skipped"]
    assert (
        "calendar" in skipped["hour"]
        and skipped["label"] == "not numeric"
        and "missing" in skipped["sparse"]
    )
    assert skipped["blowup"] == "infinite values"
    with pytest.raises(
        LstmkitError, match=r"past_covariates: column 'blowup' must be finite; row 99 holds inf"
    ):
        prepare(df, "t", "y", past_covariates=["blowup"])  # chosen by name: refused, not skipped


def test_long_format_many_series():
    a, b = hourly(60), hourly(40)
    a["s"], b["s"] = "a", "b"
    p = prepare(pd.concat([a, b]), "t", "y", series="s", past_covariates=None)
    assert [(s.series, len(s.target)) for s in p.segments] == [("a", 60), ("b", 40)]
    assert p.report["series_without_target"] == []
    b["y"] = np.nan  # a series with no target value at all: left out, and the report says which
    p = prepare(pd.concat([a, b]), "t", "y", series="s", past_covariates=None)
    assert [s.series for s in p.segments] == ["a"] and p.report["series_without_target"] == ["b"]


@pytest.mark.parametrize(
    "make, kwargs, message",
    [
        (lambda: hourly(), dict(target="temp"), "target: no column 'temp'; available: t, y"),
        (lambda: hourly(), dict(time="when"), "time: no column 'when'"),
        (
            lambda: hourly().assign(y=["x"] + [1.0] * 99),
            {},
            "target: column 'y' must be numeric; row 0 holds 'x'",
        ),
        (
            lambda: pd.concat([hourly(), hourly(1)]),
            {},
            "time: duplicate timestamp 2024-01-01 00:00:00",
        ),
        (
            lambda: hourly().drop(index=[3]),
            dict(fill="none"),
            "fill: none, but series 'series' has 1 missing step(s)",
        ),
        (lambda: hourly().assign(t="soon"), {}, "time: column 't' is not a time"),
        # was max() of nothing
        (
            lambda: hourly().assign(y=np.nan),
            {},
            "target: column 'y' has no values",
        ),
        (
            lambda: hourly().assign(y=[1.0] * 99 + [np.inf]),
            {},
            "target: column 'y' must be finite; row 99",
        ),
        # was read as a series called "nan"
        (
            lambda: hourly().assign(s=["a"] * 5 + [None] + ["a"] * 94),
            dict(series="s"),
            "series: column 's' is empty in row 5",
        ),
    ],
)
def test_bad_tables(make, kwargs, message):
    args = dict(time="t", target="y", past_covariates=None) | kwargs
    with pytest.raises(LstmkitError) as err:
        prepare(make(), **args)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_read_table_errors(tmp_path):
    with pytest.raises(LstmkitError, match="--data: file not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(LstmkitError, match=r"is not \.csv"):
        read_table(tmp_path / "x.json")
    # a header alone, or nothing: once an IndexError from deep inside the classifier's reader
    (tmp_path / "head.csv").write_text("label," + ",".join(f"t{k}" for k in range(140)) + "\n")
    with pytest.raises(
        LstmkitError,
        match=r"head.csv has no rows \(columns: label, t0, t1, \.\.\., t139 \(141 columns\)\)$",
    ):
        read_table(tmp_path / "head.csv")
    (tmp_path / "blank.csv").write_text("")
    with pytest.raises(LstmkitError, match=r"--test: .*blank.csv is empty$"):
        read_table(tmp_path / "blank.csv", where="--test")
    with pytest.raises(LstmkitError, match="--data: the DataFrame has no rows"):
        read_table(pd.DataFrame({"t": [], "y": []}))


def test_column_span_shortens_long_lists():
    assert column_span(["a", "b"]) == "a, b"
    assert column_span(list(range(10))) == "0, 1, 2, ..., 9 (10 columns)"


def test_parquet_and_csv_read_the_same(tmp_path):
    df = hourly(20)
    df.to_csv(tmp_path / "a.csv", index=False)
    df.to_parquet(tmp_path / "a.parquet")
    a = prepare(read_table(tmp_path / "a.csv"), "t", "y", past_covariates=None).segments[0].target
    b = (
        prepare(read_table(tmp_path / "a.parquet"), "t", "y", past_covariates=None)
        .segments[0]
        .target
    )
    np.testing.assert_array_equal(a, b)


def test_frequency_and_season():
    assert infer_freq(pd.date_range("2024", periods=10, freq="h")) == "h"
    assert infer_freq(pd.date_range("2024", periods=10, freq="MS")) == "MS"
    assert default_season("h") == 24 and default_season("5min") == 288
    assert default_season("D") == 7 and default_season("MS") == 12
    assert default_season("B") == 5  # a trading week; once 1, which made seasonal naive persistence
    assert (
        default_season("BMS") == 12 and default_season("BQE") == 4 and default_season("W-SUN") == 52
    )
    assert infer_freq(pd.bdate_range("2024-01-01", periods=30)) == "B"


@pytest.mark.parametrize(
    "info", [d for d in data.list_datasets() if d.task == "forecast"], ids=lambda d: d.name
)
def test_every_embedded_forecast_dataset_loads_and_prepares(info):
    df = data.load(info.name)
    assert {info.time, info.target} <= set(df.columns)
    p = prepare(
        df, info.time, info.target, info.series, "auto", info.frequency, duplicates=info.duplicates
    )
    assert p.segments and all(np.isfinite(s.target).all() for s in p.segments)
    assert info.provenance.is_file() and "licen" in info.provenance.read_text().lower()


def test_unknown_dataset_lists_the_embedded_ones():
    with pytest.raises(LstmkitError, match="weather-nyc-hourly"):
        data.get("nope")
