"""The classifier's linear paths: a logistic regression or a ridge classifier on fixed features (the
raw values, one per step and channel; character n-gram counts of SMILES; MiniRocket's features of
the values, and of their first differences).

Every run fits them as the baselines the network must beat, and each is a candidate the model may
be (classify/select.py chooses). Fused with the network (Wide & Deep, Cheng et al. 2016;
LSTNet's highway plays the same part in the forecaster) with weight w:

    fused logits = (1 - w) * network logits + w * linear logits

where the network's logits are the log of its probabilities (averaged over ensemble members and
SMILES variants): log-probabilities for classes (the softmax ignores the constant per row), log-odds
for labels. The two read the input differently, so where each is wrong on different rows the
fusion beats both (measured on ClinTox: docs/classify.md). The network is trained and stopped on
its own; the fusion only changes the prediction.

Every fit also returns out-of-sample logits of every row it was fitted on, which is what the choice
of the model compares: the ridge's leave-one-out logits (free from one SVD), the logistic
regression's from k folds (each fold's from the fit on the others).
"""

from __future__ import annotations

import dataclasses
import pathlib
from dataclasses import dataclass

import numpy as np

from ..config import LstmkitError
from ..data.scaling import Standardizer
from ..data.sequences import Sequences, pad
from ..data.smiles import NGrams
from ..evaluate import fit_logistic, fit_ridge_classifier, logistic_proba, proba_of_logits
from .minirocket import MiniRocket

L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)  # L2 strengths tried out of fold
LINEAR_MODELS = ("logistic", "ridge")
FEATURES = ("values", "ngrams", "minirocket", "minirocket+diff")  # what a path reads


@dataclass
class LinearModel:
    W: np.ndarray  # (features, outputs)
    b: np.ndarray  # (outputs,)
    l2: float  # the penalty chosen out of sample (logistic) or by leave-one-out (ridge, per row)
    multilabel: bool

    @classmethod
    def fit(cls, X, y, n_classes: int, criterion, folds: np.ndarray, model: str = "logistic"):
        """-> (the model fitted on every row, out-of-sample logits (N, K) of every row).

        ridge: evaluate.fit_ridge_classifier — leave-one-out chooses the penalty and the
        temperature and gives the out-of-sample logits, from one SVD.
        logistic: the L2 path (L2_GRID, strong to weak, warm-started) fitted on all folds but one,
        for each fold (folds: a fold number per row); the penalty is the one whose criterion
        (lower is better) over every row's out-of-fold prediction is lowest, and the model is
        refitted on every row at that penalty."""
        multilabel = y.ndim == 2
        if model == "ridge":
            fit = fit_ridge_classifier(X, y, n_classes)
            return cls(fit.W, fit.b, fit.alpha, multilabel), fit.loo
        by_l2 = np.full((len(L2_GRID), len(X), y.shape[1] if multilabel else n_classes), np.nan)
        for f in np.unique(folds):
            out = folds == f
            for k, (_, _, _, z) in enumerate(_logistic_path(X[~out], y[~out], n_classes, [X[out]])):
                by_l2[k][out] = z[0]
        scores = [criterion(y, proba_of_logits(z, multilabel)) for z in by_l2]
        best = int(np.argmin(scores))
        l2, W, b, _ = _logistic_path(X, y, n_classes, [], stop=sorted(L2_GRID, reverse=True)[best])[
            -1
        ]
        return cls(W, b, l2, multilabel), by_l2[best]

    def proba(self, X: np.ndarray) -> np.ndarray:
        return logistic_proba(X, self.W, self.b, self.multilabel)

    def logits(self, X: np.ndarray) -> np.ndarray:
        return X @ self.W + self.b

    def tensors(self) -> dict[str, np.ndarray]:
        return {"W": self.W, "b": self.b}

    @classmethod
    def from_tensors(cls, tensors: dict, l2: float, multilabel: bool) -> LinearModel:
        return cls(
            np.asarray(tensors["W"], np.float64),
            np.asarray(tensors["b"], np.float64),
            l2,
            multilabel,
        )


def _logistic_path(
    x_train, y_train, n_classes: int, evals: list[np.ndarray], stop: float | None = None
):
    """The logistic regression along L2_GRID from strong to weak (each fit warm-started from the
    last; down to `stop` when given): a list of (l2, W, b, [logits of each array in evals]).

    With more features than rows (MiniRocket's 10,000 on a few hundred beats) the fit runs in
    the rows' span: the penalty makes the optimal W = V w for x_train = U S V^T (a part
    orthogonal to every row changes no logit and only adds to |W|^2), and |V w| = |w|, so
    fitting w on x_train V = U S with the same penalty is the same problem in N, not D,
    dimensions."""
    basis = None
    if x_train.shape[1] > x_train.shape[0]:
        _, _, vt = np.linalg.svd(x_train, full_matrices=False)
        basis = vt.T  # (D, N)
        x_train = x_train @ basis
    path, start = [], None
    for l2 in sorted(L2_GRID, reverse=True):
        W, b = fit_logistic(x_train, y_train, n_classes, l2, init=start)
        start = (W, b)
        full = basis @ W if basis is not None else W
        path.append((l2, full, b, [x @ full + b for x in evals]))
        if stop is not None and l2 <= stop:
            break
    return path


def fuse(
    proba: np.ndarray, linear_logits: np.ndarray, weight: float, multilabel: bool
) -> np.ndarray:
    """The fused probabilities: (1 - weight) * the network's logits + weight * the linear ones."""
    p = np.clip(proba, 1e-12, 1 - 1e-12)
    if multilabel:
        z = (1 - weight) * np.log(p / (1 - p)) + weight * linear_logits
        return 1 / (1 + np.exp(-z))
    z = (1 - weight) * np.log(p) + weight * linear_logits
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


@dataclass
class LinearPath:
    """A linear model with the features it reads (`kind`, one of FEATURES): n-gram counts of SMILES,
    the scaled values zero-padded to `max_length` steps (one column per step and channel), or
    MiniRocket's features of the scaled values (`rocket`) and of their first differences
    (`rocket_diff`). Saved as linear.safetensors (W, b and MiniRocket's tensors) + linear.json
    (kind, penalty, n-gram vocabulary, MiniRocket dilations)."""

    model: LinearModel | None
    kind: str = "values"
    scaler: Standardizer | None = None  # the classifier's channel scaler (values)
    max_length: int = 0  # raw values: steps per channel
    ngrams: NGrams | None = None
    rocket: MiniRocket | None = None
    rocket_diff: MiniRocket | None = (
        None  # "minirocket+diff": a second bank on the first differences
    )

    @classmethod
    def reader(
        cls, kind: str, seqs: Sequences, scaler=None, max_length: int = 0, seed: int = 0, banks=None
    ):
        """-> (a path of this kind with no model yet, the features of `seqs`, which it is fitted
        on).
        banks: {"values" | "diff": (MiniRocket, features)} fitted already, shared between kinds."""
        path = cls(None, kind, scaler, max_length)
        if kind == "ngrams":
            path.ngrams = NGrams.fit(seqs.smiles)
            return path, path.features(seqs)
        if kind == "values":
            return path, path.features(seqs)
        banks = {} if banks is None else banks
        scaled = path._scaled(seqs)
        if "values" not in banks:
            banks["values"] = MiniRocket.fit_transform(scaled, seed=seed)
        path.rocket, x = banks["values"]
        if kind == "minirocket+diff":  # its own biases: another stream of random training picks
            if "diff" not in banks:
                banks["diff"] = MiniRocket.fit_transform(differences(scaled), seed=seed + 1)
            path.rocket_diff, x_diff = banks["diff"]
            x = np.hstack([x, x_diff])
        return path, x

    def features(self, seqs: Sequences) -> np.ndarray:
        if self.ngrams is not None:
            return self.ngrams.transform(seqs.smiles)
        if self.rocket is not None:
            scaled = self._scaled(seqs)
            x = self.rocket.transform(scaled)
            if self.rocket_diff is not None:
                x = np.hstack([x, self.rocket_diff.transform(differences(scaled))])
            return x
        padded, _ = pad([v.astype(np.float32) for v in self._scaled(seqs)], self.max_length)
        return padded.reshape(len(seqs), -1)

    def _scaled(self, seqs: Sequences) -> list[np.ndarray]:
        return [self.scaler.transform(v) for v in seqs.values]

    def save(self, folder) -> None:
        import torch

        from ..runs import save_tensors, write_json

        folder = pathlib.Path(folder)
        tensors = self.model.tensors()
        for prefix, rocket in (
            ("minirocket.", self.rocket),
            ("minirocket_diff.", self.rocket_diff),
        ):
            tensors |= rocket.tensors(prefix) if rocket is not None else {}
        save_tensors(
            folder / "linear.safetensors", {k: torch.as_tensor(v) for k, v in tensors.items()}
        )
        write_json(
            folder / "linear.json",
            {
                "kind": self.kind,
                "l2": self.model.l2,
                "ngrams": dataclasses.asdict(self.ngrams) if self.ngrams is not None else None,
                "minirocket_dilations": self.rocket.dilations if self.rocket is not None else None,
                "minirocket_diff_dilations": self.rocket_diff.dilations
                if self.rocket_diff is not None
                else None,
            },
        )

    @classmethod
    def load(
        cls, folder, multilabel: bool, scaler=None, max_length: int = 0, kind: str = "values"
    ) -> LinearPath:
        """kind: the path's features, one of FEATURES (a run saved before linear.json held it)."""
        from safetensors.numpy import load_file

        from ..runs import read_json, regular_file

        folder = pathlib.Path(folder)
        if not (folder / "linear.safetensors").is_file():
            raise LstmkitError(f"--run: {folder} uses a linear path but has no linear.safetensors")
        saved, tensors = (
            read_json(folder / "linear.json"),
            load_file(regular_file(folder / "linear.safetensors")),
        )
        kind = saved.get("kind", kind)
        if kind not in FEATURES:
            raise LstmkitError(
                f"--run: {folder}/linear.json: kind {kind!r} is not one of {', '.join(FEATURES)}"
            )
        path = cls(
            LinearModel.from_tensors(tensors, saved["l2"], multilabel), kind, scaler, max_length
        )
        if saved["ngrams"] is not None:
            path.ngrams = NGrams(**saved["ngrams"])

        def bank(name: str) -> MiniRocket:  # "minirocket" (the values) or "minirocket_diff"
            if not saved.get(f"{name}_dilations"):
                raise LstmkitError(f"--run: {folder}/linear.json lacks the {name} dilations")
            return MiniRocket.from_tensors(tensors, saved[f"{name}_dilations"], f"{name}.")

        if kind in ("minirocket", "minirocket+diff"):
            path.rocket = bank("minirocket")
        if kind == "minirocket+diff":
            path.rocket_diff = bank("minirocket_diff")
        return path


def differences(values: list[np.ndarray]) -> list[np.ndarray]:
    """Each sequence's first differences along time, (L - 1, C): MultiRocket's second
    representation (Tan et al. 2022). MiniRocket's kernels sum to zero, so they already ignore the
    level; on the differences they read the slope's shape, which on the values is smoothed over
    nine steps. A one-step sequence has no difference: one zero step, so that it still has
    features."""
    return [np.diff(v, axis=0) if len(v) > 1 else np.zeros_like(v) for v in values]
