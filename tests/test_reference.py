"""reference.py's hand-written BPTT against central finite differences, for every cell."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import reference
from lstmkit.cells import CELLS, get_cell

T, N, I, H = 4, 2, 3, 4


def random_problem(cell: str, rng, bias=True):
    shapes = get_cell(cell).parameter_shapes(I, H)
    p = {k: rng.normal(0, 0.5, s) for k, s in shapes.items() if bias or not k.startswith("bias")}
    xs = rng.normal(size=(T, N, I))
    state0 = tuple(rng.normal(0, 0.5, (N, s)) for s in get_cell(cell).state_sizes(H))
    return p, xs, state0


def loss_fn(cell, p, xs, state0, w_h, w_state):
    """A loss that reads every output and every part of the final state."""
    hs, state_n, _ = reference.lstm_forward(xs, state0, p, cell)
    return float(
        (w_h * hs).sum() + sum((w * s).sum() for w, s in zip(w_state, state_n, strict=True))
    )


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_bptt_matches_finite_differences(cell, bias, rng):
    p, xs, state0 = random_problem(cell, rng, bias)
    hs, state_n, caches = reference.lstm_forward(xs, state0, p, cell)
    w_h = rng.normal(size=hs.shape)
    w_state = [rng.normal(size=s.shape) for s in state_n]
    dxs, dstate0, grads = reference.lstm_bptt(w_h, w_state, caches, p, cell)

    eps = 1e-6

    def numeric(array, f):
        out = np.zeros_like(array)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + eps
            up = f()
            array[idx] = old - eps
            down = f()
            array[idx] = old
            out[idx] = (up - down) / (2 * eps)
        return out

    f = lambda: loss_fn(cell, p, xs, state0, w_h, w_state)  # noqa: E731
    for name in p:
        np.testing.assert_allclose(
            grads[name], numeric(p[name], f), rtol=1e-6, atol=1e-8, err_msg=name
        )
    np.testing.assert_allclose(dxs, numeric(xs, f), rtol=1e-6, atol=1e-8, err_msg="x")
    for k, s in enumerate(state0):
        np.testing.assert_allclose(
            dstate0[k], numeric(s, f), rtol=1e-6, atol=1e-8, err_msg=f"state0[{k}]"
        )


def test_article_dead_parameters_get_exactly_zero_gradient(rng):
    # ERRATA.md: only W_oh, W_oi, W_oc, b_oh, b_oc reach h. Loss on the outputs only.
    p, xs, state0 = random_problem("article", rng)
    hs, _, caches = reference.lstm_forward(xs, state0, p, "article")
    _, _, grads = reference.lstm_bptt(
        rng.normal(size=hs.shape), (np.zeros((N, H)),) * 2, caches, p, "article"
    )
    blocks_hh = dict(zip(reference.ARTICLE_HH, np.split(grads["weight_hh"], 6), strict=True))
    blocks_ih = dict(zip(reference.ARTICLE_IH, np.split(grads["weight_ih"], 4), strict=True))
    for dead in ("hh", "fh", "ih", "hc"):
        assert not blocks_hh[dead].any(), dead
    for dead in ("hi", "fi", "ii"):
        assert not blocks_ih[dead].any(), dead
    assert np.abs(blocks_hh["oh"]).sum() > 0 and np.abs(blocks_ih["oi"]).sum() > 0


def test_sigmoid_is_stable_for_large_inputs():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    s = reference.sigmoid(x)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(
        s, [0.0, 1 / (1 + np.exp(30)), 0.5, 1 / (1 + np.exp(-30)), 1.0], rtol=1e-12
    )
