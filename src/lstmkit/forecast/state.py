"""What a forecaster's fit resolved, apart from what the user set: one dataclass, created whole at
the end of fit, saved as state.json beside config.json (runs.state_dict_of / runs.read_state).

A run saved before this file existed kept these values in config.json, scaler.json,
classical.json and conformal.json; `legacy_state` reads them from there.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from ..data.scaling import SeriesScalers
from ..data.windows import Splits
from ..runs import read_json
from .base import Classical

__all__ = ["ForecastState", "legacy_state"]


@dataclass(frozen=True)
class ForecastState:
    dataset: str | None  # the embedded data set fitted on, or None
    source: str | None  # where the data came from (explain reads it again); None: a DataFrame
    freq: str  # the pandas alias of the model's time grid
    season: int  # seasonal naive's, MASE's, the AR's seasonal lags'
    past_covariates: list[str]  # as resolved ("auto": the numeric columns with <= 5% missing)
    splits: Splits  # where validation and test begin
    scaler_y: SeriesScalers  # the target's training statistics (pooled or per series)
    scaler_x: SeriesScalers  # the covariates'
    ar_order: int  # lags of the skip path's design (the AR's, or a season more where averaged)
    ar_form: str  # levels | differences
    ar_combination: dict | None  # the AR averaged with seasonal naive: its weight and origins
    n_lag_columns: int  # the design's AR columns; statistical models' forecasts follow them
    n_features: int  # the LSTM's inputs per step
    design_size: int  # the skip path's inputs
    classical: Classical | None  # statsforecast's fitted models, or None (off, or none usable)
    conformal: dict | None  # the intervals' calibration at the end of the test period


def legacy_state(folder: pathlib.Path, saved: dict) -> dict:
    """state.json's content for a run saved before the config tree (its config.json held these
    beside the settings)."""

    def optional(name: str):
        path = folder / name
        return read_json(path) if path.exists() else None

    scalers = read_json(folder / "scaler.json")
    return {
        "dataset": saved.get("dataset"),
        "source": saved.get("source"),
        "freq": saved["freq"],
        "season": saved["season"],
        "past_covariates": saved["past_covariates"],
        "splits": saved["split"],
        "scaler_y": scalers["target"],
        "scaler_x": scalers["past_covariates"],
        "ar_order": saved["ar_order"],
        "ar_form": saved.get("ar_form", "levels"),  # runs saved before the form was chosen: levels
        "ar_combination": saved.get("ar_combination"),
        "n_lag_columns": saved.get("n_lag_columns", saved["design_size"]),
        "n_features": saved["n_features"],
        "design_size": saved["design_size"],
        "classical": optional("classical.json"),
        "conformal": optional("conformal.json"),
    }
