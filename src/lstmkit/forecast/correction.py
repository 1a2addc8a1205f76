"""The correction test: whether the LSTM's correction of the base is worth keeping, for each group
of horizon steps, decided on validation only (docs/forecasting.md). Named so as not to be confused
with the LSTM's own gates; the option was --lstm-gate before (still accepted, deprecated).
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import distributed
from ..data.windows import VAL, order_key
from ..evaluate import DM_CRITICAL_5, diebold_mariano
from ..linear.autoregression import MIN_INDEPENDENT_ORIGINS

__all__ = ["MAX_STEP_GROUPS", "correction_test", "step_groups"]

# The LSTM's correction is judged on at most this many groups of horizon steps.
MAX_STEP_GROUPS = 4


def step_groups(horizon: int) -> list[range]:
    """The horizon steps the LSTM's correction is judged on together: each step up to
    MAX_STEP_GROUPS steps, else that many contiguous groups (a day ahead: 6 hours each)."""
    n = min(horizon, MAX_STEP_GROUPS)
    edges = np.linspace(0, horizon, n + 1).round().astype(int)
    return [range(lo, hi) for lo, hi in itertools.pairwise(edges)]


def correction_test(model, arrays, designs, preds, coefficients, median: int, test: str) -> dict:
    """Keep the LSTM's correction of the point forecast, for each group of horizon steps
    (step_groups), only if it beats the base alone there on validation beyond chance: a
    one-sided Diebold-Mariano test (5%) on the per-origin squared errors over the group's steps,
    with a Newey-West variance for their autocorrelation. Where not, the correction of the median
    is dropped from `model` at those steps (ForecastNet.without_correction), which makes the
    point forecast there the base exactly (the untrained model); the other quantiles keep their
    trained spread. Early stopping alone picks
    the best validation epoch even when the gain is noise (white noise, a random walk, 144 months
    of airline passengers: 1.5-3.6% worse than the AR on test), and a correction that helps the
    first hours can hurt the last (issue 21: kept or dropped per group). test "off": always kept.

    preds: the trained model's forecasts (T, H, Q) per series, as Scheme.forecast_all gives."""
    horizon = model.horizon
    e_model, e_base = [], []
    for a, d, pred in zip(arrays, designs, preds, strict=True):
        point, base = pred[..., median], d @ coefficients
        ok = (a.split == VAL) & ~np.isnan(point).any(1) & ~np.isnan(base).any(1)
        e_model.append((point[ok] - a.y[ok]) ** 2)
        e_base.append((base[ok] - a.y[ok]) ** 2)
    # (n, H): every process's series in the one-process order (the test reads their sequence)
    keys = [order_key(a) for a in arrays]
    pairs = distributed.gathered(list(zip(e_model, e_base, strict=True)), keys)
    e_model, e_base = (np.concatenate([p[k] for p in pairs]) for k in (0, 1))
    # overlapping h-step errors: ~n / h independent
    enough = len(e_model) / horizon >= MIN_INDEPENDENT_ORIGINS
    groups, kept_steps = [], [True] * horizon
    for steps in step_groups(horizon):
        cols = list(steps)
        diffs = e_model[:, cols].mean(1) - e_base[:, cols].mean(1)
        t = diebold_mariano(diffs, cols[-1] + 1)  # errors overlap up to the group's last step
        kept = bool(enough and t < -DM_CRITICAL_5) if test == "test" else True
        base_se = float(e_base[:, cols].sum())
        groups.append(
            {
                "steps": [cols[0] + 1, cols[-1] + 1],
                "kept": kept,
                "dm_t": t,
                "val_mse_ratio": float(e_model[:, cols].sum() / base_se) if base_se > 0 else None,
            }
        )
        for h in cols:
            kept_steps[h] = kept
    dropped = [h for h in range(horizon) if not kept_steps[h]]
    if dropped:
        model.without_correction(dropped, median)
    base_se = float(e_base.sum())
    return {
        "kept": any(kept_steps),
        "kept_steps": kept_steps,
        "groups": groups,
        "gate": test,  # the name metrics.json has always used
        "dm_t": groups[0]["dm_t"] if len(groups) == 1 else None,
        "val_origins": len(e_model),
        "enough_origins": enough,
        "val_mse_ratio": float(e_model.sum() / base_se) if base_se > 0 else None,
    }
