"""The LSTM layer: stacking, bidirectional passes, state carry, gate traces, the fused fast path.

`LSTM` takes torch.nn.LSTM's arguments, inputs and outputs, and for cell="lstm" its parameter
names and shapes, so `state_dict`s load both ways; cell="rnn" / "gru" likewise interchange with
torch.nn.RNN / torch.nn.GRU. The math lives in `cells.py`; this file only moves tensors around.

Kernels (`kernel=`):
  fused   torch's own fused kernel (oneDNN on CPU, cuDNN on GPU): lstm, rnn, gru only.
  loop    the cell's step in a TorchScript loop over time; the input projection W_ih x + b
          for all time steps is one matmul before the loop. Every cell has it.
  python  the same loop, not compiled: slower, but a debugger can step through every equation.
  auto    fused where the cell has it, else loop (the default).
Gate traces (`return_gates=True`) always run the loop, since the fused kernel keeps its gates
to itself; the tests pin the loop to the fused kernel and both to `reference.py`.

Dimension legend: L sequence length, N batch, H_in input size, H hidden size, D directions.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import _VF, Tensor, nn

from .cells import Cell, get_cell, uniform_bound
from .config import LayerConfig, LstmkitError

__all__ = ["KERNELS", "LSTM"]

KERNELS = ("auto", "fused", "loop", "python")
_FUSED = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn": _VF.rnn_tanh}


class _Recurrence(nn.Module):
    """Runs one cell over xp (L, N, G*H) from `state`; returns hs (L, N, H), the last state and,
    if asked, every traced quantity stacked over time, each (L, N, ·)."""

    def __init__(self, cell: Cell):
        super().__init__()
        self.cell = cell

    def forward(self, xp: Tensor, state: list[Tensor], p: list[Tensor], trace: bool):
        hs: list[Tensor] = []
        steps: list[list[Tensor]] = []
        # unbind, not xp[t]: the backward of an indexed select writes a full-size zero gradient
        # at every step, which made BPTT O(L^2) (17-29x slower than torch.nn.LSTM at L=256).
        for xp_t in xp.unbind(0):
            state, values = self.cell(xp_t, state, p)
            hs.append(state[0])
            if trace:
                steps.append(values)
        traced: list[Tensor] = []
        if trace:
            for k in range(len(steps[0])):
                traced.append(torch.stack([values[k] for values in steps]))
        return torch.stack(hs), state, traced


_LOOPS: dict[tuple[str, str], nn.Module] = {}


def _recurrence(cell: str, kernel: str) -> nn.Module:
    """One loop per (cell, kernel), shared by every layer: cells hold no parameters."""
    key = (cell, kernel)
    if key not in _LOOPS:
        loop = _Recurrence(get_cell(cell)())
        if kernel == "loop":
            # TorchScript is deprecated in favour of torch.compile, but measured here (torch
            # 2.13, CPU) torch.compile took 236 s to compile a 256-step loop and ran 7x slower;
            # the scripted loop compiles in milliseconds. Revisit when that changes.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated")
                loop = torch.jit.script(loop)
        _LOOPS[key] = loop
    return _LOOPS[key]


class LSTM(nn.Module):
    r"""A stack of recurrent layers built from any cell in `lstmkit.cells.CELLS`.

    Args: as torch.nn.LSTM (input_size, hidden_size, num_layers, bias, batch_first, dropout,
    bidirectional), plus
        cell:        a registered cell name ("lstm", "peephole", "cifg", "gru", ...).
        forget_bias: initial forget-gate bias (b_ih + b_hh on the f rows); 1.0 as Jozefowicz
                     et al. 2015 recommend; None keeps torch's U(-1/√H, 1/√H) everywhere.
                     Cells without a forget gate ignore it (cifg puts -forget_bias on i).
        kernel:      "auto", "fused", "loop" or "python" (see the module docstring).

    Inputs: input, hx
        input: (L, N, H_in), or (N, L, H_in) with batch_first, or (L, H_in) unbatched.
        hx:    the initial state, zeros if None: for lstm-like cells (h_0, c_0), each
               (num_layers * D, N, H); for rnn and gru h_0 alone; for fgr (h_0, c_0, a_0) with
               a_0 (num_layers * D, N, 3H). Unbatched input takes unbatched states.
        return_gates: if True, also return the gate traces (below).

    Outputs: output, h_n (rnn, gru) or (h_n, c_n[, a_n]) [, gates]
        output: (L, N, D * H) (batch_first: (N, L, D * H)), the last layer's h at every step.
        gates:  dict from each name in the cell's `trace_names` (e.g. i, f, g, o, c, h) to a
                tensor (num_layers * D, L, N, H) (batch_first: (num_layers * D, N, L, H)),
                indexed like h_n: layer k's direction d is at k * D + d.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        cell: str = "lstm",
        forget_bias: float | None = 1.0,
        kernel: str = "auto",
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_args(input_size, hidden_size, num_layers, dropout, kernel)
        cell_type = get_cell(cell)
        if kernel == "fused" and not cell_type.has_fused_kernel:
            fused = ", ".join(_FUSED)
            raise LstmkitError(
                f"kernel: 'fused' exists only for cells {fused}; got cell={cell!r} (use "
                "kernel='auto' or 'loop')"
            )
        self.config = LayerConfig(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            float(dropout),
            bidirectional,
            cell,
            forget_bias,
            kernel,
        )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.cell, self.forget_bias = bidirectional, cell, forget_bias
        self.cell_type = cell_type
        self.num_directions = 2 if bidirectional else 1
        self.kernel = (
            ("fused" if cell_type.has_fused_kernel else "loop") if kernel == "auto" else kernel
        )
        # _names[k][d] maps a cell's parameter name ("weight_hh") to ours ("weight_hh_l1_reverse").
        self._names: list[list[dict[str, str]]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            shapes = cell_type.parameter_shapes(layer_input, hidden_size)
            per_direction = []
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                names = {}
                for base, shape in shapes.items():
                    if base.startswith("bias") and not bias:
                        continue
                    names[base] = base + suffix
                    empty = torch.empty(shape, device=device, dtype=dtype)
                    self.register_parameter(base + suffix, nn.Parameter(empty))
                per_direction.append(names)
            self._names.append(per_direction)
        self.reset_parameters()
        self.flatten_parameters()

    @classmethod
    def from_config(cls, config: LayerConfig, device=None, dtype=None) -> LSTM:
        return cls(**vars(config), device=device, dtype=dtype)

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

    def flatten_parameters(self) -> None:
        """On CUDA, lay the fused kernel's weights out in the one buffer cuDNN wants, as
        torch.nn.LSTM does; otherwise cuDNN compacts them again at every call (and warns).
        The parameters become views into that buffer; nothing else changes. No-op elsewhere."""
        if self.kernel != "fused":
            return
        weights = self._fused_weights()
        first = weights[0]
        if not (first.is_cuda and torch.backends.cudnn.is_acceptable(first)):
            return
        if not all(w.is_cuda and w.dtype == first.dtype for w in weights):
            return
        from torch.backends.cudnn import rnn as cudnn_rnn

        mode = cudnn_rnn.get_cudnn_mode(
            {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN_TANH"}[self.cell]
        )
        with torch.cuda.device_of(first), torch.no_grad():
            if torch._use_cudnn_rnn_flatten_weight():
                torch._cudnn_rnn_flatten_weight(
                    weights,
                    4 if self.bias else 2,
                    self.input_size,
                    mode,
                    self.hidden_size,
                    0,
                    self.num_layers,
                    False,
                    self.bidirectional,
                )

    def _apply(self, fn, recurse=True):
        # .cuda(), .to(), .double() ... replace the parameters: lay them out for cuDNN again.
        result = super()._apply(fn, recurse)
        self.flatten_parameters()
        return result

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = LayerConfig(self.input_size, self.hidden_size)
        for key, value in vars(self.config).items():
            if key not in ("input_size", "hidden_size") and value != getattr(defaults, key):
                s += f", {key}={value!r}"
        return s

    # ---- forward ---------------------------------------------------------------------------

    def forward(self, input: Tensor, hx=None, return_gates: bool = False):
        batched = self._check_input(input)
        x = input if batched else input.unsqueeze(1)  # (L, N, H_in) or (N, L, H_in)
        if self.batch_first and batched:
            x = x.transpose(0, 1)  # (L, N, H_in)
        state = self._initial_state(hx, x, batched)  # one (num_layers * D, N, ·) per state name
        if self.kernel == "fused" and not return_gates:
            output, state = self._fused(x, state)
            traced = None
        else:
            output, state, traced = self._loop(x, state, return_gates)
        if self.batch_first and batched:
            output = output.transpose(0, 1)
        if not batched:
            output, state = output.squeeze(1), [s.squeeze(1) for s in state]
        result = (output, state[0] if len(state) == 1 else tuple(state))
        if not return_gates:
            return result
        for name, value in traced.items():
            if not batched:
                value = value.squeeze(2)
            elif self.batch_first:
                value = value.transpose(1, 2)
            traced[name] = value
        return (*result, traced)

    def _fused_weights(self) -> list[Tensor]:
        """torch's flat order: per layer, per direction, w_ih, w_hh[, b_ih, b_hh]."""
        return [
            getattr(self, names[base])
            for per_direction in self._names
            for names in per_direction
            for base in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            if base in names
        ]

    def _fused(self, x: Tensor, state: list[Tensor]):
        weights = self._fused_weights()
        hx = tuple(state) if self.cell == "lstm" else state[0]
        out = _FUSED[self.cell](
            x,
            hx,
            weights,
            self.bias,
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
            False,
        )
        return out[0], list(out[1:])

    def _loop(self, x: Tensor, state: list[Tensor], trace: bool):
        loop = _recurrence(self.cell, "python" if self.kernel == "python" else "loop")
        D, finals, traces = self.num_directions, [], []
        layer_input = x  # (L, N, H_in)
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                names = self._names[layer][direction]
                w = {base: getattr(self, name) for base, name in names.items()}
                biases = [w[b] for b in self.cell_type.input_biases if b in w]
                bias = sum(biases[1:], biases[0]) if biases else None
                xp = F.linear(layer_input, w["weight_ih"], bias)  # (L, N, G*H), all steps at once
                if direction:
                    xp = xp.flip(0)  # the reverse pass reads the sequence right to left
                p = [
                    w[b] if b in w else _zero_bias(w["weight_hh"])
                    for b in self.cell_type.step_parameters
                ]
                s0 = [s[layer * D + direction] for s in state]
                hs, s_n, traced = loop(xp, s0, p, trace)
                if direction:
                    hs, traced = hs.flip(0), [t.flip(0) for t in traced]
                outputs.append(hs)
                finals.append(s_n)
                traces.append(traced)
            layer_input = outputs[0] if D == 1 else torch.cat(outputs, 2)  # (L, N, D*H)
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

    # ---- validation: one line naming the argument, what was expected, what was given ------

    def _check_input(self, input) -> bool:
        if not isinstance(input, Tensor):
            raise LstmkitError(f"input: expected a torch.Tensor, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise LstmkitError(
                f"input: expected a 3-D (L, N, H_in) batch or a 2-D (L, H_in) sequence, "
                f"got {input.dim()}-D of shape {tuple(input.shape)}"
            )
        if input.size(-1) != self.input_size:
            raise LstmkitError(
                f"input: expected input.size(-1) == input_size={self.input_size}, "
                f"got {input.size(-1)} (shape {tuple(input.shape)})"
            )
        length = input.size(1 if self.batch_first and input.dim() == 3 else 0)
        if length == 0:
            raise LstmkitError(f"input: the sequence is empty (shape {tuple(input.shape)})")
        dtype = self.weight_ih_l0.dtype
        if input.dtype != dtype:
            raise LstmkitError(
                f"input: dtype {input.dtype} does not match the layer's parameters ({dtype}); "
                f"convert one of them, e.g. input.to({dtype})"
            )
        return input.dim() == 3

    def _initial_state(self, hx, x: Tensor, batched: bool) -> list[Tensor]:
        L_D, N = self.num_layers * self.num_directions, x.size(1)
        names, sizes = self.cell_type.state_names, self.cell_type.state_sizes(self.hidden_size)
        if hx is None:
            return [x.new_zeros(L_D, N, size) for size in sizes]
        given = (
            [hx] if isinstance(hx, Tensor) else list(hx) if isinstance(hx, tuple | list) else None
        )
        if (
            given is None
            or len(given) != len(names)
            or not all(isinstance(t, Tensor) for t in given)
        ):
            want = (
                names[0] + "_0"
                if len(names) == 1
                else "(" + ", ".join(n + "_0" for n in names) + ")"
            )
            raise LstmkitError(
                f"hx: cell {self.cell!r} expects {want} as tensors, got {_describe(hx)}"
            )
        state = []
        for name, size, t in zip(names, sizes, given, strict=True):
            expected = (L_D, N, size) if batched else (L_D, size)
            if tuple(t.shape) != expected:
                raise LstmkitError(
                    f"hx: {name}_0 must have shape {expected} (num_layers * D, "
                    f"{'N, ' if batched else ''}{name} size), got {tuple(t.shape)}"
                )
            state.append(t if batched else t.unsqueeze(1))
        return state


def _zero_bias(weight_hh: Tensor) -> Tensor:
    # bias=False on a cell whose step adds a bias (gru, article): a constant zero stands in.
    return weight_hh.new_zeros(weight_hh.size(0))


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


def _check_args(input_size, hidden_size, num_layers, dropout, kernel) -> None:
    for name, value in (
        ("input_size", input_size),
        ("hidden_size", hidden_size),
        ("num_layers", num_layers),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise LstmkitError(f"{name}: expected a positive integer, got {value!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise LstmkitError(f"dropout: expected a number in [0, 1), got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        raise LstmkitError(
            f"dropout: {dropout} acts only between stacked layers, but num_layers=1; set "
            "num_layers > 1 or dropout=0"
        )
    if kernel not in KERNELS:
        raise LstmkitError(f"kernel: expected one of {', '.join(KERNELS)}, got {kernel!r}")
