"""cells.py (PyTorch, autograd) against reference.py (NumPy, hand-written BPTT), float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import numpy_grads, numpy_params
from lstmkit import LSTM, LstmkitError, reference
from lstmkit.cells import CELLS, get_cell

T, N, I, H = 5, 3, 4, 6


def as_tuple(state):
    return (state,) if isinstance(state, torch.Tensor) else tuple(state)


@pytest.mark.parametrize("kernel", ["loop", "python"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_matches_reference_forward_and_gradients(cell, kernel):
    torch.manual_seed(0)
    layer = LSTM(I, H, cell=cell, kernel=kernel, dtype=torch.float64)
    x = torch.randn(T, N, I, dtype=torch.float64, requires_grad=True)
    state0 = tuple(
        torch.randn(1, N, s, dtype=torch.float64) * 0.5 for s in get_cell(cell).state_sizes(H)
    )
    for s in state0:
        s.requires_grad_(True)
    hx = state0[0] if len(state0) == 1 else state0
    output, state_n = layer(x, hx)
    state_n = as_tuple(state_n)

    w_h = torch.randn_like(output)
    w_state = [torch.randn_like(s) for s in state_n]
    loss = (w_h * output).sum() + sum((w * s).sum() for w, s in zip(w_state, state_n, strict=True))
    loss.backward()

    p = numpy_params(layer)
    hs, ref_state, caches = reference.lstm_forward(
        x.detach().numpy(), [s[0].detach().numpy() for s in state0], p, cell
    )
    np.testing.assert_allclose(output.detach().numpy(), hs, rtol=1e-10, atol=1e-12)
    for got, want in zip(state_n, ref_state, strict=True):
        np.testing.assert_allclose(got[0].detach().numpy(), want, rtol=1e-10, atol=1e-12)

    dxs, dstate0, grads = reference.lstm_bptt(
        w_h.numpy(), [w[0].numpy() for w in w_state], caches, p, cell
    )
    for name, g in numpy_grads(layer).items():
        np.testing.assert_allclose(g, grads[name], rtol=1e-9, atol=1e-11, err_msg=name)
    np.testing.assert_allclose(x.grad.numpy(), dxs, rtol=1e-9, atol=1e-11)
    for s, d in zip(state0, dstate0, strict=True):
        np.testing.assert_allclose(s.grad[0].numpy(), d, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("cell", list(CELLS))
def test_stacked_bidirectional_layer_matches_reference(cell):
    """Two layers, both directions, batch_first: each pass is the reference over (reversed) x."""
    torch.manual_seed(1)
    layer = LSTM(
        I, H, num_layers=2, bidirectional=True, batch_first=True, cell=cell, dtype=torch.float64
    )
    x = torch.randn(N, T, I, dtype=torch.float64)
    output, state_n = layer(x)
    state_n = as_tuple(state_n)

    layer_input = x.transpose(0, 1).numpy()  # (T, N, I)
    sizes = get_cell(cell).state_sizes(H)
    for k in range(2):
        outs = []
        for d in range(2):
            zeros = [np.zeros((N, s)) for s in sizes]
            xs = layer_input[::-1] if d else layer_input
            hs, final, _ = reference.lstm_forward(xs, zeros, numpy_params(layer, k, d), cell)
            outs.append(hs[::-1] if d else hs)
            for got, want in zip(state_n, final, strict=True):
                np.testing.assert_allclose(
                    got[2 * k + d].detach().numpy(), want, rtol=1e-10, atol=1e-12
                )
        layer_input = np.concatenate(outs, axis=2)
    np.testing.assert_allclose(
        output.detach().transpose(0, 1).numpy(), layer_input, rtol=1e-10, atol=1e-12
    )


def test_cifg_traces_show_f_equal_one_minus_i_exactly():
    layer = LSTM(I, H, num_layers=2, bidirectional=True, cell="cifg")
    _, _, gates = layer(torch.randn(T, N, I), return_gates=True)
    assert torch.equal(gates["f"], 1.0 - gates["i"])


def test_article_dead_parameters_get_no_gradient():
    """ERRATA.md: 11 of the article's 16 parameter tensors never reach h (loss on h only)."""
    layer = LSTM(I, H, cell="article", dtype=torch.float64)
    output, (h_n, _c_n) = layer(torch.randn(T, N, I, dtype=torch.float64))
    (output.square().sum() + h_n.sum()).backward()
    ih = dict(zip(("hi", "fi", "ii", "oi"), layer.weight_ih_l0.grad.chunk(4), strict=True))
    hh = dict(
        zip(("hh", "fh", "ih", "hc", "oh", "oc"), layer.weight_hh_l0.grad.chunk(6), strict=True)
    )
    bias = dict(zip(("hh", "fh", "ih", "hc", "oh", "oc"), layer.bias_l0.grad.chunk(6), strict=True))
    dead = [ih[k] for k in ("hi", "fi", "ii")] + [hh[k] for k in ("hh", "fh", "ih", "hc")]
    dead += [bias[k] for k in ("hh", "fh", "ih", "hc")]
    assert len(dead) == 11 and all(not g.any() for g in dead)
    live = [ih["oi"], hh["oh"], hh["oc"], bias["oh"], bias["oc"]]
    assert all(g.abs().sum() > 0 for g in live)
    # And the output does not move when every dead parameter is replaced by noise.
    x = torch.randn(T, N, I, dtype=torch.float64)
    before = layer(x)[0]
    with torch.no_grad():
        layer.weight_ih_l0[: 3 * H] += 10 * torch.randn(3 * H, I, dtype=torch.float64)
        layer.weight_hh_l0[: 4 * H] += 10 * torch.randn(4 * H, H, dtype=torch.float64)
        layer.bias_l0[: 4 * H] += 10 * torch.randn(4 * H, dtype=torch.float64)
    assert torch.equal(layer(x)[0], before)


def test_unknown_cell_lists_the_valid_ones():
    with pytest.raises(LstmkitError) as err:
        get_cell("lsmt")
    message = str(err.value)
    assert "\n" not in message and "'lsmt'" in message
    assert all(name in message for name in CELLS)


def test_forget_bias_initialisation():
    H_ = 5
    lstm = LSTM(3, H_, forget_bias=1.0)
    assert torch.equal(lstm.bias_ih_l0[H_ : 2 * H_] + lstm.bias_hh_l0[H_ : 2 * H_], torch.ones(H_))
    cifg = LSTM(3, H_, cell="cifg", forget_bias=2.0)  # f = 1 - σ(z_i): bias -2 on i
    assert torch.equal(cifg.bias_ih_l0[:H_] + cifg.bias_hh_l0[:H_], torch.full((H_,), -2.0))
    plain = LSTM(3, H_, forget_bias=None)
    bound = 1 / H_**0.5
    assert all(p.abs().max() <= bound for p in plain.parameters())
