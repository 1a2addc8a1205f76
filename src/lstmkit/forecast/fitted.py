"""What a fitted forecaster does with data besides fitting on it: the fitted pipeline (prepare,
scale, design) on new data, predict, the stream that update advances, save and load. `Fitted`
is the base of estimator.Forecaster, which adds fit, its scores and backtests; each method here
reads what fit left on the object (config, state, model, stream).

    fc.predict(history)            # the forecast after each series' last step
    fc.update(new_rows)            # the same, from the state after the last rows (stream.py)
    fc.save("runs/nyc"); Forecaster.load("runs/nyc")
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import torch

from .. import data as datasets
from .. import distributed
from ..config import LstmkitError
from ..data.io import prepare, read_table, series_id
from ..data.windows import build_arrays
from ..evaluate import rmse_by_step
from ..models import ForecastNet
from .config import ForecastConfig, legacy
from .inputs import add_base_errors, agreed, lag_designs
from .predict import forecast_frame, last_stretches
from .schemes import scheme_of
from .state import ForecastState, legacy_state
from .stream import Stream

__all__ = ["STREAM_FILE", "Fitted"]

STREAM_FILE = "stream.safetensors"  # a run's state after the data it was fitted on


class Fitted:
    """A fitted forecaster's use of data; estimator.Forecaster sets `config`, `state`, `model`,
    `shares`, `stream` and `stream_refused` (its __init__, fit or load)."""

    def _prepare(self, df, past_covariates, freq, shared: bool = False):
        """data.io.prepare with the run's settings. shared: `df` is this process's share of the
        series (fit, backtest): checked against the other shares, its report made the whole's."""
        d = self.config.data
        run = distributed.agree if shared else (lambda step, *args: step(*args))
        prepared = run(
            prepare,
            df,
            d.time,
            d.target,
            d.series,
            past_covariates,
            freq,
            d.fill,
            d.max_gap,
            d.duplicates,
            d.time_unit,
        )
        return agreed(prepared, self.shares) if shared else prepared

    def _arrays(self, segments, splits, freq: str, scaler_y, scaler_x):
        """Each segment scaled and cut into the model's arrays (data.windows.build_arrays)."""
        out = []
        for s in segments:
            target = scaler_y.get(series_id(s.series)).transform(s.target[:, None])[:, 0]
            past = (
                scaler_x.get(series_id(s.series)).transform(s.past) if s.past.shape[1] else s.past
            )
            out.append(build_arrays(s, target, past, freq, self.config.model.horizon, splits))
        return out

    def _model_designs(self, arrays, state: ForecastState) -> list[np.ndarray]:
        """The skip path's design: the AR's lag columns, then, where the base holds statistical
        models, each one's forecasts."""
        designs = lag_designs(arrays, state.ar_order, state.season)
        if state.design_size == designs[0].shape[1]:
            return designs
        stat = state.classical.forecasts(
            arrays, state.scaler_y, state.freq, self.config.model.horizon
        )
        return [np.concatenate([d, s], 1) for d, s in zip(designs, stat, strict=True)]

    # ---- the fitted pipeline on new data ----------------------------------------------------

    def _table(self, data=None) -> pd.DataFrame:
        """`data` (a DataFrame, a file, an embedded data set's name), or the data fitted on."""
        s = self.state
        data = data if data is not None else (s.dataset or s.source)
        if data is None:
            raise LstmkitError("--data: this run was fitted on a DataFrame; pass the data")
        if isinstance(data, str) and data in datasets.DATASETS:
            return datasets.load(data)
        return read_table(data)

    def _inputs(self, segments, splits) -> tuple[list, list]:
        """The model's inputs and the skip path's designs of prepared segments, as fit made them
        (the base's one-step errors appended)."""
        s = self.state
        arrays = self._arrays(segments, splits, s.freq, s.scaler_y, s.scaler_x)
        designs = self._model_designs(arrays, s)
        add_base_errors(arrays, designs, self.model.skip_coefficients())
        return arrays, designs

    def series_arrays(self, data=None) -> tuple[list, list]:
        """The fitted pipeline applied to `data` (default: the data it was fitted on): per series
        the model's inputs with each origin's split, and the skip path's designs (explain reads
        them)."""
        s = self.state
        prepared = self._prepare(self._table(data), s.past_covariates, s.freq)
        return self._inputs(prepared.segments, s.splits)

    def predict(self, data=None) -> pd.DataFrame:
        """Forecast the `horizon` steps after the end of each series in `data` (default: the
        data it was fitted on). One row per series and step: series, origin, time, step,
        predicted[, quantiles]."""
        if self.model is None:
            raise LstmkitError("Forecaster.predict: fit() or load() it first")
        cfg, s = self.config, self.state
        torch.set_num_threads(cfg.train.threads)
        # the columns it was trained on
        prepared = self._prepare(self._table(data), s.past_covariates, s.freq)
        need = max(cfg.train.window, s.ar_order) + 1
        segments = prepared.segments
        self.predict_report = _read_report(prepared)
        last = last_stretches(segments, need, prepared.report["max_gap"])
        arrays, designs = self._inputs(list(last.values()), None)
        scheme = scheme_of(cfg.train)
        # (H, Q) from each series' last step
        preds = [
            scheme.forecast(self.model, a, d)[-1] for a, d in zip(arrays, designs, strict=True)
        ]
        return forecast_frame(list(last), arrays, preds, s, cfg.model)

    # ---- the stream: each series' state, advanced by new rows --------------------------------

    def _start_stream(self, segments) -> None:
        """The stream after each series' last segment, or None and why not."""
        try:
            self.stream, self.stream_refused = Stream.start(self, segments), None
        except LstmkitError as err:  # a statistical base, a step the graph cannot follow
            self.stream, self.stream_refused = None, str(err)

    def start_stream(self, data=None) -> pd.DataFrame:
        """Start the stream (the state update advances) from the end of `data`, the whole
        history of each series (default: the data fitted on), and return its forecasts, as
        predict's."""
        if self.model is None:
            raise LstmkitError("Forecaster.start_stream: fit() or load() it first")
        s = self.state
        torch.set_num_threads(self.config.train.threads)
        prepared = self._prepare(self._table(data), s.past_covariates, s.freq)
        self._start_stream(prepared.segments)
        if self.stream is None:
            raise LstmkitError(self.stream_refused)
        self.stream.report = _read_report(prepared)
        return self.stream.frame(self)

    def update(self, new_rows: pd.DataFrame) -> pd.DataFrame:
        """Advance each series by its new rows (later than its last observation; a gap follows
        the training rules: interpolated up to max_gap, a fresh start after a longer one) and
        return the forecasts from the new ends, as predict's table. Equal to predict on the
        whole history, without reading it again. `stream.report` says what was read."""
        if self.stream is None:
            why = self.stream_refused or "fit() or load() it first"
            raise LstmkitError(f"Forecaster.update: no stream: {why}")
        torch.set_num_threads(self.config.train.threads)
        self.stream.update(self, new_rows)
        return self.stream.frame(self)

    # ---- save, load ------------------------------------------------------------------------

    def save(self, folder, overwrite: bool = True) -> None:
        """Write the run directory `folder` as one transaction (rundir.py): a reader sees the old
        run or this one, never a mix. overwrite=False refuses a folder that holds a run already.
        """
        from ..rundir import transaction

        with transaction(folder, overwrite=overwrite) as stage:
            self.write(stage)

    def write(self, folder) -> None:
        """config.json (the settings) + state.json (what fit resolved) + model.safetensors +
        metrics.json + predictions.csv + report.html."""
        from ..runs import atomic_write, save_tensors, write_json, write_run

        if self.model is None or self.metrics is None:
            raise LstmkitError("Forecaster.save: fit() it first")
        folder = pathlib.Path(folder)
        write_run(folder, "forecast", self.config, self.state)
        save_tensors(folder / "model.safetensors", self.model.state_dict())
        write_json(folder / "metrics.json", self.metrics)
        if self.stream is not None:  # where each series stands after the data fitted on
            self.stream.save(folder / STREAM_FILE, self)
        atomic_write(
            folder / "predictions.csv", lambda tmp: self.predictions.to_csv(tmp, index=False)
        )
        from ..report import forecast_report

        cfg = self.config
        what = self.state.dataset or "your data"
        title = f"lstmkit forecast: {cfg.data.target} ({what}), horizon {cfg.model.horizon}"
        methods = [m for m in self.metrics["test"] if m != "model"]  # the baselines' columns
        by_step = rmse_by_step(self.predictions, ["predicted", *methods])
        settings = cfg.flat() | {"quantiles": cfg.model.levels}
        forecast_report(folder, self.metrics, self.predictions, settings, title, by_step)

    @classmethod
    def load(cls, folder):
        """A saved run: its settings, fitted state and weights (runs saved before the config
        tree load too)."""
        from ..runs import load_module, read_json, read_run

        folder = pathlib.Path(folder)
        config, state = read_run(
            folder, "forecast", ForecastConfig, ForecastState, (legacy, legacy_state)
        )
        fc = cls(config)
        fc.state = state
        fc.model = load_module(
            folder / "model.safetensors",
            lambda: ForecastNet(fc.config.model, fc.state.n_features, fc.state.design_size),
        )
        fc.model.eval()
        metrics_path = folder / "metrics.json"
        fc.metrics = read_json(metrics_path) if metrics_path.exists() else {}
        if (folder / STREAM_FILE).exists():
            # a damaged state, or tables in state.json a graph cannot be built from, do not
            # stop predict, which reads neither; streaming says why it cannot
            try:
                fc.stream = Stream.load(folder / STREAM_FILE, fc)
            except LstmkitError as err:
                fc.stream_refused = str(err)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
                fc.stream_refused = (
                    f"--run: {folder}: its state cannot stream ({type(err).__name__})"
                )
        else:
            fc.stream_refused = f"{folder} has no {STREAM_FILE}; start_stream(history) makes one"
        return fc


def _read_report(prepared) -> dict:
    """What reading new data did (gaps filled, steps): the data report and the steps read."""
    return {**prepared.report, "steps": sum(len(seg.times) for seg in prepared.segments)}
