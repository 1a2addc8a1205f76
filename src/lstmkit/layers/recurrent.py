"""The recurrent layers: stacking, both directions, state carry, packed batches, gate traces.

`LSTM`, `GRU` and `RNN` take torch.nn.LSTM / GRU / RNN's arguments, inputs (a tensor or a
PackedSequence) and outputs, and for the standard cells their parameter names and shapes, so
`state_dict`s load both ways. `LSTM(cell=...)` runs any cell of `lstmkit.cells.CELLS`. The math
lives in `cells.py`, the time loop in `loop.py`, the checks in `checks.py`; this file moves
tensors around.

Kernels (`kernel=`):
  fused   torch's own fused kernel (oneDNN on CPU, cuDNN on GPU): lstm, gru, rnn, rnn_relu.
  loop    the cell's step in a TorchScript loop over time; the input projection W_ih x + b
          for all time steps is one matmul before the loop. Every cell has it.
  python  the same loop, not compiled: slower, but a debugger can step through every equation.
  auto    fused where the cell has it, else loop (the default).
Gate traces (`return_gates=True`) always run the loop, since the fused kernel keeps its gates
to itself; the tests pin the loop to the fused kernel and both to `reference.py`. Under
torch.compile / torch.export the loop runs as plain Python, which they can trace.

Dimension legend: L sequence length, N batch, H_in input size, H hidden size, P proj_size,
D directions.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from ..cells import get_cell, uniform_bound
from ..config import LayerConfig, LstmkitError
from .checks import check_config, check_input, check_state
from .loop import recurrence

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]

_FUSED = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn": _VF.rnn_tanh, "rnn_relu": _VF.rnn_relu}
_MODES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN_TANH", "rnn_relu": "RNN_RELU"}
_TORCH = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN, "rnn_relu": nn.RNN}
_TORCH_DEFAULTS = (
    ("proj_size", 0),
    ("num_layers", 1),
    ("bias", True),
    ("batch_first", False),
    ("dropout", 0.0),
    ("bidirectional", False),
)
_FLAT_ORDER = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")  # torch's, per layer


class RNNBase(nn.Module):
    r"""A stack of recurrent layers built from any cell in `lstmkit.cells.CELLS`.

    Args: as torch.nn.LSTM (input_size, hidden_size, num_layers, bias, batch_first, dropout,
    bidirectional, proj_size, device, dtype), and by keyword
        cell:         a registered cell name ("lstm", "peephole", "cifg", "gru", ...).
        nonlinearity: "tanh" or "relu", for cell="rnn" (as torch.nn.RNN).
        forget_bias:  initial forget-gate bias (b_ih + b_hh on the f rows); 1.0 as Jozefowicz
                      et al. 2015 recommend; None keeps torch's U(-1/√H, 1/√H) everywhere.
                      Cells without a forget gate ignore it (cifg puts -forget_bias on i).
        kernel:       "auto", "fused", "loop" or "python" (see the module docstring).

    Inputs: input, hx
        input: (L, N, H_in), or (N, L, H_in) with batch_first, or (L, H_in) unbatched, or a
               PackedSequence (torch.nn.utils.rnn.pack_padded_sequence / pack_sequence).
        hx:    the initial state, zeros if None: for lstm-like cells (h_0, c_0), with h_0
               (num_layers * D, N, P or H) and c_0 (num_layers * D, N, H); for rnn and gru h_0
               alone; for fgr (h_0, c_0, a_0) with a_0 (num_layers * D, N, 3H). Unbatched
               input takes unbatched states. With a PackedSequence, N is in the order of the
               sequences as given (not sorted), as torch's.
        return_gates: if True, also return the gate traces (below).

    Outputs: output, h_n (rnn, gru) or (h_n, c_n[, a_n]) [, gates]
        output: (L, N, D * P or H) (batch_first: (N, L, ·)), the last layer's h at every step;
                a PackedSequence for a PackedSequence. h_n / c_n hold each sequence's state at
                its own last step.
        gates:  dict from each name in the cell's `trace_names` (e.g. i, f, g, o, c, h) to a
                tensor (num_layers * D, L, N, H) (batch_first: (num_layers * D, N, L, H)),
                indexed like h_n: layer k's direction d is at k * D + d. Zero after a packed
                sequence's end. With proj_size, the traced h is the cell's, before W_hr.
    """

    _default_cell = "lstm"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
        *,
        cell: str = "lstm",
        nonlinearity: str = "tanh",
        forget_bias: float | None = 1.0,
        kernel: str = "auto",
    ):
        super().__init__()
        if cell == "rnn_relu":  # one spelling in the config: cell="rnn", nonlinearity="relu"
            cell, nonlinearity = "rnn", "relu" if nonlinearity == "tanh" else nonlinearity
        config = LayerConfig(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            cell,
            forget_bias,
            kernel,
            proj_size,
            nonlinearity,
        )
        # the dropout warning points at the caller's line: one frame more under GRU / RNN
        check_config(config, stacklevel=3 + (type(self).__init__ is not RNNBase.__init__))
        self.config = config = dataclasses.replace(config, dropout=float(dropout))
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, config.dropout
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.nonlinearity, self.forget_bias = nonlinearity, forget_bias
        self.cell_type = get_cell("rnn_relu" if nonlinearity == "relu" else cell)
        self.cell = self.cell_type.name
        self.num_directions = 2 if bidirectional else 1
        has_fused = self.cell_type.has_fused_kernel
        self.kernel = ("fused" if has_fused else "loop") if kernel == "auto" else kernel
        self.recurrence = recurrence(self.cell, scripted=self.kernel != "python")
        # _names[k][d] maps a cell's parameter name ("weight_hh") to ours ("weight_hh_l1_reverse").
        self._names: list[list[dict[str, str]]] = []
        for layer in range(num_layers):
            for direction in range(self.num_directions):
                names = {}
                for base, shape in self._shapes(layer).items():
                    if base.startswith("bias") and not bias:
                        continue
                    names[base] = base + f"_l{layer}" + ("_reverse" if direction else "")
                    empty = torch.empty(shape, device=device, dtype=dtype)
                    self.register_parameter(names[base], nn.Parameter(empty))
                if direction == 0:
                    self._names.append([])
                self._names[layer].append(names)
        self.reset_parameters()
        self.flatten_parameters()

    def _shapes(self, layer: int) -> dict[str, tuple[int, ...]]:
        """The cell's parameters for one layer; with proj_size, h is P wide, so W_hh reads P
        columns, and W_hr (P, H) projects the cell's h (Sak et al. 2014, torch's proj_size)."""
        H, P, D = self.hidden_size, self.proj_size, self.num_directions
        layer_input = self.input_size if layer == 0 else (P or H) * D
        shapes = self.cell_type.parameter_shapes(layer_input, H)
        if P:
            shapes["weight_hh"] = (shapes["weight_hh"][0], P)
            shapes["weight_hr"] = (P, H)
        return shapes

    @classmethod
    def from_config(cls, config: LayerConfig, device=None, dtype=None) -> RNNBase:
        layer = cls.__new__(cls)
        RNNBase.__init__(layer, **vars(config), device=device, dtype=dtype)
        return layer

    def reset_parameters(self) -> None:
        """torch.nn.LSTM's init (every parameter ~ U(-1/√H, 1/√H)), then the forget bias."""
        bound = uniform_bound(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)
        if self.forget_bias is not None:
            for per_direction in self._names:
                for names in per_direction:
                    params = {base: getattr(self, name) for base, name in names.items()}
                    self.cell_type.init_forget_bias(params, self.forget_bias, self.hidden_size)

    # ---- torch.nn.RNNBase's surface -------------------------------------------------------

    @property
    def mode(self) -> str:
        """torch's mode string ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"); a variant's own name."""
        return _MODES.get(self.cell, self.cell.upper())

    @property
    def _all_weights(self) -> list[list[str]]:
        return [list(names.values()) for per_direction in self._names for names in per_direction]

    @property
    def _flat_weights_names(self) -> list[str]:
        return [name for names in self._all_weights for name in names]

    @property
    def _flat_weights(self) -> list[Tensor | None]:
        """As torch's: every parameter in flat order, None where one was deleted."""
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """On CUDA, lay the fused kernel's weights out in the one buffer cuDNN wants, as
        torch.nn.LSTM does; otherwise cuDNN compacts them again at every call (and warns).
        The parameters become views into that buffer; nothing else changes. No-op elsewhere,
        and while a weight is deleted (torch's partial flat weights)."""
        if self.kernel != "fused":
            return
        weights = self._fused_weights(missing_ok=True)
        if weights is None:
            return
        first = weights[0]
        if not (first.is_cuda and torch.backends.cudnn.is_acceptable(first)):
            return
        if not all(w.is_cuda and w.dtype == first.dtype for w in weights):
            return
        from torch.backends.cudnn import rnn as cudnn_rnn

        mode = cudnn_rnn.get_cudnn_mode(self.mode)
        with torch.cuda.device_of(first), torch.no_grad():
            if torch._use_cudnn_rnn_flatten_weight():
                torch._cudnn_rnn_flatten_weight(
                    weights,
                    (4 if self.bias else 2) + (1 if self.proj_size else 0),
                    self.input_size,
                    mode,
                    self.hidden_size,
                    self.proj_size,
                    self.num_layers,
                    False,  # the input arrives (L, N, H_in): forward transposes it first
                    self.bidirectional,
                )

    def _apply(self, fn, recurse=True):
        # .cuda(), .to(), .double() ... replace the parameters: lay them out for cuDNN again.
        result = super()._apply(fn, recurse)
        self.flatten_parameters()
        return result

    @property
    def has_torch_twin(self) -> bool:
        """torch.nn has a module for this cell (lstm, gru, rnn, rnn_relu)."""
        return self.cell in _TORCH

    def to_torch(self) -> nn.Module:
        """The torch.nn.LSTM / GRU / RNN with these weights (standard cells only): for tools
        that match torch's classes exactly (quantize_dynamic, torch.jit.script)."""
        if not self.has_torch_twin:
            raise LstmkitError(
                f"cell: torch has no module for cell {self.cell!r}; only lstm, gru and rnn "
                "interchange with torch.nn"
            )
        kwargs = dict(
            num_layers=self.num_layers,
            bias=self.bias,
            batch_first=self.batch_first,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
        )
        if self.cell == "lstm":
            kwargs["proj_size"] = self.proj_size
        if self.cell.startswith("rnn"):
            kwargs["nonlinearity"] = self.nonlinearity
        first = next(self.parameters())
        peer = _TORCH[self.cell](
            self.input_size, self.hidden_size, device=first.device, dtype=first.dtype, **kwargs
        )
        peer.load_state_dict(self.state_dict())
        peer.train(self.training)
        return peer

    def __prepare_scriptable__(self):
        # torch.jit.script calls this first: the standard cells script as torch's own module
        # (same math, same state_dict); a variant has no scriptable twin, so say what works.
        if not self.has_torch_twin:
            raise LstmkitError(
                f"torch.jit.script: cell {self.cell!r} cannot be scripted (its loop already is, "
                "inside); use torch.jit.trace, torch.export or torch.onnx.export"
            )
        return self.to_torch()

    # The shared loop is a submodule only so that torch.jit.trace sees it; it is rebuilt, not
    # pickled (TorchScript modules do not pickle), and it is not part of the repr.
    def __getstate__(self):
        state = super().__getstate__().copy()
        state["_modules"] = {k: v for k, v in state["_modules"].items() if k != "recurrence"}
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._modules["recurrence"] = recurrence(self.cell, scripted=self.kernel != "python")

    def __repr__(self) -> str:
        return f"{self._get_name()}({self.extra_repr()})"

    def extra_repr(self) -> str:
        """torch's repr for torch's arguments (same order and spelling), then lstmkit's own."""
        c, s = self.config, f"{self.input_size}, {self.hidden_size}"
        for key, default in _TORCH_DEFAULTS:
            if getattr(c, key) != default:
                s += f", {key}={getattr(c, key)}"
        ours = (("cell", self._default_cell), ("nonlinearity", "tanh"), ("forget_bias", 1.0))
        for key, default in (*ours, ("kernel", "auto")):
            if getattr(c, key) != default:
                s += f", {key}={getattr(c, key)!r}"
        return s

    # ---- forward ---------------------------------------------------------------------------

    def forward(self, input, hx=None, return_gates: bool = False):
        if torch.compiler.is_compiling() and not torch.compiler.is_exporting():
            # torch.compile runs the layer as it runs torch.nn.LSTM: eagerly, between two
            # compiled graphs (dynamo's allow_rnn=False). Its fused ops do not trace (oneDNN's
            # mkldnn_rnn_layer fails in AOTAutograd), and an unrolled loop compiles for minutes.
            return _eager(self, input, hx, return_gates)
        packed = isinstance(input, PackedSequence)
        dtype = self.weight_ih_l0.dtype
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            check_input(data, self.input_size, dtype, True, self.batch_first)
            state = self._initial_state(hx, data, int(batch_sizes[0]), True)
            if sorted_indices is not None:  # hx is in the caller's order; the steps are sorted
                state = [s.index_select(1, sorted_indices) for s in state]
            output, state, traced = self._run(data, state, return_gates, batch_sizes)
            if unsorted_indices is not None:
                state = [s.index_select(1, unsorted_indices) for s in state]
                if traced is not None:
                    traced = {k: v.index_select(2, unsorted_indices) for k, v in traced.items()}
            output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            batched = True
        else:
            check_input(input, self.input_size, dtype, False, self.batch_first)
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1)  # (L, N, H_in) or (N, L, H_in)
            if self.batch_first and batched:
                x = x.transpose(0, 1)  # (L, N, H_in)
            state = self._initial_state(hx, x, x.size(1), batched)
            output, state, traced = self._run(x, state, return_gates, None)
            if self.batch_first and batched:
                output = output.transpose(0, 1)
            if not batched:
                output, state = output.squeeze(1), [s.squeeze(1) for s in state]
        result = (output, state[0] if len(state) == 1 else tuple(state))
        if not return_gates:
            return result
        for name, value in traced.items():  # (num_layers * D, L, N, ·)
            if not batched:
                value = value.squeeze(2)
            elif self.batch_first and not packed:
                value = value.transpose(1, 2)
            traced[name] = value
        return (*result, traced)

    def _run(self, x: Tensor, state: list[Tensor], return_gates: bool, batch_sizes):
        if self.kernel == "fused" and not return_gates:
            return (*self._fused(x, state, batch_sizes), None)
        sizes = None if batch_sizes is None else batch_sizes.tolist()
        return self._loop(x, state, return_gates, sizes)

    def _fused_weights(self, missing_ok: bool = False) -> list[Tensor] | None:
        """torch's flat order: per layer, per direction, w_ih, w_hh[, b_ih, b_hh][, w_hr]."""
        names = [n[b] for per_dir in self._names for n in per_dir for b in _FLAT_ORDER if b in n]
        if missing_ok and not all(hasattr(self, name) for name in names):
            return None
        return [getattr(self, name) for name in names]

    def _fused(self, x: Tensor, state: list[Tensor], batch_sizes):
        hx = tuple(state) if self.cell == "lstm" else state[0]
        args = (self._fused_weights(), self.bias, self.num_layers, self.dropout, self.training)
        if batch_sizes is None:
            out = _FUSED[self.cell](x, hx, *args, self.bidirectional, False)
        else:
            out = _FUSED[self.cell](x, batch_sizes, hx, *args, self.bidirectional)
        return out[0], list(out[1:])

    def _loop(self, x: Tensor, state: list[Tensor], trace: bool, sizes: list[int] | None):
        """x: (L, N, H_in), or a PackedSequence's data (sum of lengths, H_in) with `sizes`, its
        batch size at each step. Returns the output in the same layout."""
        loop = self.recurrence
        if torch.compiler.is_compiling():  # torch.export traces Python, not TorchScript
            loop = recurrence(self.cell, scripted=False)
        D, finals, traces = self.num_directions, [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                names = self._names[layer][direction]
                w = {base: getattr(self, name) for base, name in names.items()}
                # all steps in one matmul
                xp = F.linear(layer_input, w["weight_ih"], self.cell_type.input_bias(w))
                p = self.cell_type.step_args(w)
                s0 = [s[layer * D + direction] for s in state]
                # the reverse pass walks the steps right to left, each sequence from its own end
                hs, s_n, traced = loop(
                    xp, sizes or [], s0, p, w.get("weight_hr"), direction == 1, trace
                )
                outputs.append(hs)
                finals.append(s_n)
                traces.append(traced)
            layer_input = outputs[0] if D == 1 else torch.cat(outputs, -1)  # (·, D * H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        new_state = [torch.stack([s[k] for s in finals]) for k in range(len(finals[0]))]
        gates = None
        if trace:  # name -> (num_layers * D, L, N, ·)
            gates = {
                name: torch.stack([t[k] for t in traces])
                for k, name in enumerate(self.cell_type.trace_names)
            }
        return layer_input, new_state, gates

    def _initial_state(self, hx, x: Tensor, N: int, batched: bool) -> list[Tensor]:
        L_D, names = self.num_layers * self.num_directions, self.cell_type.state_names
        sizes = list(self.cell_type.state_sizes(self.hidden_size))
        if self.proj_size:
            sizes[0] = self.proj_size  # h is projected; c keeps hidden_size
        if hx is None:
            return [x.new_zeros(L_D, N, size) for size in sizes]
        expected = [(L_D, N, size) if batched else (L_D, size) for size in sizes]
        given = check_state(hx, self.cell, names, expected, batched)
        return [t if batched else t.unsqueeze(1) for t in given]


@torch.compiler.disable
def _eager(layer: RNNBase, input, hx, return_gates: bool):
    return layer(input, hx, return_gates)


class LSTM(RNNBase):
    """torch.nn.LSTM's arguments and behaviour, any cell of `lstmkit.cells.CELLS` (`cell=`).
    See `RNNBase` for the arguments, inputs and outputs."""


class GRU(RNNBase):
    """torch.nn.GRU's arguments, inputs, outputs and state_dict (the GRU cell, as torch computes
    it: the reset gate after W_hn). `kernel` as for LSTM."""

    _default_cell = "gru"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        kernel: str = "auto",
    ):
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
            cell="gru",
            kernel=kernel,
        )


class RNN(RNNBase):
    """torch.nn.RNN's arguments (nonlinearity "tanh" or "relu" fourth, as torch), inputs,
    outputs and state_dict. `kernel` as for LSTM."""

    _default_cell = "rnn"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        kernel: str = "auto",
    ):
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
            cell="rnn",
            nonlinearity=nonlinearity,
            kernel=kernel,
        )
