"""What a layer accepts, checked as torch.nn.RNNBase checks it, with lstmkit's one-line messages.

Every message starts with the argument's name, says what was expected and what was given. The
exception types are torch's, so code written for torch.nn.LSTM catches what it expects:
ValueError for a value out of range, TypeError for a wrong type (`LayerTypeError`),
RuntimeError for a shape (`LayerError`, also a ValueError). All of them are `LstmkitError`s.
"""

from __future__ import annotations

import numbers
import warnings

from torch import Tensor

from ..cells import CELLS, get_cell
from ..config import LayerConfig, LayerError, LayerTypeError, LstmkitError

__all__ = ["KERNELS", "check_config", "check_input", "check_state", "describe"]

KERNELS = ("auto", "fused", "loop", "python")
NONLINEARITIES = {"tanh": "rnn", "relu": "rnn_relu"}


def _integer(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise LayerTypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        word = "a positive integer" if minimum else "an integer >= 0"
        raise LstmkitError(f"{name}: expected {word}, got {value!r}")


def _flag(name: str, value) -> None:
    # torch checks bias and batch_first; a string such as "False" would otherwise read as True.
    if not isinstance(value, bool):
        raise LayerTypeError(f"{name}: expected a bool, got {type(value).__name__} {value!r}")


def check_config(config: LayerConfig, stacklevel: int = 4) -> None:
    """Every constructor argument of a layer, in torch's order of checks."""
    dropout = config.dropout
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
        raise LstmkitError(f"dropout: expected a number in [0, 1], got {dropout!r}")
    if dropout > 0 and config.num_layers == 1:
        warnings.warn(
            f"dropout={dropout} acts only between stacked layers, so it does nothing with "
            "num_layers=1 (as torch.nn.LSTM: it warns and goes on)",
            UserWarning,
            stacklevel=stacklevel,
        )
    for name in ("bias", "batch_first", "bidirectional"):
        _flag(name, getattr(config, name))
    _integer("input_size", config.input_size, 1)
    _integer("hidden_size", config.hidden_size, 1)
    _integer("num_layers", config.num_layers, 1)
    _integer("proj_size", config.proj_size, 0)
    if config.proj_size >= config.hidden_size:
        raise LstmkitError(
            f"proj_size: must be smaller than hidden_size={config.hidden_size}, "
            f"got {config.proj_size}"
        )
    cell_type = get_cell(config.cell)
    if config.proj_size and not cell_type.projectable:
        raise LstmkitError(
            f"proj_size: projections need a cell state that h does not replace, so only "
            f"LSTM-family cells take them (as torch: not RNN or GRU); got cell={config.cell!r}"
        )
    if config.nonlinearity not in NONLINEARITIES:
        raise LstmkitError(f"nonlinearity: expected 'tanh' or 'relu', got {config.nonlinearity!r}")
    if config.nonlinearity == "relu" and config.cell not in ("rnn", "rnn_relu"):
        raise LstmkitError(
            f"nonlinearity: 'relu' applies to the plain RNN (cell='rnn'), got cell={config.cell!r}"
        )
    if config.kernel not in KERNELS:
        raise LstmkitError(f"kernel: expected one of {', '.join(KERNELS)}, got {config.kernel!r}")
    if config.kernel == "fused" and not cell_type.has_fused_kernel:
        fused = ", ".join(name for name, cls in CELLS.items() if cls.has_fused_kernel)
        raise LstmkitError(
            f"kernel: 'fused' exists only for cells {fused}; got cell={config.cell!r} (use "
            "kernel='auto' or 'loop')"
        )


def check_input(input: Tensor, input_size: int, dtype, packed: bool, batch_first: bool) -> None:
    """input: a (L, N, H_in) / (N, L, H_in) batch, an unbatched (L, H_in) sequence, or the
    (sum of lengths, H_in) data of a PackedSequence."""
    if not isinstance(input, Tensor):
        raise LayerTypeError(
            f"input: expected a torch.Tensor or a PackedSequence, got {type(input).__name__}"
        )
    if packed and input.dim() != 2:
        raise LayerError(
            f"input: a PackedSequence's data must be 2-D (steps, H_in), got {input.dim()}-D"
        )
    if input.dim() not in (2, 3):  # a ValueError, as torch's
        raise LstmkitError(
            f"input: expected a 3-D (L, N, H_in) batch or a 2-D (L, H_in) sequence, "
            f"got {input.dim()}-D of shape {tuple(input.shape)}"
        )
    if input.dtype != dtype:  # a ValueError, as torch's
        raise LstmkitError(
            f"input: dtype {input.dtype} does not match the layer's parameters ({dtype}); "
            f"convert one of them, e.g. input.to({dtype})"
        )
    if input.size(-1) != input_size:
        raise LayerError(
            f"input: expected input.size(-1) == input_size={input_size}, "
            f"got {input.size(-1)} (shape {tuple(input.shape)})"
        )
    length = input.size(1 if batch_first and input.dim() == 3 else 0)
    if not packed and length == 0:
        raise LayerError(f"input: the sequence is empty (shape {tuple(input.shape)})")


def check_state(hx, cell: str, names, expected: list[tuple[int, ...]], batched: bool):
    """hx against the state the cell carries: one tensor per name, each of its expected shape."""
    given = [hx] if isinstance(hx, Tensor) else list(hx) if isinstance(hx, tuple | list) else None
    if given is None or len(given) != len(names) or not all(isinstance(t, Tensor) for t in given):
        want = (
            names[0] + "_0" if len(names) == 1 else "(" + ", ".join(n + "_0" for n in names) + ")"
        )
        raise LayerError(f"hx: cell {cell!r} expects {want} as tensors, got {describe(hx)}")
    for name, shape, t in zip(names, expected, given, strict=True):
        if tuple(t.shape) != shape:
            what = "N, " if batched else ""
            raise LayerError(
                f"hx: {name}_0 must have shape {shape} (num_layers * D, {what}{name} size), "
                f"got {tuple(t.shape)}"
            )
    return given


def describe(value) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__
