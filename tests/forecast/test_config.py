"""forecast/config.py: every setting declared once; a bad one is a one-line error naming the field
(the command line translates it to its option), raised when the forecaster is made, before any
data is read; the tree's JSON round trip and the merge of a data set's defaults."""

from __future__ import annotations

import pytest

from lstmkit import LstmkitError
from lstmkit.config import SettingError
from lstmkit.forecast.config import ForecastConfig, legacy
from lstmkit.forecast.estimator import Forecaster


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(horizon=0), "horizon: input should be greater than 0, got 0"),
        (dict(window=-1), "window: input should be greater than 0, got -1"),
        (dict(threads=0), "threads: input should be greater than 0"),
        (dict(season=0), "season: input should be greater than 0"),
        # 0 stopped after one epoch
        (
            dict(patience=0),
            "patience: input should be greater than 0, got 0",
        ),
        (dict(max_lag=0), "max_lag: input should be greater than 0, got 0"),
        (dict(max_gap=-1), "max_gap: input should be greater than or equal to 0, got -1"),
        (dict(hidden_size=2.5), "hidden_size: input should be a valid integer, got 2.5"),
        (dict(hidden_size=True), "hidden_size: input should be a valid integer, got True"),
        (dict(dropout=1.0), "dropout: input should be less than 1, got 1.0"),
        (dict(dropout=0.2), "dropout: 0.2 acts only between stacked layers, but num_layers=1"),
        (dict(cell="lsmt"), "cell: unknown cell 'lsmt'; expected one of: lstm, "),
        (dict(scaling="local"), "scaling: input should be 'pooled' or 'series', got 'local'"),
        (dict(scheme="chunks"), "scheme: input should be 'every-step' or 'windows'"),
        (dict(correction_test="maybe"), "correction_test: input should be 'test' or 'off'"),
        (dict(val=0.3, test=0.8), "split: val=0.3 and test=0.8 leave no training period"),
        (dict(duplicates="first"), "duplicates: input should be 'error' or 'mean', got 'first'"),
        (dict(quantiles=[0.1, 1.0]), r"quantiles: each must be in \(0, 1\)"),
        (dict(quantiles="0.1,x"), "quantiles: expected numbers like 0.1,0.9, got '0.1,x'"),
        (dict(quantiles=[0.1, 0.9, 0.1]), "quantiles: each at most once, got 0.1 more than once"),
        (dict(lr=0.0), "lr: input should be greater than 0, got 0.0"),
        (dict(lr=float("nan")), "lr: input should be a finite number, got nan"),
        (dict(nope=1), r"Forecaster: unknown setting\(s\) \['nope'\]"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_field(settings, message):
    with pytest.raises(LstmkitError, match=message) as err:
        Forecaster(**settings)
    # the library names fields, not options
    assert "\n" not in str(err.value) and "--" not in str(err.value)


def test_a_setting_error_carries_its_field_for_the_command_line():
    with pytest.raises(SettingError) as err:
        Forecaster(hidden_size=0)
    assert (
        err.value.field == "hidden_size"
        and err.value.detail == "input should be greater than 0, got 0"
    )


def test_the_defaults_are_the_articles_model():
    cfg = ForecastConfig()
    got = (
        cfg.model.hidden_size,
        cfg.model.num_layers,
        cfg.train.lr,
        cfg.train.batch_size,
        cfg.train.window,
    )
    assert got == (50, 1, 1e-3, 32, 24)
    assert cfg.split.train == 0.7  # 1 - 0.1 - 0.2, rounded: not 0.7000000000000001


def test_flat_settings_land_in_their_sections_and_are_what_the_user_set():
    cfg = ForecastConfig.from_settings(
        {"hidden_size": 64, "lr": 0.01, "time": "when"}, "Forecaster"
    )
    assert (cfg.model.hidden_size, cfg.train.lr, cfg.data.time) == (64, 0.01, "when")
    assert cfg.user_set() == {"hidden_size", "lr", "time"}
    assert (
        Forecaster(hidden_size=64).config
        == Forecaster(ForecastConfig(model={"hidden_size": 64})).config
    )


def test_a_data_sets_defaults_fill_only_what_the_user_did_not_set():
    cfg = ForecastConfig.from_settings({"window": 48}, "Forecaster")
    merged = cfg.merged({"window": 12, "duplicates": "mean", "time": "t", "season": None})
    assert (merged.train.window, merged.data.duplicates, merged.data.time) == (48, "mean", "t")
    assert merged.base.season is None  # None in a data set's defaults: not given
    # frozen: the original is unchanged
    assert cfg.train.window == 48 and cfg.data.duplicates == "error"
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        cfg.model.hidden_size = 3


def test_the_tree_round_trips_through_json():
    cfg = Forecaster(quantiles="0.1,0.9", past_covariates="none", series="site").config
    again = ForecastConfig.checked(cfg.to_dict())
    assert (
        again == cfg and again.data.past_covariates is None and again.model.quantiles == [0.1, 0.9]
    )


def test_the_median_is_a_level_not_a_setting():
    """The config is input only: the heads' levels (with the median) are computed, never written."""
    cfg = Forecaster(quantiles=[0.9, 0.1]).config
    assert cfg.model.quantiles == [0.9, 0.1] and cfg.model.levels == [0.1, 0.5, 0.9]
    assert cfg.model.median_index == 1 and ForecastConfig().model.levels == []


def test_a_flat_config_of_a_run_saved_before_the_tree_reads_as_the_same_settings():
    old = {
        "train": 0.6,
        "val": 0.2,
        "lstm_gate": "off",
        "hidden_size": 32,
        "quantiles": [0.1, 0.5, 0.9],
    }
    cfg = ForecastConfig.from_settings(legacy(old), "test")
    assert (cfg.split.val, cfg.split.test, cfg.split.train) == (0.2, 0.2, 0.6)
    assert cfg.base.correction_test == "off" and cfg.model.levels == [0.1, 0.5, 0.9]


def test_the_estimator_shows_every_setting_in_its_signature_and_docstring():
    import inspect

    params = inspect.signature(Forecaster).parameters
    assert (
        params["hidden_size"].default == 50
        and params["config"].kind is inspect.Parameter.POSITIONAL_ONLY
    )
    assert set(params) == {"config"} | {name for _, name, _ in ForecastConfig.leaves()}
    assert "hidden_size = 50  (model)" in Forecaster.__doc__
