"""`lstmkit export` of a classifier: sequences in, class probabilities out, as ONNX.

    classifier.onnx    x (N, L, C) raw values, or (N, L) int64 token ids; lengths (N,) int64
                       -> proba (N, classes): the ensemble's mean softmax (sigmoid per label
                       where multi-label), with the channels' scaling inside
    classifier.json    the classes, the channels, and for SMILES the vocabulary (token -> id,
                       what `x` holds) and the tokenizer's pattern; the parity the graph passed

Checked on the spot in onnxruntime against PyTorch on the run's own test sequences (two batches
of different sizes and lengths). What the graph cannot hold is refused in one line: a model that
fuses its networks with the linear path (MiniRocket or n-gram features; metrics.json "chosen")
and a variant cell (no ONNX op over a dynamic time axis). For SMILES the graph reads the
canonical string; runs with test-time variants (--tta) average randomised spellings in
predict_proba, which a graph cannot make, so classifier.json says the graph is without them.
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch
from torch import nn

from ..config import LstmkitError
from ..data.sequences import pad
from ..data.smiles import PAD, TOKEN_PATTERN, UNK
from ..export import Names, to_onnx
from ..runs import write_json

__all__ = ["export_classifier"]

CHECK_ROWS = 64


class Proba(nn.Module):
    """The ensemble's mean probabilities from raw inputs (the values' scaling inside)."""

    def __init__(self, members, multilabel: bool, scaler=None):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.multilabel = multilabel
        self.scaled = scaler is not None
        if self.scaled:
            self.register_buffer("mean", torch.as_tensor(scaler.mean, dtype=torch.float32))
            self.register_buffer("std", torch.as_tensor(scaler.std, dtype=torch.float32))

    def forward(self, x, lengths):
        if self.scaled:
            x = (x - self.mean) / self.std
        total = 0.0
        for m in self.members:
            logits = m(x, lengths)
            total = total + (torch.sigmoid(logits) if self.multilabel else logits.softmax(-1))
        return total / len(self.members)


def export_classifier(sc, folder, data=None) -> dict:
    """Write classifier.onnx and classifier.json into `folder`, checked on the run's test
    sequences (`data`: where the run's data are now, if they moved)."""
    s, cfg = sc.state, sc.config
    if sc.choice is not None and sc.choice.weight > 0:
        raise LstmkitError(
            f"export: this classifier fuses its networks with the linear path "
            f"({sc.choice.linear}, weight {sc.choice.weight:g}), which has no graph here; "
            "export a run trained with the linear path off"
        )
    members = [m.eval() for m in sc.model]
    if any(not lstm.has_torch_twin for m in members for lstm in _layers(m)):
        raise LstmkitError(
            f"export: cell {cfg.model.cell!r} has no ONNX op over a dynamic time axis "
            "(ONNX has LSTM, GRU and RNN)"
        )
    tokens = s.vocab is not None
    graph = Proba(members, s.multilabel, None if tokens else s.scaler).eval()
    where, test = (data, None) if data is not None else _source(sc)
    seqs = sc.split(where, test)["parts"]["test"][0]
    if tokens:  # token ids of the canonical strings (the first of encode's variants)
        x, n = (v[0] for v in sc.encode(seqs, 0, cfg.train.seed + 1))
    else:  # the values as read: the graph scales them
        x, n = pad([np.asarray(v, np.float32) for v in seqs.values])

    def batch(rows):
        rows = np.asarray(rows)
        L = int(n[rows].max())
        xs = torch.as_tensor(x[rows][:, :L])
        return [xs if tokens else xs.float(), torch.as_tensor(n[rows], dtype=torch.int64)]

    rows = np.arange(min(len(n), CHECK_ROWS))
    shortest = np.argsort(n, kind="stable")[: max(2, len(rows) // 2)]
    checks = [batch(rows), batch(shortest)]
    # traced on two rows: a batch of one lets the tracer fold the batch axis into constants
    traced = batch(np.concatenate([rows[:1], shortest[:1]]))
    axes = {"x": {0: "N", 1: "L"}, "lengths": {0: "N"}, "proba": {0: "N"}}
    names = Names(["x", "lengths"], ["proba"], axes)
    folder = pathlib.Path(folder)
    record = to_onnx(graph, traced, names, folder / "classifier.onnx", checks, what="classifier")
    card = {
        "format": "lstmkit-onnx/1",
        "task": "classify",
        "classes": [str(c) for c in s.classes],
        "multilabel": bool(s.multilabel),
        "channels": list(s.channels),
        "x": "token ids (N, L) int64, 0-padded" if tokens else "raw values (N, L, C) float32",
        "graphs": {"classifier.onnx": record},
    }
    if tokens:
        card["vocab"] = {t: i for i, t in enumerate(s.vocab.tokens)}
        card["tokenizer"] = {"pattern": TOKEN_PATTERN.pattern, "pad": PAD, "unknown": UNK}
        card["canonical"] = bool(cfg.smiles.canonical)
        if cfg.smiles.tta:
            card["note"] = (
                f"predict_proba averages {cfg.smiles.tta} randomised spellings besides the "
                "canonical one (--tta); the graph reads the canonical string only"
            )
    write_json(folder / "classifier.json", card)
    return card


def _layers(net):
    return [lstm for layer in net.encoder.layers for lstm in layer]


def _source(sc):
    """(data, test) the run was fitted on."""
    s = sc.state
    if s.dataset:
        return s.dataset, None
    if s.source and s.source.get("data"):
        return s.source["data"], s.source.get("test")
    raise LstmkitError("--data: name the data the run was fitted on (the checks run on it)")
