"""The forecaster: its config tree (config.py), fitted state (state.py), training schemes
(schemes.py), base (base.py), intervals (intervals.py), scoring (scoring.py), explanation
(explain.py) and the estimator that ties them (estimator.py).

The public names load on first use (PEP 562), so that reading the config (the CLI builds its
options from it) does not import torch."""

import importlib

_WHERE = {"Forecaster": ".estimator", "ForecastConfig": ".config"}
__all__ = ["ForecastConfig", "Forecaster"]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
