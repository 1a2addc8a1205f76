"""forecast/config.py: every bad setting is a one-line error naming its option, raised when the
forecaster is made, before any data is read."""

from __future__ import annotations

import pytest

from lstmkit import LstmkitError
from lstmkit.forecast.config import ForecastConfig, check_config
from lstmkit.forecast.estimator import Forecaster


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(horizon=0), "--horizon: expected a positive integer, got 0"),
        (dict(window=-1), "--window: expected a positive integer"),
        (dict(threads=0), "--threads: expected a positive integer"),
        (dict(season=0), "--season: expected a positive integer"),
        (dict(patience=0), "--patience: expected a positive integer, got 0"),  # 0 stopped after one epoch
        (dict(max_lag=0), "--max-lag: expected a positive integer, got 0"),
        (dict(max_gap=-1), "--max-gap: expected a number of steps, 0 or more, got -1"),
        (dict(dropout=1.0), r"--dropout: expected a value in \[0, 1\), got 1.0"),
        (dict(cell="lsmt"), "cell: unknown cell 'lsmt'"),
        (dict(scaling="local"), "--scaling: expected 'series' or 'pooled'"),
        (dict(scheme="chunks"), "--scheme: expected 'windows' or 'every-step'"),
        (dict(lstm_gate="maybe"), "--lstm-gate: expected 'test' or 'off'"),
        (dict(train=0.8, val=0.3), r"split \(--val-fraction, --test-fraction\): train=0.8, val=0.3 and test=-0.1 "),
        (dict(duplicates="first"), "--duplicates: expected 'error' or 'mean', got 'first'"),
        (dict(quantiles=[0.1, 1.0]), r"--quantiles: each must be in \(0, 1\)"),
        (dict(quantiles=[0.1, 0.9, 0.1]), "--quantiles: each at most once, got 0.1 more than once"),
        (dict(lr=0.0), "--lr: expected a positive number, got 0.0"),
        (dict(lr=float("nan")), "--lr: expected a positive number, got nan"),
        (dict(nope=1), "Forecaster: unknown setting"),
    ],
)
def test_bad_settings_are_one_line_errors(settings, message):
    with pytest.raises(LstmkitError, match=message) as err:
        Forecaster(**settings)
    assert "\n" not in str(err.value)


def test_the_defaults_pass_their_own_checks_and_are_the_articles_model():
    cfg = ForecastConfig()
    check_config(cfg)  # raises nothing
    assert (cfg.hidden_size, cfg.num_layers, cfg.lr, cfg.batch_size, cfg.window) == (50, 1, 1e-3, 32, 24)


def test_quantiles_without_the_median_get_it():
    assert Forecaster(quantiles=[0.9, 0.1]).config.quantiles == [0.1, 0.5, 0.9]
