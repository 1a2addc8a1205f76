"""What a classifier is judged against, and by: the majority class and a logistic regression on the
baseline's features (character n-gram counts for SMILES, the scaled values for sequences), fitted
on the training rows with the penalty chosen on validation; the linear path the model may fuse with
(the same logistic regression, or a MiniRocket or ridge path: tasks/linear.py); and the validation
criterion every choice is made by."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import LstmkitError
from ..evaluate import classification_metrics
from .linear import LinearPath

__all__ = ["Baselines", "criterion", "fit_baselines"]


def criterion(y: np.ndarray, proba: np.ndarray, monitor: str, multilabel: bool) -> float:
    """The validation criterion, lower is better: log loss (blank labels of a multi-label task left
    out), or minus the monitored metric."""
    if monitor == "loss":
        p = np.clip(proba, 1e-7, 1 - 1e-7)
        if multilabel:
            yk, known = np.nan_to_num(y), ~np.isnan(y)
            return float(-(yk * np.log(p) + (1 - yk) * np.log(1 - p))[known].mean())
        return float(-np.mean(np.log(p[np.arange(len(y)), y])))
    value = classification_metrics(y, proba)[monitor]
    return -value if np.isfinite(value) else 0.0


@dataclass
class Baselines:
    test_proba: dict  # name -> (N, K) test probabilities: majority, logistic[, minirocket | ridge]
    logistic_l2: float  # the logistic regression's penalty, chosen on validation
    linear: LinearPath  # the path the model fuses with: the logistic regression unless cfg names another
    test_features: np.ndarray  # the linear path's features of the test rows (the fusion reuses them)


def fit_baselines(cfg, train, val, test, y_train, y_val, n_classes: int, smiles: bool, scaler, max_length: int,
                  score) -> Baselines:  # fmt: skip
    """cfg: the ClassifyConfig (linear_features, linear_model, seed); score(y, proba): the
    validation criterion the penalties are chosen by. A MiniRocket path gets a baseline row of its
    own ("minirocket"), as does a ridge path on the baseline's features ("ridge")."""
    kind = "ngrams" if smiles else "values"

    def fit_path(kind, model="logistic"):
        return LinearPath.fit(kind, train, val, y_train, y_val, n_classes, score, scaler, max_length, cfg.seed, model)

    logistic = fit_path(kind)
    linear, x_test = logistic, logistic.features(test)
    if y_train.ndim == 2:  # multi-label: each label's rate of positives among its known values
        prior = np.nanmean(y_train, 0)
    else:
        prior = np.bincount(y_train, minlength=n_classes) / len(y_train)
    majority = np.repeat(prior[None], len(test), 0)  # argmax: the majority class; AUC 0.5
    out = {"majority": majority, "logistic": logistic.model.proba(x_test)}
    if cfg.linear_features != "raw":  # MiniRocket, on the values (and their differences)
        if smiles:
            what = f"--linear-features {cfg.linear_features}"
            raise LstmkitError(f"{what}: reads numeric sequences, not SMILES; use raw")
        linear = fit_path(cfg.linear_features, cfg.linear_model)
        x_test = linear.features(test)
        out["minirocket"] = linear.model.proba(x_test)
    elif cfg.linear_model == "ridge":
        linear = fit_path(kind, "ridge")  # the same features as the logistic baseline
        out["ridge"] = linear.model.proba(x_test)
    return Baselines(out, logistic.model.l2, linear, x_test)
