"""lstmkit's PyTorch layers: drop-ins for torch.nn.LSTM / GRU / RNN and their cells, every
variant of `lstmkit.cells.CELLS`, packed batches, gate traces (see `recurrent.py`)."""

from .checks import KERNELS
from .interop import to_torch
from .recurrent import GRU, LSTM, RNN, RNNBase
from .step import GRUCell, LSTMCell, RNNCell, StepCell

__all__ = [
    "GRU",
    "KERNELS",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RNNBase",
    "RNNCell",
    "StepCell",
    "to_torch",
]
