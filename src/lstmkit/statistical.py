"""The statistical models forecasters reach for first, as statsforecast fits them: AutoETS,
AutoTheta, AutoARIMA and MSTL. Fitted once on one series' training part, then rolled through
every later origin with the parameters fixed: the forecast made at origin t uses y[:t+1] only,
exactly as the least-squares AR's does, so the two are scored on the same footing.

    params = fit("auto_ets", y_train, season=24)          # JSON: what roll() needs, nothing pickled
    f = roll("auto_ets", params, y, horizon=12)           # (T, 12): row t forecasts y[t+1..t+12]

statsforecast forecasts only from the end of the series it was given. Rolling its models through
thousands of origins by refitting, or by `forward` on each prefix, costs minutes to hours (MSTL
rolled through one test period took 24 minutes). Every model here is a state-space recursion, so
one pass with the fitted parameters gives the state at every origin, and each origin's forecast
comes from its state:
    ETS    statsforecast's own recursion (pegelsresid_C) for the states, its etsforecast from each.
    Theta  its pegels_resid for the states (a static model's trend line kept at the fit's), its
           forecast from each; the seasonal indices of the fit's decomposition, repeated.
    ARIMA  phi(B) Delta(B) (y_t - x_t b) = theta(B) e_t with the fitted phi, theta, Delta and
           regression b: the innovations e_t in one pass, then each origin's forecast by the
           recursion with future innovations zero (Box & Jenkins' conditional expectations; the
           same numbers as statsforecast's Kalman forecast once the filter has settled, which
           tests/test_statistical.py checks at the end of the fit).
    MSTL   the fit's seasonal components, repeated by each period (statsforecast forecasts them
           by seasonal naive too), plus its non-seasonal ETS on the rest, rolled as ETS.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

__all__ = [
    "LABELS",
    "MODELS",
    "Worker",
    "fit",
    "fit_many",
    "roll",
    "seasons_of",
    "take_worker",
    "warm_up",
]

FIT_WINDOW = 1000  # steps each model is fitted on at most (MSTL: its own window, set by the caller)
ETS_SEASONAL_WINDOW = (
    500  # AutoETS with a season of 13-24 (its seasonal states make it the slowest)
)


def window_of(model: str, season: int) -> int:
    """The most recent values a model is fitted on. AutoETS with a season of 13-24 took 0.4 s on
    500 values and 0.9-2 s on 1,000 (one core, a season of 24); beyond 24 it fits no season."""
    return ETS_SEASONAL_WINDOW if model == "auto_ets" and 12 < season <= 24 else FIT_WINDOW


MODELS = ("auto_ets", "auto_theta", "auto_arima", "mstl")
LABELS = {
    "auto_ets": "AutoETS",
    "auto_theta": "AutoTheta",
    "auto_arima": "AutoARIMA",
    "mstl": "MSTL",
}


def fit(name: str, y: np.ndarray, season: int, seasons: tuple[int, ...] = ()) -> dict:
    """Fit model `name` on y (1-D, finite) with statsforecast; the fixed parameters as JSON.
    `seasons`: MSTL's periods (two or more)."""
    y = np.asarray(y, dtype=np.float64)
    if name == "auto_ets":
        from statsforecast.models import AutoETS

        return _ets_params(AutoETS(season_length=season).fit(y).model_)
    if name == "auto_theta":
        from statsforecast.models import AutoTheta

        m = AutoTheta(season_length=season).fit(y).model_
        seasonal = None
        if m.get("decompose", False):  # the indices of the m steps after the fit, in order
            seasonal = {
                "type": m["decomposition_type"],
                "values": np.asarray(m["seas_forecast"]["mean"]).tolist(),
            }
        par = {k: float(v) for k, v in m["par"].items()}
        return {
            "modeltype": m["modeltype"],
            "par": par,
            "n": int(m["n"]),
            "seasonal": seasonal,
            "static": _static_trend(m),
            "nmse": 3,
        }
    if name == "auto_arima":
        from statsforecast.models import AutoARIMA

        m = AutoARIMA(season_length=season, approximation=True).fit(y).model_
        spec = m["model"]
        return {
            "phi": np.asarray(spec["phi"]).tolist(),
            "theta": np.asarray(spec["theta"]).tolist(),
            "delta": np.asarray(spec["delta"]).tolist(),
            "n": len(y),
            "intercept": float(m["coef"].get("intercept", 0.0)),
            "drift": float(m["coef"].get("drift", 0.0)),
            "arma": [int(v) for v in m["arma"]],
        }
    if name == "mstl":
        from statsforecast.models import MSTL

        periods = sorted(seasons)
        # statsforecast fits it anyway, with a seasonal shorter than its period
        if len(y) < 2 * periods[-1]:
            raise ValueError(
                f"MSTL: {len(y)} values, fewer than two of its longest period ({periods[-1]})"
            )
        fitted = MSTL(season_length=periods).fit(y)
        comps = {p: fitted.model_[f"seasonal{p}"].to_numpy() for p in periods}
        return {
            "periods": periods,
            "n": len(y),
            "trend": _ets_params(fitted.trend_forecaster.model_),
            "seasonal": {str(p): c[-p:].tolist() for p, c in comps.items()},
        }
    raise ValueError(f"unknown statistical model {name!r}")


def roll(name: str, params: dict, y: np.ndarray, horizon: int, offset: int = 0) -> np.ndarray:
    """(T, horizon): row t holds the forecasts of y[t+1..t+horizon] made from y[:t+1] with the
    fitted parameters. `offset`: the step of y[0] counted from the first step the model was fitted
    on (seasonal phases and ARIMA's drift count from there; the recursions start from the fit's
    initial state, so with an offset the first steps' forecasts are approximate until the state
    has settled). NaN where the recursion is not finite."""
    y = np.asarray(y, dtype=np.float64)
    if name == "auto_ets":
        out = _roll_ets(params, y, horizon, offset)
    elif name == "auto_theta":
        out = _roll_theta(params, y, horizon, offset)
    elif name == "auto_arima":
        out = _roll_arima(params, y, horizon, offset)
    elif name == "mstl":
        seasonal = sum(
            _repeat(np.asarray(v), int(p), params["n"] - offset, len(y) + horizon)
            for p, v in params["seasonal"].items()
        )
        out = _roll_ets(params["trend"], y - seasonal[: len(y)], horizon)
        out += _ahead(seasonal, len(y), horizon)
    else:
        raise ValueError(f"unknown statistical model {name!r}")
    out[~np.isfinite(out)] = np.nan
    return out


# ---- ETS ----------------------------------------------------------------------------------------


def _ets_params(m: dict) -> dict:
    return {
        "components": m["components"],
        "m": int(m["m"]),
        "par": np.asarray(m["par"], dtype=float).tolist(),
    }


def _roll_ets(params: dict, y: np.ndarray, horizon: int, offset: int = 0) -> np.ndarray:
    """statsforecast's ETS recursion (its C++ `calc`, what pegelsresid_C runs) for the state at
    every step, then each origin's point forecast from its state (Hyndman et al. 2008, table 2.1),
    every origin at once."""
    # the C++ core alone: statsforecast.ets imports statsmodels
    from statsforecast._lib import (
        ets as _ets,
    )

    errortype, trendtype, seasontype, damped = params["components"]
    par, m = np.asarray(params["par"]), params["m"]
    alpha, beta, gamma, phi = par[:4]
    phi = phi if damped != "N" else 1.0
    init = par[4:].copy()
    first = 1 + (trendtype != "N")  # the seasonal states (newest first) follow the level and trend
    if seasontype != "N" and offset % m:  # turned to y[0]'s phase
        init[first : first + m] = np.roll(init[first : first + m], offset % m)
    k = len(init)
    states = np.full(k * (len(y) + 1), np.nan)
    states[:k] = init
    component = {
        "N": _ets.Component.Nothing,
        "A": _ets.Component.Additive,
        "M": _ets.Component.Multiplicative,
    }
    with np.errstate(all="ignore"):
        _ets.calc(
            states,
            np.full(len(y), np.nan),
            np.full(3, np.nan),
            3,
            y,
            component[errortype],
            component[trendtype],
            component[seasontype],
            alpha,
            0.0 if trendtype == "N" else beta,
            0.0 if seasontype == "N" else gamma,
            phi,
            m,
        )
        x = states.reshape(len(y) + 1, k)[1:]  # row t: the state once y[t] is known
        h = np.arange(1, horizon + 1)
        # phi + (phi + phi^2 + ... + phi^(h-1)): statsforecast's C++ forecast (R's etscalc.c) sums
        # the
        # damping so, one phi more than Hyndman et al.'s phi + ... + phi^h; h when undamped
        damp = phi + np.r_[0.0, np.cumsum(phi ** h[:-1])]
        level = x[:, :1]
        if trendtype == "A":
            out = level + damp * x[:, 1:2]
        elif trendtype == "M":
            out = level * x[:, 1:2] ** damp
        else:
            out = np.repeat(level, horizon, 1)
        if seasontype != "N":
            season = x[:, first + m - 1 - (h - 1) % m]  # s_{t+h-m}, the same phase a season back
            out = out + season if seasontype == "A" else out * season
    return out


# ---- Theta --------------------------------------------------------------------------------------


def _static_trend(m: dict) -> list | None:
    """A static Theta model (STM, OTM) fits its trend line on the whole series it sees; rolled on,
    it keeps the fit's line (columns An, Bn of the states) rather than refit it on later data."""
    return (
        None
        if m["modeltype"].startswith("D")
        else np.asarray(m["states"][-1, 2:4], dtype=float).tolist()
    )


def _roll_theta(params: dict, y: np.ndarray, horizon: int, offset: int = 0) -> np.ndarray:
    seasonal = params["seasonal"]
    index = None
    if seasonal:
        index = _repeat(
            np.asarray(seasonal["values"]),
            len(seasonal["values"]),
            params["n"] - offset,
            len(y) + horizon,
        )
        y = y / index[: len(y)] if seasonal["type"] == "multiplicative" else y - index[: len(y)]
    par = params["par"]
    states = _theta_states(y, par["initial_smoothed"], par["alpha"], par["theta"], params["static"])
    out = _theta_ahead(states, horizon, par["alpha"], par["theta"], params["static"] is None)
    if seasonal:
        ahead = _ahead(index, len(y), horizon)
        out = out * ahead if seasonal["type"] == "multiplicative" else out + ahead
    return out


def _theta_states(
    y: np.ndarray, initial: float, alpha: float, theta: float, static: list | None
) -> np.ndarray:
    """(T, 5) states (level, mean, A_n, B_n, mu) once each y[t] is known: the recursion of
    statsforecast's pegels_resid (Fiorucci et al. 2016), without its multi-step error sums
    (0.8 s on 33,000 values there, a plain loop here); tests/test_statistical.py holds the two
    equal. A static model keeps the fit's trend line (A_n, B_n); a dynamic one updates it."""
    out = np.empty((len(y), 5))
    if not len(y):
        return out
    c, keep = 1 - 1 / theta, 1 - alpha
    level, mean = alpha * y[0] + keep * initial, y[0]
    A, B = (static[0], static[1]) if static is not None else (y[0], 0.0)
    out[0] = level, mean, A, B, y[0]
    decay = 1.0  # (1 - alpha)^i, kept by multiplication
    for i in range(1, len(y)):
        decay *= keep
        v = float(y[i])
        mu = level + c * (A * decay + B * (1 - decay * keep) / alpha)
        level = alpha * v + keep * level
        new_mean = (i * mean + v) / (i + 1)
        if static is None:
            B = ((i - 1) * B + 6 * (v - mean) / (i + 1)) / (i + 2)
            A = new_mean - B * (i + 2) / 2
        mean = new_mean
        out[i] = level, mean, A, B, mu
    return out


def _theta_ahead(
    states: np.ndarray, horizon: int, alpha: float, theta: float, dynamic: bool
) -> np.ndarray:
    """Every origin's forecasts from its state (level, mean, A_n, B_n, mu) at once: the model's own
    update run forward with each forecast as the next value, as statsforecast's C++ `forecast`
    does one origin at a time (tests/test_statistical.py holds the two equal)."""
    level, mean, A, B = (states[:, j].copy() for j in range(4))
    i = np.arange(1, len(states) + 1, dtype=float)  # the number of values seen at each origin
    c = 1 - 1 / theta
    out = np.empty((len(states), horizon))
    with np.errstate(all="ignore"):
        for k in range(horizon):
            n = i + k
            mu = level + c * (A * (1 - alpha) ** n + B * (1 - (1 - alpha) ** (n + 1)) / alpha)
            out[:, k] = mu
            level = alpha * mu + (1 - alpha) * level
            new_mean = (n * mean + mu) / (n + 1)
            if dynamic:
                B = ((n - 1) * B + 6 * (mu - mean) / (n + 1)) / (n + 2)
                A = new_mean - B * (n + 2) / 2
            mean = new_mean
    out[~np.isfinite(states).all(1)] = np.nan
    return out


# ---- ARIMA --------------------------------------------------------------------------------------


def _roll_arima(params: dict, y: np.ndarray, horizon: int, offset: int = 0) -> np.ndarray:
    """Conditional expectations of phi(B) Delta(B) z_t = theta(B) e_t, z_t = y_t - mean_t."""
    T = len(y)
    # statsforecast's drift regressor counts from 1
    t = np.arange(1, T + horizon + 1, dtype=float) + offset
    mean = params["intercept"] + params["drift"] * t
    z = y - mean[:T]
    ar = np.polymul(
        np.r_[1.0, -np.asarray(params["phi"])], np.r_[1.0, -np.asarray(params["delta"])]
    )
    a = -ar[1:]  # z_t = sum_k a_k z_{t-k} + e_t + sum_j b_j e_{t-j}
    b = _invertible(np.asarray(params["theta"], dtype=float))
    p, q = len(a), len(b)
    e = _innovations(z, a, b)
    out = np.full((T, horizon), np.nan)
    start = p  # the first origin with every lag observed
    if T <= start:
        return out
    origins = np.arange(start, T)
    zhat = np.zeros((len(origins), horizon))
    for h in range(1, horizon + 1):
        acc = np.zeros(len(origins))
        for k in range(1, p + 1):
            if a[k - 1] == 0.0:
                continue
            s = h - k  # offset from the origin: observed if <= 0, else an earlier forecast
            acc += a[k - 1] * (z[origins + s] if s <= 0 else zhat[:, s - 1])
        for j in range(h, q + 1):  # innovations still in the past at t + h - j <= t
            if b[j - 1] != 0.0:
                acc += b[j - 1] * e[origins + h - j]
        zhat[:, h - 1] = acc
    out[origins] = zhat + mean[origins[:, None] + np.arange(1, horizon + 1)[None, :]]
    return out


def _invertible(b: np.ndarray) -> np.ndarray:
    """The invertible MA polynomial with the same autocovariances: each root of 1 + b_1 z + ...
    inside the unit circle replaced by its reciprocal (Box & Jenkins; R's arima does the same).
    statsforecast may fit a non-invertible MA (the Nile: ma1 = -1.16), which its Kalman filter
    forecasts well but whose innovations, computed forwards, explode."""
    if not len(b) or not b.any():
        return b
    poly = np.r_[1.0, b]
    last = np.flatnonzero(poly)[-1]
    roots = np.roots(poly[: last + 1][::-1])  # np.roots wants the highest power first
    inside = np.abs(roots) < 1
    if not inside.any():
        return b
    roots[inside] = 1 / np.conj(roots[inside])
    flipped = np.real(np.poly(roots))[::-1]  # lowest power first, up to a constant
    flipped = flipped / flipped[0]
    out = np.zeros_like(b)
    out[:last] = flipped[1 : last + 1]
    return out


def _innovations(z: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """e_t = z_t - sum a_k z_{t-k} - sum b_j e_{t-j}, starting from zero innovations before the
    first complete lag set (the conditional-sum-of-squares start; the transient dies out for an
    invertible MA)."""
    p, q = len(a), len(b)
    e = np.zeros(len(z))
    if len(z) <= p:
        return e
    w = z[p:] - sum(a[k - 1] * z[p - k : len(z) - k] for k in range(1, p + 1) if a[k - 1] != 0.0)
    if not q or not b.any():
        e[p:] = w
        return e
    rev = b[::-1]  # e[t-q..t-1] . rev = sum_j b_j e_{t-j}
    padded = np.zeros(q + len(w))
    for t in range(len(w)):  # the MA side is recursive: a loop, q multiply-adds a step
        padded[q + t] = w[t] - padded[t : t + q] @ rev
    e[p:] = padded[q:]
    return e


# ---- shared -------------------------------------------------------------------------------------


def _repeat(last_cycle: np.ndarray, period: int, n_fit: int, length: int) -> np.ndarray:
    """A seasonal component over times 0..length-1 from its `period` values at n_fit..n_fit+period-1
    (or the fit's last cycle, n_fit-period..n_fit-1: the same phase, a period earlier)."""
    idx = (np.arange(length) - n_fit) % period
    return np.asarray(last_cycle, dtype=float)[idx]


def _ahead(values: np.ndarray, T: int, horizon: int) -> np.ndarray:
    """(T, horizon): values[t + h] for each origin t and step h."""
    return values[np.arange(T)[:, None] + np.arange(1, horizon + 1)[None, :]]


def seasons_of(season: int, step_days: float | None) -> tuple[int, ...]:
    """MSTL's periods: the season and, for sub-daily data whose season is a day, a week."""
    if step_days is None or step_days >= 1 or season < 2:
        return ()
    week = 7 / step_days
    return (
        (season, round(week)) if math.isclose(season * step_days, 1.0) and week.is_integer() else ()
    )


def fit_many(request: dict) -> list[tuple[dict, dict]]:
    """Fit request["models"] on each of request["series"] ({"y", "start_offset", ...}): per series
    ({model: params, or the library's error as a string}, {model: seconds}). Each model but MSTL
    on the last FIT_WINDOW values; a params' "start_offset" is its first value's step in the
    segment."""
    season, seasons = request["season"], tuple(request["seasons"])
    results = []
    for series in request["series"]:
        y = np.asarray(series["y"], dtype=np.float64)
        out, took = {}, {}
        for m in request["models"]:
            cut = 0 if m == "mstl" else max(0, len(y) - window_of(m, season))
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p = fit(m, y[cut:], season, seasons)
            except Exception as e:
                out[m] = f"{type(e).__name__}: {e}"[:200]
                continue
            took[m] = time.perf_counter() - t0
            p["start_offset"] = int(series["start_offset"]) + cut
            out[m] = p
        results.append((out, took))
    return results


class Worker:
    """`python -m lstmkit.statistical DIR`, started and importing statsforecast, waiting for
    send(). A plain subprocess, not multiprocessing, whose spawn would re-import the user's main
    script (and fail in one without an `if __name__ == "__main__"` guard)."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="lstmkit-statistical-")
        self.folder = pathlib.Path(self.dir.name)
        env = {
            **os.environ,
            **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1"),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lstmkit.statistical", str(self.folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )

    def send(self, request: dict) -> None:
        (self.folder / "in.json").write_text(json.dumps(request))
        self.proc.stdin.write(b"go\n")  # a few bytes: never blocks, whatever the worker is doing
        self.proc.stdin.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stderr):
            if pipe and not pipe.closed:
                pipe.close()
        self.dir.cleanup()


_warm: Worker | None = None


def warm_up() -> None:
    """Start the worker now, so that its imports overlap this process's (the CLI calls it before
    importing torch). A worker never used exits when this process does: its stdin closes."""
    global _warm
    if _warm is None and (os.cpu_count() or 1) > 1:
        _warm = Worker()


def take_worker() -> Worker:
    """The warmed-up worker if there is one, else a new one."""
    global _warm
    worker, _warm = _warm or Worker(), None
    return worker


def _serve(folder: str) -> None:
    """The forecaster's worker: `python -m lstmkit.statistical DIR`. Imports statsforecast first
    (2 s: started early, it overlaps the parent's own imports), then waits for a line on stdin:
    "go" fits DIR/in.json into DIR/out.json; end of input (the parent gone or done) exits."""
    import statsforecast.models  # noqa: F401 - the import is the point: done while the parent reads its data

    if sys.stdin.readline().strip() != "go":
        return
    folder = pathlib.Path(folder)
    fitted = fit_many(json.loads((folder / "in.json").read_text()))
    tmp = folder / "out.json.tmp"
    tmp.write_text(json.dumps(fitted))
    tmp.replace(folder / "out.json")


if __name__ == "__main__":
    _serve(sys.argv[1])
