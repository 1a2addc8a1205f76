"""What a classifier's fit resolved, apart from what the user set: one dataclass, created whole at
the end of fit, saved as state.json beside config.json (runs.state_dict_of / runs.read_state).

A run saved before this file existed kept these values in config.json, scaler.json and
vocabulary.json; `legacy_state` reads them from there.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from ..data.scaling import Standardizer
from ..data.smiles import Vocabulary
from ..runs import read_json

__all__ = ["ClassifyState", "legacy_state"]


@dataclass(frozen=True)
class ClassifyState:
    dataset: str | None  # the embedded data set fitted on, or None
    source: dict  # {"data": ..., "test": ...}: where the tables came from (None: a DataFrame)
    label_col: list[str]  # the label columns, as resolved ("label" when not named)
    value_cols: list[str] | None  # a wide table's steps by name, in the training order
    classes: list  # single-label: the class values; multi-label: the label names
    multilabel: bool
    channels: list[str]  # the values' channels (SMILES: ["smiles"])
    max_length: int  # the longest training sequence
    split: dict  # rows in train / val / test, groups, folds, whether the test file was given
    vocab: Vocabulary | None  # SMILES: the training tokens
    scaler: Standardizer | None  # values: the channels' training statistics
    selection: dict  # what fit chose: the linear path, its kind and weight, the network's members


def legacy_state(folder: pathlib.Path, saved: dict) -> dict:
    """state.json's content for a run saved before the config tree."""
    from .select import Choice

    config = saved["config"]
    vocab = folder / "vocabulary.json"
    _, selection = Choice.saved(saved)
    return {
        "dataset": saved.get("dataset"),
        "source": saved.get("source", {}),
        "label_col": config.get("label_col") or ["label"],
        "value_cols": config.get("value_cols"),
        "classes": saved["classes"],
        "multilabel": saved["multilabel"],
        "channels": saved["channels"],
        "max_length": saved["max_length"],
        "split": saved.get("split", {}),
        "vocab": read_json(vocab) if vocab.exists() else None,
        "scaler": None if vocab.exists() else read_json(folder / "scaler.json")["channels"],
        "selection": selection,
    }
