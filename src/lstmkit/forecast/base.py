"""The forecaster's base: the linear forecast its LSTM corrects, chosen on validation among the
AR, statsforecast's models and their combination.

    fit_classical   AutoETS, AutoTheta, AutoARIMA (and MSTL where a second season is known) fitted
                    on each series' training part, by the rules below; each model's forecasts at
                    every origin of every segment, in the scaled units the network works in
    choose_base     the model's own AR (or its average with seasonal naive) unless a statistical
                    model, or the inverse-MSE-weighted average of them all, beats it on
                    validation beyond chance; the average where validation is too short to tell
    base_weights    the choice as coefficients on the model's design, whose last columns hold the
                    statistical forecasts: the frozen skip path of ForecastNet stays one linear
                    map, so training, gating, save/load and explain take it as they take the AR

The cost rules, measured on one core (statsforecast 2.1.1; docs/forecasting.md, "The base"):
  - each model is fitted on the last FIT_WINDOW training steps (AutoETS with a season of 13-24 on
    the last 500; MSTL on at least four of its longest period): AutoETS with a season of 24 took
    5.7 s on 6,000 steps, 0.9-2 s on 1,000 and 0.4 s on 500 (statistical.window_of);
  - AutoARIMA only with a season of at most ARIMA_MAX_SEASON: with its approximation it took
    0.9 s at a season of 12 (500 steps) but 5-7 s at 24 and 9-24 s at 48 and 52 (without it, over
    18 minutes at 48), several times what the LSTM's training takes on such series;
  - at most MAX_SERIES series; past that none is fitted (a global model over many series is
    what the LSTM is for), and the report says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import statistical
from ..data.io import series_id
from ..data.windows import TEST, TRAIN, VAL
from ..evaluate import DM_CRITICAL_5, diebold_mariano
from ..linear.autoregression import MIN_INDEPENDENT_ORIGINS
from .inputs import fixed_step

FIT_WINDOW = statistical.FIT_WINDOW
ARIMA_MAX_SEASON = 12
MAX_SERIES = 50
MSTL_SEASONS = 4  # MSTL fits on at least this many of its longest period


@dataclass
class Classical:
    """The fitted statistical models: JSON, saved as classical.json beside the model."""

    models: list[str]  # in the design's column order
    params: dict[str, dict[str, dict]]  # model -> series id -> fixed parameters
    starts: dict[str, str]  # series id -> the time its fitted segment starts (time 0 of roll)
    seasons: list[int] = field(default_factory=list)  # MSTL's periods ([] without MSTL)
    skipped: dict[str, str] = field(default_factory=dict)  # model -> why it is not there
    seconds: dict[str, float] = field(default_factory=dict)
    # the same models refitted on training + validation, for the test period and new data (a
    # statistician's final fit: on short series every value counts); model -> series -> params
    final: dict[str, dict[str, dict]] = field(default_factory=dict)
    test_start: str | None = None  # from here on, the final fit's forecasts

    def to_dict(self) -> dict:
        return {
            "models": self.models,
            "params": self.params,
            "starts": self.starts,
            "seasons": self.seasons,
            "skipped": self.skipped,
            "seconds": self.seconds,
            "final": self.final,
            "test_start": self.test_start,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Classical:
        return cls(
            d["models"],
            d["params"],
            d["starts"],
            d.get("seasons", []),
            d.get("skipped", {}),
            d.get("seconds", {}),
            d.get("final", {}),
            d.get("test_start"),
        )

    def forecasts(self, arrays, scaler_y, freq: str, horizon: int) -> list[np.ndarray]:
        """Per segment, (T, len(models) * horizon): each model's forecasts, scaled, model-major;
        from test_start on (every origin of data without a split), the final fit's where there
        is one."""
        out = []
        for a in arrays:
            name = series_id(a.series)
            inv, fwd = scaler_y.get(name).inverse, scaler_y.get(name).transform
            y = inv(a.target)
            later = (
                a.times >= pd.Timestamp(self.test_start)
                if self.test_start and (a.split >= 0).any()
                else True
            )
            cols = []
            for model in self.models:
                if name not in self.params[model]:
                    raise _unseen(name)
                f = self._roll(model, self.params[model][name], name, a, y, freq, horizon)
                if name in self.final.get(model, {}):
                    f[later] = self._roll(
                        model, self.final[model][name], name, a, y, freq, horizon
                    )[later]
                cols.append(fwd(f.reshape(-1, 1)).reshape(f.shape))
            out.append(np.concatenate(cols, 1) if cols else np.zeros((len(y), 0)))
        return out

    def _roll(self, model, p, name, a, y, freq, horizon):
        offset = (
            _steps_between(pd.Timestamp(self.starts[name]), a.times[0], freq) - p["start_offset"]
        )
        return statistical.roll(model, p, y, horizon, offset)


def _unseen(name: str) -> Exception:
    from ..config import LstmkitError

    return LstmkitError(
        f"--data: series {name!r} was not in the training data; its statistical base is unknown"
    )


def plan(
    season: int, seasons: tuple[int, ...], n_series: int, n_train: int
) -> tuple[list[str], dict[str, str]]:
    """Which models to fit, and why the others are not."""
    skipped = {}
    if n_series > MAX_SERIES:
        return [], {m: f"{n_series} series, more than {MAX_SERIES}" for m in statistical.MODELS}
    models = ["auto_ets", "auto_theta"]
    if season <= ARIMA_MAX_SEASON:
        models.append("auto_arima")
    else:
        skipped["auto_arima"] = (
            f"season {season} > {ARIMA_MAX_SEASON}: 5-24 s a series even with its approximation "
            "(docs/forecasting.md, 'The base')"
        )
    if seasons and n_train >= MSTL_SEASONS * max(seasons):
        models.append("mstl")
    elif seasons:
        skipped["mstl"] = (
            f"{n_train} training steps: fewer than {MSTL_SEASONS} of its longest season "
            f"({max(seasons)})"
        )
    else:
        skipped["mstl"] = "no second season (sub-daily data with a daily season get a weekly one)"
    return models, skipped


class ClassicalJob:
    """The statistical models fitted in a second process while this one searches the AR and trains
    the LSTM (they share nothing until the base is chosen), or here where there is one core.

        job = ClassicalJob.start(arrays, scaler_y, season, seasons)   # returns at once
        classical = job.result()                                       # waits, if still fitting

    The second process is `python -m lstmkit.statistical IN OUT` (JSON files): a plain subprocess,
    not multiprocessing, whose spawn would re-import the user's main script (and fail in one without
    an `if __name__ == "__main__"` guard). Each series is fitted on its longest training segment."""

    def __init__(self, models, skipped, season, seasons, inputs, starts, background: bool):
        self.models, self.skipped, self.season, self.seasons = models, skipped, season, seasons
        self.inputs, self.starts, self.proc = inputs, starts, None
        if background and models and inputs and (os.cpu_count() or 1) > 1:
            self.worker = statistical.take_worker()
            self.proc, self.out = self.worker.proc, self.worker.folder / "out.json"
            self.worker.send(self._request())

    def _request(self) -> dict:
        series = [{**i, "y": i["y"].tolist()} for i in self.inputs]
        return {
            "series": series,
            "models": self.models,
            "season": self.season,
            "seasons": list(self.seasons),
        }

    @classmethod
    def start(
        cls, arrays, scaler_y, season: int, seasons: tuple[int, ...], background: bool = True
    ) -> ClassicalJob:
        fit_on = {}
        for a in arrays:
            n = int((a.split == TRAIN).sum())
            name = series_id(a.series)
            if n and (name not in fit_on or n > int((fit_on[name].split == TRAIN).sum())):
                fit_on[name] = a
        shortest = min((int((a.split == TRAIN).sum()) for a in fit_on.values()), default=0)
        models, skipped = plan(season, seasons, len(fit_on), shortest)
        inputs = []
        for name, a in fit_on.items():
            # the last training origin's target
            n_train = int(np.flatnonzero(a.split == TRAIN)[-1]) + 2
            y = scaler_y.get(name).inverse(a.target[:n_train])
            # MSTL's; the others cut to theirs
            window = max(FIT_WINDOW, MSTL_SEASONS * max(seasons, default=0))
            start = max(0, n_train - window)
            inputs.append({"name": name, "y": y[start:], "start_offset": start})
            test = np.flatnonzero(a.split == TEST)
            # a final fit on what the first test origin knows, as a statistician refits
            if len(test):
                n_final = int(test[0]) + 1
                cut = max(0, n_final - window)
                y_final = scaler_y.get(name).inverse(a.target[cut:n_final])
                inputs.append({"name": name, "y": y_final, "start_offset": cut, "final": True})
        starts = {name: str(a.times[0]) for name, a in fit_on.items()}
        job = cls(models, skipped, season, seasons, inputs, starts, background)
        test = [a.times[a.split == TEST][0] for a in arrays if (a.split == TEST).any()]
        job.test_start = str(min(test)) if test else None
        return job

    def done(self) -> bool:
        return self.proc is None or self.proc.poll() is not None

    def result(self) -> Classical:
        if self.proc is None:
            fitted = statistical.fit_many(self._request())
        else:
            try:
                err = self.proc.stderr.read()  # to its end: the worker has exited
                self.proc.wait()
                if self.proc.returncode != 0 or not self.out.exists():
                    why = (err or b"").decode(errors="replace").strip().splitlines()[-1:] or [
                        "no output"
                    ]
                    fitted = [
                        ({m: f"the worker failed: {why[0]}"[:200] for m in self.models}, {})
                    ] * len(self.inputs)
                else:
                    fitted = json.loads(self.out.read_text())
            finally:
                self.close()
        skipped = dict(self.skipped)
        params: dict[str, dict] = {m: {} for m in self.models}
        final: dict[str, dict] = {m: {} for m in self.models}
        seconds = dict.fromkeys(self.models, 0.0)
        for i, (out, took) in zip(self.inputs, fitted, strict=True):
            for m in self.models:
                if isinstance(out.get(m), str):
                    if not i.get("final"):  # a failed final fit leaves the training fit in place
                        skipped.setdefault(m, f"failed on series {i['name']!r}: {out[m]}")
                elif m in out:
                    (final if i.get("final") else params)[m][i["name"]] = out[m]
                    seconds[m] += took[m]
        models = [m for m in self.models if m not in skipped]
        return Classical(
            models,
            {m: params[m] for m in models},
            self.starts,
            list(self.seasons) if "mstl" in models else [],
            skipped,
            {m: round(seconds[m], 3) for m in models},
            {m: final[m] for m in models if final[m]},
            self.test_start,
        )

    def close(self) -> None:
        """Stop the worker (if it still runs) and remove its files: on an error or interrupt too."""
        if self.proc is not None:
            self.worker.close()
            self.proc = None


def drop_unusable(
    classical: Classical, forecasts: list[np.ndarray], arrays, horizon: int
) -> list[np.ndarray]:
    """Leave out a model whose forecasts are not finite at some validation or test origin (a
    multiplicative ETS on a series that turns negative): it could not be scored there."""
    keep = []
    for k, model in enumerate(classical.models):
        cols = slice(k * horizon, (k + 1) * horizon)
        scored = [
            (f, (a.split == VAL) | (a.split == TEST))
            for f, a in zip(forecasts, arrays, strict=True)
        ]
        bad = any(np.isnan(f[rows, cols]).any() for f, rows in scored)
        if bad:
            classical.skipped[model] = "not finite at some validation or test origin"
            classical.params.pop(model)
        else:
            keep.append(k)
    classical.models = [classical.models[k] for k in keep]
    return [
        np.concatenate([f[:, k * horizon : (k + 1) * horizon] for k in keep], 1)
        if keep
        else f[:, :0]
        for f in forecasts
    ]


def choose_base(
    arrays, designs, ar_coefficients: np.ndarray, classical: Classical, horizon: int
) -> dict:
    """The base: the model's own AR (the incumbent: its order and form already chosen on
    validation, with a unit-root rule) unless a challenger beats it, on validation, in scaled
    units with every series pooled. The challengers: each statistical model, and all candidates
    averaged with weights from their validation MSE (Stock & Watson: fitted combination weights
    are estimated badly; weights from the errors alone are robust). Persistence and seasonal
    naive were candidates too, and were dropped: on a handful of validation origins they drew
    weight they did not earn on test (airline passengers twelve months ahead 18% above the AR
    with them, 3% without; CO2 a year ahead 10% and 0.5%; the random walk gained 2%).

    - validation long enough to judge (MIN_INDEPENDENT_ORIGINS per step): the challenger with the
      lowest validation MSE replaces the AR only if it beats it beyond chance (one-sided
      Diebold-Mariano, 5%). Taking the lowest MSE alone chased noise: on a random walk AutoARIMA
      won validation by 0.2% and lost 3.6% to persistence on test, where the AR lost 2.5%;
    - too short to judge: the combination. Choosing among several models on a handful of
      origins is what goes wrong there (the AR's own choice lost to seasonal naive by up to 43%
      on short seasonal series); an average of forecasts whose errors differ is robust.

    The combination's weights are proportional to 1 / MSE^2. Measured on 17 short-validation runs
    (docs/forecasting.md, "The base"), as test RMSE over the AR's: equal weights geometric mean
    1.19, worst 2.21 (a weak model drags the average); 1 / MSE 0.97, worst 1.17; 1 / MSE^2 0.97,
    worst 1.05; the lowest validation MSE alone 0.99, worst 1.01 but never much better.

    Returns {"name", "weights" (candidate -> weight), "val_mse", "val_origins", "dm_t", "rule"}."""
    n_lag = ar_coefficients.shape[0]
    candidates = {"linear_ar": lambda d: d[:, :n_lag] @ ar_coefficients}
    for k, model in enumerate(classical.models):
        col = n_lag + k * horizon
        candidates[model] = lambda d, col=col: d[:, col : col + horizon]
    errors = {name: [] for name in candidates}
    for a, d in zip(arrays, designs, strict=True):
        rows = (a.split == VAL) & ~np.isnan(d).any(1)
        for name, f in candidates.items():
            errors[name].append(f(d[rows]) - a.y[rows])
    errors = {name: np.concatenate(e) for name, e in errors.items()}  # (n, H) each
    n = len(errors["linear_ar"])
    mse = {name: float(np.mean(e**2)) if n else np.inf for name, e in errors.items()}
    inverse = {name: 1 / v**2 for name, v in mse.items() if np.isfinite(v) and v > 0}
    total = sum(inverse.values())
    combination = {name: w / total for name, w in inverse.items()} if len(inverse) > 1 else None
    if combination:
        errors["combination"] = sum(w * errors[name] for name, w in combination.items())
        mse["combination"] = float(np.mean(errors["combination"] ** 2))
    record = {"val_mse": mse, "val_origins": n, "dm_t": None}
    if not n or not combination:
        return {
            "name": "linear_ar",
            "weights": {"linear_ar": 1.0},
            "rule": "no challenger",
            **record,
        }
    if n / horizon < MIN_INDEPENDENT_ORIGINS:
        return {
            "name": "combination",
            "weights": combination,
            "rule": "too few validation origins to choose",
            **record,
        }
    best = min((k for k in mse if k != "linear_ar"), key=mse.get)
    diff = (errors[best] ** 2).mean(1) - (errors["linear_ar"] ** 2).mean(1)
    record["dm_t"] = t = diebold_mariano(diff, horizon)
    if t < -DM_CRITICAL_5:
        weights = combination if best == "combination" else {best: 1.0}
        return {"name": best, "weights": weights, "rule": "beat the AR beyond chance", **record}
    return {
        "name": "linear_ar",
        "weights": {"linear_ar": 1.0},
        "challenger": best,
        "rule": "no challenger beat the AR beyond chance",
        **record,
    }


def base_weights(
    choice: dict, ar_coefficients: np.ndarray, models: list[str], horizon: int
) -> np.ndarray:
    """The choice as (D, H) coefficients on the model's design: the AR's lag columns, then
    `horizon` columns per statistical model."""
    n_lag = ar_coefficients.shape[0]
    W = np.zeros((n_lag + len(models) * horizon, horizon))
    for name, w in choice["weights"].items():
        if name == "linear_ar":
            W[:n_lag] += w * ar_coefficients
        else:
            k = models.index(name)
            W[n_lag + k * horizon : n_lag + (k + 1) * horizon] += w * np.eye(horizon)
    return W


def _steps_between(start: pd.Timestamp, t: pd.Timestamp, freq: str) -> int:
    """Steps of `freq` from `start` to `t` (negative before it)."""
    if t == start:
        return 0
    lo, hi = (start, t) if t > start else (t, start)
    n = len(pd.date_range(lo, hi, freq=freq)) - 1
    return n if t > start else -n


def start_classical(arrays, scaler_y, freq: str, season: int) -> ClassicalJob:
    """The statistical models fitted in the worker process (MSTL: periods from the step)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    step_days = pd.Timedelta(offset) / pd.Timedelta("1D") if fixed_step(freq) else None
    return ClassicalJob.start(arrays, scaler_y, season, statistical.seasons_of(season, step_days))


def collect_classical(job: ClassicalJob, arrays, scaler_y, freq: str, horizon: int, quiet: bool):
    """statsforecast's models from the worker, rolled through every origin: the fitted models and
    their forecasts per series ([] where none is usable; drop_unusable says why in `skipped`)."""
    if not quiet and not job.done():
        print("waiting for the statistical models ...", flush=True)
    classical = job.result()
    if not classical.models:
        return classical, []
    stat = classical.forecasts(arrays, scaler_y, freq, horizon)
    stat = drop_unusable(classical, stat, arrays, horizon)
    return classical, stat if classical.models else []
