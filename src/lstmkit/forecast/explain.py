"""lstmkit explain for a forecaster: one forecast origin's gate traces, and which past hours and
covariates moved it (the LSTM and the linear AR path together), and per-unit statistics over the
test period."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch

from ..attribution import (
    integrated_gradients,
    loop_kernels,
    memory_summary,
    occlusion,
    share,
    steps_mask,
    unit_layers,
    unit_statistics,
)
from ..config import LstmkitError
from ..data.io import series_id
from .estimator import Forecaster
from .schemes import scheme_of

__all__ = ["explain_forecaster"]


def explain_forecaster(fc: Forecaster, index, time_at, data, steps) -> dict:
    from ..data.windows import TEST

    cfg, state = fc.config, fc.state
    scheme = scheme_of(cfg.train)
    arrays, designs = fc.series_arrays(data)
    if time_at is not None:
        try:
            when = pd.Timestamp(time_at)
        except ValueError:  # pandas' DateParseError is one
            raise LstmkitError(
                f"--time: expected a time like 2013-12-01 06:00, got {time_at!r}"
            ) from None
        hits = [
            (a, d, int(np.flatnonzero(a.times == when)[0]))
            for a, d in zip(arrays, designs, strict=True)
            if (a.times == when).any()
        ]
        if not hits:
            raise LstmkitError(f"--time: {time_at} is not a time step of the data")
        a, d, t = hits[0]
    else:
        chosen = [(a, d) for a, d in zip(arrays, designs, strict=True) if (a.split == TEST).any()]
        if not chosen:
            raise LstmkitError("--index: the data holds no test period; pass --time")
        a, d = chosen[0]
        origins = np.flatnonzero((a.split == TEST) & ~np.isnan(d).any(1))
        k = 0 if index is None else index
        if not 0 <= k < len(origins):
            raise LstmkitError(
                f"--index: expected 0 to {len(origins) - 1} (test origins of {a.series}), got {k}"
            )
        t = int(origins[k])
    if np.isnan(d[t]).any():
        raise LstmkitError(f"--time: {a.times[t]} has too little history for the AR lags")
    span = scheme.explain_span(state.season)
    span = min(span, t + 1)
    net = copy.deepcopy(fc.model).double().eval()
    x_all = torch.as_tensor(np.nan_to_num(a.x)).double()
    qi = cfg.model.median_index
    scaler = state.scaler_y.get(series_id(a.series))
    std, mean = float(scaler.std[0]), float(scaler.mean[0])
    with torch.no_grad():  # the state the shown steps start from: no gradient, so the fused kernel
        state0 = None
        if scheme.stateful and t + 1 > span:
            _, state0 = net.lstm(x_all[None, : t + 1 - span])

    def f(batch):
        xb, db = batch
        start = (
            None
            if state0 is None
            else tuple(s.expand(-1, len(xb), -1).contiguous() for s in state0)
        )
        # the target's units
        return net.point_forecast(xb, db[:, None], start, qi, last=True)[:, 0, 0] * std

    x_span, d_t = x_all[t + 1 - span : t + 1], torch.as_tensor(d[t]).double()
    P, C = a.past.shape[1], a.calendar_next.shape[1]
    p, q = state.ar_order, min(state.ar_order, state.season)
    # the statistical models' forecasts, where the base holds them
    n_stat = len(d_t) - (p + q * P + C + 1)
    step_of, feature_of = _design_map(p, q, P, C, span, n_stat)
    names = [cfg.data.target, *state.past_covariates, "calendar", "AR error", "constant"]
    names += ["statistical models"] if n_stat else []
    x_feature = [0] + [1 + j for j in range(P)] + [1 + P] * C + [2 + P]
    groups = []
    for s in range(span):
        gx = steps_mask([s], x_span.shape)
        gd = torch.as_tensor(step_of == s)
        groups.append([gx, gd])
    with loop_kernels(net):
        (ax, ad), fx, fb, err, used = integrated_gradients(
            f, [x_span, d_t], [torch.zeros_like(x_span), torch.zeros_like(d_t)], steps
        )
        occ = occlusion(f, [x_span, d_t], [torch.zeros_like(x_span), torch.zeros_like(d_t)], groups)
        with torch.no_grad():  # every-step runs from the series' start; windows from the window's
            first = 0 if scheme.stateful else t + 1 - span
            _, _, traces = net.lstm(x_all[None, first : t + 1], return_gates=True)
        layers = _forecaster_units(net, arrays, cfg.model.cell)
    ax, ad = ax.numpy(), ad.numpy()
    per_step = ax.sum(1)
    older = 0.0
    for col, s in enumerate(step_of):
        if s >= 0:
            per_step[s] += ad[col]
        elif s == -2:  # a lag further back than the steps shown
            older += float(ad[col])
    per_feature = dict.fromkeys(names, 0.0)
    for j, fi in enumerate(x_feature):
        per_feature[names[fi]] += float(ax[:, j].sum())
    for col, fi in enumerate(feature_of):
        per_feature[names[fi]] += float(ad[col])
    times = [str(v) for v in a.times[t + 1 - span : t + 1]]
    pred = fx + mean
    actual = float(a.y[t, 0] * std + mean) if not np.isnan(a.y[t, 0]) else None
    step = pd.tseries.frequencies.to_offset(state.freq)
    lag = np.arange(span)[::-1]  # steps back from the origin
    recent = max(1, min(3, span))
    summary = [
        f"Explained: the forecast for {a.times[t] + step} made at {a.times[t]} ({a.series}): "
        f"{pred:.2f}"
        + (f" (actual {actual:.2f})" if actual is not None else "")
        + f" {cfg.data.target}.",
        f"Against an all-average input ({fb + mean:.2f}), the linear AR path moves it by "
        f"{ad.sum():+.2f} and "
        f"the LSTM by {ax.sum():+.2f}"
        + (
            " (its correction was dropped by the correction test: the forecast is the AR's)."
            if not _lstm_kept(fc)
            else "."
        ),
        f"The last {recent} step(s) carry {share(per_step, lag < recent):.0%} of the attribution "
        "over the "
        f"{span} steps shown"
        + (
            # the forecast is one step ahead: a season before it is season - 1 steps back from the
            # origin
            f"; the step a season before the forecast's ({state.season - 1} back) "
            f"{share(per_step, lag == state.season - 1):.0%}"
            if state.season <= span
            else ""
        )
        + ".",
        "By input: "
        + ", ".join(
            f"{k} {v:+.2f}" for k, v in sorted(per_feature.items(), key=lambda kv: -abs(kv[1]))
        )
        + f" ({cfg.data.target} units).",
        memory_summary(layers),
    ]
    result = {
        "kind": "forecast",
        "example": {
            "series": str(a.series),
            "origin": str(a.times[t]),
            "target_time": str(a.times[t] + step),
            "prediction": pred,
            "actual": actual,
            "span": span,
            "times": times,
        },
        "summary": summary,
        "layers": layers,
        "attribution": {
            "method": "integrated_gradients",
            "output": f"step-1 forecast of {cfg.data.target} "
            f"({'median' if cfg.model.quantiles else 'point'}), target units",
            "baseline": "every input at its training mean (zero after scaling), calendar and "
            "constant zero",
            "f_x": fx + mean,
            "f_baseline": fb + mean,
            "completeness_error": err,
            "steps": used,
            "per_step": per_step.tolist(),
            "per_feature": per_feature,
            "older_than_span": older,
            "linear_ar": float(ad.sum()),
            "lstm": float(ax.sum()),
            "occlusion": {"window": 1, "delta": occ.tolist()},
        },
        "cell": cfg.model.cell,
    }
    trace = {k: v[:, 0, -span:].numpy() for k, v in traces.items()}
    result["_arrays"] = {
        "input": x_span[:, :1].numpy() * std + mean,
        "trace": trace,
        "pool_weights": None,
        "stride": 1,
        "times": times,
    }
    return result


def _design_map(p, q, P, C, span, n_stat: int = 0):
    """For each design column: the step of the span it reads (-1: none, -2: older than the span)
    and its input bucket (0 target, 1..P covariates, P+1 calendar, P+3 constant, P+4 the
    statistical models' forecasts, which read the whole history: no one step)."""
    step_of, feature_of = [], []
    for j in range(1 + P):
        lags = p if j == 0 else q
        for lag in range(lags):
            s = span - 1 - lag
            step_of.append(s if s >= 0 else -2)
            feature_of.append(j)
    step_of += [-1] * C + [-1] + [-1] * n_stat
    feature_of += [1 + P] * C + [3 + P] + [4 + P] * n_stat
    return np.array(step_of), np.array(feature_of)


@torch.no_grad()
def _forecaster_units(net, arrays, cell) -> list[dict]:
    from ..data.windows import TEST

    arrays = [a for a in arrays if (a.split == TEST).any()]
    # every series in one batch, right-padded: the LSTM is causal, so padding changes no valid step
    T = max(len(a.x) for a in arrays)
    x = np.zeros((len(arrays), T, arrays[0].x.shape[1]))
    test = np.zeros((len(arrays), T), dtype=bool)
    for j, a in enumerate(arrays):
        x[j, : len(a.x)], test[j, : len(a.x)] = np.nan_to_num(a.x), a.split == TEST
    _, _, traces = net.lstm(torch.as_tensor(x), return_gates=True)
    # (layers*D, S, H)
    merged = {name: v[:, torch.as_tensor(test)].numpy() for name, v in traces.items()}
    per = [
        unit_statistics({k: v[j] for k, v in merged.items()}, cell) for j in range(len(merged["h"]))
    ]
    return unit_layers(per, net.lstm.num_directions)


def _lstm_kept(fc) -> bool:
    """Whether the run kept the LSTM's correction of the point forecast (runs saved before the
    gate: kept)."""
    return bool((fc.metrics or {}).get("lstm", {}).get("kept", True))
