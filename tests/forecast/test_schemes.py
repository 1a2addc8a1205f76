"""forecast/schemes.py: the scheme objects the registry names, their loss written out by hand, and
many series forecast at once equal to one at a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import forecast_net
from lstmkit.data.windows import TRAIN, VAL, SeriesArrays
from lstmkit.forecast.config import TrainConfig
from lstmkit.forecast.schemes import SCHEMES, EveryStep, Windows, loss_of, scheme_of


def test_the_registry_names_each_scheme_by_its_setting():
    assert SCHEMES == {"windows": Windows, "every-step": EveryStep}
    assert isinstance(scheme_of(TrainConfig(scheme="windows", window=12)), Windows)
    every = scheme_of(TrainConfig())
    assert every.stateful and not Windows(TrainConfig()).stateful
    # three seasons, a week at most
    assert every.explain_span(24) == 72 and every.explain_span(168) == 168
    assert Windows(TrainConfig(window=12)).explain_span(24) == 12  # what a window reads


def test_the_pinball_loss_by_hand():
    y = torch.tensor([[1.0], [0.0]])  # (N, H)
    out = torch.tensor([[[0.0]], [[1.0]]])  # (N, H, Q): one quantile head at 0.9
    mask = torch.ones(2, dtype=torch.bool)
    # under-forecast by 1 costs q = 0.9, over-forecast by 1 costs 1 - q = 0.1
    assert float(loss_of(out, y, mask, [0.9])) == pytest.approx((0.9 + 0.1) / 2)
    assert float(loss_of(out, y, mask, [])) == pytest.approx(1.0)  # squared error without quantiles


def _series(n: int, seed: int) -> SeriesArrays:
    rng = np.random.default_rng(seed)
    split = np.full(n, TRAIN)
    split[-n // 4 :] = VAL
    import pandas as pd

    return SeriesArrays(
        series=f"s{seed}",
        times=pd.date_range("2024-01-01", periods=n, freq="h"),
        target=rng.normal(size=n),
        past=np.zeros((n, 0)),
        calendar_next=np.zeros((n, 0)),
        x=rng.normal(size=(n, 2)),
        y=rng.normal(size=(n, 1)),
        split=split,
    )


def test_many_series_at_once_forecast_as_each_alone():
    torch.manual_seed(0)
    net = forecast_net(2, 3, hidden_size=5)
    arrays = [_series(n, k) for k, n in enumerate((40, 25, 33))]
    rng = np.random.default_rng(9)
    designs = [rng.normal(size=(len(a.x), 3)) for a in arrays]
    designs[1][:4] = np.nan  # too little history: NaN where the design is
    every = EveryStep(TrainConfig())
    together = every.forecast_all(net, arrays, designs)
    for a, d, got in zip(arrays, designs, together, strict=True):
        alone = every.forecast(net, a, d)
        np.testing.assert_allclose(got, alone, rtol=1e-5, atol=1e-6)
    assert np.isnan(together[1][:4]).all() and not np.isnan(together[1][4:]).any()


def test_a_forecast_in_spans_with_the_state_carried_is_one_pass(monkeypatch):
    """FORECAST_SPAN steps per call (here 16 of a 100-step series): the state carries the
    history across calls, so every origin's forecast is the one a single pass gives."""
    from lstmkit.forecast import schemes

    torch.manual_seed(1)
    net = forecast_net(2, 3, hidden_size=5)
    arrays = [_series(n, k) for k, n in enumerate((100, 37))]
    rng = np.random.default_rng(2)
    designs = [rng.normal(size=(len(a.x), 3)) for a in arrays]
    monkeypatch.setattr(schemes, "FORECAST_SPAN", 16)
    spans = EveryStep(TrainConfig()).forecast_all(net, arrays, designs)
    for a, d, got in zip(arrays, designs, spans, strict=True):
        with torch.no_grad():  # the whole series in one call, written out here
            whole, _ = net(
                torch.as_tensor(a.x, dtype=torch.float32)[None],
                torch.as_tensor(d, dtype=torch.float32)[None],
            )
        np.testing.assert_allclose(got, whole[0].numpy(), rtol=1e-6, atol=1e-7)
