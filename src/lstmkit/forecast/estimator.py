"""Forecaster: the article's temperature example made real, correct and honest.

    fc = Forecaster(horizon=1).fit("weather-nyc-hourly")      # or a DataFrame / CSV / Parquet
    fc.metrics["test"]                                         # model beside three baselines
    fc.save("runs/nyc"); Forecaster.load("runs/nyc").predict(new_df)

fit(): read -> regularise (data.io) -> split by time -> scale on train only -> lag designs ->
baselines (persistence, seasonal naive, least-squares AR with p chosen on validation) ->
ForecastNet with its skip path set to that AR -> train (train.fit) -> score model and baselines
on the same test origins, in the target's units.
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
import pandas as pd
import torch

from .. import data as datasets
from ..config import LstmkitError, settings_of
from ..data.io import default_season, prepare, read_table, series_id
from ..data.scaling import SeriesScalers
from ..data.windows import TEST, TRAIN, VAL, Splits, build_arrays, cut_times, lag_design
from ..linear.autoregression import choose_ar, combine_seasonal, gate_lstm, lag_grid, widen
from ..models import ForecastNet
from ..statistical import seasons_of
from ..train import fit
from .base import Classical, ClassicalJob, base_weights, choose_base, drop_unusable
from .config import ForecastConfig, check_config
from .intervals import conformal
from .schemes import EveryStep, Windows, forecast, forecast_all, validation_loss
from .scoring import score

__all__ = ["ForecastConfig", "Forecaster"]


class Forecaster:
    def __init__(self, **settings):
        self.config = settings_of(ForecastConfig, settings, "Forecaster")
        self._explicit = set(settings)  # what the user chose; a data set's defaults fill the rest
        if self.config.quantiles and 0.5 not in self.config.quantiles:
            self.config.quantiles = sorted([*self.config.quantiles, 0.5])
        check_config(self.config)
        self.model: ForecastNet | None = None

    # ---- data ------------------------------------------------------------------------------

    def _read(self, source, **columns):
        cfg = self.config
        for key, value in columns.items():
            if value is not None:
                setattr(cfg, key, value)
        self.dataset = None
        if isinstance(source, str) and source in datasets.DATASETS:
            info = datasets.get(source)
            if info.task != "forecast":
                raise LstmkitError(f"--data: {source!r} is a {info.task} data set; use `lstmkit {info.task}`")
            self.dataset = info.name
            cfg.time, cfg.target = cfg.time or info.time, cfg.target or info.target
            cfg.series = cfg.series or info.series
            cfg.freq = cfg.freq or info.frequency
            if "duplicates" not in self._explicit:
                cfg.duplicates = info.duplicates
            cfg.season = cfg.season or info.season
            if info.window and "window" not in self._explicit:
                cfg.window = info.window
            return datasets.load(info.name)
        df = read_table(source)
        if cfg.time is None or cfg.target is None:
            raise LstmkitError("--time-col and --target: both are needed for your own data")
        return df

    def _prepare(self, df, past_covariates, freq):
        cfg = self.config
        return prepare(
            df, cfg.time, cfg.target, cfg.series, past_covariates, freq, cfg.fill, cfg.max_gap, cfg.duplicates
        )

    def _arrays(self, segments, splits):
        cfg = self.config
        out = []
        for s in segments:
            target = self.scaler_y.get(series_id(s.series)).transform(s.target[:, None])[:, 0]
            past = self.scaler_x.get(series_id(s.series)).transform(s.past) if s.past.shape[1] else s.past
            out.append(build_arrays(s, target, past, self.freq, cfg.horizon, splits))
        return out

    def _designs(self, arrays, p: int):
        q = min(p, self.season)
        return [lag_design(a.target, a.past, a.calendar_next, p, q) for a in arrays]

    def _model_designs(self, arrays) -> list[np.ndarray]:
        """The skip path's design: the AR's lag columns, then, where the base holds statistical
        models, each one's forecasts."""
        designs = self._designs(arrays, self.ar_order)
        if self.model.skip.in_features == designs[0].shape[1]:
            return designs
        stat = self.classical.forecasts(arrays, self.scaler_y, self.freq, self.config.horizon)
        return [np.concatenate([d, s], 1) for d, s in zip(designs, stat, strict=True)]

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
        cfg = self.config
        torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        df = self._read(data, time=time, target=target, series=series)
        self.source = datasets.source_of(data)
        prepared = self._prepare(df, cfg.past_covariates, cfg.freq)
        self.freq, self.report = prepared.freq, prepared.report
        self.past_covariates = prepared.past_covariates
        self.season = cfg.season or default_season(self.freq)
        need = cfg.window + cfg.horizon + 1
        segments = [s for s in prepared.segments if len(s.target) >= need]
        self.report["segments_dropped_short"] = len(prepared.segments) - len(segments)
        if not segments:
            longest = max(len(s.target) for s in prepared.segments)
            raise LstmkitError(
                f"--data: every series is shorter than window + horizon + 1 = {need} steps (longest {longest})"
            )
        self.splits = _on_grid(splits or cut_times(segments, cfg.train, cfg.val), self.freq)
        train_rows = [s for s in segments if s.times[0] < self.splits.val_start]
        y_train = np.concatenate([s.target[s.times < self.splits.val_start] for s in train_rows] or [np.zeros(0)])
        if len(y_train) < need + 10:
            raise LstmkitError(
                f"--data: too short for window + horizon + the split: {len(y_train)} training steps before "
                f"{self.splits.val_start}, need at least {need + 10} (lower --window or --horizon, or give more data)"
            )
        self._fit_scalers(train_rows, need + 10)
        arrays = self._arrays(segments, self.splits)
        for label, name in ((TRAIN, "training"), (VAL, "validation"), (TEST, "test")):
            if not any((a.split == label).any() for a in arrays):
                raise LstmkitError(
                    f"--data: the {name} period holds no complete forecast (horizon {cfg.horizon}); give more data"
                )
        job = self._start_classical(arrays) if cfg.statistical == "auto" else None  # runs beside the rest
        cache: dict[int, list] = {}  # a design per lag order, built once (the search, the fit and the combination)

        def designs_of(p: int) -> list:
            if p not in cache:
                cache[p] = self._designs(arrays, p)
            return cache[p]

        grid = lag_grid(self._max_lag(), self.season, arrays)
        ar = choose_ar(arrays, designs_of, grid, self.season)
        self.ar_order, self.ar_form, self.ar_coefficients = ar["order"], ar["form"], ar["coefficients"]
        self.unit_root = ar["unit_root"]
        # the linear_ar baseline stays the least-squares AR; the model's linear path may average it
        self.baseline_ar = (ar["order"], ar["coefficients"])
        combined = combine_seasonal(arrays, designs_of, ar, self.season, len(self.past_covariates))
        self.ar_combination = {k: combined[k] for k in ("weight", "val_origins")} if combined else None
        if combined:
            self.ar_order, self.ar_coefficients = combined["order"], combined["coefficients"]
        designs = designs_of(self.ar_order)
        cache.clear()
        self.n_lag_columns, self.classical, self.base, self._classical_forecasts = designs[0].shape[1], None, None, []
        inputs = [a.x for a in arrays]  # before the base's one-step errors are appended
        try:
            self._train(arrays, designs, checkpoint_dir, resume, quiet)
        except BaseException:
            if job is not None:
                job.close()  # training failed or was interrupted: stop the worker too
            raise
        if job is not None and self._choose_base(job, arrays, designs, quiet):
            # A statistical base won on validation: the LSTM learns to correct that one instead. The
            # fits ran while the LSTM trained on the AR; on long series the AR wins and this is skipped.
            designs = [np.concatenate([d, f], 1) for d, f in zip(designs, self._classical_forecasts, strict=True)]
            for a, x in zip(arrays, inputs, strict=True):
                a.x = x
            first = self.history.seconds
            self._train(arrays, designs, checkpoint_dir and pathlib.Path(checkpoint_dir) / "base", resume, quiet)
            self.history.seconds += first
        preds = forecast_all(self.model, arrays, designs, cfg.scheme, cfg.window)
        self.lstm_check = gate_lstm(
            self.model, arrays, designs, preds, self.ar_coefficients, self._median_index(), cfg.lstm_gate
        )
        changed = not all(self.lstm_check["kept_steps"])
        self._evaluate(arrays, designs, None if changed else preds)  # a step group dropped: forecast again
        return self

    def _train(self, arrays, designs, checkpoint_dir, resume: bool, quiet: bool) -> None:
        """The network on the skip path's current coefficients (self.ar_coefficients): built,
        started at the base exactly, trained with early stopping on validation."""
        cfg = self.config
        self._add_ar_errors(arrays, designs)
        self.model = self._build_model(arrays[0].x.shape[1], designs[0].shape[1])
        self.model.init_skip(self.ar_coefficients)
        scheme = self._scheme(arrays, designs)
        validate = validation_loss(self.model, arrays, designs, cfg.scheme, cfg.window, cfg.quantiles)
        self.history = fit(
            self.model,
            scheme.batches,
            lambda b: scheme.loss(self.model, b),
            validate,
            cfg.epochs,
            cfg.patience,
            cfg.lr,
            checkpoint_dir=checkpoint_dir,
            resume=resume,
            quiet=quiet,
        )

    def _start_classical(self, arrays) -> ClassicalJob:
        offset = pd.tseries.frequencies.to_offset(self.freq)
        step_days = pd.Timedelta(offset) / pd.Timedelta("1D") if _fixed(self.freq) else None
        return ClassicalJob.start(arrays, self.scaler_y, self.season, seasons_of(self.season, step_days))

    def _choose_base(self, job: ClassicalJob, arrays, designs, quiet: bool) -> bool:
        """Collect statsforecast's models, roll them through every origin, and choose the base on
        validation (forecast/base.py). True where the base is not the AR: the skip path's
        coefficients then cover the statistical models' columns, appended to the design."""
        cfg = self.config
        if not quiet and not job.done():
            print("waiting for the statistical models ...", flush=True)
        self.classical = job.result()
        if not self.classical.models:
            return False
        stat = self.classical.forecasts(arrays, self.scaler_y, self.freq, cfg.horizon)
        self._classical_forecasts = drop_unusable(self.classical, stat, arrays, cfg.horizon)
        if not self.classical.models:
            return False
        full = [np.concatenate([d, f], 1) for d, f in zip(designs, self._classical_forecasts, strict=True)]
        self.base = choose_base(arrays, full, self.ar_coefficients, self.classical, cfg.horizon)
        if self.base["name"] == "linear_ar":
            return False
        self.ar_coefficients = base_weights(self.base, self.ar_coefficients, self.classical.models, cfg.horizon)
        return True

    def _fit_scalers(self, train_rows, min_rows: int) -> None:
        """Standardise on the training period only: pooled over all series (the default) or per
        series. A series with fewer than `min_rows` training steps takes the pooled statistics."""
        ys, xs = {}, {}
        for s in train_rows:
            m = s.times < self.splits.val_start
            ys.setdefault(series_id(s.series), []).append(s.target[m][:, None])
            xs.setdefault(series_id(s.series), []).append(s.past[m])
        per_series = self.config.scaling == "series"
        ys = {k: np.concatenate(v) for k, v in ys.items()}
        xs = {k: np.concatenate(v) for k, v in xs.items()}
        self.scaler_y = SeriesScalers.fit(ys, [self.config.target], per_series, min_rows)
        self.scaler_x = SeriesScalers.fit(xs, self.past_covariates, per_series, min_rows)

    def baseline_coefficients(self) -> np.ndarray:
        """The least-squares AR (the linear_ar baseline, set by fit) on the model's design (zero on
        the statistical models' columns)."""
        p, W = self.baseline_ar
        W = widen(W, p, self.ar_order, self.season, len(self.past_covariates))
        return np.concatenate([W, np.zeros((self.ar_coefficients.shape[0] - W.shape[0], W.shape[1]))])

    def _add_ar_errors(self, arrays, designs):
        """Give the LSTM the AR's own one-step errors as an input, e[t] = y[t] - AR forecast of
        y[t] made at t-1: the moving-average term ARMA adds to AR. Only past values enter."""
        for a, d in zip(arrays, designs, strict=True):
            one_step = d @ self.ar_coefficients[:, 0]  # forecast of y[t+1] made at t
            err = np.zeros(len(a.target))
            err[1:] = a.target[1:] - one_step[:-1]
            a.x = np.concatenate([a.x, np.nan_to_num(err)[:, None]], 1)

    def backtest(self, data, folds: int, time=None, target=None, series=None) -> dict:
        """Rolling-origin evaluation: the test share of the span is cut into `folds` blocks; fold k
        trains on everything before its validation period, then forecasts block k. Scalers, AR
        and network are fitted afresh in each fold."""
        if folds < 1:
            raise LstmkitError(f"--backtest: expected a positive number of folds, got {folds}")
        cfg = self.config
        df = self._read(data, time=time, target=target, series=series)
        segments = self._prepare(df, cfg.past_covariates, cfg.freq).segments
        start, end = min(s.times[0] for s in segments), max(s.times[-1] for s in segments)
        start, end = start.as_unit("ms"), end.as_unit("ms")  # past 292 years a nanosecond span overflows
        span, test = end - start, 1 - cfg.train - cfg.val
        results = []
        for k in range(folds):
            test_start = start + span * (cfg.train + cfg.val + test * k / folds)
            test_end = start + span * (cfg.train + cfg.val + test * (k + 1) / folds) if k < folds - 1 else None
            fold = Forecaster(**dataclasses.asdict(cfg))
            fold.fit(df, splits=Splits(test_start - span * cfg.val, test_start, test_end), quiet=True)
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

    def _max_lag(self) -> int:
        """The largest AR lag tried: --max-lag, else a week of sub-daily steps, a year of daily ones
        (260 business days), or three seasons."""
        offset = pd.tseries.frequencies.to_offset(self.freq)
        step = pd.Timedelta(offset) if _fixed(self.freq) else None
        if self.config.max_lag:
            return self.config.max_lag
        if step is not None and step < pd.Timedelta("1D"):
            return int(pd.Timedelta("7D") / step)
        if step == pd.Timedelta("1D"):
            return 365
        if isinstance(offset, pd.offsets.BusinessDay | pd.offsets.CustomBusinessDay):
            return 260
        return 3 * self.season

    def _build_model(self, n_features: int, design_size: int) -> ForecastNet:
        cfg = self.config
        n_quantiles = max(1, len(cfg.quantiles))
        return ForecastNet(n_features, design_size, cfg.horizon, n_quantiles, cfg.hidden_size, cfg.num_layers,
                           cfg.cell, cfg.dropout)  # fmt: skip

    def _scheme(self, arrays, designs):
        cfg = self.config
        gen = torch.Generator().manual_seed(cfg.seed)
        if cfg.scheme == "windows":
            return Windows(arrays, designs, cfg.window, cfg.batch_size, cfg.quantiles, gen)
        return EveryStep(arrays, designs, cfg.window, cfg.batch_size, cfg.chunk, cfg.quantiles, gen)

    # ---- evaluate ----------------------------------------------------------------------------

    def _evaluate(self, arrays, designs, preds=None):
        cfg = self.config
        if preds is None:
            preds = forecast_all(self.model, arrays, designs, cfg.scheme, cfg.window)
        heads, self.conformal = None, None
        if len(cfg.quantiles) >= 2:
            heads = preds
            preds, self.conformal = conformal(arrays, preds, cfg.quantiles, self._median_index())
        H = cfg.horizon
        classical = {
            m: [f[:, k * H : (k + 1) * H] for f in self._classical_forecasts]
            for k, m in enumerate(self.classical.models if self._classical_forecasts else [])
        }
        scored = score(
            arrays,
            designs,
            preds,
            self.baseline_coefficients(),
            self.scaler_y,
            self.freq,
            self.season,
            cfg.quantiles,
            self._median_index(),
            classical,
            heads,
        )
        self.predictions = scored.predictions
        self.metrics = {
            "test": scored.test,
            "test_per_step": scored.per_step,
            "train_seconds": self.history.seconds,
            "epochs": self.history.epochs,
            "best_epoch": self.history.best_epoch,
            "stopped_early": self.history.stopped_early,
            "ar_order": self.baseline_ar[0],  # the least-squares AR's (the model's design may hold a season more)
            "ar_form": self.ar_form,
            "ar_combination": self.ar_combination,
            "unit_root": self.unit_root,
            "lstm": self.lstm_check,
            "base": self.base,
            "classical": self.classical and {k: v for k, v in self.classical.to_dict().items() if k != "params"},
            "season": self.season,
            "scheme": cfg.scheme,
            "data": self.report,
            "split": {"val_start": str(self.splits.val_start), "test_start": str(self.splits.test_start)},
            "history": {"train_loss": self.history.train_loss, "val_loss": self.history.val_loss},
        }
        if scored.interval:
            self.metrics["interval"] = {
                **scored.interval,
                "conformal": {k: v for k, v in self.conformal.items() if k != "offsets"},
            }

    def evaluate(self) -> pd.DataFrame:
        """The held-out test metrics of the model and every baseline, one row per method."""
        if self.model is None or not getattr(self, "metrics", None):
            raise LstmkitError("Forecaster.evaluate: fit() it first")
        table = pd.DataFrame(self.metrics["test"]).T[["rmse", "mae", "mape", "mase", "n"]]
        table["rmse_vs_persistence"] = table["rmse"] / table.loc["persistence", "rmse"]
        return table

    # ---- save, load, predict ---------------------------------------------------------------

    def save(self, folder) -> None:
        """config.json + model.safetensors + scaler.json + metrics.json + predictions.csv."""
        from .._version import __version__
        from ..runs import atomic_write, save_tensors, write_json

        if self.model is None:
            raise LstmkitError("Forecaster.save: fit() it first")
        folder = pathlib.Path(folder)
        write_json(
            folder / "config.json",
            {
                "lstmkit": __version__,
                "task": "forecast",
                "config": dataclasses.asdict(self.config),
                "dataset": self.dataset,
                "freq": self.freq,
                "season": self.season,
                "ar_order": self.ar_order,
                "ar_form": self.ar_form,
                "ar_combination": self.ar_combination,
                "n_lag_columns": self.n_lag_columns,
                "past_covariates": self.past_covariates,
                "n_features": self.model.lstm.input_size,
                "design_size": self.model.skip.in_features,
                "split": {"val_start": str(self.splits.val_start), "test_start": str(self.splits.test_start)},
                "source": getattr(self, "source", None),
            },
        )
        save_tensors(folder / "model.safetensors", self.model.state_dict())
        if self.classical:
            write_json(folder / "classical.json", self.classical.to_dict())
        if self.conformal and self.conformal.get("calibrated"):
            write_json(folder / "conformal.json", self.conformal)
        write_json(
            folder / "scaler.json", {"target": self.scaler_y.to_dict(), "past_covariates": self.scaler_x.to_dict()}
        )
        write_json(folder / "metrics.json", self.metrics)
        atomic_write(folder / "predictions.csv", lambda tmp: self.predictions.to_csv(tmp, index=False))
        from ..report import forecast_report

        title = f"lstmkit forecast: {self.config.target} ({self.dataset or 'your data'}), horizon {self.config.horizon}"
        forecast_report(folder, self.metrics, self.predictions, dataclasses.asdict(self.config), title)

    @classmethod
    def load(cls, folder) -> Forecaster:
        from safetensors.torch import load_file

        from ..runs import read_json, read_run_config

        folder = pathlib.Path(folder)
        saved = read_run_config(folder, "forecast")
        fc = cls(**saved["config"])
        fc.dataset, fc.freq, fc.season = saved["dataset"], saved["freq"], saved["season"]
        fc.ar_order, fc.past_covariates = saved["ar_order"], saved["past_covariates"]
        fc.ar_form = saved.get("ar_form", "levels")  # runs saved before the form was chosen: levels
        fc.ar_combination = saved.get("ar_combination")
        fc.n_lag_columns = saved.get("n_lag_columns", saved["design_size"])
        fc.classical = None
        if (folder / "classical.json").exists():
            fc.classical = Classical.from_dict(read_json(folder / "classical.json"))
        fc.conformal = read_json(folder / "conformal.json") if (folder / "conformal.json").exists() else None
        fc.source = saved.get("source")
        split = saved["split"]
        fc.splits = Splits(pd.Timestamp(split["val_start"]), pd.Timestamp(split["test_start"]))
        scalers = read_json(folder / "scaler.json")
        fc.scaler_y = SeriesScalers.from_dict(scalers["target"])
        fc.scaler_x = SeriesScalers.from_dict(scalers["past_covariates"])
        fc.model = fc._build_model(saved["n_features"], saved["design_size"])
        fc.model.load_state_dict(load_file(folder / "model.safetensors"))
        fc.model.eval()
        fc.ar_coefficients = fc.model.skip.weight.detach().double().numpy().T
        metrics_path = folder / "metrics.json"
        fc.metrics = read_json(metrics_path) if metrics_path.exists() else {}
        return fc

    def series_arrays(self, data=None) -> tuple[list, list]:
        """The fitted pipeline applied to `data` (default: the data it was fitted on): per series
        the model's inputs with each origin's split, and the AR designs (explain() reads them)."""
        data = data if data is not None else (self.dataset or getattr(self, "source", None))
        if data is None:
            raise LstmkitError("--data: this run was fitted on a DataFrame; pass the data to explain")
        if isinstance(data, pd.DataFrame):
            df = data
        else:
            df = datasets.load(data) if data in datasets.DATASETS else read_table(data)
        prepared = self._prepare(df, self.past_covariates, self.freq)
        arrays = self._arrays(prepared.segments, getattr(self, "splits", None))
        designs = self._model_designs(arrays)
        self._add_ar_errors(arrays, designs)
        return arrays, designs

    def predict(self, data=None) -> pd.DataFrame:
        """Forecast the `horizon` steps after the end of each series in `data` (default: the
        data it was fitted on). One row per series and step: series, origin, time, step,
        predicted[, quantiles]."""
        if self.model is None:
            raise LstmkitError("Forecaster.predict: fit() or load() it first")
        cfg = self.config
        torch.set_num_threads(cfg.threads)
        df = datasets.load(self.dataset) if data is None and self.dataset else read_table(data)
        prepared = self._prepare(df, self.past_covariates, self.freq)  # the columns it was trained on
        need = max(cfg.window, self.ar_order) + 1
        segments = prepared.segments
        self.predict_report = {**prepared.report, "steps": sum(len(s.times) for s in segments)}
        last = {}  # a long gap splits a series; its forecast starts from the stretch after the last gap
        for seg in segments:
            name = series_id(seg.series)
            if name not in last or seg.times[-1] > last[name].times[-1]:
                last[name] = seg
        for name, seg in last.items():
            if len(seg.times) < need:
                gap = prepared.report["max_gap"]
                after = f" after its last gap longer than {gap} steps" if seg.series != name else ""
                n = len(seg.times)
                raise LstmkitError(f"--data: series {name!r} has {n} steps{after}; forecasting needs {need}")
        arrays = self._arrays(list(last.values()), None)
        designs = self._model_designs(arrays)
        self._add_ar_errors(arrays, designs)
        rows, step = [], pd.tseries.frequencies.to_offset(self.freq)
        for name, a, d in zip(last, arrays, designs, strict=True):
            pred = forecast(self.model, a, d, cfg.scheme, cfg.window)[-1]  # (H, Q) from the last step
            inv = self.scaler_y.get(name).inverse  # a series unseen in training: pooled
            if self.conformal:  # the intervals as calibrated at the end of the test period
                offsets = self.conformal["offsets"]
                own = offsets.get(name, next(iter(offsets.values())))  # unseen series: the first one's
                for k, q in enumerate(cfg.quantiles):
                    if f"{q:g}" in own:
                        pred[:, k] = pred[:, self._median_index()] + np.asarray(own[f"{q:g}"])
            frame = {
                "series": name,
                "origin": a.times[-1],
                "time": [a.times[-1] + h * step for h in range(1, cfg.horizon + 1)],
                "step": np.arange(1, cfg.horizon + 1),
                "predicted": inv(pred[:, self._median_index()]),
            }
            for k, q in enumerate(cfg.quantiles):
                frame[f"q{q:g}"] = inv(pred[:, k])
            rows.append(pd.DataFrame(frame))
        return pd.concat(rows, ignore_index=True)

    def _median_index(self) -> int:
        return self.config.quantiles.index(0.5) if self.config.quantiles else 0


def _on_grid(splits: Splits, freq: str) -> Splits:
    """Cut times on whole steps (fractions of a span land between them)."""
    if not _fixed(freq):
        return splits
    step = pd.tseries.frequencies.to_offset(freq)
    ceil = lambda t: None if t is None else t.ceil(step)  # noqa: E731
    return Splits(ceil(splits.val_start), ceil(splits.test_start), ceil(splits.test_end))


def _fixed(freq: str) -> bool:
    try:
        pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        return True
    except ValueError:
        return False
