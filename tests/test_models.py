"""models.ForecastNet: starts exactly at the linear AR it is given; shapes; the skip stays
frozen."""

from __future__ import annotations

import numpy as np
import torch

from helpers import classifier_net, forecast_net


def test_untrained_net_is_the_linear_model():
    net = forecast_net(3, 5, horizon=2, quantiles=(0.1, 0.9), hidden_size=8)  # three heads
    W = np.random.default_rng(0).normal(size=(5, 2))
    net.init_skip(W)
    x, d = torch.randn(4, 7, 3), torch.randn(4, 7, 5)
    out, (h, _c) = net(x, d)
    assert out.shape == (4, 7, 2, 3) and h.shape == (1, 4, 8)
    want = torch.as_tensor(d.numpy() @ W, dtype=torch.float32)
    for q in range(3):
        torch.testing.assert_close(out[..., q], want, rtol=1e-5, atol=1e-5)


def test_skip_is_frozen_and_head_learns():
    net = forecast_net(3, 5)
    net.init_skip(np.ones((5, 1)))
    out, _ = net(torch.randn(2, 4, 3), torch.randn(2, 4, 5))
    out.sum().backward()
    assert net.skip.weight.grad is None and not net.skip.weight.requires_grad
    assert net.head.weight.grad is not None


# ---- ClassifierNet: padding never reaches a valid step -----------------------------------------

import pytest  # noqa: E402

from lstmkit.models import MaskedBatchNorm, flip_within_length  # noqa: E402


def test_flip_within_length_reverses_valid_steps_only():
    x = torch.arange(10.0).view(2, 5, 1)
    out = flip_within_length(x, torch.tensor([3, 5]))
    assert out[0, :, 0].tolist() == [2, 1, 0, 3, 4] and out[1, :, 0].tolist() == [9, 8, 7, 6, 5]
    assert torch.equal(flip_within_length(out, torch.tensor([3, 5])), x)


@pytest.mark.parametrize(
    "settings",
    [
        dict(pooling="last", bidirectional=False),
        dict(pooling="last", bidirectional=True, num_layers=2),
        dict(pooling="mean", conv_channels=6, conv_stride=2),
        dict(pooling="mean+max", conv_channels=6, conv_kernel=3),
        dict(pooling="attention", bidirectional=True, cell="gru"),
        dict(pooling="attention", vocab_size=12, cell="peephole"),
        dict(pooling="mean", fcn_channels=4, conv_channels=3, conv_stride=2),
    ],
    ids=str,
)
def test_a_sequence_padded_into_a_batch_scores_as_it_does_alone(settings):
    torch.manual_seed(0)
    net = classifier_net(3, input_size=2, hidden_size=5, dropout=0.0, **settings).double().eval()
    lengths = torch.tensor([7, 3, 5])
    if settings.get("vocab_size"):
        x = torch.randint(2, 12, (3, 7))
    else:
        x = torch.randn(3, 7, 2, dtype=torch.double)
    for n, L in enumerate(lengths):
        x[n, L:] = 0 if settings.get("vocab_size") else 1e3  # loud padding: it must not matter
    batch = net(x, lengths)
    for n, L in enumerate(lengths.tolist()):
        alone = net(x[n : n + 1, :L], lengths[n : n + 1])
        torch.testing.assert_close(batch[n : n + 1], alone, rtol=1e-10, atol=1e-10)


def test_padding_gets_no_gradient():
    torch.manual_seed(0)
    net = (
        classifier_net(2, input_size=1, hidden_size=4, conv_channels=3, pooling="attention")
        .double()
        .eval()
    )
    x = torch.randn(2, 6, 1, dtype=torch.double, requires_grad=True)
    net(x, torch.tensor([4, 6])).sum().backward()
    assert x.grad[0, 4:].abs().max() == 0 and x.grad[0, :4].abs().max() > 0


def test_masked_batch_norm_statistics_ignore_padding():
    bn = MaskedBatchNorm(2)
    z = torch.randn(3, 2, 5)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    out = bn(z.masked_fill(~mask[:, None], 1e6), mask)
    valid = out.transpose(1, 2)[mask]  # (steps, C)
    torch.testing.assert_close(valid.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(valid.var(0, unbiased=False), torch.ones(2), atol=1e-3, rtol=0)


def test_pooling_weights_sum_to_one_over_valid_steps():
    torch.manual_seed(0)
    net = classifier_net(2, input_size=1, hidden_size=4, pooling="attention")
    h = torch.randn(2, 5, 8)
    _, w = net.pool(h, torch.tensor([3, 5]))
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    assert w[0, 3:].abs().max() == 0


def test_mean_proba_averages_members_and_variants_and_restores_their_modes():
    from lstmkit.models import mean_proba

    torch.manual_seed(0)
    a = classifier_net(3, input_size=1, hidden_size=4, dropout=0.5)
    b = classifier_net(3, input_size=1, hidden_size=4, dropout=0.5).eval()
    rng = np.random.default_rng(0)
    # 2 variants of 700 rows: two 512-row chunks
    xs = rng.normal(size=(2, 700, 6, 1)).astype(np.float32)
    ns = rng.integers(2, 7, size=(2, 700))
    out = mean_proba([a, b], xs, ns, multilabel=False)
    assert a.training and not b.training  # each member's mode as it was
    by_hand = []
    with torch.no_grad():
        for m in (a, b):
            m.eval()
            for v in range(2):  # one row at a time, its own length: no padding, no chunks
                rows = [
                    m(
                        torch.as_tensor(xs[v, i : i + 1, : ns[v, i]]),
                        torch.as_tensor(ns[v, i : i + 1]),
                    )
                    for i in range(700)
                ]
                by_hand.append(torch.softmax(torch.cat(rows), 1).double().numpy())
    np.testing.assert_allclose(out, np.mean(by_hand, 0), atol=1e-6)
    assert out.shape == (700, 3) and np.allclose(out.sum(1), 1)
    labels = mean_proba([b], xs[:1], ns[:1], multilabel=True)  # a sigmoid per output
    assert ((labels > 0) & (labels < 1)).all() and not np.allclose(labels.sum(1), 1)


def test_point_forecast_is_the_forward_pass_at_one_head():
    torch.manual_seed(0)
    net = forecast_net(3, 5, horizon=2, quantiles=(0.1, 0.9), hidden_size=6).double()
    torch.nn.init.normal_(net.head.weight)  # a trained-looking head, not zero
    x, d = torch.randn(4, 7, 3).double(), torch.randn(4, 7, 5).double()
    out, _ = net(x, d)
    for q in range(3):
        torch.testing.assert_close(net.point_forecast(x, d, quantile=q), out[..., q])
    last = net.point_forecast(x, d[:, -1:], quantile=1, last=True)
    torch.testing.assert_close(last, out[:, -1:, :, 1])


def test_without_correction_leaves_the_base_at_those_steps_and_heads_only():
    torch.manual_seed(0)
    net = forecast_net(3, 5, horizon=3, quantiles=(0.1, 0.9), hidden_size=6).double()
    torch.nn.init.normal_(net.head.weight)
    torch.nn.init.normal_(net.head.bias)
    x, d = torch.randn(2, 4, 3).double(), torch.randn(2, 4, 5).double()
    before, _ = net(x, d)
    net.without_correction([0, 2], quantile=1)  # the median of steps 1 and 3
    after, _ = net(x, d)
    base = net.skip(d)
    torch.testing.assert_close(after[..., [0, 2], 1], base[..., [0, 2]])  # the base exactly
    torch.testing.assert_close(after[..., 1, :], before[..., 1, :])  # step 2 untouched
    torch.testing.assert_close(after[..., 0], before[..., 0])  # the other heads untouched
