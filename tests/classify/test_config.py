"""classify/config.py: every bad setting is a one-line error naming the field, raised when the
classifier is made, before any data is read."""

from __future__ import annotations

import pytest

from lstmkit import LstmkitError
from lstmkit.classify.config import ClassifyConfig
from lstmkit.classify.estimator import SequenceClassifier
from lstmkit.data import get


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            dict(pooling="sum"),
            "pooling: input should be 'last', 'mean', 'max', 'mean\\+max' or 'attention'",
        ),
        (dict(class_weights="x"), "class_weights: input should be 'none', 'sqrt' or 'balanced'"),
        (dict(hidden_size=0), "hidden_size: input should be greater than 0"),
        (dict(val=0.6, test=0.5), "split: val=0.6 and test=0.5 leave no training rows"),
        (dict(cell="nope"), "cell: unknown cell 'nope'"),
        (dict(linear_weight=1.5), r"linear_weight: expected auto or a number in \[0, 1\], got 1.5"),
        (
            dict(linear_weight="half"),
            r"linear_weight: expected auto or a number in \[0, 1\], got 'half'",
        ),
        (
            dict(linear_weight=True),
            r"linear_weight: expected auto or a number in \[0, 1\], got True",
        ),
        (
            dict(linear_features="fft"),
            r"linear_features: input should be 'auto', 'raw', 'minirocket' or 'min",
        ),
        (
            dict(linear_model="svm"),
            "linear_model: input should be 'auto', 'logistic' or 'ridge', got 'svm'",
        ),
        (dict(cv_folds=1), "cv_folds: input should be greater than or equal to 2, got 1"),
        (dict(cv_max_rows=-1), "cv_max_rows: input should be greater than or equal to 0, got -1"),
        (dict(split_by="ring"), "split_by: input should be 'molecule' or 'scaffold', got 'ring'"),
        (dict(nope=1), "unknown setting"),
        (dict(lr=0.0), "lr: input should be greater than 0, got 0.0"),
        (
            dict(weight_decay=-1.0),
            "weight_decay: input should be greater than or equal to 0, got -1.0",
        ),
        (dict(label_smoothing=1.0), "label_smoothing: input should be less than 1"),
        (
            dict(monitor="f1"),
            "monitor: input should be 'loss', 'roc_auc', 'balanced_accuracy' or 'accuracy'",
        ),
        (dict(augment=-1), "augment: input should be greater than or equal to 0"),
    ],
)
def test_bad_settings_are_one_line_errors(settings, message):
    with pytest.raises(LstmkitError, match=message) as err:
        SequenceClassifier(**settings)
    assert "\n" not in str(err.value)


def test_lists_come_as_lists_or_comma_separated_text():
    cfg = SequenceClassifier(label_col="NR-AR, SR-p53", linear_weight="0.5").config
    assert cfg.data.label_col == ["NR-AR", "SR-p53"] and cfg.linear.linear_weight == 0.5


def test_an_embedded_data_sets_measured_settings_fill_what_the_user_did_not_set():
    cfg = ClassifyConfig.from_settings({"patience": 3}, "test").merged(get("ecg5000").defaults())
    assert cfg.train.patience == 3  # the user's
    assert (cfg.model.pooling, cfg.model.conv_channels, cfg.data.label_col) == (
        "mean+max",
        64,
        ["label"],
    )


def test_the_tree_round_trips_through_json():
    cfg = SequenceClassifier(bidirectional=False, value_cols="a,b", linear_weight=0.25).config
    assert ClassifyConfig.checked(cfg.to_dict()) == cfg
