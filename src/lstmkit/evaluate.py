"""Pure functions on arrays: forecast metrics and the naive baselines every forecast is judged by.

Baselines are computed on exactly the forecast origins the model is scored on:
  persistence      y[t+h] = y[t]
  seasonal naive   y[t+h] = y[t+h - s*ceil(h/s)]      (s = the season, e.g. 24 for hourly)
  linear AR        least squares on the training origins over p target lags, q lags of each
                   covariate, the calendar and a constant; p chosen on validation. Direct: one
                   coefficient column per horizon step.
"""

from __future__ import annotations

import numpy as np

__all__ = ["coverage", "fit_least_squares", "metrics", "persistence", "pinball", "seasonal_naive"]


def metrics(actual: np.ndarray, predicted: np.ndarray, mase_scale: float) -> dict[str, float]:
    """MAE, RMSE, MAPE (%, over nonzero actuals) and MASE, in the target's units."""
    err = predicted - actual
    nonzero = np.abs(actual) > 1e-12
    mae = float(np.mean(np.abs(err)))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mape": float(np.mean(np.abs(err[nonzero] / actual[nonzero])) * 100) if nonzero.any() else float("nan"),
        "mase": mae / mase_scale if mase_scale > 0 else float("nan"),
        "n": int(err.size),
    }


def mase_scale(train_targets: list[np.ndarray], season: int) -> float:
    """Mean absolute error of the in-sample seasonal naive forecast (Hyndman & Koehler 2006)."""
    diffs = [np.abs(y[season:] - y[:-season]) for y in train_targets if len(y) > season]
    return float(np.mean(np.concatenate(diffs))) if diffs else float("nan")


def persistence(target: np.ndarray, horizon: int) -> np.ndarray:
    """(T,) -> (T, H): the last observed value, repeated."""
    return np.repeat(target[:, None], horizon, 1)


def seasonal_naive(target: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """(T,) -> (T, H): the value one (or more) seasons before each target step; NaN if unseen."""
    T = len(target)
    out = np.full((T, horizon), np.nan)
    for h in range(1, horizon + 1):
        back = season * int(np.ceil(h / season))  # steps from t+h back to a seen value
        src = np.arange(T) + h - back
        ok = (src >= 0) & (src < T)
        out[ok, h - 1] = target[src[ok]]
    return out


def fit_least_squares(design: np.ndarray, targets: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """W (D, H) minimising |design W - targets|² + ridge·n·|W|² over rows without NaN.

    The tiny ridge only keeps collinear regressors (sin/cos pairs, a constant covariate)
    from blowing up; it changes nothing measurable otherwise.
    """
    ok = ~np.isnan(design).any(1) & ~np.isnan(targets).any(1)
    X, Y = design[ok], targets[ok]
    A = X.T @ X + ridge * len(X) * np.eye(X.shape[1])
    return np.linalg.solve(A, X.T @ Y)


def pinball(actual: np.ndarray, predicted: np.ndarray, q: float) -> float:
    diff = actual - predicted
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The fraction of actuals inside [lower, upper]."""
    return float(np.mean((actual >= lower) & (actual <= upper)))
