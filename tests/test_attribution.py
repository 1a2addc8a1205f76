"""attribution: traces that reproduce the layer, complete integrated gradients, attention where it
belongs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers import classifier_net
from lstmkit import LSTM
from lstmkit.attribution import (
    half_life,
    integrated_gradients,
    loop_kernels,
    occlusion,
    unit_statistics,
)
from lstmkit.experiments.tasks import adding


@pytest.mark.parametrize("cell", ["lstm", "peephole", "cifg", "noaf"])
def test_traced_h_is_o_times_tanh_c_and_matches_the_fused_output(cell):
    torch.manual_seed(0)
    layer = LSTM(3, 6, num_layers=2, bidirectional=True, cell=cell).double()
    x = torch.randn(9, 4, 3, dtype=torch.double)
    out_plain, _ = layer(x)  # the fused kernel where the cell has one
    out, _, g = layer(x, return_gates=True)
    act = (lambda c: c) if cell == "noaf" else torch.tanh
    torch.testing.assert_close(g["h"], g["o"] * act(g["c"]), atol=1e-6, rtol=0)
    last = torch.cat([g["h"][2], g["h"][3]], -1)  # layer 2, both directions, is the output
    torch.testing.assert_close(out, last, atol=1e-12, rtol=0)
    torch.testing.assert_close(out_plain, out, atol=1e-10, rtol=0)


def test_classifier_traces_reproduce_its_encoder_output_with_padding():
    torch.manual_seed(0)
    net = classifier_net(2, input_size=1, hidden_size=5, bidirectional=True).double().eval()
    x, n = torch.randn(3, 8, 1, dtype=torch.double), torch.tensor([8, 5, 3])
    h = net.encoder(x, n)
    h2, g = net.encoder(x, n, return_gates=True)
    valid = torch.arange(8)[None] < n[:, None]
    torch.testing.assert_close(h[valid], h2[valid], atol=1e-12, rtol=0)
    torch.testing.assert_close(
        torch.cat([g["h"][0], g["h"][1]], -1)[valid], h[valid], atol=1e-12, rtol=0
    )
    torch.testing.assert_close(
        g["h"][valid[None].expand(2, -1, -1)],
        (g["o"] * torch.tanh(g["c"]))[valid[None].expand(2, -1, -1)],
        atol=1e-6,
        rtol=0,
    )


def test_integrated_gradients_are_complete_and_exact_for_a_linear_function():
    w = torch.randn(5, 3, dtype=torch.double)
    f = lambda xs: (xs[0] * w).sum((1, 2)) + xs[1].sum(1) ** 2  # noqa: E731
    x, b = [torch.randn(5, 3), torch.randn(4)], [torch.zeros(5, 3), torch.zeros(4)]
    (a0, a1), fx, fb, err, _ = integrated_gradients(f, x, b, steps=32)
    torch.testing.assert_close(a0, x[0].double() * w)  # linear part: (x - b) * w exactly
    assert abs(float(a0.sum() + a1.sum()) - (fx - fb)) <= 0.01 * abs(fx - fb) and err <= 0.01


def test_integrated_gradients_refine_a_steep_stretch_of_the_path_that_equal_steps_miss():
    # f swings by 20 within about 0.001 of the path (a softmax switching class does this)
    w = torch.tensor([0.5, 1.5, -1.0], dtype=torch.double)
    x = torch.tensor([1.0, 0.6, 0.3], dtype=torch.double)  # w . x = 1.1
    f = lambda xs: 10 * torch.tanh(2000 * (xs[0] @ w - 0.37))  # noqa: E731
    b = torch.zeros(3, dtype=torch.double)
    alphas = (
        torch.arange(512, dtype=torch.double) + 0.5
    ) / 512  # the uniform midpoint rule, 512 steps
    uniform = float((10 * 2000 * (1 - torch.tanh(2000 * (alphas * 1.1 - 0.37)) ** 2) * 1.1).mean())
    rows = []  # gradients taken: the rows f sees with gradients on

    def counted(xs):
        rows.append(len(xs[0]) if xs[0].requires_grad else 0)
        return f(xs)

    (a,), fx, fb, err, used = integrated_gradients(counted, [x], [b], steps=64, max_steps=512)
    assert abs(uniform - (fx - fb)) > 0.05 * abs(fx - fb)  # equal steps are off by more than 5%
    assert (
        err <= 0.01
        and used == sum(rows) <= 512
        and abs(float(a.sum()) - (fx - fb)) <= 0.01 * abs(fx - fb)
    )
    # a function of w . x: the gradient keeps its direction, so the shares are exactly w_j x_j / w .
    # x
    torch.testing.assert_close(a / a.sum(), w * x / (w @ x))


def test_integrated_gradients_complete_on_a_classifier_through_the_loop_kernel():
    torch.manual_seed(1)
    net = classifier_net(3, input_size=2, hidden_size=8, conv_channels=4).double().eval()
    x = torch.randn(12, 2, dtype=torch.double)
    f = lambda xs: torch.log_softmax(net(xs[0], torch.full((len(xs[0]),), 12)), 1)[:, 2]  # noqa: E731
    with loop_kernels(net):
        assert all(m.kernel == "loop" for m in net.modules() if isinstance(m, LSTM))
        (a,), fx, fb, err, _ = integrated_gradients(f, [x], [torch.zeros_like(x)], steps=16)
    assert all(m.kernel == "fused" for m in net.modules() if isinstance(m, LSTM))  # restored
    assert err <= 0.01 and abs(float(a.sum()) - (fx - fb)) <= 0.01 * abs(fx - fb)


def test_occlusion_of_a_group_is_the_drop_it_causes():
    f = lambda xs: xs[0].sum(1)  # noqa: E731
    x = torch.tensor([1.0, 2.0, 3.0])
    groups = [[torch.tensor([True, False, False])], [torch.tensor([False, True, True])]]
    np.testing.assert_allclose(occlusion(f, [x], [torch.zeros(3)], groups), [1.0, 5.0])


def test_unit_statistics_and_half_life():
    assert (
        half_life(0.5) == pytest.approx(1.0)
        and math.isinf(half_life(1.0))
        and half_life(0.0) == 0.0
    )
    rng = np.random.default_rng(0)
    f = np.stack([np.full(100, 0.9), rng.uniform(0, 0.03, 100)], 1)
    traces = {"i": f, "f": f, "o": f, "h": np.stack([np.zeros(100), rng.normal(size=100)], 1)}
    units = unit_statistics(traces, "lstm")
    assert units[0]["half_life"] == pytest.approx(math.log(0.5) / math.log(0.9))
    assert units[0]["constant"] and not units[1]["constant"]
    assert units[1]["saturation"]["f"]["low"] == 1.0 and units[0]["saturation"]["f"]["high"] == 0.0
    gru = unit_statistics({"r": f, "z": f, "n": f, "h": traces["h"]}, "gru")
    assert gru[0]["forget_mean"] == pytest.approx(0.9)  # the GRU keeps z of its state
    assert math.isinf(unit_statistics({"i": f, "o": f, "h": traces["h"]}, "nfg")[0]["half_life"])


def test_on_the_adding_problem_attribution_falls_on_the_two_marked_steps():
    """Only the two marked values decide the target; a trained LSTM must put >= 80% of its
    attribution mass on those two steps (of 20)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    lstm, head = LSTM(2, 32, batch_first=True), torch.nn.Linear(32, 1)
    params = [*lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2)
    model = lambda x: head(lstm(x)[0][:, -1])[:, 0]  # noqa: E731
    for _ in range(600):
        p = adding(64, 20, rng)
        x, y = torch.as_tensor(p.x).transpose(0, 1), torch.as_tensor(p.y)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    test = adding(20, 20, np.random.default_rng(1))
    x = torch.as_tensor(test.x).transpose(0, 1).double()
    lstm.double(), head.double()
    with torch.no_grad():
        assert torch.nn.functional.mse_loss(model(x), torch.as_tensor(test.y).double()) < 0.01
    shares = []
    with loop_kernels(lstm):
        for n in range(len(x)):
            (a,), *_ = integrated_gradients(
                lambda xs: model(xs[0]), [x[n]], [torch.zeros_like(x[n])], steps=32
            )
            per_step = a.abs().sum(1)
            marked = x[n, :, 1] == 1
            shares.append(float(per_step[marked].sum() / per_step.sum()))
    assert np.mean(shares) >= 0.8, shares


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (run on the lent GPU)"
)
def test_cuda_attribution_runs_through_the_loop_not_cudnn():
    """cuDNN refuses a backward pass in eval mode; explain's loop kernels do not, and agree with
    the CPU."""
    torch.manual_seed(0)
    net = (
        classifier_net(3, input_size=2, hidden_size=16, conv_channels=8, bidirectional=True)
        .double()
        .eval()
    )
    x = torch.randn(30, 2, dtype=torch.double)
    lengths = lambda n, dev: torch.full((n,), 30, device=dev)  # noqa: E731
    results = {}
    for dev in ("cpu", "cuda"):
        m = net.to(dev)
        f = lambda xs, m=m, dev=dev: torch.log_softmax(m(xs[0], lengths(len(xs[0]), dev)), 1)[:, 0]  # noqa: E731
        if dev == "cuda":
            xg = x.to(dev).requires_grad_(True)
            with pytest.raises(
                RuntimeError, match="cudnn RNN backward can only be called in training mode"
            ):
                f([xg[None]]).sum().backward()
        with loop_kernels(m):
            (a,), fx, _, err, _ = integrated_gradients(
                f, [x.to(dev)], [torch.zeros_like(x).to(dev)], steps=32
            )
        results[dev] = (a.cpu(), fx, err)
    torch.testing.assert_close(results["cpu"][0], results["cuda"][0], atol=1e-8, rtol=1e-6)
    assert results["cuda"][2] <= 0.01
