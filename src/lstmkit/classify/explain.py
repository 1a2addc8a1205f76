"""lstmkit explain for a sequence classifier: one test row's gate traces and attributions over its
time steps (ECG) or tokens (SMILES), and per-unit statistics over at most MAX_STAT_ROWS test
rows."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

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
from ..data.sequences import read_labelled_table
from .estimator import SequenceClassifier

__all__ = ["MAX_STAT_ROWS", "explain_classifier"]

MAX_STAT_ROWS = 1000  # classifier unit statistics: at most this many test sequences


def explain_classifier(clf: SequenceClassifier, index, data, steps) -> dict:
    if data is not None:
        labelled = clf.sequences(
            read_labelled_table(data, "--data"), "--data", labels_required=False
        )
        seqs, actual = labelled.sequences, None
        if clf.state.vocab is not None and clf.config.smiles.canonical:
            from ..data.smiles import canonicalize

            seqs.smiles = canonicalize(seqs.smiles)
    else:
        source = clf.state.source.get("data")
        if source is None:
            raise LstmkitError(
                "--data: this run was trained on a DataFrame; pass the data to explain"
            )
        seqs, actual = clf.split(source, clf.state.source.get("test"), classes=clf.state.classes)[
            "parts"
        ]["test"]
    row = 0 if index is None else index
    if not 0 <= row < len(seqs):
        raise LstmkitError(f"--index: expected 0 to {len(seqs) - 1}, got {row}")
    x, n = clf.encode(seqs)
    tokens = clf.state.vocab is not None
    L = int(n[0, row] if tokens else n[row])
    members = [copy.deepcopy(m).double().eval() for m in clf.model]
    with torch.no_grad():
        proba = clf.network_proba(
            x[:, row : row + 1] if tokens else x[row : row + 1],
            n[:, row : row + 1] if tokens else n[row : row + 1],
        )[0]
    k = int(np.argmax(proba))
    lengths = lambda m: torch.full((m,), L)  # noqa: E731

    if tokens:
        ids = torch.as_tensor(x[0, row, :L])
        V = len(clf.state.vocab)
        inp = F.one_hot(ids, V).double()  # attribution per token = its one-hot entry's share

        def f(batch):
            probs = [
                _probs(
                    m.from_embedded(batch[0] @ m.embed.weight, lengths(len(batch[0]))),
                    clf.state.multilabel,
                )
                for m in members
            ]
            return torch.log(torch.stack(probs).mean(0)[:, k])

        groups = [[F.one_hot(torch.tensor(s), L).bool()[:, None].expand(L, V)] for s in range(L)]
        labels = [clf.state.vocab.tokens[i] for i in ids.tolist()]
    else:
        inp = torch.as_tensor(x[row, :L]).double()

        def f(batch):
            probs = [
                _probs(m(batch[0], lengths(len(batch[0]))), clf.state.multilabel) for m in members
            ]
            return torch.log(torch.stack(probs).mean(0)[:, k])

        w = max(1, round(L / 20))
        groups = [[steps_mask(range(s, min(s + w, L)), inp.shape)] for s in range(0, L, w)]
        labels = None
    base = torch.zeros_like(inp)
    with loop_kernels(torch.nn.ModuleList(members)):
        (attr,), fx, fb, err, used = integrated_gradients(f, [inp], [base], steps)
        occ = occlusion(f, [inp], [base], groups)
        trace, weights = _classifier_traces(members[0], inp, L, tokens)
        layers = _classifier_units(members[0], clf, x, n, tokens)
    attr = attr.numpy()
    per_step = attr.sum(-1)
    per_channel = (
        {c: float(attr[:, j].sum()) for j, c in enumerate(clf.state.channels)}
        if not tokens
        else None
    )
    name = str(clf.state.classes[k])
    truth = (
        None
        if actual is None
        else (str(clf.state.classes[actual[row]]) if not clf.state.multilabel else None)
    )
    lw = clf.choice.weight  # with a linear path the attributions cover the network, not the fusion
    summary = [
        f"Explained: {'test ' if data is None else ''}row {row} (id {seqs.ids[row]}); the "
        f"{'network' if lw else 'model'} gives {name} probability {proba[k]:.3f}"
        + (f"; the actual class is {truth}." if truth is not None else ".")
    ]
    if lw:
        fused = clf.fused_proba(proba[None], seqs.subset(np.array([row])))[0]
        summary[0] += (
            f" The model ({clf.choice.label()}) gives {fused[k]:.3f}; what follows explains the "
            "network" + (", which it does not use." if lw == 1 else ".")
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
            f"Steps {s0}-{s1 - 1} of {L} (a fifth of the sequence) carry "
            f"{share(per_step, inside):.0%} "
            f"of the attribution to log P({name})."
        )
    summary.append(memory_summary(layers))
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
        "cell": clf.config.model.cell,
    }
    result["_arrays"] = {
        "input": inp.numpy() if not tokens else None,
        "trace": trace,
        "pool_weights": weights,
        "stride": clf.config.model.conv_stride if clf.config.model.conv_channels else 1,
    }
    return result


def _probs(logits, multilabel):
    return torch.sigmoid(logits) if multilabel else torch.softmax(logits, 1)


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
    per = [
        unit_statistics({k: v[j] for k, v in merged.items()}, clf.config.model.cell)
        for j in range(len(merged["h"]))
    ]
    return unit_layers(per, D)
