"""Forecasts past the end of new data: the stretch each series' forecast starts from, and the
table of forecasts with the intervals as calibrated at the end of the test period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import LstmkitError
from ..data.io import series_id

__all__ = ["forecast_frame", "last_segments", "last_stretches"]


def last_segments(segments) -> dict:
    """Series id -> its last segment (a long gap splits a series; a forecast starts from the
    stretch after the last gap)."""
    last = {}
    for seg in segments:
        name = series_id(seg.series)
        if name not in last or seg.times[-1] > last[name].times[-1]:
            last[name] = seg
    return last


def last_stretches(segments, need: int, max_gap: int) -> dict:
    """last_segments, each of which must hold `need` steps (a one-line error otherwise)."""
    last = last_segments(segments)
    for name, seg in last.items():
        if len(seg.times) < need:
            after = f" after its last gap longer than {max_gap} steps" if seg.series != name else ""
            n = len(seg.times)
            raise LstmkitError(
                f"--data: series {name!r} has {n} steps{after}; forecasting needs {need}"
            )
    return last


def forecast_frame(names: list[str], arrays, preds, state, model) -> pd.DataFrame:
    """One row per series and horizon step: series, origin, time, step, predicted[, quantiles],
    in the target's units. preds: per series the scaled (H, Q) forecast from its last step;
    state: the ForecastState (scalers, frequency, conformal offsets); model: the ModelConfig."""
    levels, median, horizon = model.levels, model.median_index, model.horizon
    rows, step = [], pd.tseries.frequencies.to_offset(state.freq)
    for name, a, pred in zip(names, arrays, preds, strict=True):
        inv = state.scaler_y.get(name).inverse  # a series unseen in training: pooled
        if state.conformal:  # the intervals as calibrated at the end of the test period
            offsets = state.conformal["offsets"]
            own = offsets.get(name, next(iter(offsets.values())))  # unseen series: the first one's
            for k, q in enumerate(levels):
                if f"{q:g}" in own:
                    pred[:, k] = pred[:, median] + np.asarray(own[f"{q:g}"])
        frame = {
            "series": name,
            "origin": a.times[-1],
            "time": [a.times[-1] + h * step for h in range(1, horizon + 1)],
            "step": np.arange(1, horizon + 1),
            "predicted": inv(pred[:, median]),
        }
        for k, q in enumerate(levels):
            frame[f"q{q:g}"] = inv(pred[:, k])
        rows.append(pd.DataFrame(frame))
    return pd.concat(rows, ignore_index=True)
