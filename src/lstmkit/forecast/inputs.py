"""What the network and the skip path read, built from the prepared series: the scalers (training
part only), the AR's lag designs and lag range, the base's one-step errors as an input, and the
split's cut times on the model's time grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import distributed
from ..config import SettingError
from ..data.io import series_id
from ..data.scaling import SeriesScalers
from ..data.windows import Splits, lag_design, span_of

__all__ = [
    "add_base_errors",
    "agreed",
    "fit_scalers",
    "fixed_step",
    "lag_designs",
    "max_lag",
    "on_grid",
]


def lag_designs(arrays, p: int, season: int) -> list[np.ndarray]:
    """The AR's design of each series: p lags of the target, min(p, season) of each covariate, the
    calendar and the constant (data.windows.lag_design)."""
    q = min(p, season)
    return [lag_design(a.target, a.past, a.calendar_next, p, q) for a in arrays]


def add_base_errors(arrays, designs, coefficients) -> None:
    """Give the LSTM the base's own one-step errors as an input, e[t] = y[t] - base forecast of
    y[t] made at t-1: the moving-average term ARMA adds to AR. Only past values enter."""
    for a, d in zip(arrays, designs, strict=True):
        one_step = d @ coefficients[:, 0]  # forecast of y[t+1] made at t
        err = np.zeros(len(a.target))
        err[1:] = a.target[1:] - one_step[:-1]
        a.x = np.concatenate([a.x, np.nan_to_num(err)[:, None]], 1)


def fit_scalers(train_rows, splits, cfg, past_covariates, min_rows: int):
    """Standardise on the training period only: pooled over all series (the default) or per
    series. A series with fewer than `min_rows` training steps takes the pooled statistics. cfg:
    the ForecastConfig (its data section says how and which target)."""
    ys, xs = {}, {}
    for s in train_rows:
        m = s.times < splits.val_start
        ys.setdefault(series_id(s.series), []).append(s.target[m][:, None])
        xs.setdefault(series_id(s.series), []).append(s.past[m])
    per_series = cfg.data.scaling == "series"
    ys = {k: np.concatenate(v) for k, v in ys.items()}
    xs = {k: np.concatenate(v) for k, v in xs.items()}
    scalers = []
    for rows, columns in ((ys, [cfg.data.target]), (xs, past_covariates)):
        # pooled over every process's series; each series' own scaler where its rows are, then
        # shared, so that every process can save and apply them all
        fitted = SeriesScalers.fit(rows, columns, per_series, min_rows, distributed.total)
        own = distributed.gathered(list(fitted.series.items()), list(fitted.series))
        scalers.append(SeriesScalers(fitted.pooled, dict(own)))
    return tuple(scalers)


def max_lag(given: int | None, freq: str, season: int) -> int:
    """The largest AR lag tried: --max-lag, else a week of sub-daily steps, a year of daily ones
    (260 business days), or three seasons."""
    offset = pd.tseries.frequencies.to_offset(freq)
    step = pd.Timedelta(offset) if fixed_step(freq) else None
    if given:
        return given
    if step is not None and step < pd.Timedelta("1D"):
        return int(pd.Timedelta("7D") / step)
    if step == pd.Timedelta("1D"):
        return 365
    if isinstance(offset, pd.offsets.BusinessDay | pd.offsets.CustomBusinessDay):
        return 260
    return 3 * season


def on_grid(splits: Splits, freq: str) -> Splits:
    """Cut times on whole steps (fractions of a span land between them)."""
    if not fixed_step(freq):
        return splits
    step = pd.tseries.frequencies.to_offset(freq)
    ceil = lambda t: None if t is None else t.ceil(step)  # noqa: E731
    return Splits(ceil(splits.val_start), ceil(splits.test_start), ceil(splits.test_end))


def fixed_step(freq: str) -> bool:
    try:
        pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        return True
    except ValueError:
        return False


def overall_span(segments) -> tuple:
    """The first and the last time of any series, every process's."""
    bounds = distributed.everyone(span_of(segments))
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


# data report entries that count rows or series of a share: summed or joined over processes
_SUMMED = ("rows", "filled", "long_gap_splits", "segments", "snapped_to_grid", "merged_on_grid")
_JOINED = ("series", "series_without_target")


def agreed(prepared, shares: dict | None = None):
    """One process's prepared share, checked against the others': the same step (each infers it
    from its own series) and the same covariates, or a one-line error on every process; its
    report made the whole data's (rows, gaps filled, series summed or joined)."""
    if not distributed.active():
        return prepared
    every = distributed.everyone((prepared.freq, prepared.past_covariates, prepared.report))
    freqs = sorted({f for f, _, _ in every})
    if len(freqs) > 1:
        raise SettingError(
            "freq", f"the processes' shares of the series have different steps ({freqs}); set it"
        )
    if any(c != every[0][1] for _, c, _ in every):
        raise SettingError(
            "past_covariates",
            "the processes' shares found different covariate columns; name them",
        )
    report = dict(every[0][2])
    for key in _SUMMED:
        if key in report:
            report[key] = sum(r.get(key, 0) for *_, r in every)
    for key in _JOINED:
        if key in report:
            report[key] = sorted({v for *_, r in every for v in r.get(key, [])})
    report["processes"] = distributed.world()
    if shares is not None:
        report["series_per_process"] = [
            sum(1 for v in shares.values() if v == r) for r in range(distributed.world())
        ]
    prepared.report = report
    return prepared
