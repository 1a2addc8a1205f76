"""MiniRocket features (Dempster, Schmidt & Webb 2021): a fixed bank of convolutions whose outputs
are summarised as proportions, the linear path's features for numeric sequences.

A random-kernel convolutional network whose only trained part is the linear layer on top; fused
with the LSTM (linear/paths.py) it is the convolution-LSTM fusion of LSTM-FCN with the conv branch
fixed instead of learned, which on 449 training beats overfits less than a learned one
(docs/classify.md measures both).

    kernels    84 of length 9: weight -1 everywhere but three positions of weight 2 (C(9, 3) = 84),
               so each sums to 0: away from the edges the output does not move with the level
    dilations  d = floor(2^e) for e evenly spaced in [0, log2((L - 1) / 8)], so that the widest
               kernel spans the training length L; repeats give that dilation more features
    output     C_t = sum_j w_j * x_{t + (j - 4) d}, summed over a random subset of the channels
    biases     b = the quantiles q_i = frac(i * golden ratio) of C on one random training sequence,
               one bias per feature (each kernel and dilation gets several)
    feature    PPV = the proportion of positive values, mean_t [C_t > b], over the valid steps:
               with zero padding for half the (kernel, dilation) pairs, over the steps where the
               kernel lies inside the sequence for the other half (alternating, as in the paper)

PPV is a count divided by the sequence's own length, so sequences of different lengths are
summarised without padding ever being read: padded steps are set to -inf before counting. The
features are then standardised by their training mean and sd for the L2 logistic regression.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

KERNEL_LENGTH = 9
_POSITIONS = np.array(list(itertools.combinations(range(KERNEL_LENGTH), 3)))
WEIGHTS = np.full((len(_POSITIONS), KERNEL_LENGTH), -1.0, np.float32)
WEIGHTS[np.arange(len(_POSITIONS))[:, None], _POSITIONS] = 2.0
N_KERNELS = len(WEIGHTS)  # 84
MAX_DILATIONS = 32  # per kernel, as in the paper
GOLDEN = (np.sqrt(5) + 1) / 2


@dataclass
class MiniRocket:
    dilations: list[int]
    biases: list[np.ndarray]  # per dilation: (84, features per kernel at that dilation)
    channels: list[np.ndarray]  # per dilation: (84, C) 0/1, the channels each kernel sums over
    mean: np.ndarray | None = None  # (features,) training mean and sd, for standardising
    sd: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return sum(b.size for b in self.biases)

    @classmethod
    def fit(cls, values: list[np.ndarray], n_features: int = 10_000, seed: int = 0) -> MiniRocket:
        """Dilations from the longest training sequence, biases from random training sequences;
        values: (L_i, C) arrays (already scaled). About n_features features (a multiple of 84).
        Standardising needs the training features too: fit_transform."""
        rng = np.random.default_rng(seed)
        length, n_channels = max(len(v) for v in values), values[0].shape[1]
        per_kernel = max(1, n_features // N_KERNELS)
        n_dil = min(per_kernel, MAX_DILATIONS)
        top = max(0.0, np.log2((length - 1) / (KERNEL_LENGTH - 1))) if length > 1 else 0.0
        dilations, repeats = np.unique(
            np.floor(2 ** np.linspace(0, top, n_dil)).astype(int), return_counts=True
        )
        per_dilation = (repeats * per_kernel / n_dil).astype(int)
        # the remainder, one each from the smallest
        for i in range(per_kernel - per_dilation.sum()):
            per_dilation[i % len(per_dilation)] += 1
        quantiles = (np.arange(1, N_KERNELS * per_dilation.sum() + 1) * GOLDEN) % 1
        model, start = cls([int(d) for d in dilations], [], []), 0
        for i, (d, n_f) in enumerate(zip(model.dilations, per_dilation, strict=True)):
            model.channels.append(_channel_subsets(n_channels, rng))
            # kernel k reads training sequence picks[k]
            picks = rng.integers(len(values), size=N_KERNELS)
            biases = np.empty((N_KERNELS, n_f), np.float32)
            rows = _rows_per_chunk(length, n_channels)
            for first in range(0, N_KERNELS, rows):
                x, n = _batch([values[r] for r in picks[first : first + rows]])
                out, (padded, inner) = model._conv(x, i), _steps(n, x.shape[1], d)
                for j, k in enumerate(range(first, first + len(x))):
                    steps = padded[j] if (k + i) % 2 == 0 else inner[j]
                    biases[k] = np.quantile(
                        out[j, k, steps], quantiles[start + k * n_f : start + (k + 1) * n_f]
                    )
            start += N_KERNELS * n_f
            model.biases.append(biases)
        return model

    @classmethod
    def fit_transform(cls, values: list[np.ndarray], n_features: int = 10_000, seed: int = 0):
        """The fitted transform and the training features, standardised by their own statistics."""
        model = cls.fit(values, n_features, seed)
        train = model.transform(values, standardise=False)
        sd = train.std(0)
        # constant in training: left as is
        model.mean, model.sd = (
            train.mean(0),
            np.where(sd > 1e-8, sd, 1.0),
        )
        return model, (train - model.mean) / model.sd

    def transform(self, values: list[np.ndarray], standardise: bool = True) -> np.ndarray:
        """(N, n_features) PPV features, standardised by the training statistics."""
        out = []
        chunk = _rows_per_chunk(max((len(v) for v in values), default=1), self.channels[0].shape[1])
        for s in range(0, len(values), chunk):
            x, n = _batch(values[s : s + chunk])
            feats = []
            for i, d in enumerate(self.dilations):
                conv, ppv = self._conv(x, i), np.empty((len(x), *self.biases[i].shape))
                # kernels k with (k + i) even read the zero-padded output, the others the inner
                # steps
                for first, steps in zip((i % 2, 1 - i % 2), _steps(n, x.shape[1], d), strict=True):
                    ppv[:, first::2] = _proportion_above(
                        conv[:, first::2], steps, self.biases[i][first::2]
                    )
                feats.append(ppv.reshape(len(x), -1))
            out.append(np.concatenate(feats, 1))
        features = np.concatenate(out) if out else np.zeros((0, self.n_features))
        if not standardise:
            return features
        if self.mean is None:
            raise ValueError(
                "MiniRocket.transform: fitted with fit(), not fit_transform(): no training "
                "statistics"
            )
        features -= self.mean  # in place: the features are this call's own, and 80 kB a sequence
        features /= self.sd
        return features

    def _conv(self, x: torch.Tensor, i: int) -> np.ndarray:
        """The 84 kernels' outputs at dilation i with zero padding, (N, 84, L), each the sum over
        its channels."""
        d, (N, L, C) = self.dilations[i], x.shape
        w = torch.as_tensor(WEIGHTS)[:, None]
        per_channel = torch.nn.functional.conv1d(
            x.transpose(1, 2).reshape(N * C, 1, L), w, dilation=d, padding=4 * d
        )
        if C == 1:
            return per_channel.numpy()
        mask = torch.as_tensor(self.channels[i].T, dtype=torch.float32)  # (C, 84)
        return torch.einsum("nckl,ck->nkl", per_channel.reshape(N, C, N_KERNELS, L), mask).numpy()

    def tensors(self, prefix: str = "") -> dict[str, np.ndarray]:
        out = {"mean": self.mean, "sd": self.sd}
        for i in range(len(self.dilations)):
            out[f"biases.{i}"], out[f"channels.{i}"] = (
                self.biases[i],
                self.channels[i].astype(np.float32),
            )
        return {prefix + k: v for k, v in out.items()}

    @classmethod
    def from_tensors(cls, tensors: dict, dilations: list[int], prefix: str = "") -> MiniRocket:
        def get(key):
            value = tensors[prefix + key]
            return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)

        return cls(
            list(dilations),
            [get(f"biases.{i}").astype(np.float32) for i in range(len(dilations))],
            [get(f"channels.{i}") > 0.5 for i in range(len(dilations))],
            get("mean").astype(np.float64),
            get("sd").astype(np.float64),
        )


def _channel_subsets(n_channels: int, rng) -> np.ndarray:
    """(84, C) 0/1: each kernel sums over 1 to min(C, 9) channels, the count log-uniform (the
    paper's multivariate variant); with one channel, that channel."""
    out = np.zeros((N_KERNELS, n_channels), bool)
    top = np.log2(min(n_channels, KERNEL_LENGTH) + 1)
    for k in range(N_KERNELS):
        size = int(2 ** rng.uniform(0, top))
        out[k, rng.choice(n_channels, size=max(1, min(size, n_channels)), replace=False)] = True
    return out


def _steps(n: torch.Tensor, L: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Which steps of the zero-padded output count, (N, L) bool each: every step of the sequence
    (padding), and the steps where the kernel lies inside it (no padding; a sequence too short
    for that counts every step after all)."""
    t, n = np.arange(L)[None], n.numpy()[:, None]
    padded = t < n
    inner = (t >= 4 * d) & (t < n - 4 * d)
    return padded, np.where(inner.any(1, keepdims=True), inner, padded)


def _proportion_above(conv: np.ndarray, steps: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """mean over the counted steps of [conv_t > bias]: (N, K, L), (N, L), (K, F) -> (N, K, F), by
    sorting each row once and binary-searching every bias (F searches instead of F * L compares)."""
    if (steps == steps[0]).all():  # one window for every row (equal lengths): slice, no mask
        cols = np.flatnonzero(steps[0])
        conv = conv[:, :, cols[0] : cols[-1] + 1]
    else:  # steps not counted sort first as -inf and are never above a bias
        conv = np.where(steps[:, None], conv, -np.inf).astype(np.float32)
    # NumPy's: ~10x torch's on short rows
    ordered = torch.from_numpy(np.sort(np.ascontiguousarray(conv), -1))
    b = torch.from_numpy(np.ascontiguousarray(np.broadcast_to(biases, (len(conv), *biases.shape))))
    above = ordered.shape[-1] - torch.searchsorted(ordered, b, right=True).numpy()
    return above / steps.sum(1)[:, None, None]


def _rows_per_chunk(length: int, n_channels: int, budget: int = 2**26) -> int:
    """Sequences convolved at once: the per-channel outputs (rows x C x 84 x L float32) within
    `budget` bytes (64 MiB), at most 512."""
    return int(np.clip(budget // (4 * N_KERNELS * n_channels * max(length, 1)), 1, 512))


def _batch(values: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = [len(v) for v in values]
    x = np.zeros((len(values), max(lengths), values[0].shape[1]), np.float32)
    for k, v in enumerate(values):
        x[k, : len(v)] = v
    return torch.as_tensor(x), torch.as_tensor(lengths)
