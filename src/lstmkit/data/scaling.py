"""Standardisation fitted on the training split only, and its JSON round trip.

The article fits a MinMaxScaler on all the data, which leaks the test period's range into
training. Here the statistics come from the training split alone; standardising (rather than
min-max) keeps a linear model's coefficients well conditioned and treats outliers gently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SeriesScalers", "Standardizer"]


@dataclass
class Standardizer:
    mean: np.ndarray  # (F,)
    std: np.ndarray  # (F,)
    columns: list[str]

    @classmethod
    def fit(cls, x: np.ndarray, columns: list[str], total=None) -> Standardizer:
        """x: (T, F) training rows only. total: sums a float64 array over every process holding
        a share of the rows (distributed.total), so the pooled statistics of rows spread over
        several processes are those of all of them; None: these rows alone. Two passes, as
        NumPy's nanstd makes them: the mean, then the mean squared deviation from it."""
        total = total or (lambda v: v)
        count = total(np.sum(~np.isnan(x), axis=0).astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total(np.nansum(x, axis=0)) / count
            std = np.sqrt(total(np.nansum((x - mean) ** 2, axis=0)) / count)
        mean = np.where(count > 0, mean, 0.0)
        std = np.where(count > 0, std, 1.0)
        std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)  # a constant column stays put
        mean = np.where(np.isfinite(mean), mean, 0.0)  # a column with no value at all
        return cls(np.asarray(mean, float), np.asarray(std, float), list(columns))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def inverse(self, x: np.ndarray, column: int = 0) -> np.ndarray:
        return x * self.std[column] + self.mean[column]

    def to_dict(self) -> dict:
        return {"columns": self.columns, "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Standardizer:
        mean, std = np.asarray(d["mean"], float), np.asarray(d["std"], float)
        columns = list(d["columns"])
        if mean.ndim != 1 or mean.shape != std.shape or len(mean) != len(columns):
            raise ValueError("a scaler needs one mean and one std per column")
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            # fit() never writes one: a NaN scale would turn every forecast blank
            raise ValueError("a scaler's mean and std must be finite, and the std above 0")
        return cls(mean, std, columns)


@dataclass
class SeriesScalers:
    """One Standardizer per series, from that series' own training rows, and a pooled one (all
    series' training rows together) for a series that had too few or none.

    Per series, every series enters the shared AR and LSTM with mean 0 and spread 1 over its
    training period (Darts' Scaler treats a list of series so); pooled, series keep their
    differences in level and spread, which the AR's shared coefficients can use. Neither wins
    everywhere (docs/forecasting.md has the measurements); with `per_series=False` every series
    uses the pooled statistics.
    """

    pooled: Standardizer
    series: dict[str, Standardizer]

    @classmethod
    def fit(
        cls,
        rows: dict,
        columns: list[str],
        per_series: bool = True,
        min_rows: int = 2,
        total=None,
    ) -> SeriesScalers:
        """rows: series name -> (T, F) training rows of that series. A series with fewer than
        `min_rows` of them (too few for a trustworthy spread) takes the pooled statistics.
        total: as Standardizer.fit's, where other processes hold other series (their own
        scalers are theirs: a series is never split)."""
        stacked = np.concatenate(list(rows.values())) if rows else np.zeros((0, len(columns)))
        pooled = Standardizer.fit(stacked, columns, total)
        if not per_series:
            return cls(pooled, {})
        return cls(
            pooled,
            {str(k): Standardizer.fit(v, columns) for k, v in rows.items() if len(v) >= min_rows},
        )

    def get(self, series) -> Standardizer:
        return self.series.get(str(series), self.pooled)

    def to_dict(self) -> dict:
        return {
            **self.pooled.to_dict(),
            "per_series": {k: v.to_dict() for k, v in self.series.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> SeriesScalers:
        """Also reads a run saved before per-series scaling (pooled statistics only)."""
        own = {k: Standardizer.from_dict(v) for k, v in d.get("per_series", {}).items()}
        return cls(Standardizer.from_dict(d), own)
