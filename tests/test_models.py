"""models.ForecastNet: starts exactly at the linear AR it is given; shapes; the skip stays frozen."""

from __future__ import annotations

import numpy as np
import torch

from lstmkit.models import ForecastNet


def test_untrained_net_is_the_linear_model():
    net = ForecastNet(n_features=3, design_size=5, horizon=2, n_quantiles=3, hidden_size=8)
    W = np.random.default_rng(0).normal(size=(5, 2))
    net.init_skip(W)
    x, d = torch.randn(4, 7, 3), torch.randn(4, 7, 5)
    out, (h, _c) = net(x, d)
    assert out.shape == (4, 7, 2, 3) and h.shape == (1, 4, 8)
    want = torch.as_tensor(d.numpy() @ W, dtype=torch.float32)
    for q in range(3):
        torch.testing.assert_close(out[..., q], want, rtol=1e-5, atol=1e-5)


def test_skip_is_frozen_and_head_learns():
    net = ForecastNet(3, 5, 1)
    net.init_skip(np.ones((5, 1)))
    out, _ = net(torch.randn(2, 4, 3), torch.randn(2, 4, 5))
    out.sum().backward()
    assert net.skip.weight.grad is None and not net.skip.weight.requires_grad
    assert net.head.weight.grad is not None
