"""The classifier's linear model: a logistic regression on fixed features (the raw values, one per
step and channel, character n-gram counts of SMILES, or MiniRocket's features of the values), or a
ridge classifier on them (`linear_model="ridge"`: MiniRocket's own protocol).

Every run fits it as the baseline the network must beat. With `linear_weight` w > 0 it is also a
path of the model, fused with the network's prediction (Wide & Deep, Cheng et al. 2016; LSTNet's
highway plays the same part in the forecaster):

    fused logits = (1 - w) * network logits + w * linear logits

where the network's logits are the log of its probabilities (averaged over ensemble members and
SMILES variants): log-probabilities for classes (the softmax ignores the constant per row), log-odds
for labels. The two read the input differently, so where each is wrong on different rows the
fusion beats both (measured on ClinTox: docs/classify.md). The network is trained and stopped on
its own; the fusion only changes the prediction.
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
from ..evaluate import fit_logistic, fit_ridge_classifier, logistic_proba
from .minirocket import MiniRocket

L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)  # L2 strengths tried on validation
LINEAR_MODELS = ("logistic", "ridge")


@dataclass
class LinearModel:
    W: np.ndarray  # (features, outputs)
    b: np.ndarray  # (outputs,)
    l2: float  # the penalty chosen on validation (logistic) or by leave-one-out (ridge, per row)
    multilabel: bool

    @classmethod
    def fit(cls, x_train, y_train, x_val, y_val, n_classes: int, criterion, model: str = "logistic") -> LinearModel:
        """logistic: see fit_logistic_path. ridge: evaluate.fit_ridge_classifier on the training and
        validation rows together — its leave-one-out error chooses the penalty and its leave-one-out
        scores the temperature, so no row is needed apart and the validation rows are used to fit
        (ECG5000: 500 beats instead of 449; its rare classes 3, 4 and 5 gain 1, 2 and 1 beats)."""
        if model == "ridge":
            x = np.concatenate([x_train, x_val])
            y = np.concatenate([y_train, y_val])
            W, b, alpha = fit_ridge_classifier(x, y, n_classes)
            return cls(W, b, alpha, y.ndim == 2)
        return cls.fit_logistic_path(x_train, y_train, x_val, y_val, n_classes, criterion)

    @classmethod
    def fit_logistic_path(cls, x_train, y_train, x_val, y_val, n_classes: int, criterion) -> LinearModel:
        """L2 path from strong to weak, each fit warm-started from the last; keeps the penalty
        whose validation criterion (lower is better) is lowest.

        With more features than rows (MiniRocket's 10,000 on a few hundred beats) the fit runs in
        the rows' span: the penalty makes the optimal W = V w for x_train = U S V^T (a part
        orthogonal to every row changes no logit and only adds to |W|^2), and |V w| = |w|, so
        fitting w on x_train V = U S with the same penalty is the same problem in N, not D,
        dimensions."""
        multilabel = y_train.ndim == 2
        basis = None
        if x_train.shape[1] > x_train.shape[0]:
            _, _, vt = np.linalg.svd(x_train, full_matrices=False)
            basis = vt.T  # (D, N)
            x_train, x_val = x_train @ basis, x_val @ basis
        best, start = None, None
        for l2 in sorted(L2_GRID, reverse=True):
            W, b = fit_logistic(x_train, y_train, n_classes, l2, init=start)
            start = (W, b)
            score = criterion(y_val, logistic_proba(x_val, W, b, multilabel))
            if best is None or score < best[0]:
                best = (score, W, b, l2)
        _, W, b, l2 = best
        return cls(basis @ W if basis is not None else W, b, l2, multilabel)

    def proba(self, X: np.ndarray) -> np.ndarray:
        return logistic_proba(X, self.W, self.b, self.multilabel)

    def logits(self, X: np.ndarray) -> np.ndarray:
        return X @ self.W + self.b

    def tensors(self) -> dict[str, np.ndarray]:
        return {"W": self.W, "b": self.b}

    @classmethod
    def from_tensors(cls, tensors: dict, l2: float, multilabel: bool) -> LinearModel:
        return cls(np.asarray(tensors["W"], np.float64), np.asarray(tensors["b"], np.float64), l2, multilabel)


def fuse(proba: np.ndarray, linear_logits: np.ndarray, weight: float, multilabel: bool) -> np.ndarray:
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
    """A logistic regression with the features it reads: n-gram counts of SMILES (`ngrams`), the
    scaled values zero-padded to `max_length` steps (one column per step and channel), or
    MiniRocket's features of the scaled values (`rocket`) and of their first differences
    (`rocket_diff`). Saved as linear.safetensors (W, b and MiniRocket's tensors) + linear.json
    (penalty, n-gram vocabulary, MiniRocket dilations)."""

    model: LinearModel
    scaler: Standardizer | None = None  # the classifier's channel scaler (values)
    max_length: int = 0  # raw values: steps per channel
    ngrams: NGrams | None = None
    rocket: MiniRocket | None = None
    rocket_diff: MiniRocket | None = None  # "minirocket+diff": a second bank on the first differences

    @classmethod
    def fit(cls, kind: str, train: Sequences, val: Sequences, y_train, y_val, n_classes: int, criterion,
            scaler=None, max_length: int = 0, seed: int = 0, model: str = "logistic") -> LinearPath:  # fmt: skip
        """kind: "ngrams" | "values" | "minirocket" | "minirocket+diff"; model: "logistic" (the penalty
        chosen on `val` by `criterion`) | "ridge" (LinearModel.fit)."""
        path = cls(None, scaler, max_length)
        if kind == "ngrams":
            path.ngrams = NGrams.fit(train.smiles)
            x_train = path.features(train)
        elif kind in ("minirocket", "minirocket+diff"):
            scaled = path._scaled(train)
            path.rocket, x_train = MiniRocket.fit_transform(scaled, seed=seed)
            if kind == "minirocket+diff":  # its own biases: another stream of random training picks
                path.rocket_diff, x_diff = MiniRocket.fit_transform(differences(scaled), seed=seed + 1)
                x_train = np.hstack([x_train, x_diff])
        else:
            x_train = path.features(train)
        path.model = LinearModel.fit(x_train, y_train, path.features(val), y_val, n_classes, criterion, model)
        return path

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
        for prefix, rocket in (("minirocket.", self.rocket), ("minirocket_diff.", self.rocket_diff)):
            tensors |= rocket.tensors(prefix) if rocket is not None else {}
        save_tensors(folder / "linear.safetensors", {k: torch.as_tensor(v) for k, v in tensors.items()})
        write_json(folder / "linear.json", {
            "l2": self.model.l2,
            "ngrams": dataclasses.asdict(self.ngrams) if self.ngrams is not None else None,
            "minirocket_dilations": self.rocket.dilations if self.rocket is not None else None,
            "minirocket_diff_dilations": self.rocket_diff.dilations if self.rocket_diff is not None else None,
        })  # fmt: skip

    @classmethod
    def load(cls, folder, multilabel: bool, scaler=None, max_length: int = 0, features: str = "raw") -> LinearPath:
        """features: the classifier's linear_features ("raw", "minirocket" or "minirocket+diff")."""
        from safetensors.numpy import load_file

        from ..runs import read_json

        folder = pathlib.Path(folder)
        if not (folder / "linear.safetensors").is_file():
            raise LstmkitError(f"--run: {folder} has linear_weight > 0 but no linear.safetensors")
        saved, tensors = read_json(folder / "linear.json"), load_file(folder / "linear.safetensors")
        path = cls(LinearModel.from_tensors(tensors, saved["l2"], multilabel), scaler, max_length)
        if saved["ngrams"] is not None:
            path.ngrams = NGrams(**saved["ngrams"])

        def bank(name: str) -> MiniRocket:  # "minirocket" (the values) or "minirocket_diff"
            if not saved.get(f"{name}_dilations"):
                raise LstmkitError(f"--run: {folder}/linear.json lacks the {name} dilations")
            return MiniRocket.from_tensors(tensors, saved[f"{name}_dilations"], f"{name}.")

        if features in ("minirocket", "minirocket+diff"):
            path.rocket = bank("minirocket")
        if features == "minirocket+diff":
            path.rocket_diff = bank("minirocket_diff")
        return path


def differences(values: list[np.ndarray]) -> list[np.ndarray]:
    """Each sequence's first differences along time, (L - 1, C): MultiRocket's second
    representation (Tan et al. 2022). MiniRocket's kernels sum to zero, so they already ignore the
    level; on the differences they read the slope's shape, which on the values is smoothed over
    nine steps. A one-step sequence has no difference: one zero step, so that it still has features."""
    return [np.diff(v, axis=0) if len(v) > 1 else np.zeros_like(v) for v in values]
