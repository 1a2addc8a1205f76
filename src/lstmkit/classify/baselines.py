"""What a classifier is judged against, and by: the majority class and the linear paths — a logistic
regression on the baseline's features (character n-gram counts for SMILES, the scaled values for
sequences) and, for numeric sequences, ridge classifiers on MiniRocket's features (linear/paths.py)
— each fitted on the training (and validation) rows and judged out of sample on every one of them;
and the criterion every choice is made by. Each linear path is a baseline row of the report and a
candidate the model may be (classify/select.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import LstmkitError
from ..evaluate import classification_metrics
from ..linear.paths import LinearModel, LinearPath

__all__ = ["Baselines", "criterion", "fit_baselines", "linear_candidates"]


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


def linear_candidates(features: str, model: str, smiles: bool) -> dict[str, tuple[str, str]]:
    """The linear paths a run fits: name -> (what it reads, its classifier). The logistic regression
    on the baseline's features is always one ("logistic"). features / model "auto": for numeric
    sequences the ridge classifier on MiniRocket's features of the values, and of the values and
    their differences (MiniRocket's own protocol and MultiRocket's second representation); for
    SMILES the n-gram logistic regression alone. A named choice adds that one path."""
    base = "ngrams" if smiles else "values"
    out = {"logistic": (base, "logistic")}
    if features == "auto":
        if not smiles:
            out |= {
                "minirocket": ("minirocket", "ridge"),
                "minirocket+diff": ("minirocket+diff", "ridge"),
            }
        if model == "ridge":
            out["ridge"] = (base, "ridge")
        return out
    if features != "raw" and smiles:
        raise LstmkitError(
            f"--linear-features {features}: reads numeric sequences, not SMILES; use raw"
        )
    kind = base if features == "raw" else features
    chosen = model if model != "auto" else ("logistic" if features == "raw" else "ridge")
    if (kind, chosen) != out["logistic"]:
        out["ridge" if features == "raw" else features] = (kind, chosen)
    return out


@dataclass
class Baselines:
    paths: dict  # name -> the fitted LinearPath (every row of the fit)
    classifiers: dict  # name -> "logistic" | "ridge"
    oof: dict  # name -> out-of-sample logits (N_fit, K) of the fit rows
    test_logits: dict  # name -> (N_test, K) logits of the test rows
    test_proba: dict  # name -> (N_test, K) probabilities: majority and every linear path

    @property
    def logistic_l2(self) -> float:
        return self.paths["logistic"].model.l2


def fit_baselines(
    linear, seed: int, data: tuple, n_classes: int, smiles: bool, scaler, max_length: int, score
) -> Baselines:
    """linear: the classifier's LinearConfig (linear_features, linear_model); data: (rows, y, folds,
    test): the sequences the paths are fitted on (training and validation rows), their targets, a
    fold number per row for the out-of-fold predictions, and the test sequences; score(y, proba):
    the criterion the penalties are chosen by."""
    rows, y, folds, test = data
    banks: dict = {}  # MiniRocket's transforms of the fit rows, shared by the two MiniRocket paths
    out = Baselines({}, {}, {}, {}, {})
    for name, (kind, model) in linear_candidates(
        linear.linear_features, linear.linear_model, smiles
    ).items():
        path, x = LinearPath.reader(kind, rows, scaler, max_length, seed, banks)
        path.model, out.oof[name] = LinearModel.fit(x, y, n_classes, score, folds, model)
        out.paths[name], out.classifiers[name] = path, model
    # per kind; the values' MiniRocket bank is the first half of the +diff features
    test_x: dict = {}
    for path in sorted(out.paths.values(), key=lambda p: p.kind != "minirocket+diff"):
        if path.kind in test_x:
            continue
        both = test_x.get("minirocket+diff")
        test_x[path.kind] = (
            both[:, : path.rocket.n_features]
            if path.kind == "minirocket" and both is not None
            else path.features(test)
        )
    for name, path in out.paths.items():
        out.test_logits[name] = path.model.logits(test_x[path.kind])
        out.test_proba[name] = path.model.proba(test_x[path.kind])
    if y.ndim == 2:  # multi-label: each label's rate of positives among its known values
        prior = np.nanmean(y, 0)
    else:
        prior = np.bincount(y, minlength=n_classes) / len(y)
    # argmax: the majority
    out.test_proba = {
        "majority": np.repeat(prior[None], len(test), 0),
        **out.test_proba,
    }
    return out


def named_path(base) -> str:
    """The linear path the user named with --linear-features."""
    return next((name for name in base.paths if name != "logistic"), "logistic")
