"""A forecaster's state after the last observation of each series, advanced one observation at a
time without reading the history again: what `Forecaster.update` and `lstmkit predict --state`
keep, and what `lstmkit serve` serves.

The state is graphs.py's (the AR's lags, the base's last one-step forecast, the LSTM's h and c
per layer, or the last window of inputs) plus, per series, its last observation as read (time
and raw values: a gap is interpolated from it) and the forecast from it. Feeding observations
one at a time gives the forecasts of one pass over the whole history (tests/forecast/
test_stream.py holds them to 1e-9 in float64).

New rows follow the training rules (data.io.prepare, with the run's step and max_gap): a gap of
up to max_gap steps is interpolated between the last observation and the next, a longer one
starts the series afresh (it forecasts again once it has the steps predict needs), and the
update's report says both. A row at or before a series' last observation, a missing column or a
value that is not a finite number is a one-line error, and the state stays as it was.

The file: one safetensors file whose header's metadata holds the JSON (format, the model's
fingerprint, the series in row order); written atomically, refused for another run's model.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.numpy import save_file

from ..checkpoint import fingerprint
from ..config import LstmkitError, SettingError
from ..data.io import prepare, read_times
from ..runs import MAX_COUNT, atomic_write, read_tensors
from .graphs import Graphs, fixed_ms, series_axis, to_ms
from .predict import last_segments

__all__ = ["FORMAT", "Stream", "model_fingerprint"]

FORMAT = "lstmkit-stream/1"


def model_fingerprint(fc) -> str:
    """What a state file must match: the weights (as float32, so a float64 copy is the same
    model) and the fitted tables."""
    tensors = [v.detach().float() for _, v in sorted(fc.model.state_dict().items())]
    tables = json.dumps(
        {"freq": fc.state.freq, "p": fc.state.ar_order, "y": fc.state.scaler_y.to_dict()},
        sort_keys=True,
    )
    return fingerprint(*tensors, np.frombuffer(tables.encode(), np.uint8))


class Stream:
    """Every series' state after its last observation; rows in `series` order. State tensors
    are as graphs.Graphs.blank makes them (an LSTM state has the series on its axis 1)."""

    def __init__(self, graphs: Graphs, series: list[str], tensors: dict[str, torch.Tensor]):
        self.graphs, self.series, self.tensors = graphs, list(series), tensors
        self.row = {name: k for k, name in enumerate(self.series)}
        self.report: dict = {}
        self._model: str | None = None  # the model's fingerprint, once computed (save)

    # ---- rows of the state ----------------------------------------------------------------

    def _take(self, rows: torch.Tensor) -> list[torch.Tensor]:
        return [self.tensors[n].index_select(series_axis(n), rows) for n in self.graphs.state_names]

    def _put(self, rows: torch.Tensor, values) -> None:
        for n, v in zip(self.graphs.state_names, values, strict=True):
            self.tensors[n].index_copy_(series_axis(n), rows, v)

    def _blank_rows(self, rows: torch.Tensor) -> None:
        blank = self.graphs.blank(len(rows))
        self._put(rows, [blank[n] for n in self.graphs.state_names])

    @classmethod
    def empty(cls, graphs: Graphs) -> Stream:
        g = graphs.step
        tensors = graphs.blank(0) | {
            "last_time": torch.zeros(0, dtype=torch.int64),
            "last_raw": torch.zeros((0, 1 + g.P), dtype=torch.float64),
            "forecast": torch.zeros((0, g.horizon, g.n_quantiles), dtype=torch.float64),
        }
        return cls(graphs, [], tensors)

    def _add(self, names: list[str]) -> None:
        """Rows for series not seen before, blank."""
        new = [n for n in names if n not in self.row]
        if not new:
            return
        blank, n = self.graphs.blank(len(new)), len(new)
        for name in self.graphs.state_names:
            self.tensors[name] = torch.cat([self.tensors[name], blank[name]], series_axis(name))
        t = self.tensors
        t["last_time"] = torch.cat([t["last_time"], torch.full((n,), -(2**62))])
        t["last_raw"] = torch.cat([t["last_raw"], torch.zeros((n, t["last_raw"].shape[1]))])
        nan = torch.full((n, *t["forecast"].shape[1:]), float("nan"), dtype=t["forecast"].dtype)
        t["forecast"] = torch.cat([t["forecast"], nan])
        self.series += new
        self.row = {name: k for k, name in enumerate(self.series)}

    # ---- from a history, one step at a time -------------------------------------------------

    @classmethod
    def start(cls, fc, segments) -> Stream:
        """The state after each series' last segment (prepared, in the target's units): the whole
        graph over it, series of one length as one batch."""
        graphs = Graphs(fc)
        stream = cls.empty(graphs)
        last = last_segments(segments)
        stream._add(sorted(last))
        by_length: dict[int, list[str]] = {}
        for name, seg in last.items():
            by_length.setdefault(len(seg.times), []).append(name)
        for names in by_length.values():
            segs = [last[n] for n in names]
            inputs = graphs.inputs(segs)  # float64, the values as read: the graphs scale them
            with torch.no_grad():
                forecast, *state = graphs.whole(*inputs)
            ms = inputs[2]
            rows = torch.as_tensor([stream.row[n] for n in names])
            stream._put(rows, state)
            t = stream.tensors
            t["forecast"][rows] = forecast
            t["last_time"][rows] = ms[:, -1]
            raw = [np.concatenate([s.target[-1:], s.past[-1]]) for s in segs]
            t["last_raw"][rows] = torch.as_tensor(np.array(raw), dtype=torch.float64)
        return stream

    def update(self, fc, df: pd.DataFrame, keep=None) -> dict:
        """Advance every series `df` has rows for; returns (and keeps in .report) what was read:
        rows, steps, gaps filled, series started afresh after a long gap. All or nothing: a bad
        row leaves the state as it was, and so does a failing `keep()`, called once the state
        has advanced (the service writes the file there: an update it cannot write is undone)."""
        d, s = fc.config.data, fc.state
        steps, report = self._steps(df, d, s)
        before = {k: v.clone() for k, v in self.tensors.items()}, list(self.series), self.report
        try:
            self._add(sorted(steps))
            self._run(steps)
            self.report = report
            if keep is not None:
                keep()
        except BaseException:
            self.tensors, self.series, self.report = before
            self.row = {name: k for k, name in enumerate(self.series)}
            raise
        return report

    def _steps(self, df, d, s) -> tuple[dict, dict]:
        """Per series: the new steps on the grid (target, past, ms, restart flags), checked.
        Plain NumPy where the rows are the next steps exactly (a live feed: pandas' per-call
        cost was most of a one-row update's 8 ms); data.io.prepare's rules otherwise."""
        if not isinstance(df, pd.DataFrame):
            raise LstmkitError(f"update: expected a DataFrame of new rows, got {type(df).__name__}")
        covs = list(s.past_covariates)
        for column, setting in ((d.time, "time"), (d.target, "target"), (d.series, "series")):
            if column is not None and column not in df.columns:
                raise SettingError(setting, f"no column {column!r} in the new rows")
        for c in covs:
            if c not in df.columns:
                raise SettingError("past_covariates", f"no column {c!r} in the new rows")
        values = self._finite(df, [d.target, *covs], d.target)
        times = read_times(df[d.time], d.time, d.time_unit, {})
        ms_all = times.to_numpy("datetime64[ms]").astype(np.int64)
        names = df[d.series].astype(str).to_numpy() if d.series else np.full(len(df), "series")
        groups: dict[str, list[int]] = {}
        for k, name in enumerate(names.tolist()):  # Python strings, for messages and keys
            groups.setdefault(name, []).append(k)
        step_ms = fixed_ms(s.freq)
        steps, report = {}, {"rows": len(df), "steps": 0, "filled": 0, "restarted": []}
        for name in sorted(groups):
            at = np.asarray(groups[name])
            at = at[np.argsort(ms_all[at], kind="stable")]
            ms = ms_all[at]
            row = self.row.get(name)
            if row is not None:
                last = int(self.tensors["last_time"][row])
                if ms[0] <= last:
                    k = int(at[np.argmax(ms <= last)])
                    raise SettingError(
                        "time",
                        f"row {df.index[k]}: series {name!r} at {times.iloc[k]} is not after its "
                        f"last observation, {pd.Timestamp(last, unit='ms')}; an update only moves "
                        "forward",
                    )
                if step_ms and np.array_equal(ms, last + step_ms * np.arange(1, len(ms) + 1)):
                    steps[name] = (values[at, 0], values[at, 1:], ms, np.zeros(len(at), bool))
                    report["steps"] += len(at)
                    continue
            steps[name] = self._prepared(df.iloc[at], times.iloc[at], d, s, row, report, name)
            report["steps"] += len(steps[name][0])
        report["restarted"] = sorted(set(report["restarted"]))
        report["series"] = sorted(steps)
        return steps, report

    @staticmethod
    def _finite(df, columns: list[str], target: str) -> np.ndarray:
        """The value columns as float64, each a finite number, or a one-line error naming one."""
        try:
            values = df[columns].to_numpy(float)
        except (ValueError, TypeError):
            values = np.column_stack(
                [pd.to_numeric(df[c], errors="coerce").to_numpy(float) for c in columns]
            )
        bad = ~np.isfinite(values)
        if bad.any():
            k, j = np.argwhere(bad)[0]
            c, row = columns[j], df.index[k]
            raise SettingError(
                "target" if c == target else "past_covariates",
                f"column {c!r} row {row} holds {df[c].iloc[k]}; an update takes finite numbers "
                "(a missing step is a missing row)",
            )
        return values

    def _prepared(self, part, when, d, s, row, report, name):
        """data.io.prepare on the series' last observation and its new rows: snapped to the
        grid, gaps up to max_gap interpolated, a longer one a fresh start."""
        covs = list(s.past_covariates)
        frame = part.assign(**{d.time: when.to_numpy()})[[d.time, d.target, *covs]]
        if row is not None:
            raw = self.tensors["last_raw"][row].numpy()
            last = pd.Timestamp(int(self.tensors["last_time"][row]), unit="ms")
            prior = {d.time: [last], d.target: [raw[0]]}
            prior |= {c: [raw[1 + j]] for j, c in enumerate(covs)}
            frame = pd.concat([pd.DataFrame(prior), frame], ignore_index=True)
        prepared = prepare(
            frame, d.time, d.target, None, covs, s.freq, d.fill, d.max_gap, d.duplicates
        )
        target, past, ms, restart = [], [], [], []  # target and past as read: float64
        for k, seg in enumerate(prepared.segments):
            first = 1 if (k == 0 and row is not None) else 0  # the last observation again
            n = len(seg.times) - first
            target.append(seg.target[first:])
            past.append(seg.past[first:])
            ms.append(to_ms(seg.times[first:]))
            flags = np.zeros(n, bool)
            flags[:1] = k > 0 or row is None
            restart.append(flags)
            if k > 0:
                report["restarted"].append(name)
        report["filled"] += prepared.report["filled"]
        return (
            np.concatenate(target),
            np.concatenate(past),
            np.concatenate(ms),
            np.concatenate(restart),
        )

    def _run(self, steps: dict) -> None:
        """Round k steps the k-th new observation of every series that has one, as one batch."""
        graphs, t = self.graphs, self.tensors
        names = sorted(steps)
        rows_all = torch.as_tensor([self.row[n] for n in names])
        index_all = graphs.index(names)
        lengths = np.array([len(steps[n][0]) for n in names])
        for k in range(int(lengths.max(initial=0))):
            at = np.flatnonzero(lengths > k)
            rows, index = rows_all[at], index_all[at]
            chosen = [steps[names[j]] for j in at]
            fresh = np.array([c[3][k] for c in chosen])
            if fresh.any():
                self._blank_rows(rows[torch.from_numpy(fresh)])
            # float64, the values as read: the graphs scale them in float64
            raw = torch.from_numpy(np.stack([np.append(c[1][k], c[0][k]) for c in chosen]))
            ms = torch.from_numpy(np.array([c[2][k] for c in chosen], np.int64))
            target, past = raw[:, -1], raw[:, :-1]
            with torch.no_grad():
                step = graphs.step_of(len(rows))
                forecast, *state = step(target, past, ms, index, *self._take(rows))
            self._put(rows, state)
            t["forecast"][rows] = forecast
            t["last_time"][rows] = ms
            t["last_raw"][rows] = raw.roll(1, 1)  # [target, past]

    # ---- what it forecasts --------------------------------------------------------------------

    def frame(self, fc) -> pd.DataFrame:
        """predict's table (series, origin, time, step, predicted[, quantiles]) for every series
        with the steps a forecast needs; the others are in .waiting()."""
        cfg, s = fc.config, fc.state
        levels, median, horizon = cfg.model.levels, cfg.model.median_index, cfg.model.horizon
        forecast = self.tensors["forecast"].double().numpy()
        ready = np.flatnonzero(~np.isnan(forecast).any((1, 2)))
        ready = ready[np.argsort(np.asarray(self.series, dtype=object)[ready], kind="stable")]
        origin = pd.to_datetime(self.tensors["last_time"].numpy()[ready], unit="ms")
        step = pd.tseries.frequencies.to_offset(s.freq)
        ahead = np.arange(1, horizon + 1)
        if fixed_ms(s.freq):  # one addition for every row; else pandas' offsets, row by row
            delta = pd.to_timedelta(ahead * fixed_ms(s.freq), unit="ms")
            times = (origin.to_numpy()[:, None] + delta.to_numpy()[None]).ravel()
        else:
            times = [o + h * step for o in origin for h in ahead]
        table = {
            "series": np.repeat(np.asarray(self.series, dtype=object)[ready], horizon),
            "origin": np.repeat(origin, horizon),
            "time": pd.DatetimeIndex(times),
            "step": np.tile(ahead, len(ready)),
            "predicted": forecast[ready, :, median].ravel(),
        }
        for j, q in enumerate(levels):
            table[f"q{q:g}"] = forecast[ready, :, j].ravel()
        return pd.DataFrame(table)

    def records(self, fc, names=None) -> list[dict]:
        """`frame`'s rows as JSON-ready dicts (ISO times), built without pandas: what a service
        answers with, where a DataFrame per answer was a third of an update's time. names: only
        these series (default: all)."""
        cfg, s = fc.config, fc.state
        levels, median, horizon = cfg.model.levels, cfg.model.median_index, cfg.model.horizon
        forecast = self.tensors["forecast"].double().numpy()
        last = self.tensors["last_time"].numpy()
        step_ms = fixed_ms(s.freq)
        offset = pd.tseries.frequencies.to_offset(s.freq)
        out = []
        for name in sorted(self.row if names is None else set(names) & set(self.row)):
            k = self.row[name]
            if np.isnan(forecast[k]).any():
                continue
            origin = np.datetime64(int(last[k]), "ms")
            unit = "s" if int(last[k]) % 1000 == 0 and (step_ms or 0) % 1000 == 0 else "ms"
            if step_ms:
                times = origin + np.arange(1, horizon + 1) * np.timedelta64(step_ms, "ms")
                times = list(np.datetime_as_string(times, unit=unit))
            else:
                o = pd.Timestamp(int(last[k]), unit="ms")
                times = [(o + h * offset).isoformat() for h in range(1, horizon + 1)]
            for h in range(horizon):
                row = {
                    "series": name,
                    "origin": np.datetime_as_string(origin, unit=unit),
                    "time": times[h],
                    "step": h + 1,
                    "predicted": float(forecast[k, h, median]),
                }
                for j, q in enumerate(levels):
                    row[f"q{q:g}"] = float(forecast[k, h, j])
                out.append(row)
        return out

    def waiting(self) -> dict[str, int]:
        """Series without a forecast yet -> the steps they have (they need graphs' `need`)."""
        forecast = self.tensors["forecast"]
        count = self.tensors["count"]
        return {n: int(count[k]) for n, k in self.row.items() if torch.isnan(forecast[k]).any()}

    # ---- the file -----------------------------------------------------------------------------

    def save(self, path, fc) -> None:
        """One safetensors file, written atomically: the tensors, and the JSON in its metadata."""
        meta = {
            "format": FORMAT,
            "model": self._model or model_fingerprint(fc),
            "series": self.series,
            "freq": fc.state.freq,
            "scheme": fc.config.train.scheme,
        }
        self._model = meta["model"]  # the weights do not change under a stream
        # through NumPy: the same file, in two thirds of the time (it is written per update)
        arrays = {k: v.detach().contiguous().numpy() for k, v in self.tensors.items()}
        atomic_write(
            path, lambda tmp: save_file(arrays, tmp, metadata={"lstmkit": json.dumps(meta)})
        )

    @classmethod
    def load(cls, path, fc) -> Stream:
        """A state file `save` wrote for this run's model; anything else is refused in one line."""
        path = pathlib.Path(path)
        if not path.is_file():
            raise LstmkitError(f"--state: {path}: no such file")
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = json.loads((f.metadata() or {}).get("lstmkit", "null"))
        except Exception as err:  # safetensors' and json's own errors, of several types
            raise LstmkitError(f"--state: {path}: not a state file ({str(err)[:120]})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise LstmkitError(f"--state: {path}: not an lstmkit state file ({FORMAT})")
        if meta.get("model") != model_fingerprint(fc):
            raise LstmkitError(
                f"--state: {path}: written for another model than this run's; start a state "
                "from this run (predict --state NEW --data HISTORY)"
            )
        series = meta.get("series")
        if (
            not isinstance(series, list)
            or len(series) > MAX_COUNT
            or not all(isinstance(n, str) for n in series)
        ):
            raise LstmkitError(f"--state: {path}: its series list is damaged")
        graphs = Graphs(fc)
        template = cls.empty(graphs)
        template._add(series)
        expected = {k: v.shape for k, v in template.tensors.items()}
        tensors = read_tensors(path, expected)
        for name, v in tensors.items():
            want = template.tensors[name].dtype
            if v.dtype != want:
                raise LstmkitError(f"--state: {path}: {name} is {v.dtype}, expected {want}")
            if name != "forecast" and v.is_floating_point() and not torch.isfinite(v).all():
                raise LstmkitError(f"--state: {path}: {name} holds NaN or infinite values")
        return cls(graphs, series, tensors)
