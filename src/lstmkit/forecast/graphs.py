"""A fitted forecaster as two torch modules from raw inputs to forecasts in the target's units:
what `Forecaster.update` steps, and what `lstmkit export` turns into ONNX.

    Whole   target (N, T), past (N, T, P), time (N, T), series (N,)
            -> forecast (N, H, Q) from the last step, and the state after it
    Step    one observation per series and the state -> forecast (N, H, Q) and the new state

Both compute what `Forecaster.predict` computes (estimator.py), step by step:
  scale      y_s = (y - mean[series]) / std[series], each covariate the same (data/scaling.py)
  calendar   sin/cos of the hour, weekday, day of year or month of the *next* step, from the
             time in int64 milliseconds since 1970 (data.windows.calendar_features)
  base       the skip path's design · W: W's lag columns as a causal convolution over
             [y_s, past_s] (lag k at tap k), the calendar columns, the constant (inputs.lag_designs)
  error      e[t] = y_s[t] - base_1[t - 1], 0 where the design of t - 1 lacked lags
             (inputs.add_base_errors)
  LSTM       x[t] = [y_s, past_s, calendar, e]: every-step carries the state from the first step;
             windows reads the last `window` rows from a zero state (schemes.py)
  heads      head(h) + base, the conformal offsets per series, then the inverse scaling
             (predict.forecast_frame)

The state between steps, per series (batch row n):
  lags      (N, p, 1 + P)  [y_s, past_s] at t, t-1, ..., t-p+1 (newest first; zeros before
                           the segment starts)
  one_step  (N,)           the base's one-step forecast made at t
  count     (N,) int64     steps since the segment began (a gap longer than max_gap begins one)
  h, c ...  (layers, N, ·) the LSTM's state (every-step), or
  window    (N, W, F)      the last W rows of x (windows)
A forecast is NaN until `count` reaches what predict needs: max(window, p) + 1 steps.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from ..config import LstmkitError
from ..data.io import series_id
from .inputs import fixed_step

__all__ = [
    "MS_PER_DAY",
    "Graphs",
    "calendar_of",
    "fixed_ms",
    "next_time",
    "series_axis",
    "to_ms",
]

MS_PER_DAY = 86_400_000
# 400 Gregorian years: whole weeks and whole leap cycles, so shifting by it changes no weekday or
# date; it makes every time pandas can hold (from 1677) positive, where integer division floors
_ERA_DAYS = 146_097
_MONTHLY = {
    "MonthBegin": 1,
    "MonthEnd": 1,
    "BusinessMonthBegin": 1,
    "BusinessMonthEnd": 1,
    "QuarterBegin": 3,
    "QuarterEnd": 3,
    "BQuarterBegin": 3,
    "BQuarterEnd": 3,
    "YearBegin": 12,
    "YearEnd": 12,
    "BYearBegin": 12,
    "BYearEnd": 12,
}


@functools.lru_cache(maxsize=64)
def fixed_ms(freq: str) -> int | None:
    """The step in whole milliseconds; None where it is not fixed (months, business days) or
    not a whole number of them."""
    if not fixed_step(freq):
        return None
    ms = pd.Timedelta(pd.tseries.frequencies.to_offset(freq)) / pd.Timedelta("1ms")
    return int(ms) if ms == int(ms) and ms >= 1 else None


def to_ms(times) -> np.ndarray:
    """Times as the graphs read them: int64 milliseconds since 1970."""
    return pd.DatetimeIndex(times).as_unit("ms").asi8.astype(np.int64)


def series_axis(name: str) -> int:
    """The axis of a state tensor that runs over series: 1 for an LSTM's (layers, N, size)
    states, 0 for the rest."""
    return 1 if name in ("h", "c", "a") else 0


def step_rule(freq: str) -> tuple[str, int]:
    """How the graph finds the next step's time: ("ms", step in ms) for a fixed step, ("week",
    7 n days), ("business", 1) or ("months", months per step); a one-line error otherwise."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if fixed_step(freq):
        if fixed_ms(freq) is None:
            raise LstmkitError(f"export: a step of {freq!r} is not a whole number of milliseconds")
        return "ms", fixed_ms(freq)
    kind = type(offset).__name__
    if isinstance(offset, pd.offsets.Week):
        return "week", 7 * offset.n
    if isinstance(offset, pd.offsets.BusinessDay) and offset.n == 1:
        return "business", 1
    if _MONTHLY.get(kind):
        return "months", _MONTHLY[kind] * offset.n
    raise LstmkitError(f"export: the step {freq!r} ({kind}) has no graph for its calendar")


def _floor_div(a: Tensor, b: int) -> Tensor:
    return torch.div(a, b, rounding_mode="floor")


def _civil(days: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Days since 1970 shifted by 400 years (non-negative) -> (year, month 1-12, day of year
    0-365): Howard Hinnant's civil_from_days, integer arithmetic only."""
    z = days + 719_468
    era = _floor_div(z, _ERA_DAYS)
    doe = z - era * _ERA_DAYS
    yoe = _floor_div(
        doe - _floor_div(doe, 1460) + _floor_div(doe, 36524) - _floor_div(doe, 146096), 365
    )
    year = yoe + era * 400
    from_march = doe - (365 * yoe + _floor_div(yoe, 4) - _floor_div(yoe, 100))  # Mar 1 = 0
    mp = _floor_div(5 * from_march + 2, 153)
    month = torch.where(mp < 10, mp + 3, mp - 9)
    year = year + (month <= 2).to(year.dtype)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    day_of_year = torch.where(month >= 3, from_march + 59 + leap.to(year.dtype), from_march - 306)
    return year, month, day_of_year


def next_time(ms: Tensor, rule: tuple[str, int]) -> Tensor:
    """The time of the step after `ms` (int64 ms since 1970, any shape); months-based steps move
    only the month (what their calendar reads), returned as a time in that month's first day."""
    kind, n = rule
    if kind == "ms":
        return ms + n
    if kind == "week":
        return ms + n * MS_PER_DAY
    shifted = ms + _ERA_DAYS * MS_PER_DAY
    days = _floor_div(shifted, MS_PER_DAY)
    if kind == "business":  # Friday, Saturday, Sunday -> Monday (pandas: Monday is 0)
        weekday = (days + 3) % 7
        ahead = torch.where(weekday == 4, 3, torch.where(weekday == 5, 2, 1))
        return ms + ahead * MS_PER_DAY
    year, month, _ = _civil(days)
    months = year * 12 + (month - 1) + n
    year, month0 = _floor_div(months, 12), months % 12
    # the first of that month, in days since the shifted epoch (days_from_civil)
    y = year - (month0 < 2).to(year.dtype)
    era = _floor_div(y, 400)
    yoe = y - era * 400
    mp = torch.where(month0 >= 2, month0 - 2, month0 + 10)
    doy = _floor_div(153 * mp + 2, 5)
    doe = yoe * 365 + _floor_div(yoe, 4) - _floor_div(yoe, 100) + doy
    first = era * _ERA_DAYS + doe - 719_468
    return (first - _ERA_DAYS) * MS_PER_DAY


@functools.lru_cache(maxsize=64)
def _cycles(freq: str) -> tuple[bool, bool, bool]:
    """Which cycles calendar_features shows for `freq`: (hour of day, weekday and day of year,
    month of year); parsed once per frequency (a step graph runs per observation)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    step = pd.Timedelta(offset) if fixed_step(freq) else None
    if step is None and isinstance(offset, pd.offsets.BusinessDay | pd.offsets.CustomBusinessDay):
        step = pd.Timedelta("1D")
    day = pd.Timedelta("1D")
    return step is not None and step < day, step is not None and step <= day, step is None


def calendar_of(ms: Tensor, freq: str, dtype=torch.float32) -> Tensor:
    """data.windows.calendar_features of the times `ms` (int64 ms since 1970, any shape) as
    (..., C): the same cycles for the same frequency."""
    hourly, daily, monthly = _cycles(freq)
    shifted = ms + _ERA_DAYS * MS_PER_DAY
    days = _floor_div(shifted, MS_PER_DAY)
    cols = []

    def cycle(value: Tensor, period: float):
        angle = value.to(dtype) * (2 * np.pi / period)
        cols.extend([torch.sin(angle), torch.cos(angle)])

    if hourly:
        minutes = _floor_div(shifted - days * MS_PER_DAY, 60_000)  # pandas: hour + minute / 60
        cycle(minutes.to(dtype) / 60.0, 24.0)
    if daily:
        cycle((days + 3) % 7, 7.0)
        cycle(_civil(days)[2], 365.25)
    if monthly:
        cycle(_civil(days)[1] - 1, 12.0)
    if not cols:
        return torch.zeros((*ms.shape, 0), dtype=dtype)
    return torch.stack(cols, -1)


class _Fitted(nn.Module):
    """What both graphs hold: the scalers and offsets as tables indexed by series, the base's
    coefficients split by role, the LSTM and its head."""

    def __init__(self, fc, lstm: nn.Module | None = None):
        super().__init__()
        s, cfg, model = fc.state, fc.config, fc.model
        if s.design_size != s.n_lag_columns:
            chosen = ", ".join(s.classical.models) if s.classical else "statistical models"
            raise LstmkitError(
                f"--run: its base holds statsforecast's models ({chosen}), which carry no state a "
                "graph can step; refit with --statistical off to stream or export"
            )
        self.freq, self.rule = s.freq, step_rule(s.freq)
        self.names = series_names(s)
        self.p, self.P = s.ar_order, len(s.past_covariates)
        q = min(self.p, s.season)
        self.window, self.stateful = cfg.train.window, cfg.train.scheme == "every-step"
        self.need = max(cfg.train.window, s.ar_order) + 1
        self.horizon, self.n_quantiles = model.horizon, model.n_quantiles
        self.median = cfg.model.median_index
        # (H, D): p target lags, q per covariate, calendar, 1. In float64: the AR sums hundreds
        # of lags (168 hours of 7 columns for NYC), and float32 sums in two runtimes' orders
        # differed by 1.4e-5 °F, past export's 1e-5
        W = model.skip.weight.detach().double()
        lag = torch.zeros((self.horizon, 1 + self.P, self.p), dtype=torch.float64)
        lag[:, 0] = W[:, : self.p]
        for j in range(self.P):
            lag[:, 1 + j, :q] = W[:, self.p + j * q : self.p + (j + 1) * q]
        start = self.p + q * self.P
        self.register_buffer("w_lag", lag)  # (H, 1 + P, p): tap k is lag k
        # the same as (p (1 + P), H), lag-major: one step's flattened lags times it is one
        # MatMul, laid out once here rather than at every step
        self.register_buffer("w_taps", lag.permute(2, 1, 0).flatten(0, 1).contiguous())
        self.register_buffer("w_calendar", W[:, start:-1].clone())
        self.register_buffer("w_constant", W[:, -1].clone())
        rows = [s.scaler_y.get(n) for n in self.names] + [s.scaler_y.pooled]
        xrows = [s.scaler_x.get(n) for n in self.names] + [s.scaler_x.pooled]
        mean = [
            np.concatenate([r.mean[:1], x.mean[: self.P]]) for r, x in zip(rows, xrows, strict=True)
        ]
        std = [
            np.concatenate([r.std[:1], x.std[: self.P]]) for r, x in zip(rows, xrows, strict=True)
        ]
        # The scaling both ways, and the offsets, in float64 whatever the network's type: the
        # target's units are not the network's (NYC's 50-90 °F in float32 have a step of 4-8e-6,
        # and two runtimes rounding the last affine map apart differed by 1.5e-5, past export's
        # 1e-5); predict scales in float64 too.
        self.register_buffer("mean", torch.as_tensor(np.array(mean), dtype=torch.float64))
        self.register_buffer("std", torch.as_tensor(np.array(std), dtype=torch.float64))
        offsets, shifted = _offset_table(s, cfg.model, self.names, self.horizon)
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.float64))
        self.register_buffer("shifted", torch.as_tensor(shifted))  # (Q,) bool
        self.lstm = lstm if lstm is not None else model.lstm
        self.head = model.head
        own = model.lstm  # lstmkit's layer (`lstm` may be torch's twin of it)
        self.state_names = tuple(own.cell_type.state_names) if self.stateful else ("window",)
        self.state_shapes = [
            (own.num_layers, size) for size in own.cell_type.state_sizes(own.hidden_size)
        ]

    @property
    def dtype(self) -> torch.dtype:
        """The network's (float64 where a caller converted it); the base and scaling run in
        float64 whatever it is."""
        return self.head.weight.dtype

    # ---- pieces both graphs run -----------------------------------------------------------

    def scaled(self, target: Tensor, past: Tensor, series: Tensor) -> Tensor:
        """[y, past] (..., 1 + P) scaled, float64; series (N,) indexes the tables."""
        z = torch.cat([target.unsqueeze(-1), past], -1).to(torch.float64)
        mean, std = self.mean[series], self.std[series]  # (N, 1 + P)
        if z.dim() == 3:
            mean, std = mean.unsqueeze(1), std.unsqueeze(1)
        return (z - mean) / std

    def calendar(self, time: Tensor) -> Tensor:
        return calendar_of(next_time(time, self.rule), self.freq, torch.float64)

    def out(self, h: Tensor, base: Tensor, series: Tensor, ready: Tensor) -> Tensor:
        """The forecast (N, H, Q), float64, in the target's units, from the last hidden state
        (N, hidden), the base (N, H) and whether each series has the steps predict needs."""
        correction = self.head(h).view(-1, self.horizon, self.n_quantiles).to(torch.float64)
        pred = correction + base.unsqueeze(-1)
        median = pred[..., self.median : self.median + 1]
        pred = torch.where(self.shifted, median + self.offsets[series], pred)
        mean = self.mean[series][:, :1].unsqueeze(-1)
        std = self.std[series][:, :1].unsqueeze(-1)
        pred = pred * std + mean
        return torch.where(ready.view(-1, 1, 1), pred, torch.full_like(pred, float("nan")))

    def run_lstm(self, x: Tensor, states: list[Tensor]):
        hx = None if not states else states[0] if len(states) == 1 else tuple(states)
        h, new = self.lstm(x, hx)
        return h, [new] if isinstance(new, Tensor) else list(new)


class Whole(_Fitted):
    """The forecast from the last step of whole series (every row of the batch T steps on the
    grid, no gap) and the state after it (what Step continues from)."""

    def forward(self, target: Tensor, past: Tensor, time: Tensor, series: Tensor):
        z = self.scaled(target, past, series)  # (N, T, 1 + P)
        cal = self.calendar(time)  # (N, T, C)
        # the lag columns, tap by tap: base[t] = sum_k w_lag[:, :, k] . z[t - k] (a causal
        # convolution; onnxruntime has no float64 Conv, and a (T, p, C) lag array would be
        # 1 GB for 10^5 hourly steps of NYC's 168 x 7 lags)
        padded = nn.functional.pad(z, (0, 0, self.p - 1, 0))  # zeros before the first step
        base = cal @ self.w_calendar.T + self.w_constant  # (N, T, H)
        for k in range(self.p):
            base = base + padded[:, self.p - 1 - k : (-k or None)] @ self.w_lag[:, :, k].T
        t = torch.ones_like(time[:1]).cumsum(1) - 1  # (1, T): 0, 1, ..., T - 1
        one_step = base[..., 0]
        earlier = nn.functional.pad(one_step, (1, 0))[:, :-1]  # one_step[t - 1]
        used = t >= self.p  # the design of t - 1 had all its lags
        error = torch.where(used, z[..., 0] - earlier, torch.zeros_like(earlier))
        x = torch.cat([z, cal, error.unsqueeze(-1)], -1).to(self.dtype)  # (N, T, F)
        if self.stateful:
            h, states = self.run_lstm(x, [])
        else:
            window = x[:, -self.window :]
            h, _ = self.run_lstm(window, [])
            if window.shape[1] < self.window:  # fewer steps than a window (no forecast yet)
                window = nn.functional.pad(window, (0, 0, self.window - window.shape[1], 0))
            states = [window]
        count = torch.ones_like(time).sum(1)  # T for every series
        forecast = self.out(h[:, -1], base[:, -1], series, count >= self.need)
        lags = nn.functional.pad(z, (0, 0, self.p - 1, 0))[:, -self.p :].flip(1)  # newest first
        return (forecast, lags, one_step[:, -1], count, *states)


class Step(_Fitted):
    """One observation per series from the state after the previous one (on the grid, the next
    step: a gap is interpolated or begins a new segment before this runs; stream.py)."""

    def forward(self, target, past, time, series, lags, one_step, count, *states):
        z = self.scaled(target, past, series)  # (N, 1 + P)
        lags = torch.cat([z.unsqueeze(1), lags[:, :-1]], 1)  # (N, p, 1 + P), newest first
        count = count + 1
        cal = self.calendar(time)  # (N, C)
        base = lags.flatten(1) @ self.w_taps + cal @ self.w_calendar.T  # (N, H)
        base = base + self.w_constant
        used = count >= self.p + 1  # the design of the previous step was complete
        error = torch.where(used, z[:, 0] - one_step, torch.zeros_like(one_step))
        x = torch.cat([z, cal, error.unsqueeze(-1)], -1).to(self.dtype).unsqueeze(1)  # (N, 1, F)
        if self.stateful:
            h, states = self.run_lstm(x, list(states))
            h = h[:, -1]
        else:
            window = torch.cat([states[0][:, 1:], x], 1)
            h, _ = self.run_lstm(window, [])
            h, states = h[:, -1], [window]
        forecast = self.out(h, base, series, count >= self.need)
        return (forecast, lags, base[:, 0], count, *states)


class Graphs:
    """Both modules of one fitted forecaster, and the shapes of the state they pass on."""

    def __init__(self, fc, lstm: nn.Module | None = None):
        self.whole, self.step = Whole(fc, lstm).eval(), Step(fc, lstm).eval()
        self._traced: dict = {}  # the traced one-series step, per dtype (step_of)
        self.rows = {name: k for k, name in enumerate(self.step.names)}

    def index(self, names) -> Tensor:
        """Each series' row in the tables (the last row: a series fit never saw)."""
        unseen = len(self.rows)
        return torch.as_tensor([self.rows.get(n, unseen) for n in names], dtype=torch.int64)

    def inputs(self, segments, dtype=torch.float64) -> list[Tensor]:
        """Whole's inputs for equally long prepared segments, values as read: target (N, T),
        past (N, T, P), time (N, T) in ms, series (N,)."""
        return [
            torch.as_tensor(np.stack([s.target for s in segments]), dtype=dtype),
            torch.as_tensor(np.stack([s.past for s in segments]), dtype=dtype),
            torch.as_tensor(np.stack([to_ms(s.times) for s in segments])),
            self.index([series_id(s.series) for s in segments]),
        ]

    def blank(self, n: int) -> dict[str, Tensor]:
        """The state of `n` series before their first step."""
        g, dtype = self.step, self.step.dtype
        state = {
            "lags": torch.zeros((n, g.p, 1 + g.P), dtype=torch.float64),
            "one_step": torch.zeros(n, dtype=torch.float64),
            "count": torch.zeros(n, dtype=torch.int64),
        }
        if g.stateful:
            for name, (layers, size) in zip(g.state_names, g.state_shapes, strict=True):
                state[name] = torch.zeros((layers, n, size), dtype=dtype)
        else:
            F = 2 + g.P + g.w_calendar.shape[1]
            state["window"] = torch.zeros((n, g.window, F), dtype=dtype)
        return state

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("lags", "one_step", "count", *self.step.state_names)

    def step_of(self, n: int):
        """The step for a batch of n series: for one series (a live feed) traced once with
        torch.jit.trace, which runs its hundred small operations without Python between them
        (0.48 -> 0.29 ms for the NYC model, the same numbers); the module itself otherwise."""
        if n != 1:
            return self.step
        key = self.step.dtype
        if key not in self._traced:
            g = self.step
            example = [
                torch.zeros(1, dtype=torch.float64),
                torch.zeros((1, g.P), dtype=torch.float64),
                torch.zeros(1, dtype=torch.int64),
                torch.zeros(1, dtype=torch.int64),
                *self.blank(1).values(),
            ]
            try:
                with warnings.catch_warnings(), torch.no_grad():
                    warnings.simplefilter("ignore")
                    self._traced[key] = torch.jit.trace(g, tuple(example), check_trace=False)
            except RuntimeError:  # a variant's TorchScript time loop does not trace: as it is
                self._traced[key] = g
        return self._traced[key]


def series_names(s) -> list[str]:
    """The series the fitted tables know, in a fixed order; any other one takes the last row
    (the pooled scaler and the first series' offsets, as predict does)."""
    names = set(s.scaler_y.series) | set(s.scaler_x.series)
    if s.conformal:
        names |= set(s.conformal["offsets"])
    return sorted(names)


def _offset_table(s, model, names: list[str], horizon: int):
    """(S + 1, H, Q) conformal offsets from the median and (Q,) which quantiles take them."""
    levels = model.levels
    Q = max(1, len(levels))
    table = np.zeros((len(names) + 1, horizon, Q))
    shifted = np.zeros(Q, bool)
    if not s.conformal:
        return table, shifted
    offsets = s.conformal["offsets"]
    first = next(iter(offsets.values()))
    for i, name in enumerate([*names, None]):
        own = offsets.get(name, first) if name is not None else first
        for k, q in enumerate(levels):
            if f"{q:g}" in own:
                table[i, :, k] = np.asarray(own[f"{q:g}"], float)
                shifted[k] = True
    return table, shifted
