"""lstmkit: Long Short-Term Memory networks, correct to the last equation.

The public API. `lstmkit.reference` (NumPy) and `lstmkit.cells` (PyTorch) are the math;
`lstmkit.LSTM` is the layer users build on.
"""

from . import cells, reference
from . import data as datasets
from .cells import CELLS, get_cell
from .config import LayerConfig, LstmkitError
from .layers import LSTM
from .tasks.classify import ClassifyConfig, SequenceClassifier
from .tasks.explain import explain
from .tasks.forecast import ForecastConfig, Forecaster

__version__ = "0.1.0"

__all__ = [
    "CELLS",
    "LSTM",
    "ClassifyConfig",
    "ForecastConfig",
    "Forecaster",
    "LayerConfig",
    "LstmkitError",
    "SequenceClassifier",
    "__version__",
    "cells",
    "datasets",
    "explain",
    "get_cell",
    "reference",
]
