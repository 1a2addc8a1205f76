"""Pure functions on arrays: the metrics and the baselines every model is judged by.

Forecasting:
Baselines are computed on exactly the forecast origins the model is scored on:
  persistence      y[t+h] = y[t]
  seasonal naive   y[t+h] = y[t+h - s*ceil(h/s)]      (s = the season, e.g. 24 for hourly)
  linear AR        least squares on the training origins over p target lags, q lags of each
                   covariate, the calendar and a constant; p chosen on validation. Direct: one
                   coefficient column per horizon step.

Classification (scores are probabilities; ties in ROC-AUC count one half, as Mann-Whitney's U):
  accuracy, balanced accuracy (mean recall per class), macro F1, ROC-AUC (binary, or one-vs-rest
  macro over classes), PR-AUC as average precision, the confusion matrix; and the logistic
  regression every sequence classifier is compared with.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "ADF_CRITICAL_5",
    "DM_CRITICAL_5",
    "RidgeFit",
    "adf_statistic",
    "average_precision",
    "classification_metrics",
    "confusion_matrix",
    "coverage",
    "diebold_mariano",
    "fit_ar_forms",
    "fit_logistic",
    "fit_ridge_classifier",
    "logistic_proba",
    "metrics",
    "paired_t",
    "persistence",
    "proba_of_logits",
    "rmse_by_step",
    "roc_auc",
    "roc_by_class",
    "roc_curve",
    "row_log_loss",
    "seasonal_naive",
]


def metrics(actual: np.ndarray, predicted: np.ndarray, mase_scale: float) -> dict[str, float]:
    """MAE, RMSE, MAPE (%, over nonzero actuals) and MASE, in the target's units."""
    err = predicted - actual
    nonzero = np.abs(actual) > 1e-12
    mae = float(np.mean(np.abs(err)))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mape": float(np.mean(np.abs(err[nonzero] / actual[nonzero])) * 100)
        if nonzero.any()
        else float("nan"),
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


def fit_ar_forms(
    design: np.ndarray, targets: np.ndarray, p: int, ridge: float = 1e-6
) -> dict[str, np.ndarray]:
    """The least-squares AR in levels and, when the first p columns of `design` are the target's
    lags y_t, ..., y_{t-p+1}, on differences too (ARIMA's d = 1), both as (D, H) coefficients
    of the same design, from one Gram matrix:

        levels       y_{t+h} = sum_j a_j y_{t-j} + b . other columns
        differences  y_{t+h} - y_t = sum_{j>=1} a_j (y_{t-j} - y_t) + b . other columns

    The second is the first with the lag coefficients constrained to sum to 1: written in levels
    its coefficient of y_t is 1 - sum_{j>=1} a_j. It cannot drift back to the training mean, so
    it holds on a random walk or a trend where the levels fit loses even to persistence (with
    p = 1 it *is* persistence plus a drift and the covariates' effects). The tiny ridge
    (ridge * n * |W|^2) only keeps collinear regressors (sin/cos pairs, a constant covariate) from
    blowing up; it changes nothing measurable otherwise."""
    ok = ~np.isnan(design).any(1) & ~np.isnan(targets).any(1)
    X, Y = design[ok], targets[ok]
    return ar_forms_of_gram(X.T @ X, X.T @ Y, len(X), p, ridge)


def ar_forms_of_gram(
    G: np.ndarray, B: np.ndarray, n: int, p: int, ridge: float = 1e-6
) -> dict[str, np.ndarray]:
    """fit_ar_forms from the Gram matrix G = X'X and B = X'Y of n rows: a sub-block of one large
    Gram matrix gives every smaller lag order without another pass over the data."""
    eye = ridge * n
    out = {"levels": np.linalg.solve(G + eye * np.eye(len(G)), B)}
    if p < 1:
        return out
    # X' = X M drops y_t and subtracts it from the other lags; the target becomes Y - y_t
    D = len(G)
    M = np.delete(np.eye(D), 0, axis=1)
    M[0, : p - 1] = -1.0
    Gm = M.T @ G @ M
    Bm = M.T @ (B - G[:, :1])  # X'^T (Y - X e_0) for every horizon
    Wm = np.linalg.solve(Gm + eye * np.eye(D - 1), Bm)
    W = M @ Wm
    W[0] += 1.0
    out["differences"] = W
    return out


# Dickey-Fuller critical value at 5% for a regression with a constant (Fuller 1976, large
# samples); periodic terms such as sin/cos of the calendar leave the zero-frequency statistic's
# distribution unchanged (Dickey, Hasza & Fuller 1984), so the same value holds with them.
ADF_CRITICAL_5 = -2.86


def adf_statistic(y: np.ndarray, lags: int | None = None, exog: np.ndarray | None = None) -> float:
    """The augmented Dickey-Fuller t statistic of rho in

        dy_t = c + rho * y_{t-1} + sum_{j=1..k} g_j dy_{t-j} + b . exog_t + e_t

    (Said & Dickey 1984); a unit root (rho = 0) is rejected at 5% when it is below ADF_CRITICAL_5.
    k defaults to Schwert's rule, floor(12 (n / 100)^(1/4)); exog (n, E) rows align with y."""
    y = np.asarray(y, float)
    k = int(12 * (len(y) / 100) ** 0.25) if lags is None else lags
    dy = np.diff(y)
    n = len(dy) - k
    if n < 2 * (k + 3 + (0 if exog is None else exog.shape[1])):
        raise ValueError(f"adf_statistic: {len(y)} values are too few for {k} lags")
    width = 2 + k + (0 if exog is None else exog.shape[1])

    def block(a: int, b: int) -> np.ndarray:  # rows a..b of the regressors
        cols = [np.ones(b - a), y[k + a : k + b]]
        cols += [dy[k - j + a : k - j + b] for j in range(1, k + 1)]
        return np.column_stack(cols if exog is None else [*cols, exog[k + 1 + a : k + 1 + b]])

    target = dy[k:]
    if n * width <= ADF_DIRECT_CELLS:
        X = block(0, n)
        beta, *_ = np.linalg.lstsq(X, target, rcond=None)
        resid = target - X @ beta
        rss, G = resid @ resid, X.T @ X
    else:  # a long series: X'X, X'dy and dy'dy summed block by block, never X whole
        G, c, yy = np.zeros((width, width)), np.zeros(width), 0.0
        for a in range(0, n, ADF_BLOCK):
            X, t = block(a, min(n, a + ADF_BLOCK)), target[a : a + ADF_BLOCK]
            G, c, yy = G + X.T @ X, c + X.T @ t, yy + t @ t
        beta = np.linalg.lstsq(G, c, rcond=None)[0]
        rss = max(yy - beta @ c, 0.0)  # at the solution G beta = c
    s2 = rss / (n - width)
    # a perfect fit (a constant series): NaN, no verdict
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(beta[1] / np.sqrt(s2 * np.linalg.pinv(G)[1, 1]))


# The ADF regression held whole up to this many cells (rows x columns: 16 million, 128 MB); past
# it, summed in blocks of ADF_BLOCK rows. A year of minutes whole (525,600 rows, 110 lags) took
# about 1 GB with lstsq's copies (benchmarks/scale.py --long).
ADF_DIRECT_CELLS = 2**24
ADF_BLOCK = 65_536


DM_CRITICAL_5 = 1.645  # one-sided 5% point of the standard normal


def diebold_mariano(loss_diff: np.ndarray, horizon: int = 1) -> float:
    """Diebold & Mariano (1995): the t statistic of the mean of a loss difference (model minus
    reference, one value per forecast origin in time order), with a Newey-West (Bartlett) long-run
    variance over max(horizon - 1, floor(4 (n / 100)^(2/9))) lags, since overlapping h-step
    errors and slow weather are autocorrelated. Negative: the model's loss is lower. 0 when the
    differences are all zero (nothing to tell apart)."""
    d = np.asarray(loss_diff, float)
    n = len(d)
    if n < 2:
        return 0.0
    u = d - d.mean()
    lags = min(n - 1, max(horizon - 1, int(4 * (n / 100) ** (2 / 9))))
    var = u @ u / n
    for k in range(1, lags + 1):
        var += 2 * (1 - k / (lags + 1)) * (u[k:] @ u[:-k]) / n
    if var <= 0:
        return 0.0
    return float(d.mean() / np.sqrt(var / n))


def paired_t(diff: np.ndarray) -> float:
    """The t statistic of the mean of paired differences of independent rows (one per row, e.g. a
    model's log loss minus another's): mean / (sd / sqrt(n)). Negative: the first is lower. 0 when
    there are fewer than two rows or the differences do not vary."""
    d = np.asarray(diff, float)
    if len(d) < 2:
        return 0.0
    sd = d.std(ddof=1)
    return float(d.mean() / (sd / np.sqrt(len(d)))) if sd > 0 else 0.0


def row_log_loss(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Each row's log loss (probabilities clipped to [1e-7, 1 - 1e-7]); a multi-label row's is the
    mean over its known labels (NaN when it has none)."""
    p = np.clip(proba, 1e-7, 1 - 1e-7)
    if y.ndim == 2:
        yk, known = np.nan_to_num(y), ~np.isnan(y)
        loss = np.where(known, -(yk * np.log(p) + (1 - yk) * np.log(1 - p)), 0.0)
        with np.errstate(invalid="ignore"):
            return loss.sum(1) / known.sum(1)
    return -np.log(p[np.arange(len(y)), y])


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The fraction of actuals inside [lower, upper]."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


# ---- classification ------------------------------------------------------------------------


def confusion_matrix(actual: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, K) counts; row = actual class, column = predicted class."""
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (actual, predicted), 1)
    return out


def roc_curve(actual: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    order = np.argsort(-score, kind="stable")
    y, s = actual[order].astype(bool), score[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the end of each run of tied scores
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    return np.r_[0, fp] / max(fp[-1], 1), np.r_[0, tp] / max(tp[-1], 1)


def roc_auc(actual: np.ndarray, score: np.ndarray) -> float:
    """Binary ROC-AUC = P(score of a positive > score of a negative), ties counted one half."""
    actual = actual.astype(bool)
    n_pos, n_neg = actual.sum(), (~actual).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(score)
    return float((ranks[actual].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse = np.unique(x, return_inverse=True)
    sums = np.bincount(inverse, ranks)
    counts = np.bincount(inverse)
    return (sums / counts)[inverse]


def average_precision(actual: np.ndarray, score: np.ndarray) -> float:
    """PR-AUC as average precision: sum over thresholds of (recall gained) * precision there."""
    actual = actual.astype(bool)
    if not actual.any():
        return float("nan")
    order = np.argsort(-score, kind="stable")
    y, s = actual[order], score[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / tp[-1]
    return float(np.sum(recall_gain * precision))


def classification_metrics(actual: np.ndarray, proba: np.ndarray) -> dict:
    """Single-label: actual (N,) class indices, proba (N, K). Multi-label: actual (N, K) of 0/1 with
    NaN for missing labels, proba (N, K); metrics per label over its known rows, then averaged."""
    if actual.ndim == 2:
        per_label = []
        for k in range(actual.shape[1]):
            known = ~np.isnan(actual[:, k])
            y = actual[known, k].astype(np.int64)
            p = proba[known, k]
            per_label.append(classification_metrics(y, np.stack([1 - p, p], 1)))
        keys = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc")
        out = {k: float(np.nanmean([m[k] for m in per_label])) for k in keys}
        return {**out, "n": len(actual), "per_label": per_label}
    K = proba.shape[1]
    predicted = proba.argmax(1)
    cm = confusion_matrix(actual, predicted, K)
    support, called, hit = cm.sum(1), cm.sum(0), np.diag(cm)
    present = support > 0
    recall = hit[present] / support[present]
    precision = np.divide(hit, called, out=np.zeros(K), where=called > 0)
    all_recall = np.divide(hit, support, out=np.zeros(K), where=support > 0)
    f1 = np.divide(
        2 * precision * all_recall,
        precision + all_recall,
        out=np.zeros(K),
        where=precision + all_recall > 0,
    )
    if K == 2:
        auc = roc_auc(actual == 1, proba[:, 1])
    else:  # one-vs-rest, averaged over the classes present in `actual`
        auc = float(np.mean([roc_auc(actual == k, proba[:, k]) for k in np.flatnonzero(present)]))
    out = {
        "accuracy": float(np.mean(predicted == actual)),
        "balanced_accuracy": float(np.mean(recall)),
        "macro_f1": float(np.mean(f1[present | (called > 0)])),
        "roc_auc": auc,
        "n": len(actual),
        "confusion_matrix": cm.tolist(),
    }
    if K == 2:
        out["pr_auc"] = average_precision(actual == 1, proba[:, 1])
    return out


def fit_logistic(
    X: np.ndarray, y: np.ndarray, n_classes: int, l2: float = 1.0, max_iter: int = 500, init=None
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with an L2 penalty, as scikit-learn's default
    LogisticRegression(C=1/l2): minimise sum_i CE(softmax(X_i W + b), y_i) + l2/2 |W|^2 by L-BFGS.
    y: (N,) class indices, or (N, K) 0/1 with NaN for missing labels (one binary model per label).
    init: (W, b) to start from, e.g. the solution at a stronger penalty (a warm start along an L2
    path converges in a fraction of the iterations).
    Returns W (D, K) and b (K,); probabilities come from logistic_proba."""
    import torch

    Xt = torch.as_tensor(X, dtype=torch.float64)
    multilabel = y.ndim == 2
    K = y.shape[1] if multilabel else n_classes
    W0, b0 = init if init is not None else (np.zeros((X.shape[1], K)), np.zeros(K))
    W = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    yt = torch.as_tensor(np.nan_to_num(y) if multilabel else y)
    known = torch.as_tensor(~np.isnan(y)) if multilabel else None
    opt = torch.optim.LBFGS(
        [W, b],
        lr=1,
        max_iter=max_iter,
        tolerance_grad=1e-7,
        tolerance_change=1e-10,
        line_search_fn="strong_wolfe",
    )
    # the loss per row: the same minimiser, and tolerances that do not scale with N
    n = float(len(X))

    def closure():
        opt.zero_grad()
        logits = Xt @ W + b
        if multilabel:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, yt, reduction="none"
            )[known].sum()
        else:
            loss = torch.nn.functional.cross_entropy(logits, yt, reduction="sum")
        loss = (loss + 0.5 * l2 * (W * W).sum()) / n
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach().numpy(), b.detach().numpy()


RIDGE_ALPHAS = np.logspace(-3, 3, 13)  # per row: RidgeClassifierCV's grid on unit-norm columns


class RidgeFit(NamedTuple):
    """A fitted ridge classifier: logits X @ W + b (the calibration folded in), its penalty per row,
    and every training row's leave-one-out logits (N, K): what the row would have been given by
    the fit without it, at the chosen penalty and temperature (NaN where a label is missing)."""

    W: np.ndarray
    b: np.ndarray
    alpha: float
    loo: np.ndarray


def fit_ridge_classifier(
    X: np.ndarray, y: np.ndarray, n_classes: int, alphas=RIDGE_ALPHAS
) -> RidgeFit:
    """Ridge regression on ±1 class indicators, as scikit-learn's RidgeClassifierCV (MiniRocket's
    own classifier, Dempster et al. 2021), its penalty chosen by the exact leave-one-out error, its
    scores made probabilities by one temperature fitted to the leave-one-out scores (softmax(T *
    scores), Guo et al. 2017; a label is fitted as two classes, so its logit is 2 T * score).

    With X centred, X_c = U S V^T, and the intercept unpenalised, the fit is
        Y_hat = mean(Y) + U diag(s^2 / (s^2 + a)) U^T Y_c,
        h_ii = 1/N + sum_j U_ij^2 s_j^2 / (s_j^2 + a)
    and row i's leave-one-out prediction is (Y_hat_i - h_ii Y_i) / (1 - h_ii): every penalty from
    one SVD, in N, not D, dimensions when features outnumber rows. alphas are per row (a = N alpha),
    as scikit-learn's grid on columns scaled to unit norm is on standardised ones.
    y: (N,) class indices, or (N, K) 0/1 with NaN for missing labels (each label on its known rows).
    Probabilities: logistic_proba(X, W, b); the leave-one-out logits are what model selection
    reads (classify/select.py): an out-of-sample prediction of every row, for free."""
    if y.ndim == 2:
        parts, loo = [], np.full(y.shape, np.nan)
        for k in range(y.shape[1]):
            known = ~np.isnan(y[:, k])
            fit = fit_ridge_classifier(X[known], y[known, k].astype(np.int64), 2, alphas)
            # two columns = one logit
            parts.append((fit.W[:, 1] - fit.W[:, 0], fit.b[1] - fit.b[0], fit.alpha))
            loo[known, k] = fit.loo[:, 1] - fit.loo[:, 0]
        W = np.stack([p[0] for p in parts], 1)
        return RidgeFit(
            W, np.array([p[1] for p in parts]), float(np.median([p[2] for p in parts])), loo
        )
    X = np.asarray(X, np.float64)
    N = len(X)
    Y = -np.ones((N, n_classes))
    Y[np.arange(N), y] = 1.0
    x_mean, y_mean = X.mean(0), Y.mean(0)
    U, s, Vt = np.linalg.svd(X - x_mean, full_matrices=False)
    UtY = U.T @ (Y - y_mean)
    best = None
    for a in N * np.asarray(alphas, np.float64):
        shrink = s**2 / (s**2 + a)
        fitted = y_mean + U @ (shrink[:, None] * UtY)
        h = 1.0 / N + (U**2) @ shrink
        loo = (fitted - h[:, None] * Y) / np.maximum(1 - h, 1e-12)[:, None]
        error = float(np.mean((loo - Y) ** 2))
        if best is None or error < best[0]:
            best = (error, a, loo)
    _, a, loo = best
    W = Vt.T @ ((s / (s**2 + a))[:, None] * UtY)
    b = y_mean - x_mean @ W
    T = _temperature(loo, y)
    return RidgeFit(T * W, T * b, float(a / N), T * loo)


def _temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The T > 0 minimising the log loss of softmax(T * scores): a grid in log T, then refined."""

    def log_loss(T):
        z = T * scores
        z = z - z.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]))

    grid = np.logspace(-2, 3, 51)
    k = int(np.argmin([log_loss(T) for T in grid]))
    fine = np.logspace(np.log10(grid[max(k - 1, 0)]), np.log10(grid[min(k + 1, len(grid) - 1)]), 41)
    return float(fine[np.argmin([log_loss(T) for T in fine])])


def logistic_proba(X: np.ndarray, W: np.ndarray, b: np.ndarray, multilabel: bool) -> np.ndarray:
    return proba_of_logits(X @ W + b, multilabel)


def proba_of_logits(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """Softmax over classes, or a sigmoid per label (NaN logits, a missing label's, stay NaN)."""
    logits = np.array(logits, np.float64)
    if multilabel:
        return 1 / (1 + np.exp(-logits))
    logits -= logits.max(1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


def rmse_by_step(predictions, columns: list[str]):
    """Test RMSE at each horizon step (rows) of each forecast column (the model's "predicted", the
    baselines') against "actual", from a predictions table (pandas)."""
    err = predictions[columns].sub(predictions["actual"], axis=0) ** 2
    return err.groupby(predictions["step"]).mean() ** 0.5


def roc_by_class(actual: np.ndarray, scores: dict) -> dict:
    """One class against the rest: class -> (false-positive rates, true-positive rates, AUC), for
    each class with positives and negatives among `actual` (class names); scores: class -> the
    predicted probability of each row."""
    out = {}
    for name, score in scores.items():
        y = actual == name
        if y.any() and (~y).any():
            fpr, tpr = roc_curve(y, score)
            out[name] = (fpr, tpr, roc_auc(y, score))
    return out
