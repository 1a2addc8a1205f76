"""Prediction intervals by conformal prediction: every quantile of `--quantiles` other than the
median becomes the point forecast plus a quantile of recent forecast errors, per horizon step,
with its level adapted as outcomes arrive (adaptive conformal inference, Gibbs & Candes 2021).

    calibration   the validation origins' errors y - point, per step h, every series pooled (with
                  fewer than MIN_CALIBRATION of them, a short series: the training origins' too)
    rolling       through the test period, each error joins the window once it is known (step h's
                  outcome of origin t is known at t + h) and the oldest leaves: the window keeps
                  the validation's size and follows a drifting error distribution
    adaptive      each quantile q's level l starts at q and moves after each known outcome:
                  l <- l + gamma (q - 1{y < bound}), so a bound missed too often widens itself

Trained quantile heads (pinball loss) are right only as far as the training period looks like
the test period; measured on the embedded series their 80% interval covered 0.74-0.80. The
calibration here needs no assumption but that recent errors resemble the next ones
(docs/forecasting.md, "Intervals").
"""

from __future__ import annotations

import bisect
from collections import deque

import numpy as np

from .. import distributed
from ..data.windows import TEST, TRAIN, VAL, order_key

GAMMA = (
    0.005  # the level's step (Gibbs & Candes' default; docs/forecasting.md has the measured choice)
)
MIN_CALIBRATION = 20  # fewer validation errors per step than this: the heads' quantiles are kept


def conformal(
    arrays, preds, quantiles: list[float], median: int, gamma: float = GAMMA
) -> tuple[list, dict]:
    """preds: per series (T, H, Q) scaled forecasts. Returns the same with every non-median
    quantile column replaced, at validation and test origins, by its conformal bound, and a
    record {"calibration" (errors per step), "offsets" (q -> per step, at the end: what new
    forecasts get added), "gamma"}. Unchanged (and {"calibrated": False}) with too few errors."""
    H = preds[0].shape[1]
    others = [k for k in range(len(quantiles)) if k != median]
    source = "validation"
    calib = _errors(arrays, preds, median, (VAL,))
    # a short series: its training errors too (they flatter the
    if min(map(len, calib)) < MIN_CALIBRATION:
        # model, so the interval starts narrow; the adaptation widens it)
        source = "training + validation"
        calib = _errors(arrays, preds, median, (TRAIN, VAL))
    if not others or min(map(len, calib)) < MIN_CALIBRATION:
        return preds, {"calibrated": False, "calibration": int(min(map(len, calib)))}
    out = [p.copy() for p in preds]
    offsets = {}  # series -> quantile -> per step: the offsets its next forecasts get
    for a, p, o in zip(arrays, preds, out, strict=True):
        finals = []
        for h in range(H):
            bounds = o[:, h][:, others]
            finals.append(
                _roll_step(
                    a, p[:, h, median], h, calib[h], [quantiles[k] for k in others], gamma, bounds
                )
            )
            o[:, h, others] = bounds
        offsets[str(a.series)] = {
            f"{quantiles[k]:g}": [finals[h][j] for h in range(H)] for j, k in enumerate(others)
        }
    # every process's series (each saves them all)
    keys = [order_key(a) for a in arrays]
    offsets = dict(distributed.gathered(list(offsets.items()), keys))
    return out, {
        "calibrated": True,
        "calibration": int(min(map(len, calib))),
        "source": source,
        "gamma": gamma,
        "offsets": offsets,
    }


def _errors(arrays, preds, median: int, splits) -> list[np.ndarray]:
    """Per horizon step, the errors y - point at the origins of `splits`, every series pooled (of
    every process, in the one-process order), in time order within each series."""
    H = preds[0].shape[1]
    per_series = []
    for a, p in zip(arrays, preds, strict=True):
        errs = []
        for h in range(H):
            rows = np.isin(a.split, splits) & np.isfinite(p[:, h, median]) & np.isfinite(a.y[:, h])
            errs.append((a.y[:, h] - p[:, h, median])[rows])
        per_series.append(errs)
    per_series = distributed.gathered(per_series, [order_key(a) for a in arrays])
    return [np.concatenate([errs[h] for errs in per_series]) for h in range(H)]


def _roll_step(
    a,
    point: np.ndarray,
    h: int,
    calibration: np.ndarray,
    levels0: list[float],
    gamma: float,
    bounds: np.ndarray,
) -> list[float]:
    """One series, one step h: fill bounds (T, len(levels0)) at validation origins (from the
    calibration window) and test origins (rolled, adapted). Returns the offsets at the end."""
    window = deque(calibration.tolist())
    ordered = sorted(window)
    levels = list(levels0)
    # test origins whose outcome is not yet known: (known at, error, bound offsets)
    pending = deque()
    known_at = np.flatnonzero(a.split == TEST)
    val = np.flatnonzero(a.split == VAL)
    if len(val):
        bounds[val] = point[val, None] + np.array([_quantile(ordered, q) for q in levels0])[None]
    for t in known_at:
        while pending and pending[0][0] <= t:  # outcomes of earlier origins that are known by now
            _, err, offs = pending.popleft()
            for j, q in enumerate(levels0):
                levels[j] += gamma * (q - float(err < offs[j]))
            ordered.pop(bisect.bisect_left(ordered, window.popleft()))
            window.append(err)
            bisect.insort(ordered, err)
        offs = [_quantile(ordered, lv) for lv in levels]
        bounds[t] = point[t] + np.array(offs)
        err = a.y[t, h] - point[t]
        if np.isfinite(err):
            pending.append((t + h + 1, float(err), offs))
    return [_quantile(ordered, lv) for lv in levels]


def _quantile(ordered: list, level: float) -> float:
    """The level-quantile of sorted values, linear between order statistics; levels past [0, 1]
    (where the adaptation pushes them) give the extremes."""
    pos = min(max(level, 0.0), 1.0) * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def interval_scores(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, nominal: float
) -> dict:
    """Per horizon step (columns) and averaged over steps: coverage, mean width and the Winkler
    score (width plus 2/alpha times the distance by which the actual falls outside)."""
    alpha = 1 - nominal
    inside = (actual >= lower) & (actual <= upper)
    width = upper - lower
    winkler = width + (2 / alpha) * (np.maximum(lower - actual, 0) + np.maximum(actual - upper, 0))
    per_step = [
        {
            "coverage": float(inside[:, h].mean()),
            "width": float(width[:, h].mean()),
            "winkler": float(winkler[:, h].mean()),
        }
        for h in range(actual.shape[1])
    ]
    return {
        "coverage": float(inside.mean()),
        "width": float(width.mean()),
        "winkler": float(winkler.mean()),
        "per_step": per_step,
    }
