"""classify/config.py: every bad setting is a one-line error naming its option, raised when the
classifier is made, before any data is read."""

from __future__ import annotations

import pytest

from lstmkit import LstmkitError
from lstmkit.classify.config import ClassifyConfig, check_config
from lstmkit.classify.estimator import SequenceClassifier


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(pooling="sum"), "--pooling: expected one of"),
        (dict(class_weights="x"), "--class-weights"),
        (dict(hidden_size=0), "--hidden-size: expected a positive integer"),
        (dict(val=0.6, test=0.5), "split:"),
        (dict(cell="nope"), "unknown cell"),
        (dict(linear_weight=1.5), r"--linear-weight: expected auto or a value in \[0, 1\], got 1.5"),
        (dict(linear_weight="half"), r"--linear-weight: expected auto or a value in \[0, 1\], got 'half'"),
        (dict(linear_weight=True), r"--linear-weight: expected auto or a value in \[0, 1\], got True"),
        (dict(linear_features="fft"), r"--linear-features: expected one of auto, raw, minirocket, minirocket\+diff"),
        (dict(linear_model="svm"), "--linear-model: expected one of auto, logistic, ridge, got 'svm'"),
        (dict(cv_folds=1), "--cv-folds: expected 2 or more, got 1"),
        (dict(cv_max_rows=-1), "--cv-max-rows: expected 0 or more, got -1"),
        (dict(split_by="ring"), "--split-by: expected molecule or scaffold, got 'ring'"),
        (dict(nope=1), "unknown setting"),
        (dict(lr=0.0), "--lr: expected a positive number, got 0.0"),
        (dict(weight_decay=-1.0), "--weight-decay: expected a number of 0 or more, got -1.0"),
        (dict(label_smoothing=1.0), r"--label-smoothing: expected a value in \[0, 1\)"),
        (dict(monitor="f1"), "--monitor: expected one of loss, roc_auc, balanced_accuracy, accuracy"),
    ],
)
def test_bad_settings_are_one_line_errors(settings, message):
    with pytest.raises(LstmkitError, match=message):
        SequenceClassifier(**settings)


def test_the_defaults_pass_their_own_checks():
    check_config(ClassifyConfig())  # raises nothing
