"""The forecaster's linear autoregression: which one (lag order, levels or differences), and how it
is averaged with seasonal naive where validation is short. Both decisions are made on the training
and validation parts only; docs/forecasting.md ("Any series") has the measurements behind them.
Whether the LSTM's correction of it stays is forecast/correction.py's.

    choose_ar    least squares on the training origins for every lag order of the grid, in levels
                 and on differences (evaluate.fit_ar_forms); the order and form best on validation,
                 except that a series with a unit root (ADF, unit_root) takes differences unless
                 levels are clearly better there
    combine_seasonal
                 where validation is too short to trust that choice, the AR's forecast averaged
                 with seasonal naive's, weighted by their validation errors (Bates & Granger)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import distributed
from ..data.windows import TRAIN, VAL, order_key
from ..evaluate import ADF_CRITICAL_5, adf_statistic, ar_forms_of_gram

# AR lag orders tried (with one, two and three seasons, and the largest allowed): short lags, a day
# to a week of hourly steps, a week to a year of daily ones.
LAG_GRID = (1, 2, 3, 6, 7, 12, 14, 24, 28, 48, 56, 72, 91, 96, 120, 168, 182, 365)
FORMS = ("levels", "differences")
# On a series with a unit root, levels are kept only with a validation MSE this much below the
# differences' (the airline passengers' exponential trend: 3x; a random walk's levels: 1-4%).
LEVELS_MARGIN = 1.1
# The LSTM's validation gain is tested only on at least this many validation origins per horizon
# step (about that many independent errors); with fewer there is no telling, and the AR is kept.
MIN_INDEPENDENT_ORIGINS = 20


def lag_grid(max_lag: int, season: int, arrays) -> list[int]:
    """The lag orders tried: LAG_GRID and one to three seasons up to max_lag, which is also capped
    at a quarter of the shortest series' training origins (least squares needs rows)."""
    n_train = _shortest_training(arrays)
    max_lag = max(1, min(max_lag, n_train // 4))
    seasons = (season, 2 * season, 3 * season)
    return sorted({p for p in (*LAG_GRID, *seasons) if p <= max_lag} | {max_lag})


def choose_ar(
    arrays, designs_of: Callable[[int], list], grid: list[int], season: int | None = None
) -> dict:
    """The AR for these series: {"order", "form", "coefficients" (D, H), "unit_root"}.

    Each form keeps its order best on validation; then the form best on validation, except that
    series the ADF test finds integrated take differences unless levels beat them by
    LEVELS_MARGIN. Validation comes right after training, where the levels fit of a random walk
    has not yet drifted back towards the training mean; further out, on test, it loses even to
    persistence (24% on a drifting walk at 12 steps ahead, before this rule).

    Order-recursive: one design at the largest order and one Gram matrix of its training rows;
    every order's fit is a sub-block of it (the rows are those complete at the largest order, a
    few fewer than the order's own). The chosen order is then refitted on its own rows, so the
    coefficients are exactly its least-squares fit. Measured: a pass over the data per order
    took most of the search's time (docs/forecasting.md, "Speed")."""
    top = max(grid)
    season = top if season is None else season
    designs = designs_of(top)
    q_top, n_cov = min(top, season), arrays[0].past.shape[1]
    G, B, n = _gram(arrays, designs)
    val = [_rows(d, a.y, a.split == VAL) for a, d in zip(arrays, designs, strict=True)]
    Xv, Yv = np.concatenate([v[0] for v in val]), np.concatenate([v[1] for v in val])
    # every (order, form)'s validation sum of squared errors, summed over every process's series
    fits, squares = {}, []
    for p in grid:
        cols = _columns(p, min(p, season), top, q_top, n_cov, designs[0].shape[1])
        forms = ar_forms_of_gram(G[np.ix_(cols, cols)], B[cols], n, p)
        for form, W in forms.items():
            fits[p, form] = len(squares)
            squares.append(float(np.sum((Xv[:, cols] @ W - Yv) ** 2)))
    *squares, count = distributed.total(np.array([*squares, Yv.size], float))
    scores = {k: float(squares[i] / count) if count else np.inf for k, i in fits.items()}
    best = {
        form: min((k for k in scores if k[1] == form), key=lambda k: scores[k]) for form in FORMS
    }
    root = unit_root(arrays)
    levels, differences = (scores[best[form]] for form in FORMS)
    if root["integrated"] and levels * LEVELS_MARGIN > differences:
        chosen = best["differences"]
    else:
        chosen = min(best.values(), key=lambda k: scores[k])
    p = chosen[0]
    # The chosen order on its own complete rows, its Gram matrix summed series by series: the
    # rows gathered into one matrix first held two more copies of the training design (1.7 GB
    # by their shapes for 20 series of 5 years hourly); the sum is the same up to rounding.
    W = ar_forms_of_gram(*_gram(arrays, designs_of(p)), p)[chosen[1]]
    return {"order": p, "form": chosen[1], "coefficients": W, "unit_root": root}


def _gram(arrays, designs) -> tuple[np.ndarray, np.ndarray, int]:
    """X'X, X'Y and the row count of the training rows, summed series by series and over every
    process's series: the same least squares as one process holding them all."""
    G, B, n = 0.0, 0.0, 0
    for a, d in zip(arrays, designs, strict=True):
        X, Y = _rows(d, a.y, a.split == TRAIN)
        G, B, n = G + X.T @ X, B + X.T @ Y, n + len(X)
    width, horizon = designs[0].shape[1], arrays[0].y.shape[1]
    G, B = np.broadcast_to(G, (width, width)), np.broadcast_to(B, (width, horizon))
    packed = distributed.total(np.concatenate([G.ravel(), B.ravel(), [n]]))
    G, B = packed[: width * width], packed[width * width : -1]
    return G.reshape(width, width), B.reshape(width, horizon), int(packed[-1])


def _shortest_training(arrays) -> int:
    """The fewest training origins of any series (of every process's) that has some."""
    local = [int((a.split == TRAIN).sum()) for a in arrays if (a.split == TRAIN).any()]
    return int(distributed.least(float(min(local, default=2**62))))


def _rows(d: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `mask` whose design and targets are complete. A split's rows are one stretch
    of each series: taken as a slice (a view) where they are, not gathered row by row (on a
    column-major year of daily lags the gather took a quarter of the search)."""
    idx = np.flatnonzero(mask)
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx):
        X, Y = d[idx[0] : idx[-1] + 1], y[idx[0] : idx[-1] + 1]
    else:
        X, Y = d[idx], y[idx]
    # a NaN anywhere in a row makes its sum NaN (one BLAS pass)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = ~np.isnan(X @ np.ones(X.shape[1])) & ~np.isnan(Y).any(1)
    if ok.all():
        return X, Y
    first = int(np.argmax(ok))
    if ok[first:].all():  # only the first rows lack lags (the usual case): still a view
        return X[first:], Y[first:]
    return X[ok], Y[ok]


def _columns(p: int, q: int, top: int, q_top: int, n_cov: int, width: int) -> list[int]:
    """The columns of lag_design(p, q) inside lag_design(top, q_top): target lags, each
    covariate's lags, then the calendar and the constant."""
    cols = list(range(p))
    for j in range(n_cov):
        cols += [top + j * q_top + lag for lag in range(q)]
    return cols + list(range(top + n_cov * q_top, width))


def combine_seasonal(
    arrays, designs_of: Callable[[int], list], ar: dict, season: int, n_covariates: int
):
    """Where validation holds fewer than MIN_INDEPENDENT_ORIGINS independent origins per horizon
    step, the AR's forecast averaged with seasonal naive's, with the weights that minimise the
    average's validation MSE given the two forecasts' error variances and covariance (Bates &
    Granger 1969), clipped to [0, 1]: {"order", "coefficients", "weight" (the AR's),
    "val_origins"}. None where validation is long enough to trust the AR, where the weight is
    the AR's alone, or where a season of lags would take more than half of the shortest series'
    training origins (nothing is fitted on them, but the LSTM trains only where the design is
    complete).

    Why: on 50-80 training steps a handful of validation origins chooses among many lag orders
    and two forms, and the choice overfits: on 72 months of lung deaths the AR lost to seasonal
    naive by 1-10%, on short seasonal draws by up to 43% (docs/forecasting.md, "Any series"), and
    no rule for choosing, measured, fixed that. Averaging two forecasts whose errors differ is
    robust where choosing is not, and the weights, unlike a choice, bend softly to few errors.

    Seasonal naive is linear in the lags (y_{t+h-s*ceil(h/s)}), so the average is an AR too: the
    AR's coefficients widened to at least `season` lags, plus one-hot seasonal rows. The model's
    frozen skip path, save/load and explain take it as they take any AR."""
    horizon = arrays[0].y.shape[1]
    val_origins = distributed.total(float(sum(int((a.split == VAL).sum()) for a in arrays)))
    if val_origins / horizon >= MIN_INDEPENDENT_ORIGINS:
        return None  # enough to trust the AR (no design built: on years of hourly data it costs)
    order = max(ar["order"], season)
    n_train = _shortest_training(arrays)
    if season < 2 or order > n_train // 2:
        return None
    designs = designs_of(order)
    W_ar = widen(ar["coefficients"], ar["order"], order, season, n_covariates)
    W_sn = np.zeros_like(W_ar)
    for h in range(1, horizon + 1):
        W_sn[season * -(-h // season) - h, h - 1] = (
            1.0  # y_{t+h-s*ceil(h/s)}: lag column j = that offset
        )
    rows = [(a.split == VAL) & ~np.isnan(d).any(1) for a, d in zip(arrays, designs, strict=True)]
    a, b = (
        np.concatenate(
            [((d @ W) - s.y)[r] for s, d, r in zip(arrays, designs, rows, strict=True)]
        ).ravel()
        for W in (W_ar, W_sn)
    )
    # validation origins with a complete design, and the errors' moments, over every process
    n, size, aa, bb, ab = distributed.total(
        np.array([sum(r.sum() for r in rows), a.size, a @ a, b @ b, a @ b], float)
    )
    n = int(n)
    if not n:
        return None
    # Bates & Granger's weights with the errors' covariance: where both err on the same shock (white
    # noise: seasonal naive's error is the AR's plus another), the worse one gets nothing
    va, vb, c = float(aa / size), float(bb / size), float(ab / size)
    weight = float(np.clip((vb - c) / (va + vb - 2 * c), 0.0, 1.0)) if va + vb - 2 * c > 0 else 1.0
    if weight == 1.0:  # the AR alone, on its own (shorter) design
        return None
    return {
        "order": order,
        "coefficients": weight * W_ar + (1 - weight) * W_sn,
        "weight": float(weight),
        "val_origins": n,
    }


def widen(W: np.ndarray, p: int, order: int, season: int, n_covariates: int) -> np.ndarray:
    """AR coefficients of lag_design(p, min(p, season)) as coefficients of lag_design(order,
    min(order, season)), order >= p: the same forecast, zeros for the lags added. The design's
    columns: target lags, then each covariate's lags, then the calendar and the constant."""
    q, q_new = min(p, season), min(order, season)
    out = np.zeros((W.shape[0] + (order - p) + (q_new - q) * n_covariates, W.shape[1]))
    out[:p] = W[:p]
    for j in range(n_covariates):
        out[order + j * q_new : order + j * q_new + q] = W[p + j * q : p + (j + 1) * q]
    out[order + n_covariates * q_new :] = W[p + n_covariates * q :]
    return out


def unit_root(arrays) -> dict:
    """The ADF test on each series' training part, with the calendar as deterministic terms
    (evaluate.adf_statistic; without them a year of temperatures, whose seasonal swing looks like
    a trend, is not rejected). Integrated: the unit root is not rejected for series holding at
    least half of the training steps; series too short to test are left out."""
    keys, found = [], []  # (where the series stands, its statistic, its training steps)
    for a in arrays:
        idx = np.flatnonzero(a.split == TRAIN)
        idx = idx[idx >= 1]
        try:  # calendar_next[t - 1] is the calendar of step t
            stat = adf_statistic(a.target[idx], exog=a.calendar_next[idx - 1])
        except ValueError:
            continue
        found.append((stat, len(idx)))
        keys.append(order_key(a))
    # every process's series (the median is over them all)
    pairs = distributed.gathered(found, keys)
    if not pairs:
        return {"adf": None, "integrated": False}
    stats, weights = [s for s, _ in pairs], [w for _, w in pairs]
    not_rejected = sum(w for s, w in zip(stats, weights, strict=True) if not s < ADF_CRITICAL_5)
    return {"adf": float(np.median(stats)), "integrated": bool(not_rejected >= sum(weights) / 2)}
