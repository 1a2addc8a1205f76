"""The LSTM equations in PyTorch: one small class per cell, and the CELLS registry.

A cell computes one time step and holds no parameters: the layer (`layers/recurrent.py`) owns
them under `torch.nn.LSTM`'s names and hands them in, so one cell object serves every layer and
direction and `state_dict`s interchange with torch. The layer computes the input half of (1)
for all time steps in one matmul (`xp = x W_ih^T + b`); a cell adds the recurrent half and
applies its gates.

Numbering follows `reference.py` and `docs/math.md`; this file never imports `reference.py`, so
the tests that hold the two together compare independent implementations. Standard cell:

    (1)  z = W_ih x + b_ih + W_hh h_prev + b_hh      blocks z_i, z_f, z_g, z_o (PyTorch order)
    (2)  i = σ(z_i)          (3)  f = σ(z_f)          (4)  g = tanh(z_g)
    (5)  c = f ⊙ c_prev + i ⊙ g
    (6)  o = σ(z_o)          (7)  h = o ⊙ tanh(c)

Every `forward(xp_t, state, p)` takes xp_t (N, G*H), the state as a list [h, c, ...] of (N, ·)
tensors and the step parameters p in the order of `step_parameters`; it returns the new state
and the traced quantities named by `trace_names`, all (N, H).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .config import LstmkitError

__all__ = [
    "CELLS",
    "ArticleCell",
    "CIFGCell",
    "Cell",
    "FGRCell",
    "GRUCell",
    "LSTMCell",
    "NFGCell",
    "NIAFCell",
    "NIGCell",
    "NOAFCell",
    "NOGCell",
    "PeepholeCell",
    "RNNCell",
    "RNNReLUCell",
    "get_cell",
]


def blocks(z: Tensor, n: int) -> list[Tensor]:
    """z (N, n*H) -> n blocks (N, H), as z.chunk(n, 1). Unbound, not chunked: TorchScript's
    autodiff drops the undefined gradient of an unused chunk and then mis-sizes the whole
    backward (a loss on c_n alone left o's block without one: "mat1 and mat2 shapes cannot be
    multiplied"). unbind has no such rule, and costs no more (narrow did: 2x at H=50)."""
    return z.unflatten(1, (n, -1)).unbind(1)


class Cell(nn.Module):
    """What every cell declares. Defaults describe a gated cell with the blocks in `gates`."""

    name = ""
    gates = "ifgo"  # gate blocks stacked in the rows of weight_ih / weight_hh
    state_names = ("h", "c")
    trace_names = ("i", "f", "g", "o", "c", "h")
    step_parameters = ("weight_hh",)  # handed to forward(), in this order
    input_biases = ("bias_ih", "bias_hh")  # folded into xp once, not added at every step
    has_fused_kernel = False  # torch ships a fused kernel (oneDNN/cuDNN) for this cell
    projectable = True  # proj_size: h = W_hr h may be narrower than c (LSTM-family cells)

    @classmethod
    def parameter_shapes(cls, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        G = len(cls.gates) * hidden_size
        return {
            "weight_ih": (G, input_size),
            "weight_hh": (G, hidden_size),
            "bias_ih": (G,),
            "bias_hh": (G,),
        }

    @classmethod
    def input_bias(cls, w: dict[str, Tensor]) -> Tensor | None:
        """The biases folded into the input projection xp = W_ih x + b, summed once per call."""
        biases = [w[b] for b in cls.input_biases if b in w]
        return sum(biases[1:], biases[0]) if biases else None

    @classmethod
    def step_args(cls, w: dict[str, Tensor]) -> list[Tensor]:
        """`p` for forward(): the step parameters in `step_parameters` order, prepared once per
        sequence, not at every step. bias=False on a cell whose step adds a bias (gru, article):
        a constant zero stands in."""
        return [
            w[b] if b in w else w["weight_hh"].new_zeros(w["weight_hh"].size(0))
            for b in cls.step_parameters
        ]

    @classmethod
    def state_sizes(cls, hidden_size: int) -> tuple[int, ...]:
        return (hidden_size,) * len(cls.state_names)

    @classmethod
    def init_forget_bias(cls, params: dict[str, Tensor], value: float, hidden_size: int):
        """Set the forget-gate bias so that b_ih + b_hh = value on the f rows (b_hh = 0 there).

        Jozefowicz et al. 2015 and Gers et al. 2000: a positive forget bias lets gradients flow
        from the start. A cell without a forget gate leaves its biases alone.
        """
        if "f" not in cls.gates or "bias_ih" not in params:
            return
        rows = slice(cls.gates.index("f") * hidden_size, (cls.gates.index("f") + 1) * hidden_size)
        with torch.no_grad():
            params["bias_ih"][rows] = value
            params["bias_hh"][rows] = 0.0

    def extra_repr(self) -> str:
        return self.name


class LSTMCell(Cell):
    """The standard LSTM (Hochreiter & Schmidhuber 1997 + forget gate, Gers et al. 2000)."""

    name = "lstm"
    has_fused_kernel = True

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)  (N, 4H)
        z_i, z_f, z_g, z_o = blocks(z, 4)
        i = torch.sigmoid(z_i)  # (2)
        f = torch.sigmoid(z_f)  # (3)
        g = torch.tanh(z_g)  # (4)
        c = f * c_prev + i * g  # (5)
        o = torch.sigmoid(z_o)  # (6)
        h = o * torch.tanh(c)  # (7)
        return [h, c], [i, f, g, o, c, h]


class PeepholeCell(Cell):
    """Greff's vanilla LSTM: the gates also look at the cell (Gers & Schmidhuber 2000).

    p_i and p_f see c_prev; p_o sees the new c. weight_peephole is (3H,) = [p_i, p_f, p_o],
    split once per sequence by step_args: p = [W_hh, p_i, p_f, p_o].
    """

    name = "peephole"
    step_parameters = ("weight_hh", "weight_peephole")

    @classmethod
    def parameter_shapes(cls, input_size, hidden_size):
        return super().parameter_shapes(input_size, hidden_size) | {
            "weight_peephole": (3 * hidden_size,)
        }

    @classmethod
    def step_args(cls, w):
        # unbind, not chunk: see blocks()
        return [w["weight_hh"], *w["weight_peephole"].unflatten(0, (3, -1)).unbind(0)]

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        p_i, p_f, p_o = p[1], p[2], p[3]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)
        z_i, z_f, z_g, z_o = blocks(z, 4)
        i = torch.sigmoid(z_i + p_i * c_prev)  # (2')
        f = torch.sigmoid(z_f + p_f * c_prev)  # (3')
        g = torch.tanh(z_g)  # (4)
        c = f * c_prev + i * g  # (5)
        o = torch.sigmoid(z_o + p_o * c)  # (6')
        h = o * torch.tanh(c)  # (7)
        return [h, c], [i, f, g, o, c, h]


class NIGCell(Cell):
    """No input gate (Greff's NIG): i = 1, so every candidate is written in full."""

    name = "nig"
    gates = "fgo"
    trace_names = ("f", "g", "o", "c", "h")

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)  (N, 3H)
        z_f, z_g, z_o = blocks(z, 3)
        f = torch.sigmoid(z_f)  # (3)
        g = torch.tanh(z_g)  # (4)
        c = f * c_prev + g  # (5')  i = 1
        o = torch.sigmoid(z_o)  # (6)
        h = o * torch.tanh(c)  # (7)
        return [h, c], [f, g, o, c, h]


class NFGCell(Cell):
    """No forget gate (Greff's NFG; the LSTM of 1997): f = 1, the cell only accumulates."""

    name = "nfg"
    gates = "igo"
    trace_names = ("i", "g", "o", "c", "h")

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)  (N, 3H)
        z_i, z_g, z_o = blocks(z, 3)
        i = torch.sigmoid(z_i)  # (2)
        g = torch.tanh(z_g)  # (4)
        c = c_prev + i * g  # (5')  f = 1
        o = torch.sigmoid(z_o)  # (6)
        h = o * torch.tanh(c)  # (7)
        return [h, c], [i, g, o, c, h]


class NOGCell(Cell):
    """No output gate (Greff's NOG): o = 1, h = tanh(c)."""

    name = "nog"
    gates = "ifg"
    trace_names = ("i", "f", "g", "c", "h")

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)  (N, 3H)
        z_i, z_f, z_g = blocks(z, 3)
        i = torch.sigmoid(z_i)  # (2)
        f = torch.sigmoid(z_f)  # (3)
        g = torch.tanh(z_g)  # (4)
        c = f * c_prev + i * g  # (5)
        h = torch.tanh(c)  # (7')  o = 1
        return [h, c], [i, f, g, c, h]


class NIAFCell(Cell):
    """No input activation function (Greff's NIAF): g = z_g, unsquashed."""

    name = "niaf"

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)
        z_i, z_f, z_g, z_o = blocks(z, 4)
        i = torch.sigmoid(z_i)  # (2)
        f = torch.sigmoid(z_f)  # (3)
        g = z_g  # (4')  no tanh
        c = f * c_prev + i * g  # (5)
        o = torch.sigmoid(z_o)  # (6)
        h = o * torch.tanh(c)  # (7)
        return [h, c], [i, f, g, o, c, h]


class NOAFCell(Cell):
    """No output activation function (Greff's NOAF): h = o ⊙ c."""

    name = "noaf"

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)
        z_i, z_f, z_g, z_o = blocks(z, 4)
        i = torch.sigmoid(z_i)  # (2)
        f = torch.sigmoid(z_f)  # (3)
        g = torch.tanh(z_g)  # (4)
        c = f * c_prev + i * g  # (5)
        o = torch.sigmoid(z_o)  # (6)
        h = o * c  # (7')  no tanh
        return [h, c], [i, f, g, o, c, h]


class CIFGCell(Cell):
    """Coupled input and forget gate (Greff's CIFG): f = 1 - i. The article's eq. (6)."""

    name = "cifg"
    gates = "igo"

    @classmethod
    def init_forget_bias(cls, params, value, hidden_size):
        # f = 1 - σ(z_i) = σ(-z_i): a forget bias of b is an input-gate bias of -b.
        if "bias_ih" in params:
            with torch.no_grad():
                params["bias_ih"][:hidden_size] = -value
                params["bias_hh"][:hidden_size] = 0.0

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)  (N, 3H)
        z_i, z_g, z_o = blocks(z, 3)
        i = torch.sigmoid(z_i)  # (2)
        f = 1.0 - i  # (3')  coupled
        g = torch.tanh(z_g)  # (4)
        c = f * c_prev + i * g  # (5)
        o = torch.sigmoid(z_o)  # (6)
        h = o * torch.tanh(c)  # (7)
        return [h, c], [i, f, g, o, c, h]


class FGRCell(Cell):
    """Full gate recurrence (Greff's FGR): i, f, o also see [i, f, o] of the previous step.

    weight_gr (3H, 3H) maps a_prev = [i, f, o](t-1) to the i, f, o pre-activations (Greff's nine
    extra matrices R_ii ... R_oo). The state carries a = [i, f, o], zero at the start.
    """

    name = "fgr"
    state_names = ("h", "c", "a")
    step_parameters = ("weight_hh", "weight_gr")

    @classmethod
    def parameter_shapes(cls, input_size, hidden_size):
        H3 = 3 * hidden_size
        return super().parameter_shapes(input_size, hidden_size) | {"weight_gr": (H3, H3)}

    @classmethod
    def state_sizes(cls, hidden_size):
        return (hidden_size, hidden_size, 3 * hidden_size)

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev, a_prev = state[0], state[1], state[2]
        z = torch.addmm(xp_t, h_prev, p[0].t())  # (1)
        z_i, z_f, z_g, z_o = blocks(z, 4)
        r_i, r_f, r_o = blocks(torch.mm(a_prev, p[1].t()), 3)  # (1')  (N, 3H) -> 3 x (N, H)
        i = torch.sigmoid(z_i + r_i)  # (2')
        f = torch.sigmoid(z_f + r_f)  # (3')
        g = torch.tanh(z_g)  # (4)
        c = f * c_prev + i * g  # (5)
        o = torch.sigmoid(z_o + r_o)  # (6')
        h = o * torch.tanh(c)  # (7)
        return [h, c, torch.cat([i, f, o], 1)], [i, f, g, o, c, h]


class RNNCell(Cell):
    """The tanh RNN (Elman 1990), as torch.nn.RNN: h = tanh(W_ih x + b_ih + W_hh h + b_hh)."""

    name = "rnn"
    projectable = False
    gates = "h"
    state_names = ("h",)
    trace_names = ("h",)
    has_fused_kernel = True

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h = torch.tanh(torch.addmm(xp_t, state[0], p[0].t()))  # (R1)
        return [h], [h]


class RNNReLUCell(RNNCell):
    """The ReLU RNN, as torch.nn.RNN(nonlinearity="relu"):
    h = relu(W_ih x + b_ih + W_hh h + b_hh)."""

    name = "rnn_relu"

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h = torch.relu(torch.addmm(xp_t, state[0], p[0].t()))  # (R1')
        return [h], [h]


class GRUCell(Cell):
    """The GRU (Cho et al. 2014) as torch.nn.GRU computes it, reset gate after W_hn:

    (G1) r = σ(W_ir x + b_ir + W_hr h + b_hr)     (G2) z = σ(W_iz x + b_iz + W_hz h + b_hz)
    (G3) n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    (G4) h' = (1 - z) ⊙ n + z ⊙ h
    """

    name = "gru"
    projectable = False
    gates = "rzn"
    state_names = ("h",)
    trace_names = ("r", "z", "n", "h")
    step_parameters = ("weight_hh", "bias_hh")
    input_biases = ("bias_ih",)  # b_hn sits inside r ⊙ (...), so b_hh cannot be folded
    has_fused_kernel = True

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev = state[0]
        x_r, x_z, x_n = blocks(xp_t, 3)
        h_r, h_z, h_n = blocks(torch.addmm(p[1], h_prev, p[0].t()), 3)  # (N, 3H) -> 3 x (N, H)
        r = torch.sigmoid(x_r + h_r)  # (G1)
        z = torch.sigmoid(x_z + h_z)  # (G2)
        n = torch.tanh(x_n + r * h_n)  # (G3)
        h = (1.0 - z) * n + z * h_prev  # (G4)
        return [h], [r, z, n, h]


class ArticleCell(Cell):
    """The article's equations exactly as printed (lstm-article.zh.md §3): a teaching specimen.

    See shared/article/ERRATA.md. h never reads c, so the cell state is dead and 11 of its 16
    parameter tensors get no gradient; what is left is a gated tanh RNN without a memory cell.
    weight_ih rows [W_hi, W_fi, W_ii, W_oi]; weight_hh rows [W_hh, W_fh, W_ih, W_hc, W_oh, W_oc];
    bias rows [b_hh, b_fh, b_ih, b_hc, b_oh, b_oc]. W_ii and W_oi are used twice, as printed.
    """

    name = "article"
    projectable = False
    gates = "kfio"  # the row blocks of weight_ih; weight_hh has six (below)
    trace_names = ("k", "f", "m", "i", "g", "c", "o", "u", "h")
    step_parameters = ("weight_hh", "bias")
    input_biases = ()

    @classmethod
    def parameter_shapes(cls, input_size, hidden_size):
        H = hidden_size
        return {"weight_ih": (4 * H, input_size), "weight_hh": (6 * H, H), "bias": (6 * H,)}

    @classmethod
    def init_forget_bias(cls, params, value, hidden_size):
        if "bias" in params:  # b_fh, for the record: (A2)'s f never reaches the cell
            with torch.no_grad():
                params["bias"][hidden_size : 2 * hidden_size] = value

    def forward(self, xp_t: Tensor, state: list[Tensor], p: list[Tensor]):
        h_prev, c_prev = state[0], state[1]
        H = c_prev.size(1)  # h_prev is narrower under a projection (proj_size)
        x_hi, x_fi, x_ii, x_oi = [xp_t.narrow(1, k * H, H) for k in range(4)]  # W_·i x
        z = torch.addmm(p[1], h_prev, p[0].t())  # (N, 6H): W_·h h + b_·, six blocks
        wh = [z.narrow(1, k * H, H) for k in range(6)]
        k = wh[0] + x_hi  # (A1) candidate_hidden_state, never read again
        f = torch.sigmoid(wh[1] + x_fi)  # (A2) forget_gate
        m = f * h_prev + c_prev  # (A3) forget_hidden_state, never read again
        i = torch.sigmoid(wh[2] + x_ii)  # (A4) input_gate
        g = torch.tanh(wh[3] + x_ii)  # (A5) W_ii reused
        c = i * g + (1.0 - i) * c_prev  # (A6) new_cell_state
        o = torch.sigmoid(wh[4] + x_oi)  # (A7) output_gate
        u = torch.tanh(wh[5] + x_oi)  # (A8) output_hidden_state, W_oi reused
        h = u * o  # (A9, A10)
        # (A11) cell_state = c. k and m are traced for the record: no later line reads them.
        return [h, c], [k, f, m, i, g, c, o, u, h]


# The registry. Adding a cell means adding it here; the tests enumerate this dict.
CELLS: dict[str, type[Cell]] = {
    cls.name: cls
    for cls in (
        LSTMCell,
        PeepholeCell,
        NIGCell,
        NFGCell,
        NOGCell,
        NIAFCell,
        NOAFCell,
        CIFGCell,
        FGRCell,
        RNNCell,
        RNNReLUCell,
        GRUCell,
        ArticleCell,
    )
}


def get_cell(name: str) -> type[Cell]:
    """The cell class registered as `name`; an unknown name lists the valid ones."""
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        valid = ", ".join(CELLS)
        raise LstmkitError(f"cell: unknown cell {name!r}; expected one of: {valid}") from None


def uniform_bound(hidden_size: int) -> float:
    """torch.nn.LSTM's init: every parameter ~ U(-1/√H, 1/√H)."""
    return 1.0 / math.sqrt(hidden_size)
