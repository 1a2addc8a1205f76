"""lstmkit.LSTMCell / GRUCell / RNNCell: one step, as torch.nn's cells and as the layer's step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lstmkit
from lstmkit import CELLS, LSTM, LstmkitError

F64 = torch.float64
I, H, N = 4, 5, 3
PEERS = {
    "lstm": (lambda **kw: lstmkit.LSTMCell(I, H, **kw), lambda **kw: nn.LSTMCell(I, H, **kw)),
    "gru": (lambda **kw: lstmkit.GRUCell(I, H, **kw), lambda **kw: nn.GRUCell(I, H, **kw)),
    "rnn": (lambda **kw: lstmkit.RNNCell(I, H, **kw), lambda **kw: nn.RNNCell(I, H, **kw)),
    "rnn_relu": (
        lambda **kw: lstmkit.RNNCell(I, H, nonlinearity="relu", **kw),
        lambda **kw: nn.RNNCell(I, H, nonlinearity="relu", **kw),
    ),
}


def states(s):
    return [s] if isinstance(s, torch.Tensor) else list(s)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cell", list(PEERS))
def test_cell_module_interchanges_with_torch(cell, bias):
    ours_fn, peer_fn = PEERS[cell]
    peer, ours = peer_fn(bias=bias, dtype=F64), ours_fn(bias=bias, dtype=F64)
    assert list(ours.state_dict()) == list(peer.state_dict())
    ours.load_state_dict(peer.state_dict())
    peer.load_state_dict(ours.state_dict())
    x = torch.randn(N, I, dtype=F64)
    hx = [torch.randn(N, H, dtype=F64) for _ in states(peer(x))]
    hx = hx[0] if len(hx) == 1 else tuple(hx)
    for a, b in zip(states(ours(x, hx)), states(peer(x, hx)), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(states(ours(x)), states(peer(x)), strict=True):  # no hx: zeros
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    unbatched = x[0]
    h1 = tuple(s[0] for s in states(hx))
    for a, b in zip(
        states(ours(unbatched, h1[0] if len(h1) == 1 else h1)),
        states(peer(unbatched, h1[0] if len(h1) == 1 else h1)),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert repr(ours) == repr(peer).replace("nonlinearity=relu", "nonlinearity='relu'")


@pytest.mark.parametrize("cell", list(CELLS))
def test_steps_of_a_cell_module_are_the_layer(cell):
    """Driving LSTMCell(cell=...) by hand over time gives the one-layer LSTM(cell=...)."""
    torch.manual_seed(0)
    layer = LSTM(I, H, cell=cell, dtype=F64)
    step = lstmkit.layers.StepCell(I, H, cell=cell, dtype=F64)
    step.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = torch.randn(6, N, I, dtype=F64)
    out, final = layer(x)
    state = None
    for t in range(6):
        state = step(x[t], state)
        torch.testing.assert_close(states(state)[0], out[t], rtol=1e-12, atol=1e-12)
    for a, b in zip(states(state), states(final), strict=True):
        torch.testing.assert_close(a, b[0], rtol=1e-12, atol=1e-12)


def test_lstm_cell_takes_variants_and_refuses_bad_input():
    peephole = lstmkit.LSTMCell(I, H, cell="peephole")
    assert peephole.weight_peephole.shape == (3 * H,)
    h, c = peephole(torch.randn(N, I))
    assert h.shape == c.shape == (N, H)
    with pytest.raises(RuntimeError, match="input_size=4"):
        peephole(torch.randn(N, I + 1))
    with pytest.raises(ValueError, match="2-D"):
        peephole(torch.randn(2, N, I))
    with pytest.raises(RuntimeError, match="hx"):
        peephole(torch.randn(N, I), torch.zeros(N, H))
    with pytest.raises(LstmkitError, match="cell"):
        lstmkit.LSTMCell(I, H, cell="lsmt")
