"""The sequence classifier: its config tree (config.py), fitted state (state.py), linear
baselines (baselines.py), networks (networks.py), the choice among them (select.py), explanation
(explain.py) and the estimator that ties them (estimator.py).

The public names load on first use (PEP 562), so that reading the config (the CLI builds its
options from it) does not import torch."""

import importlib

_WHERE = {"SequenceClassifier": ".estimator", "ClassifyConfig": ".config"}
__all__ = ["ClassifyConfig", "SequenceClassifier"]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
