"""lstmkit.explain: what a saved forecaster or classifier did, and which inputs it relied on.

    result = lstmkit.explain("runs/weather-nyc-hourly")           # a forecast run: first test hour
    result = lstmkit.explain("runs/ecg5000", index=12)            # a classifier: test row 12
    result["summary"]                                             # what the report says, in words

For one input (a test row, or a forecast origin) it gives
  - the trace of every gate, the candidate, the cell and the hidden state over time (units x time),
  - integrated gradients and occlusion over the input's time steps and features: for a forecast,
    which past hours and which covariates moved the prediction (the linear AR path included);
    for an ECG beat, which part of the beat; for a SMILES string, which tokens;
and over the test data, per unit of every layer and direction: the mean forget gate, the memory
half-life it implies, how often each gate saturates, and the units that never move.

Written into the run directory: explain.json, plots/explain_*.png and an Explain section in
report.html. The math lives in lstmkit.attribution; this module only knows the two tasks.
"""

from __future__ import annotations

import copy
import pathlib
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..attribution import integrated_gradients, loop_kernels, occlusion, unit_statistics
from ..config import LstmkitError
from ..data.io import series_id
from ..data.sequences import read_labelled_table
from .classify import SequenceClassifier
from .forecast import Forecaster

__all__ = ["explain"]

MAX_STAT_ROWS = 1000  # classifier unit statistics: at most this many test sequences


def explain(
    run, index: int | None = None, time_at: str | None = None, data=None, steps: int = 64, write: bool = True
) -> dict:
    """Explain one input of a saved run (a directory) or of a fitted Forecaster /
    SequenceClassifier. index: a test row (classifier) or the k-th test origin of the first series
    (forecaster; default 0); time_at: a forecast origin by time. data: other data to explain."""
    start = time.perf_counter()
    if not (isinstance(steps, int) and steps >= 1):
        raise LstmkitError(f"--steps: expected a positive integer, got {steps!r}")
    folder = None
    if isinstance(run, str | pathlib.Path):
        from ..runs import read_run_config

        folder = pathlib.Path(run)
        task = read_run_config(folder)["task"]
        run = SequenceClassifier.load(folder) if task == "classify" else Forecaster.load(folder)
    torch.set_num_threads(run.config.threads)
    if isinstance(run, SequenceClassifier):
        result = _classifier(run, index, data, steps)
    elif isinstance(run, Forecaster):
        result = _forecaster(run, index, time_at, data, steps)
    else:
        raise LstmkitError(f"explain: expected a run directory, Forecaster or SequenceClassifier, got {type(run)}")
    result["seconds"] = time.perf_counter() - start
    if write and folder is not None:
        from ..report import explain_section
        from ..runs import write_json

        arrays = result.pop("_arrays")
        write_json(folder / "explain.json", result)
        explain_section(folder, result, arrays)
        result["_arrays"] = arrays
    return result


# ---- shared -------------------------------------------------------------------------------------


def _traces_numpy(traces: dict) -> dict:
    return {k: v.detach().double().numpy() for k, v in traces.items()}


def _layers(stats_per_direction: list[list[dict]], num_directions: int) -> list[dict]:
    return [
        {"layer": k // num_directions, "direction": k % num_directions, "units": units}
        for k, units in enumerate(stats_per_direction)
    ]


def _memory_summary(layers: list[dict]) -> str:
    first = layers[0]["units"]
    lives = [u["half_life"] for u in first if u["half_life"] is not None]
    if not lives:
        return "This cell has no gate that decides what to keep, so no memory half-life can be read from it."
    f = np.array([u["forget_mean"] for u in first])
    lives = np.array(lives)
    long = int((lives > 20).sum())
    still = sum(u["constant"] for u in first)
    finite = lives[np.isfinite(lives)]
    longest = f"{finite.max():.0f}" if len(finite) else "inf"
    return (
        f"Memory (layer 1, forward direction, {len(first)} units): the median unit keeps {np.median(f):.2f} of its "
        f"cell each step, so half of what it holds is gone after about {np.median(lives):.1f} steps; {long} "
        f"unit(s) hold on for more than 20 steps (longest {longest}); {still} unit(s) never change."
    )


def _share(values: np.ndarray, mask: np.ndarray) -> float:
    total = np.abs(values).sum()
    return float(np.abs(values[mask]).sum() / total) if total > 0 else 0.0


# ---- classifier ---------------------------------------------------------------------------------


def _classifier(clf: SequenceClassifier, index, data, steps) -> dict:
    if data is not None:
        labelled = clf._sequences(read_labelled_table(data, "--data"), "--data", labels_required=False)
        seqs, actual = labelled.sequences, None
        if clf.vocab is not None and clf.config.canonical:
            from ..data.smiles import canonicalize

            seqs.smiles = canonicalize(seqs.smiles)
    else:
        source = clf.source.get("data")
        if source is None:
            raise LstmkitError("--data: this run was trained on a DataFrame; pass the data to explain")
        seqs, actual = clf.split(source, clf.source.get("test"), classes=clf.classes)["parts"]["test"]
    row = 0 if index is None else index
    if not 0 <= row < len(seqs):
        raise LstmkitError(f"--index: expected 0 to {len(seqs) - 1}, got {row}")
    x, n = clf._encode(seqs)
    tokens = clf.vocab is not None
    L = int(n[0, row] if tokens else n[row])
    members = [copy.deepcopy(m).double().eval() for m in clf.model]
    with torch.no_grad():
        proba = clf._proba(
            x[:, row : row + 1] if tokens else x[row : row + 1], n[:, row : row + 1] if tokens else n[row : row + 1]
        )[0]
    k = int(np.argmax(proba))
    lengths = lambda m: torch.full((m,), L)  # noqa: E731

    if tokens:
        ids = torch.as_tensor(x[0, row, :L])
        V = len(clf.vocab)
        inp = F.one_hot(ids, V).double()  # attribution per token = its one-hot entry's share

        def f(batch):
            probs = [
                _probs(m.from_embedded(batch[0] @ m.embed.weight, lengths(len(batch[0]))), clf.multilabel)
                for m in members
            ]
            return torch.log(torch.stack(probs).mean(0)[:, k])

        groups = [[F.one_hot(torch.tensor(s), L).bool()[:, None].expand(L, V)] for s in range(L)]
        labels = [clf.vocab.tokens[i] for i in ids.tolist()]
    else:
        inp = torch.as_tensor(x[row, :L]).double()

        def f(batch):
            probs = [_probs(m(batch[0], lengths(len(batch[0]))), clf.multilabel) for m in members]
            return torch.log(torch.stack(probs).mean(0)[:, k])

        w = max(1, round(L / 20))
        groups = [[_steps_mask(range(s, min(s + w, L)), inp.shape)] for s in range(0, L, w)]
        labels = None
    base = torch.zeros_like(inp)
    with loop_kernels(torch.nn.ModuleList(members)):
        (attr,), fx, fb, err, used = integrated_gradients(f, [inp], [base], steps)
        occ = occlusion(f, [inp], [base], groups)
        trace, weights = _classifier_traces(members[0], inp, L, tokens)
        layers = _classifier_units(members[0], clf, x, n, tokens)
    attr = attr.numpy()
    per_step = attr.sum(-1)
    per_channel = {c: float(attr[:, j].sum()) for j, c in enumerate(clf.channels)} if not tokens else None
    name = str(clf.classes[k])
    truth = None if actual is None else (str(clf.classes[actual[row]]) if not clf.multilabel else None)
    lw = clf.config.linear_weight  # with a linear path the attributions cover the network, not the fusion
    summary = [
        f"Explained: {'test ' if data is None else ''}row {row} (id {seqs.ids[row]}); the "
        f"{'network' if lw else 'model'} gives {name} probability {proba[k]:.3f}"
        + (f"; the actual class is {truth}." if truth is not None else ".")
    ]
    if lw:
        fused = clf._fused(proba[None], seqs.subset(np.array([row])))[0]
        summary[0] += (
            f" With its linear path (weight {lw:g}) the model gives {fused[k]:.3f}; what follows explains the network."
        )
    if tokens:
        top = np.argsort(-np.abs(per_step))[:5]
        summary.append(
            "Tokens that moved log P("
            + name
            + ") most: "
            + ", ".join(f"{labels[t]!r} at {t} ({per_step[t]:+.2f})" for t in top)
            + "."
        )
    else:
        s0, s1 = _densest(per_step, max(1, round(L / 5)))
        inside = (np.arange(L) >= s0) & (np.arange(L) < s1)
        summary.append(
            f"Steps {s0}-{s1 - 1} of {L} (a fifth of the sequence) carry {_share(per_step, inside):.0%} "
            f"of the attribution to log P({name})."
        )
    summary.append(_memory_summary(layers))
    result = {
        "kind": "classify",
        "example": {
            "row": row,
            "id": str(seqs.ids[row]),
            "length": L,
            "class": name,
            "probability": float(proba[k]),
            "actual": truth,
            "tokens": labels,
            "smiles": seqs.smiles[row] if tokens else None,
        },
        "summary": summary,
        "layers": layers,
        "attribution": {
            "method": "integrated_gradients",
            "output": f"log P({name})",
            "baseline": "all-zero input (the training mean of every channel)"
            if not tokens
            else "every token replaced by padding (a zero embedding)",
            "f_x": fx,
            "f_baseline": fb,
            "completeness_error": err,
            "steps": used,
            "per_step": per_step.tolist(),
            "per_channel": per_channel,
            "occlusion": {"window": 1 if tokens else w, "delta": occ.tolist()},
        },
        "cell": clf.config.cell,
    }
    result["_arrays"] = {
        "input": inp.numpy() if not tokens else None,
        "trace": trace,
        "pool_weights": weights,
        "stride": clf.config.conv_stride if clf.config.conv_channels else 1,
    }
    return result


def _probs(logits, multilabel):
    return torch.sigmoid(logits) if multilabel else torch.softmax(logits, 1)


def _steps_mask(steps, shape) -> torch.Tensor:
    mask = torch.zeros(shape, dtype=torch.bool)
    mask[list(steps)] = True
    return mask


def _densest(values: np.ndarray, width: int) -> tuple[int, int]:
    """The window of `width` steps with the most absolute attribution."""
    mass = np.convolve(np.abs(values), np.ones(width), "valid")
    s = int(np.argmax(mass))
    return s, s + width


@torch.no_grad()
def _classifier_traces(net, inp, L, tokens):
    z = inp[None] @ net.embed.weight if tokens else inp[None]
    lengths = torch.tensor([L])
    if net.conv is not None:
        z, lengths = net.conv(z, lengths), net.conv.lengths(lengths)
    h, traces = net.encoder(z, lengths, return_gates=True)
    _, weights = net.pool(h, lengths)
    return {k: v[:, 0].numpy() for k, v in traces.items()}, weights[0].numpy()


@torch.no_grad()
def _classifier_units(net, clf, x, n, tokens) -> list[dict]:
    rows = min(MAX_STAT_ROWS, n.shape[-1])
    collected: dict[str, list] = {}
    for s in range(0, rows, 256):
        e = min(s + 256, rows)
        nb = torch.as_tensor(n[0, s:e] if tokens else n[s:e])
        xb = torch.as_tensor(x[0, s:e] if tokens else x[s:e])[:, : int(nb.max())]
        z = net.embed(xb).double() if tokens else xb.double()
        if net.conv is not None:
            z, nb = net.conv(z, nb), net.conv.lengths(nb)
        _, traces = net.encoder(z, nb, return_gates=True)
        valid = torch.arange(z.shape[1])[None] < nb[:, None]  # (N, L)
        for name, v in traces.items():  # (layers*D, N, L, H) -> valid steps
            collected.setdefault(name, []).append(v[:, valid].numpy())
    merged = {k: np.concatenate(v, 1) for k, v in collected.items()}
    D = net.encoder.num_directions
    per = [unit_statistics({k: v[j] for k, v in merged.items()}, clf.config.cell) for j in range(len(merged["h"]))]
    return _layers(per, D)


# ---- forecaster ---------------------------------------------------------------------------------


def _forecaster(fc: Forecaster, index, time_at, data, steps) -> dict:
    from ..data.windows import TEST

    cfg = fc.config
    arrays, designs = fc.series_arrays(data)
    if time_at is not None:
        try:
            when = pd.Timestamp(time_at)
        except ValueError:  # pandas' DateParseError is one
            raise LstmkitError(f"--time: expected a time like 2013-12-01 06:00, got {time_at!r}") from None
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
            raise LstmkitError(f"--index: expected 0 to {len(origins) - 1} (test origins of {a.series}), got {k}")
        t = int(origins[k])
    if np.isnan(d[t]).any():
        raise LstmkitError(f"--time: {a.times[t]} has too little history for the AR lags")
    span = cfg.window if cfg.scheme == "windows" else max(cfg.window, min(3 * fc.season, 168))
    span = min(span, t + 1)
    net = copy.deepcopy(fc.model).double().eval()
    x_all = torch.as_tensor(np.nan_to_num(a.x)).double()
    qi = fc._median_index()
    scaler = fc.scaler_y.get(series_id(a.series))
    std, mean = float(scaler.std[0]), float(scaler.mean[0])
    with torch.no_grad():  # the state the shown steps start from: no gradient, so the fused kernel
        state0 = None
        if cfg.scheme == "every-step" and t + 1 > span:
            _, state0 = net.lstm(x_all[None, : t + 1 - span])

    def f(batch):
        xb, db = batch
        state = None if state0 is None else tuple(s.expand(-1, len(xb), -1).contiguous() for s in state0)
        h, _ = net.lstm(xb, state)
        out = net.head(h[:, -1]).view(len(xb), net.horizon, net.n_quantiles)
        return (out[:, 0, qi] + net.skip(db)[:, 0]) * std  # the target's units

    x_span, d_t = x_all[t + 1 - span : t + 1], torch.as_tensor(d[t]).double()
    P, C = a.past.shape[1], a.calendar_next.shape[1]
    p, q = fc.ar_order, min(fc.ar_order, fc.season)
    step_of, feature_of = _design_map(p, q, P, C, span)
    names = [cfg.target, *fc.past_covariates, "calendar", "AR error", "constant"]
    x_feature = [0] + [1 + j for j in range(P)] + [1 + P] * C + [2 + P]
    groups = []
    for s in range(span):
        gx = _steps_mask([s], x_span.shape)
        gd = torch.as_tensor(step_of == s)
        groups.append([gx, gd])
    with loop_kernels(net):
        (ax, ad), fx, fb, err, used = integrated_gradients(
            f, [x_span, d_t], [torch.zeros_like(x_span), torch.zeros_like(d_t)], steps
        )
        occ = occlusion(f, [x_span, d_t], [torch.zeros_like(x_span), torch.zeros_like(d_t)], groups)
        with torch.no_grad():  # every-step runs from the series' start; windows from the window's
            first = 0 if cfg.scheme == "every-step" else t + 1 - span
            _, _, traces = net.lstm(x_all[None, first : t + 1], return_gates=True)
        layers = _forecaster_units(net, arrays, fc.config.cell)
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
    step = pd.tseries.frequencies.to_offset(fc.freq)
    lag = np.arange(span)[::-1]  # steps back from the origin
    recent = max(1, min(3, span))
    summary = [
        f"Explained: the forecast for {a.times[t] + step} made at {a.times[t]} ({a.series}): {pred:.2f}"
        + (f" (actual {actual:.2f})" if actual is not None else "")
        + f" {cfg.target}.",
        f"Against an all-average input ({fb + mean:.2f}), the linear AR path moves it by {ad.sum():+.2f} and "
        f"the LSTM by {ax.sum():+.2f}"
        + (" (its correction was dropped by the LSTM gate: the forecast is the AR's)." if not _lstm_kept(fc) else "."),
        f"The last {recent} step(s) carry {_share(per_step, lag < recent):.0%} of the attribution over the "
        f"{span} steps shown"
        + (
            # the forecast is one step ahead: a season before it is season - 1 steps back from the origin
            f"; the step a season before the forecast's ({fc.season - 1} back) "
            f"{_share(per_step, lag == fc.season - 1):.0%}"
            if fc.season <= span
            else ""
        )
        + ".",
        "By input: "
        + ", ".join(f"{k} {v:+.2f}" for k, v in sorted(per_feature.items(), key=lambda kv: -abs(kv[1])))
        + f" ({cfg.target} units).",
        _memory_summary(layers),
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
            "output": f"step-1 forecast of {cfg.target} ({'median' if cfg.quantiles else 'point'}), target units",
            "baseline": "every input at its training mean (zero after scaling), calendar and constant zero",
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
        "cell": cfg.cell,
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


def _design_map(p, q, P, C, span):
    """For each AR design column: the step of the span it reads (-1: none, -2: older than the
    span) and its input bucket (0 target, 1..P covariates, P+1 calendar, P+3 constant)."""
    step_of, feature_of = [], []
    for j in range(1 + P):
        lags = p if j == 0 else q
        for lag in range(lags):
            s = span - 1 - lag
            step_of.append(s if s >= 0 else -2)
            feature_of.append(j)
    step_of += [-1] * C + [-1]
    feature_of += [1 + P] * C + [3 + P]
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
    merged = {name: v[:, torch.as_tensor(test)].numpy() for name, v in traces.items()}  # (layers*D, S, H)
    per = [unit_statistics({k: v[j] for k, v in merged.items()}, cell) for j in range(len(merged["h"]))]
    return _layers(per, net.lstm.num_directions)


def _lstm_kept(fc) -> bool:
    """Whether the run kept the LSTM's correction of the point forecast (runs saved before the
    gate: kept)."""
    return bool((getattr(fc, "metrics", None) or {}).get("lstm", {}).get("kept", True))
