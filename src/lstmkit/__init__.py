"""lstmkit: Long Short-Term Memory networks, correct to the last equation.

The public API. `lstmkit.reference` (NumPy) and `lstmkit.cells` (PyTorch) are the math;
`lstmkit.LSTM` is the layer users build on.
"""

import importlib

from ._version import __version__

# Each public name and the module it lives in. Loaded on first use (PEP 562): `import lstmkit` alone
# costs nothing, so a process that needs one leaf (statsforecast's worker, `lstmkit --help`) does
# not
# pay for torch, pandas and the tasks (measured: 2.8 s of imports).
_WHERE = {
    "CELLS": ".cells",
    "get_cell": ".cells",
    "LayerConfig": ".config",
    "LstmkitError": ".config",
    "LayerError": ".config",
    "LSTM": ".layers",
    "GRU": ".layers",
    "RNN": ".layers",
    "LSTMCell": ".layers",
    "GRUCell": ".layers",
    "RNNCell": ".layers",
    "ClassifyConfig": ".classify",
    "SequenceClassifier": ".classify",
    "explain": ".explanation",
    "ForecastConfig": ".forecast",
    "Forecaster": ".forecast",
}
_MODULES = {"layers": ".layers", "cells": ".cells", "reference": ".reference", "datasets": ".data"}


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(_MODULES[name], __name__)
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


__all__ = [
    "CELLS",
    "GRU",
    "LSTM",
    "RNN",
    "ClassifyConfig",
    "ForecastConfig",
    "Forecaster",
    "GRUCell",
    "LSTMCell",
    "LayerConfig",
    "LayerError",
    "LstmkitError",
    "RNNCell",
    "SequenceClassifier",
    "__version__",
    "cells",
    "datasets",
    "explain",
    "get_cell",
    "layers",
    "reference",
]
