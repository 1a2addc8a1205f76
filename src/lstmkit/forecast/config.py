"""Every setting of a Forecaster, declared once: type, default, help, range and choices.

    ForecastConfig(data=DataConfig, split=SplitConfig, model=ModelConfig, train=TrainConfig,
                   base=BaseConfig)

`lstmkit forecast`'s options are generated from these fields (cli/options.py), config.json holds
this tree, and a bad value is a one-line error naming the field (`hidden_size: input should be
greater than 0, got 0`; the command line says `--hidden-size`). The defaults are the article's
model unless a note says why.
"""

from __future__ import annotations

import warnings
from typing import Literal

from pydantic import field_validator, model_validator

from ..config import (
    LayerConfig,
    Section,
    Tree,
    csv_list,
    known,
    nproc_setting,
    setting,
    threads_setting,
)

__all__ = [
    "BaseConfig",
    "DataConfig",
    "ForecastConfig",
    "ModelConfig",
    "SplitConfig",
    "TrainConfig",
    "legacy",
]


class DataConfig(Section):
    """What to read, and how to make it a regular series."""

    time: str | None = setting(None, "Time column (needed for your own file).", option="--time-col")
    time_unit: Literal["auto", "s", "ms", "us", "ns"] = setting(
        "auto",
        "A numeric time column's unit since 1970 (Unix epoch); auto: from its magnitude "
        "(seconds below 1e11, milliseconds below 1e14, ...).",
    )
    target: str | None = setting(None, "Column to forecast (needed for your own file).")
    series: str | None = setting(
        None,
        "Series id column: many series in long format, one global model.",
        option="--series-col",
    )
    past_covariates: list[str] | Literal["auto"] | None = setting(
        "auto",
        "Comma-separated measured columns the model may read up to now; 'auto': numeric columns "
        "with "
        "<= 5% missing; 'none'.",
    )
    freq: str | None = setting(
        None, "Pandas frequency alias (h, 5min, D, MS, ...); inferred if not given."
    )
    fill: Literal["interpolate", "none"] = setting(
        "interpolate", "interpolate short gaps (counted in the report); none: refuse any gap."
    )
    max_gap: int | None = setting(
        None,
        "Longest gap to interpolate, in steps; longer gaps split a series.",
        ge=0,
        strict=True,
        le=1_000_000,
    )
    duplicates: Literal["error", "mean"] = setting(
        "error",
        "A time given twice in a series: refuse it (error), or average the rows (mean); the "
        "embedded data "
        "sets say their own.",
    )
    scaling: Literal["pooled", "series"] = setting(
        "pooled", "Standardise all series by their pooled training statistics, or each by its own."
    )

    @field_validator("past_covariates", mode="before")
    @classmethod
    def _covariates(cls, value):
        if isinstance(value, str) and value in ("auto", "none"):
            return None if value == "none" else value
        return csv_list(value)


class SplitConfig(Section):
    """The chronological split: shares of the time span; training is what is left."""

    val: float = setting(
        0.1,
        "Share of the time span for validation (early stopping, the AR's order, the correction "
        "test).",
        option="--val-fraction",
        gt=0,
        lt=1,
    )
    test: float = setting(
        0.2, "Share of the time span held out for test.", option="--test-fraction", gt=0, lt=1
    )

    @model_validator(mode="after")
    def _leaves_training(self):
        if self.val + self.test >= 1:
            raise ValueError(
                f"val={self.val:g} and test={self.test:g} leave no training period; keep their "
                "sum below 1"
            )
        return self

    @property
    def train(self) -> float:
        return round(1.0 - self.val - self.test, 10)  # 1 - 0.1 - 0.2 is 0.7000000000000001


class ModelConfig(Section):
    """The network: the LSTM that corrects the base, and its heads."""

    hidden_size: int = setting(
        50, "Units of each LSTM layer (the article's LSTM(50)).", gt=0, strict=True, le=4096
    )
    num_layers: int = setting(1, "Stacked LSTM layers.", gt=0, strict=True, le=16)
    cell: str = setting("lstm", "Any cell of `lstmkit cells`.")
    dropout: float = setting(0.0, "Between stacked LSTM layers.", ge=0, lt=1)
    horizon: int = setting(
        1, "Steps ahead to forecast (direct multi-output).", gt=0, strict=True, le=10_000
    )
    quantiles: list[float] = setting(
        [],
        "e.g. 0.1,0.9: pinball loss and a conformal prediction interval (0.5 is added).",
        min_length=0,
    )

    @field_validator("cell")
    @classmethod
    def _cell(cls, value):
        from ..cells import CELLS  # here: the command line builds its options without torch

        return known(value, CELLS, "cell")

    @field_validator("quantiles", mode="before")
    @classmethod
    def _quantiles(cls, value):
        try:
            return csv_list(value, float)
        except ValueError:
            raise ValueError(f"expected numbers like 0.1,0.9, got {value!r}") from None

    @field_validator("quantiles")
    @classmethod
    def _each_once_inside(cls, value):
        if any(not 0 < q < 1 for q in value):
            raise ValueError(f"each must be in (0, 1), got {value}")
        twice = sorted({q for q in value if value.count(q) > 1})
        if twice:  # two heads for one predictions.csv column
            raise ValueError(f"each at most once, got {', '.join(map(str, twice))} more than once")
        return value

    @field_validator("dropout")
    @classmethod
    def _dropout_needs_layers(cls, value, info):
        # torch.nn.LSTM (and lstmkit.LSTM) only warn; a forecast setting that does nothing is
        # refused instead, since a user who typed --dropout expects it to act.
        if value > 0 and info.data.get("num_layers") == 1:
            raise ValueError(
                f"{value} acts only between stacked layers, but num_layers=1; set num_layers > 1 "
                "or dropout 0"
            )
        return value

    @property
    def levels(self) -> list[float]:
        """The quantile heads: the asked ones and the median (the point forecast); [] for one
        head."""
        q = self.quantiles
        return q if not q or 0.5 in q else sorted([*q, 0.5])

    @property
    def median_index(self) -> int:
        return self.levels.index(0.5) if self.levels else 0

    def layer(self, input_size: int) -> LayerConfig:
        """The LSTM layer's config (batch first: the model runs (N, L, F))."""
        return LayerConfig(
            input_size,
            self.hidden_size,
            self.num_layers,
            batch_first=True,
            dropout=self.dropout,
            cell=self.cell,
        )


class TrainConfig(Section):
    """How the network is trained: the scheme, its batches, the optimiser and when to stop."""

    scheme: Literal["every-step", "windows"] = setting(
        "every-step",
        "every-step: contiguous chunks, a loss at every step, state carried; windows: the "
        "article's recipe. "
        "(benchmarks/forecast.py: every-step reaches a better RMSE faster)",
    )
    window: int = setting(
        24,
        "Input window (windows scheme) or burn-in (every-step); the article's 24.",
        gt=0,
        strict=True,
        le=100_000,
    )
    chunk: int = setting(
        16,
        "every-step: steps per truncated-BPTT chunk (state kept).",
        gt=0,
        strict=True,
        le=100_000,
    )
    epochs: int = setting(
        100, "At most; early stopping on validation decides.", gt=0, strict=True, le=100_000
    )
    patience: int = setting(
        5, "Epochs without a better validation loss, then stop.", gt=0, strict=True, le=100_000
    )
    batch_size: int = setting(32, "The article's 32.", gt=0, strict=True, le=65_536)
    lr: float = setting(
        1e-3, "Adam's learning rate (the article's).", gt=0, allow_inf_nan=False, le=10.0
    )
    weight_decay: float = setting(
        0.0, "AdamW's decoupled weight decay (0: Adam exactly).", ge=0, allow_inf_nan=False
    )
    cosine: bool = setting(
        False, "Cosine decay of the learning rate over --epochs.", option="--cosine/--no-cosine"
    )
    seed: int = setting(0, "Seeds the weights and the batches.", le=2**31 - 1, ge=0)
    threads: int = threads_setting()
    nproc: int = nproc_setting("data-parallel, sharing out the series")


class BaseConfig(Section):
    """The base the LSTM corrects (the AR, statsforecast's models) and the test that keeps the
    correction."""

    max_lag: int | None = setting(
        None,
        "Largest AR lag tried (the order is chosen on validation). [default: a week of sub-daily "
        "steps, a year "
        "of daily ones (260 business days), else three seasons]",
        gt=0,
        strict=True,
        le=100_000,
    )
    season: int | None = setting(
        None,
        "Season of the seasonal-naive baseline and MASE; from the frequency if not given.",
        gt=0,
        strict=True,
        le=100_000,
    )
    statistical: Literal["auto", "off"] = setting(
        "auto",
        "auto: fit statsforecast's AutoETS, AutoTheta, AutoARIMA (season <= 12) and MSTL (a "
        "second season) on "
        "each series' training part, show them beside the baselines, and let the base the LSTM "
        "corrects be one of "
        "them, or their average, where it beats the AR on validation beyond chance (the average "
        "where validation is "
        "too short to tell); off: the AR alone (faster).",
    )
    correction_test: Literal["test", "off"] = setting(
        "test",
        "test: keep the LSTM's correction of the base only where it beats the base on validation "
        "beyond "
        "chance (Diebold-Mariano, 5%), for each group of horizon steps; off: whenever early "
        "stopping found it "
        "better at all.",
    )


class ForecastConfig(Tree):
    """Every setting of a forecast, in five sections."""

    @classmethod
    def from_settings(cls, settings: dict, owner: str) -> ForecastConfig:
        """As Tree.from_settings; a setting renamed since (RENAMED) is taken, with a warning."""
        for old, new in RENAMED.items():
            if old in settings:
                warnings.warn(
                    f"{owner}: {old} is deprecated; it is now {new}",
                    DeprecationWarning,
                    stacklevel=3,
                )
                settings = {new: settings[old], **{k: v for k, v in settings.items() if k != old}}
        return super().from_settings(settings, owner)

    data: DataConfig = DataConfig()
    split: SplitConfig = SplitConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    base: BaseConfig = BaseConfig()


# Settings renamed since; a run directory or a script that still says them keeps working.
RENAMED = {"lstm_gate": "correction_test"}


def legacy(saved: dict) -> dict:
    """A config.json "config" of the flat form (runs saved before the tree) as flat settings of
    today's tree: train/val fractions become val/test, and renamed settings their new names."""
    flat = {RENAMED.get(k, k): v for k, v in saved.items() if k != "train"}
    if "train" in saved and "val" in saved:
        flat["test"] = round(1.0 - saved["train"] - saved["val"], 10)
    return flat
