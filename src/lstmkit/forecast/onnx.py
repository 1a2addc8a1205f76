"""`lstmkit export` of a forecaster: graphs.py's two modules as ONNX, checked on the run's own data.

    forecaster.onnx   target (N, T), past (N, T, P), time (N, T) int64 ms, series (N,) int64
                      -> forecast (N, H, Q) in the target's units, and the state after the last
                      step (lags, one_step, count, h, c | window)
    step.onnx         one observation per series and that state -> forecast and the new state
    forecaster.json   what the graphs' inputs mean: the series' table rows, the step, the
                      quantiles, the state's names, and the parity each graph passed

The checks run the graphs in onnxruntime beside PyTorch on the data the run was fitted on:
forecaster.onnx on every series' last stretch (and shorter cuts of it: other time lengths than
exported with), step.onnx through up to STEP_CHECKS steps of the test period from the state the
whole graph leaves at its start. Every standard cell (lstm, gru, rnn) exports as one ONNX op
with dynamic time; a variant has no such op, so forecaster.onnx is refused for it while
step.onnx (one step, unrolled) is written.
"""

from __future__ import annotations

import copy
import pathlib

import torch

from ..config import LstmkitError
from ..export import Names, to_onnx
from ..layers.loop import recurrence
from ..runs import write_json
from .graphs import Graphs, series_axis
from .predict import last_segments
from .stream import model_fingerprint

__all__ = ["STEP_CHECKS", "export_forecaster"]

STEP_CHECKS = 48  # test steps step.onnx is run through beside PyTorch
WHOLE_STEPS = 4096  # at most this many of each series' last steps in forecaster.onnx's check


def _float32(fc):
    """The graphs in float32 (what is deployed), with torch's own recurrent module where the cell
    has one: it exports as one ONNX op over a dynamic time axis."""
    lstm = fc.model.lstm
    if lstm.has_torch_twin:
        return Graphs(fc, lstm.to_torch().float())
    # a variant: its step as plain Python, which the exporters trace (a TorchScript loop they
    # do not); over time that unrolls, so only step.onnx can hold it
    lstm = copy.deepcopy(lstm).float()
    lstm.kernel = "python"
    lstm.recurrence = recurrence(lstm.cell, scripted=False)
    return Graphs(fc, lstm)


def _inputs(segs, graphs):
    """The whole graph's inputs as onnxruntime takes them: values in float32."""
    return graphs.inputs(segs, torch.float32)


class _Cut:
    """Steps lo..hi of a segment (what the checks feed)."""

    def __init__(self, seg, lo: int, hi: int):
        self.series, self.times = seg.series, seg.times[lo:hi]
        self.target, self.past = seg.target[lo:hi], seg.past[lo:hi]


def export_forecaster(fc, folder, segments) -> dict:
    """Write forecaster.onnx, step.onnx and forecaster.json into `folder`; `segments`: the run's
    data, prepared (the checks' inputs). Returns forecaster.json's content."""
    folder = pathlib.Path(folder)
    graphs = _float32(fc)
    whole, step = graphs.whole, graphs.step
    last = last_segments(segments)
    usable = [s for s in last.values() if len(s.times) >= whole.need + 2]
    if not usable:
        raise LstmkitError(f"export: no series of the run's data has {whole.need + 2} steps")
    length = min(WHOLE_STEPS, min(len(s.times) for s in usable))
    batch = [_Cut(s, len(s.times) - length, len(s.times)) for s in usable]
    if len(batch) == 1:  # two rows at least, so a frozen batch axis shows
        batch = batch * 2
    states = list(graphs.state_names)
    state_axes = {n: {series_axis(n): "N"} for n in states}
    names = Names(
        ["target", "past", "time", "series"],
        ["forecast", *states],
        {"target": {0: "N", 1: "T"}, "past": {0: "N", 1: "T"}, "time": {0: "N", 1: "T"}}
        | {"series": {0: "N"}, "forecast": {0: "N"}}
        | state_axes,
    )
    # traced on one short row; the checks' other batch sizes and lengths fail a folded axis
    traced = _inputs([_Cut(batch[0], 0, whole.need + 3)], graphs)
    checks = [_inputs(batch, graphs), _inputs([_Cut(b, 0, length - 1) for b in batch], graphs)]
    record = {}
    if fc.model.lstm.has_torch_twin:
        record["forecaster.onnx"] = to_onnx(
            whole, traced, names, folder / "forecaster.onnx", checks, what="forecaster.onnx"
        )
    else:  # both exporters unroll a variant's steps: the time axis would be the one traced
        record["forecaster.onnx"] = {
            "written": False,
            "why": f"cell {fc.model.lstm.cell!r} has no ONNX op over a dynamic time axis "
            "(ONNX has LSTM, GRU and RNN); step.onnx steps it",
        }
    # step.onnx: from the whole graph's state at the start of the test period, step by step
    n_steps = min(STEP_CHECKS, length - whole.need - 1)
    start = length - n_steps
    with torch.no_grad():
        _, *state = whole(*_inputs([_Cut(b, 0, start) for b in batch], graphs))
    rest = _inputs([_Cut(b, start, length) for b in batch], graphs)
    step_checks = []
    for k in range(n_steps):
        args = [rest[0][:, k], rest[1][:, k], rest[2][:, k], rest[3], *state]
        step_checks.append(args)
        with torch.no_grad():
            _, *state = step(*args)
    step_names = Names(
        ["target", "past", "time", "series", *states],
        ["forecast", *(f"{n}_out" for n in states)],
        {n: {0: "N"} for n in ("target", "past", "time", "series", "forecast")}
        | state_axes
        | {f"{n}_out": a for n, a in state_axes.items()},
    )
    traced = [  # one series: the batch axis must come out dynamic
        a.narrow(series_axis(n), 0, 1)
        for n, a in zip(step_names.inputs, step_checks[0], strict=True)
    ]
    record["step.onnx"] = to_onnx(
        step, traced, step_names, folder / "step.onnx", step_checks, what="step.onnx"
    )
    s, cfg = fc.state, fc.config
    card = {
        "format": "lstmkit-onnx/1",
        "model": model_fingerprint(fc),
        "series": whole.names,
        "unseen_series": len(whole.names),
        "freq": s.freq,
        "time": "int64 milliseconds since 1970-01-01 (naive times, as the data were read)",
        "horizon": cfg.model.horizon,
        "quantiles": cfg.model.levels or [0.5],
        "need": whole.need,
        "past_covariates": list(s.past_covariates),
        "state": {n: _shape_of(n, graphs) for n in states},
        "graphs": record,
    }
    write_json(folder / "forecaster.json", card)
    return card


def _shape_of(name: str, graphs) -> list:
    """A state tensor's shape, "N" on its series axis, then its dtype."""
    axis = series_axis(name)
    blank = graphs.blank(1)[name]
    shape = ["N" if k == axis else d for k, d in enumerate(blank.shape)]
    return [*shape, str(blank.dtype).replace("torch.", "")]
