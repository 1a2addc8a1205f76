"""One time step as a module: `LSTMCell`, `GRUCell`, `RNNCell`, as torch.nn's, for every cell.

For code that drives the loop itself (decoders, one observation at a time in a live forecast).
The parameters carry torch.nn.LSTMCell's names (weight_ih, weight_hh, bias_ih, bias_hh), so the
standard cells' state_dicts interchange with torch's; `LSTMCell(..., cell="peephole")` takes the
variant's extra parameters as the layer does. The step itself is the same `cells.py` code the
layers run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cells import get_cell, uniform_bound
from ..config import LayerConfig, LayerError, LayerTypeError, LstmkitError
from .checks import check_config, check_state, describe

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "StepCell"]


class StepCell(nn.Module):
    """One step of `cell`: input (N, H_in) or (H_in,), hx as the cell's state (None: zeros)
    -> the new state: (h, c) for LSTM-family cells, h for gru and rnn, (h, c, a) for fgr."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        cell: str = "lstm",
        nonlinearity: str = "tanh",
        forget_bias: float | None = 1.0,
    ):
        super().__init__()
        config = LayerConfig(
            input_size, hidden_size, bias=bias, cell=cell, nonlinearity=nonlinearity
        )
        check_config(config)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.nonlinearity, self.forget_bias = nonlinearity, forget_bias
        self.cell_type = get_cell("rnn_relu" if nonlinearity == "relu" else cell)
        self.cell = self.cell_type.name
        self.step = self.cell_type()
        shapes = self.cell_type.parameter_shapes(input_size, hidden_size)
        self._weight_names = [n for n in shapes if bias or not n.startswith("bias")]
        for name, shape in shapes.items():
            if name in self._weight_names:
                self.register_parameter(
                    name, nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
                )
        if "bias" not in self._parameters:  # the article cell names a parameter "bias"
            self.bias = bias
        self._has_bias = bias
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = uniform_bound(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)
        if self.forget_bias is not None:
            params = dict(self.named_parameters())
            self.cell_type.init_forget_bias(params, self.forget_bias, self.hidden_size)

    def __repr__(self) -> str:  # the step holds no parameters: torch's one-line repr
        return f"{self._get_name()}({self.extra_repr()})"

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self._has_bias:
            s += ", bias=False"
        if self.cell not in ("lstm", "gru", "rnn", "rnn_relu"):
            s += f", cell={self.cell!r}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def forward(self, input: Tensor, hx=None):
        if not isinstance(input, Tensor):
            raise LayerTypeError(f"input: expected a torch.Tensor, got {describe(input)}")
        if input.dim() not in (1, 2):  # a ValueError, as torch's cells
            raise LstmkitError(
                f"input: expected a 2-D (N, H_in) batch or a 1-D (H_in,) step, got "
                f"{input.dim()}-D of shape {tuple(input.shape)}"
            )
        if input.size(-1) != self.input_size:
            raise LayerError(
                f"input: expected input.size(-1) == input_size={self.input_size}, got "
                f"{input.size(-1)}"
            )
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        N, names = x.size(0), self.cell_type.state_names
        sizes = self.cell_type.state_sizes(self.hidden_size)
        if hx is None:
            state = [x.new_zeros(N, size) for size in sizes]
        else:
            expected = [(N, size) if batched else (size,) for size in sizes]
            given = check_state(hx, self.cell, names, expected, batched)
            state = [t if batched else t.unsqueeze(0) for t in given]
        # getattr, not named_parameters(): weight norm and parametrizations compute the weight
        w = {name: getattr(self, name) for name in self._weight_names}
        xp = F.linear(x, w["weight_ih"], self.cell_type.input_bias(w))
        new, _ = self.step(xp, state, self.cell_type.step_args(w))
        if not batched:
            new = [s.squeeze(0) for s in new]
        return new[0] if len(new) == 1 else tuple(new)


class LSTMCell(StepCell):
    """torch.nn.LSTMCell's arguments; `cell=` any LSTM-family cell ("peephole", "cifg", ...)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        cell: str = "lstm",
        forget_bias: float | None = 1.0,
    ):
        super().__init__(
            input_size, hidden_size, bias, device, dtype, cell=cell, forget_bias=forget_bias
        )


class GRUCell(StepCell):
    """torch.nn.GRUCell's arguments, inputs, outputs and parameters."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, device, dtype, cell="gru")


class RNNCell(StepCell):
    """torch.nn.RNNCell's arguments (nonlinearity "tanh" or "relu"), inputs and outputs."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ):
        super().__init__(
            input_size, hidden_size, bias, device, dtype, cell="rnn", nonlinearity=nonlinearity
        )
