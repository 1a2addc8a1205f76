"""From regular series to what a forecaster trains on: features, lag designs, targets, splits.

For every segment and every forecast origin t (the last observed step) we build
    x[t]       (F,)      the LSTM's input at t: target, past covariates, calendar of t+1
    design[t]  (D,)      the linear AR's regressors: p target lags, q lags of each covariate,
                         calendar of t+1 and a constant (NaN where history is too short)
    y[t]       (H,)      the targets y[t+1 .. t+H] (NaN past the end)
    split[t]            0 train, 1 validation, 2 test, -1 neither
A split is decided by time, the same cut for every series: an origin is training only if all H
of its targets fall before the validation cut, so no target leaks across a boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .io import series_id

__all__ = ["SeriesArrays", "Splits", "build_arrays", "calendar_features", "cut_times", "lag_design"]

TRAIN, VAL, TEST, NONE = 0, 1, 2, -1


@dataclass
class Splits:
    val_start: pd.Timestamp  # first time of the validation period
    test_start: pd.Timestamp  # first time of the test period
    test_end: pd.Timestamp | None = None  # first time after it (a backtest fold); None: to the end

    def to_dict(self) -> dict:
        return {"val_start": str(self.val_start), "test_start": str(self.test_start)} | (
            {"test_end": str(self.test_end)} if self.test_end is not None else {}
        )

    @classmethod
    def from_dict(cls, d: dict) -> Splits:
        end = d.get("test_end")
        return cls(
            pd.Timestamp(d["val_start"]),
            pd.Timestamp(d["test_start"]),
            None if end is None else pd.Timestamp(end),
        )


@dataclass
class SeriesArrays:
    """One segment, ready for the model. T origins; every array is indexed by origin."""

    series: str
    times: pd.DatetimeIndex  # (T,) origin times
    target: np.ndarray  # (T,) scaled target
    past: np.ndarray  # (T, P) scaled past covariates
    calendar_next: np.ndarray  # (T, C) calendar features of t+1, the first step forecast
    x: np.ndarray  # (T, F) LSTM input: [target, past, calendar_next] (+ columns a task appends)
    y: np.ndarray  # (T, H) scaled targets t+1..t+H
    split: np.ndarray  # (T,) TRAIN / VAL / TEST / NONE


def order_key(a) -> tuple:
    """Where a segment (SeriesArrays or Segment) stands in the one-process order: by series name,
    then time (data.io.prepare makes them so); processes sharing out the series gather their
    parts in this order (distributed.gathered)."""
    return (series_id(a.series), int(a.times[0].value))


def calendar_features(times: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """sin/cos of the cycles a frequency can show: hour of day (sub-daily), day of week (daily
    and finer), day of year (daily and finer), month of year (monthly). Shape (T, C)."""
    step = None
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        step = pd.Timedelta(offset)
    except ValueError:
        if isinstance(offset, pd.offsets.BusinessDay | pd.offsets.CustomBusinessDay):
            # days with the weekends left out: still day of week and of year
            step = pd.Timedelta("1D")
    cols = []

    def cycle(value, period):
        cols.extend([np.sin(2 * np.pi * value / period), np.cos(2 * np.pi * value / period)])

    if step is not None and step < pd.Timedelta("1D"):
        cycle(times.hour.to_numpy() + times.minute.to_numpy() / 60.0, 24.0)
    if step is not None and step <= pd.Timedelta("1D"):
        cycle(times.day_of_week.to_numpy(), 7.0)
        cycle(times.day_of_year.to_numpy() - 1, 365.25)
    if step is None:  # months, quarters: the month of year
        cycle(times.month.to_numpy() - 1, 12.0)
    return np.stack(cols, 1) if cols else np.zeros((len(times), 0))


def cut_times(segments, train: float, val: float, bounds=None) -> Splits:
    """Validation and test start at the same instants for every series: fractions of the span
    (`bounds`: its first and last time where other processes hold other series)."""
    # in milliseconds: a nanosecond Timedelta overflows past 292 years (annual sunspots since 1700)
    start, end = bounds or span_of(segments)
    start, end = start.as_unit("ms"), end.as_unit("ms")
    span = end - start
    return Splits(start + span * train, start + span * (train + val))


def span_of(segments) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and the last time of any segment."""
    return min(s.times[0] for s in segments), max(s.times[-1] for s in segments)


def _lags(v: np.ndarray, n: int) -> np.ndarray:
    """(T,) -> (T, n): column k holds v[t - k]; NaN before the series starts."""
    return lag_design(v, np.zeros((len(v), 0)), np.zeros((len(v), 0)), n, 0)[:, :n]


def lag_design(
    target: np.ndarray, past: np.ndarray, calendar_next: np.ndarray, p: int, q: int
) -> np.ndarray:
    """The AR regressors at each origin: p target lags, q lags of each covariate, the calendar
    of the first target step and a constant. (T, p + q * P + C + 1).

    Built column by column in a (D, T) array, each column one contiguous copy, and returned
    transposed (Fortran order): a year of daily lags over 33,000 days took 1 s row-major, 0.1 s
    so."""
    T, P, C = len(target), past.shape[1], calendar_next.shape[1]
    out = np.empty((p + q * P + C + 1, T))
    row = 0
    for v, lags in ((target, p), *((past[:, j], q) for j in range(P))):
        for k in range(lags):
            out[row, :k] = np.nan
            out[row, k:] = v[: T - k] if k < T else v[:0]
            row += 1
    out[row : row + C] = calendar_next.T
    out[row + C] = 1.0
    return out.T


def build_arrays(
    segment, target_scaled, past_scaled, freq, horizon, splits: Splits | None
) -> SeriesArrays:
    """splits=None: every origin is NONE (forecasting new data, nothing to score)."""
    times = segment.times
    T = len(times)
    offset = pd.tseries.frequencies.to_offset(freq)
    calendar_next = calendar_features(times + offset, freq)
    x = np.concatenate([target_scaled[:, None], past_scaled, calendar_next], 1)
    y = np.full((T, horizon), np.nan)
    for h in range(1, horizon + 1):
        y[: T - h, h - 1] = target_scaled[h:]
    split = np.full(T, NONE)
    if splits is None:
        return SeriesArrays(
            segment.series, times, target_scaled, past_scaled, calendar_next, x, y, split
        )
    last = np.full(T, len(times) - 1)
    first_idx = np.minimum(np.arange(T) + 1, T - 1)
    last_idx = np.minimum(np.arange(T) + horizon, last)
    complete = np.arange(T) + horizon <= T - 1
    first_t, last_t = times[first_idx], times[last_idx]
    split[complete & (last_t < splits.val_start)] = TRAIN
    split[complete & (first_t >= splits.val_start) & (last_t < splits.test_start)] = VAL
    in_test = complete & (first_t >= splits.test_start)
    if splits.test_end is not None:
        in_test &= last_t < splits.test_end
    split[in_test] = TEST
    return SeriesArrays(
        segment.series, times, target_scaled, past_scaled, calendar_next, x, y, split
    )
