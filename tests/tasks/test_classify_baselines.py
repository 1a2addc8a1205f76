"""tasks/classify_baselines.py: the validation criterion written out by hand, and the baselines every
classifier is scored beside (majority class, logistic regression, the linear path's own row)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import LstmkitError
from lstmkit.data.scaling import Standardizer
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.classify_baselines import criterion, fit_baselines
from lstmkit.tasks.classify_config import ClassifyConfig

from .test_classify import smiles_table, waves


def test_criterion_is_log_loss_or_minus_the_monitored_metric():
    y = np.array([0, 1, 1])
    proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.9, 0.1]])
    assert criterion(y, proba, "loss", False) == pytest.approx(-np.mean(np.log([0.8, 0.6, 0.1])))
    assert criterion(y, proba, "accuracy", False) == pytest.approx(-2 / 3)
    assert criterion(np.array([0, 0, 0]), proba, "roc_auc", False) == 0.0  # one class: no AUC, no signal
    labels = np.array([[1.0, np.nan], [0.0, 1.0]])  # a blank label is left out of the loss
    p = np.array([[0.9, 0.5], [0.2, 0.7]])
    assert criterion(labels, p, "loss", True) == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.7])))


def parts(df, **settings):
    clf = SequenceClassifier(label_col="kind" if "kind" in df else "acid", **settings)
    split = clf.split(df)
    (train, y_train), (val, y_val), (test, y_test) = split["parts"].values()
    return split["classes"], train, y_train, val, y_val, test, y_test


@pytest.mark.parametrize("model", ["logistic", "ridge"])
def test_majority_logistic_and_the_linear_paths_row(model):
    classes, train, y_train, val, y_val, test, y_test = parts(waves(90))
    scaler = Standardizer.fit(np.concatenate(train.values), train.channels)
    cfg = ClassifyConfig(linear_model=model)
    base = fit_baselines(cfg, train, val, test, y_train, y_val, len(classes), False, scaler, 24,
                         lambda y, p: criterion(y, p, "loss", False))  # fmt: skip
    prior = np.bincount(y_train, minlength=3) / len(y_train)
    np.testing.assert_allclose(base.test_proba["majority"], np.repeat(prior[None], len(test), 0))
    logistic = base.test_proba["logistic"]
    assert logistic.shape == (len(test), 3) and np.allclose(logistic.sum(1), 1)
    assert (logistic.argmax(1) == y_test).mean() > 0.6  # three shapes: far above chance (1/3)
    assert base.logistic_l2 > 0
    if model == "ridge":  # its own row; the fusion reads its features (the baseline's: the values)
        assert set(base.test_proba) == {"majority", "logistic", "ridge"} and base.linear.model.l2 != base.logistic_l2
        np.testing.assert_allclose(base.linear.model.proba(base.test_features), base.test_proba["ridge"])
    else:  # the logistic regression is the linear path
        assert set(base.test_proba) == {"majority", "logistic"} and base.linear.model.l2 == base.logistic_l2
        np.testing.assert_allclose(base.linear.model.proba(base.test_features), logistic)


def test_minirocket_on_smiles_is_a_one_line_error():
    df = smiles_table()[["acid", "smiles"]]
    classes, train, y_train, val, y_val, test, _ = parts(df, smiles_col="smiles")
    cfg = ClassifyConfig(linear_features="minirocket")
    with pytest.raises(LstmkitError, match="--linear-features minirocket: reads numeric sequences, not SMILES"):
        fit_baselines(cfg, train, val, test, y_train, y_val, len(classes), True, None, 0,
                      lambda y, p: criterion(y, p, "loss", False))  # fmt: skip
