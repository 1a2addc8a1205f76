"""Forecaster: the article's temperature example made real, correct and honest.

    fc = Forecaster(horizon=1).fit("weather-nyc-hourly")      # or a DataFrame / CSV / Parquet
    fc.metrics["test"]                                         # model beside the baselines
    fc.save("runs/nyc"); Forecaster.load("runs/nyc").predict(new_df)

fit(): read -> regularise (data.io) -> split by time -> scale on train only -> lag designs ->
baselines (persistence, seasonal naive, least-squares AR with p chosen on validation) and
statsforecast's models in a second process (base.py) -> ForecastNet with its skip path set to the
base -> train (train.fit, batches from the scheme: schemes.py) -> the correction test
(correction.py) -> score model and baselines on the same test origins, in the target's units
(scoring.py), with conformal intervals (intervals.py). Its settings: config.py; what it resolved:
state.py; what a fitted one does with new data (predict, update, save, load): fitted.py.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import torch

from .. import data as datasets
from .. import distributed
from ..checkpoint import fingerprint
from ..config import LstmkitError, SettingError, document_signature
from ..data.io import default_season, read_table
from ..data.shards import read_shard
from ..data.windows import TEST, TRAIN, VAL, Splits, cut_times, order_key
from ..linear.autoregression import choose_ar, combine_seasonal, lag_grid, widen
from ..models import ForecastNet
from ..train import fit
from .base import base_weights, choose_base, collect_classical, start_classical
from .config import ForecastConfig
from .correction import correction_test
from .fitted import STREAM_FILE, Fitted
from .inputs import (
    add_base_errors,
    fit_scalers,
    lag_designs,
    max_lag,
    on_grid,
    overall_span,
)
from .intervals import conformal
from .schemes import scheme_of
from .scoring import metrics_of, score
from .state import ForecastState
from .stream import Stream

__all__ = ["STREAM_FILE", "ForecastConfig", "Forecaster", "lag_designs"]


def season_shown(season: int, given, train_rows, val_start, report: dict) -> int:
    """The season the training data can show: two whole cycles in the longest series' training
    part. The frequency's natural one (a day of 500 ms steps is 172,800) is dropped to 1 (no
    season) where the data are shorter, and the report says so; a --season the data cannot show
    is a one-line error."""
    longest = distributed.most(
        max((int((s.times < val_start).sum()) for s in train_rows), default=0)
    )
    if 2 * season <= longest:
        return season
    if given:
        raise SettingError(
            "season",
            f"{season} steps needs two cycles in training, {2 * season} steps; the longest "
            f"series has {longest} (lower --season)",
        )
    report["season_capped"] = {"natural": season, "used": 1, "training_steps": longest}
    return 1


class Forecaster(Fitted):
    def __init__(self, config: ForecastConfig | None = None, /, **settings):
        if config is not None and settings:
            raise LstmkitError("Forecaster: give a ForecastConfig or keyword settings, not both")
        self.config = (
            config if config is not None else ForecastConfig.from_settings(settings, "Forecaster")
        )
        self.model: ForecastNet | None = None
        self.state: ForecastState | None = None  # what fit resolved (state.py)
        self.metrics: dict | None = None  # the held-out test, the baselines, what was chosen
        self.predictions: pd.DataFrame | None = None  # every test origin's forecast and actual
        self.predict_report: dict | None = None  # the last predict's gaps filled and steps read
        # the least-squares AR of the last fit, (order, coefficients): the linear_ar baseline (not
        # saved)
        self.baseline_ar: tuple | None = None
        # over several processes, which process holds which series (data/shards.py)
        self.shares: dict[str, int] | None = None
        # each series' state after its last observation (stream.py): set by fit and load,
        # advanced by update; None where the run cannot stream (why: `stream_refused`)
        self.stream: Stream | None = None
        self.stream_refused: str | None = None

    # ---- data ------------------------------------------------------------------------------

    def _read(self, source, columns: dict) -> tuple[pd.DataFrame, str | None]:
        """The table, with the config resolved: the user's settings, then `columns` given to
        fit, then an embedded data set's defaults (data/registry.py) for the rest."""
        given = {k: v for k, v in columns.items() if v is not None}
        if given:
            self.config = ForecastConfig.from_settings(
                {**_own(self.config), **given}, "Forecaster.fit"
            )
        info = datasets.embedded(source, "forecast")
        if info is not None:
            self.config = self.config.merged(info.defaults())
            source = datasets.load(info.name)
        if distributed.active():  # whole series for this process only (data/shards.py)
            df = distributed.agree(self._share, source)
        else:
            df = source if info is not None else read_table(source)
        if self.config.data.time is None or self.config.data.target is None:
            raise SettingError("target", "name the time and target columns of your own data")
        return df, info and info.name

    def _share(self, source) -> pd.DataFrame:
        df, shares = read_shard(
            source, self.config.data.series, distributed.rank(), distributed.world()
        )
        self.shares = shares
        return df

    # ---- fit ---------------------------------------------------------------------------------

    def fit(
        self,
        data,
        time=None,
        target=None,
        series=None,
        splits: Splits | None = None,
        quiet=False,
        checkpoint_dir=None,
        resume=False,
    ) -> Forecaster:
        """Fit on `data` (an embedded data set's name, a DataFrame, CSV or Parquet); time, target
        and series name its columns (the same as the settings of those names)."""
        torch.set_num_threads(self.config.train.threads)
        torch.manual_seed(self.config.train.seed)
        df, dataset = self._read(data, {"time": time, "target": target, "series": series})
        cfg = self.config  # resolved: the data set's defaults merged
        window, horizon = cfg.train.window, cfg.model.horizon
        prepared = self._prepare(df, cfg.data.past_covariates, cfg.data.freq, shared=True)
        freq, report = prepared.freq, prepared.report
        season = cfg.base.season or default_season(freq)
        need = window + horizon + 1
        segments = [s for s in prepared.segments if len(s.target) >= need]
        dropped = distributed.total(float(len(prepared.segments) - len(segments)))
        report["segments_dropped_short"] = int(dropped)
        kept = distributed.everyone(len(segments))  # every process's
        if not any(kept):
            longest = distributed.most(max(len(s.target) for s in prepared.segments))
            raise LstmkitError(
                f"--data: every series is shorter than window + horizon + 1 = {need} steps "
                f"(longest {longest})"
            )
        if not all(kept):
            raise LstmkitError(
                f"--data: every series of process {kept.index(0)}'s share is shorter than window + "
                f"horizon + 1 = {need} steps; run in fewer processes"
            )
        bounds = overall_span(segments)
        splits = on_grid(
            splits or cut_times(segments, cfg.split.train, cfg.split.val, bounds), freq
        )
        train_rows = [s for s in segments if s.times[0] < splits.val_start]
        n_train = int(
            distributed.total(
                float(sum(int((s.times < splits.val_start).sum()) for s in train_rows))
            )
        )
        if n_train < need + 10:
            raise LstmkitError(
                f"--data: too short for window + horizon + the split: {n_train} training "
                "steps before "
                f"{splits.val_start}, need at least {need + 10} (lower --window or --horizon, or "
                "give more data)"
            )
        season = season_shown(season, cfg.base.season, train_rows, splits.val_start, report)
        # what a checkpoint must match to be resumed, besides the settings: the data as read and
        # the split, series by series in the one-process order. Read values, not scaled ones:
        # pooled statistics and the AR differ in the last bits between numbers of processes, and
        # a run resumes under another number of them.
        each = [fingerprint(s.times.asi8, s.target, s.past) for s in segments]
        every = distributed.gathered(each, [order_key(s) for s in segments])
        data_hash = fingerprint(np.array([*every, str(splits.to_dict())]))
        scaler_y, scaler_x = fit_scalers(
            train_rows, splits, cfg, prepared.past_covariates, need + 10
        )
        state = dict(dataset=dataset, source=datasets.source_of(data), freq=freq, season=season)
        state.update(
            past_covariates=prepared.past_covariates,
            splits=splits,
            scaler_y=scaler_y,
            scaler_x=scaler_x,
        )
        arrays = self._arrays(segments, splits, freq, scaler_y, scaler_x)
        for label, name in ((TRAIN, "training"), (VAL, "validation"), (TEST, "test")):
            if not distributed.total(float(sum(int((a.split == label).any()) for a in arrays))):
                raise LstmkitError(
                    f"--data: the {name} period holds no complete forecast (horizon {horizon}); "
                    "give more data"
                )
        # over several processes, no statistical models: each holds a share of the series, and
        # past MAX_SERIES series one process fits none either (base.py)
        job = (
            start_classical(arrays, scaler_y, freq, season)
            if cfg.base.statistical == "auto" and not distributed.active()
            else None
        )
        if cfg.base.statistical == "auto" and distributed.active():
            report["statistical"] = f"not fitted: {distributed.world()} processes share the series"
        cache: dict[
            int, list
        ] = {}  # a design per lag order, built once (the search, the fit and the combination)

        def designs_of(p: int) -> list:
            if p not in cache:
                cache[p] = lag_designs(arrays, p, season)
            return cache[p]

        grid = lag_grid(max_lag(cfg.base.max_lag, freq, season), season, arrays)
        ar = choose_ar(arrays, designs_of, grid, season)
        order, coefficients = ar["order"], ar["coefficients"]
        # the linear_ar baseline stays the least-squares AR; the model's linear path may average it
        baseline_ar = (ar["order"], ar["coefficients"])
        combined = combine_seasonal(arrays, designs_of, ar, season, len(prepared.past_covariates))
        ar_combination = {k: combined[k] for k in ("weight", "val_origins")} if combined else None
        if combined:
            order, coefficients = combined["order"], combined["coefficients"]
        designs = designs_of(order)
        cache.clear()
        n_lag_columns = designs[0].shape[1]
        inputs = [a.x for a in arrays]  # before the base's one-step errors are appended
        try:
            history = self._train(
                arrays, designs, coefficients, data_hash, checkpoint_dir, resume, quiet
            )
        except BaseException:
            if job is not None:
                job.close()  # training failed or was interrupted: stop the worker too
            raise
        classical, base, stat = None, None, []
        if job is not None:
            classical, stat = collect_classical(job, arrays, scaler_y, freq, horizon, quiet)
        if classical is not None and classical.models:
            # the design with the statistical models' forecasts beside it, one series at a time
            # while choosing (a list of them all is a second copy of the design: 1.2 GB by its
            # shape for 20 series of 5 years hourly), kept only if a statistical base wins
            def full():
                return (np.concatenate([d, f], 1) for d, f in zip(designs, stat, strict=True))

            base = choose_base(arrays, full(), coefficients, classical, horizon)
        if base is not None and base["name"] != "linear_ar":
            # A statistical base won on validation: the LSTM learns to correct that one instead. The
            # fits ran while the LSTM trained on the AR; on long series the AR wins and this is
            # skipped.
            coefficients = base_weights(base, coefficients, classical.models, horizon)
            designs = list(full())
            for a, x in zip(arrays, inputs, strict=True):
                a.x = x
            first = history.seconds
            folder = checkpoint_dir and pathlib.Path(checkpoint_dir) / "base"
            history = self._train(arrays, designs, coefficients, data_hash, folder, resume, quiet)
            history.seconds += first
        scheme = scheme_of(cfg.train)
        preds = scheme.forecast_all(self.model, arrays, designs)
        median = cfg.model.median_index
        checked = correction_test(
            self.model, arrays, designs, preds, coefficients, median, cfg.base.correction_test
        )
        if not all(checked["kept_steps"]):  # a step group dropped: forecast again
            preds = scheme.forecast_all(self.model, arrays, designs)
        heads, calibration = None, None
        if len(cfg.model.levels) >= 2:
            heads = preds
            preds, calibration = conformal(arrays, preds, cfg.model.levels, median)
        self.state = ForecastState(
            **state,
            ar_order=order,
            ar_form=ar["form"],
            ar_combination=ar_combination,
            n_lag_columns=n_lag_columns,
            n_features=self.model.lstm.input_size,
            design_size=self.model.skip.in_features,
            classical=classical,
            conformal=calibration if calibration and calibration.get("calibrated") else None,
        )
        fitted = {
            "baseline_ar": baseline_ar,
            "unit_root": ar["unit_root"],
            "base": base,
            "lstm": checked,
        }
        self._score(arrays, designs, preds, heads, stat, calibration, history, report, fitted)
        if distributed.active():
            self.stream_refused = "fitted over several processes; start it with start_stream"
        else:
            self._start_stream(segments)
        return self

    def _train(
        self,
        arrays,
        designs,
        coefficients,
        data_hash: str,
        checkpoint_dir,
        resume: bool,
        quiet: bool,
    ):
        """The network on the skip path's `coefficients`: built, started at the base exactly,
        trained with early stopping on validation. data_hash: what a checkpoint's data must match
        (fit's fingerprint of the data as read). Returns train.fit's history."""
        cfg = self.config
        add_base_errors(arrays, designs, coefficients)
        self.model = ForecastNet(cfg.model, arrays[0].x.shape[1], designs[0].shape[1])
        self.model.init_skip(coefficients)
        scheme = scheme_of(cfg.train)
        gen = torch.Generator().manual_seed(cfg.train.seed)
        batches = scheme.batches(arrays, designs, cfg.model.levels, gen)
        validate = scheme.validation_loss(self.model, arrays, designs, cfg.model.levels)
        identity = {"settings": cfg.flat(), "data": data_hash}
        return fit(
            self.model,
            batches.batches,
            batches.loss,
            validate,
            cfg.train,
            checkpoint_dir,
            resume,
            quiet,
            generator=gen,
            identity=identity,
        )

    def baseline_coefficients(self) -> np.ndarray:
        """The least-squares AR (the linear_ar baseline) on the model's design (zero on the
        statistical models' columns). Needs a fit in this process."""
        if self.metrics is None or self.model is None:
            raise LstmkitError("Forecaster.baseline_coefficients: fit() it first")
        return self._baseline_coefficients(self.baseline_ar)

    def _baseline_coefficients(self, baseline_ar) -> np.ndarray:
        p, W = baseline_ar
        s = self.state
        W = widen(W, p, s.ar_order, s.season, len(s.past_covariates))
        design_size = self.model.skip.in_features
        return np.concatenate([W, np.zeros((design_size - W.shape[0], W.shape[1]))])

    # ---- evaluate ----------------------------------------------------------------------------

    def _score(
        self, arrays, designs, preds, heads, stat, calibration, history, report, fitted
    ) -> None:
        cfg, s = self.config, self.state
        H = cfg.model.horizon
        classical = {
            m: [f[:, k * H : (k + 1) * H] for f in stat]
            for k, m in enumerate(s.classical.models if stat else [])
        }
        self.baseline_ar = fitted["baseline_ar"]
        scored = score(
            arrays,
            designs,
            preds,
            self._baseline_coefficients(fitted["baseline_ar"]),
            s.scaler_y,
            s.freq,
            s.season,
            cfg.model.levels,
            cfg.model.median_index,
            classical,
            heads,
        )
        self.predictions = scored.predictions
        self.metrics = metrics_of(scored, s, cfg, history, report, fitted, calibration)

    def evaluate(self) -> pd.DataFrame:
        """The held-out test metrics of the model and every baseline, one row per method."""
        if self.model is None or not self.metrics:
            raise LstmkitError("Forecaster.evaluate: fit() it first")
        table = pd.DataFrame(self.metrics["test"]).T[["rmse", "mae", "mape", "mase", "n"]]
        table["rmse_vs_persistence"] = table["rmse"] / table.loc["persistence", "rmse"]
        return table

    def backtest(self, data, folds: int, time=None, target=None, series=None) -> dict:
        """Rolling-origin evaluation: the test share of the span is cut into `folds` blocks; fold k
        trains on everything before its validation period, then forecasts block k. Scalers, AR
        and network are fitted afresh in each fold."""
        if folds < 1:
            raise LstmkitError(f"--backtest: expected a positive number of folds, got {folds}")
        df, _ = self._read(data, {"time": time, "target": target, "series": series})
        cfg = self.config
        segments = self._prepare(df, cfg.data.past_covariates, cfg.data.freq, True).segments
        start, end = overall_span(segments)
        # past 292 years a nanosecond span overflows
        start, end = (
            start.as_unit("ms"),
            end.as_unit("ms"),
        )
        span, train, val, test = end - start, cfg.split.train, cfg.split.val, cfg.split.test
        results = []
        for k in range(folds):
            test_start = start + span * (train + val + test * k / folds)
            test_end = (
                start + span * (train + val + test * (k + 1) / folds) if k < folds - 1 else None
            )
            fold = Forecaster(cfg)
            # over several processes each fold reads its share again: `df` is a share already
            source = data if distributed.active() else df
            cut = Splits(test_start - span * val, test_start, test_end)
            fold.fit(source, time, target, series, splits=cut, quiet=True)
            results.append(
                {
                    "fold": k + 1,
                    "test_start": str(test_start),
                    "test": fold.metrics["test"],
                    "epochs": fold.metrics["epochs"],
                    "train_seconds": fold.metrics["train_seconds"],
                }
            )
        names = results[0]["test"].keys()
        mean = {n: float(np.mean([r["test"][n]["rmse"] for r in results])) for n in names}
        return {"folds": results, "mean_rmse": mean}


document_signature(
    Forecaster,
    ForecastConfig,
    "Forecaster(config=None, /, **settings): a base forecaster (the least-squares AR, or "
    "statsforecast's models)\nplus an LSTM that corrects it, judged on held-out data against naive "
    "and linear baselines.",
)


def _own(config: ForecastConfig) -> dict:
    """The settings the user set, flat."""
    flat = config.flat()
    return {k: flat[k] for k in config.user_set()}
