"""The test sequences a classifier's report shows: a few of each class, with what the model gave."""

from __future__ import annotations

import numpy as np

__all__ = ["pick_examples"]


def pick_examples(
    classes, actual, ids, proba, sequences, multilabel: bool, per_class: int = 3
) -> list[dict]:
    """The first `per_class` test sequences of each class with their predicted probabilities (none
    for a multi-label task): the report's example plot, or its table of molecules."""
    if multilabel:
        return []
    out = []
    for k, name in enumerate(classes):
        for r in np.flatnonzero(actual == k)[:per_class]:
            item = {"class": str(name), "id": str(ids[r]), "proba": proba[r].tolist()}
            if sequences.smiles is not None:
                item["smiles"] = sequences.smiles[r]
            else:
                item["values"] = sequences.values[r][:, 0].tolist()
            out.append(item)
    return out
