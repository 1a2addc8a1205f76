"""lstmkit.explain: what a saved forecaster or classifier did, and which inputs it relied on.

    result = lstmkit.explain("runs/weather-nyc-hourly")           # a forecast run: first test hour
    result = lstmkit.explain("runs/ecg5000", index=12)            # a classifier: test row 12
    result["summary"]                                             # what the report says, in words

For one input (a test row, or a forecast origin) it gives
  - the trace of every gate, the candidate, the cell and the hidden state over time (units x time),
  - integrated gradients and occlusion over the input's time steps and features: for a forecast,
    which past hours and which covariates moved the prediction (the linear AR path included);
    for an ECG beat, which part of the beat; for a SMILES string, which tokens;
and over the test data, per unit of every layer and direction: the mean forget gate, the memory
half-life it implies, how often each gate saturates, and the units that never move.

Written into the run directory: explain.json, plots/explain_*.png and an Explain section in
report.html. The math lives in lstmkit.attribution; each task's explanation in its own module
(forecast/explain.py, classify/explain.py); this one reads a run and writes.
"""

from __future__ import annotations

import os
import pathlib
import time

import torch

from . import data as datasets
from .classify.estimator import SequenceClassifier
from .classify.explain import explain_classifier
from .config import LstmkitError, cut
from .forecast.estimator import Forecaster
from .forecast.explain import explain_forecaster

__all__ = ["explain"]


def explain(
    run,
    index: int | None = None,
    time_at: str | None = None,
    data=None,
    steps: int = 64,
    write: bool = True,
) -> dict:
    """Explain one input of a saved run (a directory) or of a fitted Forecaster /
    SequenceClassifier. index: a test row (classifier) or the k-th test origin of the first series
    (forecaster; default 0); time_at: a forecast origin by time. data: other data to explain; for a
    run directory fitted on a file, that file (`data_to_read`)."""
    start = time.perf_counter()
    if not (isinstance(steps, int) and steps >= 1):
        raise LstmkitError(f"--steps: expected a positive integer, got {steps!r}")
    folder = None
    if isinstance(run, str | pathlib.Path):
        from .runs import read_run_config

        folder = pathlib.Path(run)
        task = read_run_config(folder)["task"]
        run = SequenceClassifier.load(folder) if task == "classify" else Forecaster.load(folder)
        data = data_to_read(run, data)
    torch.set_num_threads(run.config.train.threads)
    if isinstance(run, SequenceClassifier):
        result = explain_classifier(run, index, data, steps)
    elif isinstance(run, Forecaster):
        result = explain_forecaster(run, index, time_at, data, steps)
    else:
        raise LstmkitError(
            f"explain: expected a run directory, Forecaster or SequenceClassifier, got {type(run)}"
        )
    result["seconds"] = time.perf_counter() - start
    if write and folder is not None:
        from .report import explain_section
        from .runs import write_json

        arrays = result.pop("_arrays")
        write_json(folder / "explain.json", result)
        explain_section(folder, result, arrays)
        result["_arrays"] = arrays
    return result


def data_to_read(run, data):
    """What explain may read for a run loaded from a directory. A run directory is untrusted
    input: the file its config names (state.source) is read only when the user names it too, and
    an embedded data set only by its registered name, so a crafted config cannot make explain
    read /etc/... or ../../secret.csv into explain.json. Returns the data to hand on: None to
    re-derive the run's own test rows (embedded data, or the run's file confirmed by --data),
    else `data`."""
    state = run.state
    classifier = isinstance(run, SequenceClassifier)
    source = state.source.get("data") if classifier else state.source
    test = state.source.get("test") if classifier else None
    if state.dataset is not None and state.dataset not in datasets.DATASETS:
        raise LstmkitError(
            f"--run: its config names dataset {cut(repr(state.dataset))}, which is not an embedded "
            "data set; refused (a run directory never makes lstmkit read a file)"
        )
    if data is None:
        if state.dataset is not None and (test is None or test in datasets.DATASETS):
            return None
        where = f"the file {cut(repr(source))}" if isinstance(source, str) else "a DataFrame"
        raise LstmkitError(
            f"--data: this run was fitted on {where}; pass that file with --data (lstmkit reads "
            "no file because a run directory names it)"
        )
    if classifier and test is None and _same_file(data, source):
        return None  # the run's own file, named by the user: explain its test rows, as fitted
    return data


def _same_file(a, b) -> bool:
    try:
        return isinstance(a, str | os.PathLike) and isinstance(b, str) and os.path.samefile(a, b)
    except OSError:
        return False
