"""classify/baselines.py: the validation criterion written out by hand, and the baselines every
classifier is scored beside (majority class, logistic regression, the linear path's own row)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import smiles_table, waves
from lstmkit import LstmkitError
from lstmkit.classify.baselines import criterion, fit_baselines, linear_candidates
from lstmkit.classify.config import LinearConfig
from lstmkit.classify.estimator import SequenceClassifier
from lstmkit.data.scaling import Standardizer


def test_criterion_is_log_loss_or_minus_the_monitored_metric():
    y = np.array([0, 1, 1])
    proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.9, 0.1]])
    assert criterion(y, proba, "loss", False) == pytest.approx(-np.mean(np.log([0.8, 0.6, 0.1])))
    assert criterion(y, proba, "accuracy", False) == pytest.approx(-2 / 3)
    # one class: no AUC, no signal
    assert criterion(np.array([0, 0, 0]), proba, "roc_auc", False) == 0.0
    labels = np.array([[1.0, np.nan], [0.0, 1.0]])  # a blank label is left out of the loss
    p = np.array([[0.9, 0.5], [0.2, 0.7]])
    assert criterion(labels, p, "loss", True) == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.7])))


def parts(df, **settings):
    clf = SequenceClassifier(label_col="kind" if "kind" in df else "acid", **settings)
    split = clf.split(df)
    (train, y_train), (val, y_val), (test, y_test) = split["parts"].values()
    return (
        split["classes"],
        train.concat(val),
        np.concatenate([y_train, y_val]),
        split["folds"],
        test,
        y_test,
    )


def log_loss(y, p):
    return criterion(y, p, "loss", False)


@pytest.mark.parametrize(
    "features, model, paths",
    [
        (
            "auto",
            "auto",
            {
                "logistic": ("values", "logistic"),
                "minirocket": ("minirocket", "ridge"),
                "minirocket+diff": ("minirocket+diff", "ridge"),
            },
        ),
        ("raw", "auto", {"logistic": ("values", "logistic")}),
        ("raw", "ridge", {"logistic": ("values", "logistic"), "ridge": ("values", "ridge")}),
        (
            "minirocket",
            "logistic",
            {"logistic": ("values", "logistic"), "minirocket": ("minirocket", "logistic")},
        ),
    ],
)
def test_the_linear_paths_a_run_fits(features, model, paths):
    assert linear_candidates(features, model, smiles=False) == paths
    assert linear_candidates("auto", "auto", smiles=True) == {"logistic": ("ngrams", "logistic")}


def test_majority_and_every_linear_path_with_its_out_of_sample_logits():
    classes, rows, y, folds, test, y_test = parts(waves(90))
    # small data: no validation part; 5 folds
    assert len(rows) == 72 and set(folds) == {
        0,
        1,
        2,
        3,
        4,
    }
    scaler = Standardizer.fit(np.concatenate(rows.values), rows.channels)
    base = fit_baselines(
        LinearConfig(), 0, (rows, y, folds, test), len(classes), False, scaler, 24, log_loss
    )
    prior = np.bincount(y, minlength=3) / len(y)
    np.testing.assert_allclose(base.test_proba["majority"], np.repeat(prior[None], len(test), 0))
    assert set(base.paths) == {"logistic", "minirocket", "minirocket+diff"} == set(base.oof)
    for name, path in base.paths.items():
        x = path.features(test)  # each path's own features of the test rows
        np.testing.assert_allclose(base.test_logits[name], path.model.logits(x), atol=1e-9)
        np.testing.assert_allclose(base.test_proba[name], path.model.proba(x), atol=1e-9)
        assert base.oof[name].shape == (72, 3) and np.isfinite(base.oof[name]).all()
        assert (
            base.test_proba[name].argmax(1) == y_test
        ).mean() > 0.6  # three shapes: far above chance (1/3)
    # the MiniRocket path is the first half of the one that adds the differences: one bank, shared
    assert base.paths["minirocket"].rocket is base.paths["minirocket+diff"].rocket
    assert (
        base.paths["minirocket"].model.W.shape == (9996, 3)
        and base.paths["minirocket+diff"].model.W.shape[0] == 19992
    )
    assert base.logistic_l2 == base.paths["logistic"].model.l2 > 0


def test_minirocket_on_smiles_is_a_one_line_error():
    df = smiles_table()[["acid", "smiles"]]
    classes, rows, y, folds, test, _ = parts(df, smiles_col="smiles")
    cfg = LinearConfig(linear_features="minirocket")
    with pytest.raises(
        LstmkitError, match="--linear-features minirocket: reads numeric sequences, not SMILES"
    ):
        fit_baselines(cfg, 0, (rows, y, folds, test), len(classes), True, None, 0, log_loss)
