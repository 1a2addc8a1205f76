"""The test score of a fitted forecaster: the model and the three baselines (persistence, seasonal
naive, the least-squares AR) on exactly the same test origins, in the target's units, overall and
per horizon step, and the rows of predictions.csv.

Data flows one way: the scaled per-series arrays, their AR designs and the model's forecasts come
in; numbers and a table go out. Nothing here fits anything."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import distributed
from ..data.io import series_id
from ..data.scaling import SeriesScalers
from ..data.windows import TEST, TRAIN, order_key
from ..evaluate import mase_scale, metrics, persistence, seasonal_naive
from ..train import training_events
from .intervals import interval_scores

__all__ = ["METHODS", "Scores", "metrics_of", "score"]

# metrics.json's "test" keys, then the
METHODS = (
    "model",
    "persistence",
    "seasonal_naive",
    "linear_ar",
)
# statistical models fitted (statistical.MODELS)


@dataclass
class Scores:
    # time, series, step, actual, predicted[, q...], one column per baseline
    predictions: pd.DataFrame
    test: dict  # method -> metrics over every test origin and step
    per_step: list  # the model's metrics at each horizon step
    interval: dict | None  # the outer quantiles' empirical coverage (two or more quantiles)


def score(
    arrays,
    designs,
    preds,
    baseline_ar,
    scaler_y: SeriesScalers,
    freq: str,
    season: int,
    quantiles,
    median: int,
    classical: dict | None = None,
    heads=None,
) -> Scores:
    """`preds[k]`: series k's forecasts (T, H, Q), scaled; `baseline_ar`: the least-squares AR's
    coefficients on `designs`; `classical`: model name -> per series (T, H) scaled forecasts. An
    origin counts only where the model and every baseline forecast it (so the first `season` steps
    of each series, which seasonal naive cannot forecast, drop out). `heads`: the quantile heads'
    own forecasts where `preds` holds conformal intervals (their coverage is reported beside)."""
    step = pd.tseries.frequencies.to_offset(freq)
    classical = classical or {}
    methods = (*METHODS, *classical)
    parts = []  # per series: its pooled values, its rows of predictions.csv, its training targets
    for k, (a, d, pred) in enumerate(zip(arrays, designs, preds, strict=True)):  # pred (T, H, Q)
        horizon = a.y.shape[1]
        inv = scaler_y.get(series_id(a.series)).inverse
        base = {
            "persistence": persistence(a.target, horizon),
            "seasonal_naive": seasonal_naive(a.target, horizon, season),
            "linear_ar": d @ baseline_ar,
            **{name: f[k] for name, f in classical.items()},
        }
        point = pred[..., median]
        ok = (a.split == TEST) & ~np.isnan(point).any(1)
        for b in base.values():
            ok &= ~np.isnan(b).any(1)
        idx = np.flatnonzero(ok)
        pooled = {"actual": inv(a.y[idx]), "model": inv(point[idx])}
        pooled.update({name: inv(b[idx]) for name, b in base.items()})
        pooled["quant"] = inv(pred[idx])
        if heads is not None:
            pooled["heads"] = inv(heads[k][idx])
        rows = []
        for h in range(horizon):
            frame = {
                "time": a.times[idx] + (h + 1) * step,
                "series": a.series,
                "step": h + 1,
                "actual": inv(a.y[idx, h]),
                "predicted": inv(point[idx, h]),
            }
            for j, q in enumerate(quantiles):
                frame[f"q{q:g}"] = inv(pred[idx, h, j])
            for name, b in base.items():
                frame[name] = inv(b[idx, h])
            rows.append(pd.DataFrame(frame))
        train = scaler_y.get(series_id(a.series)).inverse(a.target[a.split == TRAIN])
        parts.append((pooled, rows, train))
    # every process's series, in the one-process order: the scores are of them all
    parts = distributed.gathered(parts, [order_key(a) for a in arrays])
    predictions = pd.concat(
        [r for _, rows, _ in parts for r in rows], ignore_index=True
    ).sort_values(["series", "time", "step"])
    flat = {k: np.concatenate([p[k] for p, _, _ in parts]) for k in parts[0][0]}
    scale = mase_scale([t for *_, t in parts], season)
    test = {name: metrics(flat["actual"], flat[name], scale) for name in methods}
    per_step = [
        metrics(flat["actual"][:, h], flat["model"][:, h], scale)
        for h in range(flat["actual"].shape[1])
    ]
    interval = None
    if len(quantiles) >= 2:
        q = flat["quant"]
        lo, hi = quantiles[0], quantiles[-1]
        interval = {
            "lower": lo,
            "upper": hi,
            "nominal": hi - lo,
            **interval_scores(flat["actual"], q[..., 0], q[..., -1], hi - lo),
        }
        if heads is not None:
            qh = flat["heads"]
            interval["heads"] = interval_scores(flat["actual"], qh[..., 0], qh[..., -1], hi - lo)
    return Scores(predictions, test, per_step, interval)


def metrics_of(
    scored: Scores, state, cfg, history, report: dict, fitted: dict, calibration
) -> dict:
    """metrics.json: the scores, how training went, and what fit chose (state: the ForecastState;
    cfg: the ForecastConfig; fitted: the least-squares AR, unit-root test, base and correction
    test's record, which the state does not keep)."""
    s = state
    # the least-squares AR's order (the model's design may hold a season more)
    order = fitted["baseline_ar"][0]
    classical = s.classical and {k: v for k, v in s.classical.to_dict().items() if k != "params"}
    metrics = {
        "test": scored.test,
        "test_per_step": scored.per_step,
        "train_seconds": history.seconds,
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        "stopped_early": history.stopped_early,
        **training_events(history),
        "ar_order": order,
        "ar_form": s.ar_form,
        "ar_combination": s.ar_combination,
        "unit_root": fitted["unit_root"],
        "lstm": fitted["lstm"],
        "base": fitted["base"],
        "classical": classical,
        "season": s.season,
        "scheme": cfg.train.scheme,
        "data": report,
        "split": {"val_start": str(s.splits.val_start), "test_start": str(s.splits.test_start)},
        "history": {"train_loss": history.train_loss, "val_loss": history.val_loss},
    }
    if scored.interval:
        metrics["interval"] = {
            **scored.interval,
            "conformal": {k: v for k, v in calibration.items() if k != "offsets"},
        }
    return metrics
