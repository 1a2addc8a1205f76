"""Standardisation fitted on the training split only, and its JSON round trip.

The article fits a MinMaxScaler on all the data, which leaks the test period's range into
training. Here the statistics come from the training split alone; standardising (rather than
min-max) keeps a linear model's coefficients well conditioned and treats outliers gently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Standardizer"]


@dataclass
class Standardizer:
    mean: np.ndarray  # (F,)
    std: np.ndarray  # (F,)
    columns: list[str]

    @classmethod
    def fit(cls, x: np.ndarray, columns: list[str]) -> Standardizer:
        """x: (T, F) training rows only."""
        mean = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
        std = np.nanstd(x, axis=0) if len(x) else np.ones(x.shape[1])
        std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)  # a constant column stays put
        return cls(np.asarray(mean, float), np.asarray(std, float), list(columns))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def inverse(self, x: np.ndarray, column: int = 0) -> np.ndarray:
        return x * self.std[column] + self.mean[column]

    def to_dict(self) -> dict:
        return {"columns": self.columns, "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Standardizer:
        return cls(np.asarray(d["mean"], float), np.asarray(d["std"], float), list(d["columns"]))
