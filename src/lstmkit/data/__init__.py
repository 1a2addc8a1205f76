"""Embedded data sets, table reading and validation, scaling, splits and windows."""

from __future__ import annotations

import pathlib

import pandas as pd

from ..config import LstmkitError
from .registry import DATASETS, DatasetInfo

__all__ = ["DATASETS", "DatasetInfo", "embedded", "get", "list_datasets", "load", "source_of"]


def get(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise LstmkitError(f"dataset: unknown {name!r}; embedded: {', '.join(DATASETS)}") from None


def load(name: str) -> pd.DataFrame:
    """An embedded data set as a pandas DataFrame (no network: the file ships with lstmkit)."""
    info = get(name)
    with info.path.open("rb") as f:
        compression = "gzip" if info.file.endswith(".gz") else None
        return pd.read_csv(
            f, compression=compression, **{"float_precision": "round_trip", **info.read_options}
        )


def list_datasets() -> list[DatasetInfo]:
    return list(DATASETS.values())


def source_of(data) -> str | None:
    """Where data came from, for a run's config.json: an embedded name or an absolute path.
    A DataFrame leaves no trace (commands that re-read a run's data then need --data)."""
    if data is None or isinstance(data, pd.DataFrame):
        return None
    if isinstance(data, str) and data in DATASETS:
        return data
    return str(pathlib.Path(data).resolve())


def embedded(source, task: str) -> DatasetInfo | None:
    """The embedded data set `source` names, if it names one, for `task` ("forecast" or
    "classify"; another task's data set is a one-line error); None for a file or a table."""
    if not (isinstance(source, str) and source in DATASETS):
        return None
    info = DATASETS[source]
    if info.task != task:
        raise LstmkitError(
            f"--data: {source!r} is a {info.task} data set; use `lstmkit {info.task}`"
        )
    return info
