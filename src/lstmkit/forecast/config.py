"""Every setting of a Forecaster, and the checks that turn a bad one into a one-line error naming
its command-line option (before any data is read)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import LstmkitError, require_number, require_positive

__all__ = ["ForecastConfig", "check_config"]


@dataclass
class ForecastConfig:
    """Every setting of a forecast; the defaults are the article's model unless a note says why."""

    time: str | None = None  # column names; None: the embedded data set's defaults
    target: str | None = None
    series: str | None = None  # long format: many series, one global model
    past_covariates: list[str] | str | None = "auto"  # auto: numeric columns with <= 5% missing
    freq: str | None = None  # pandas alias; None: inferred
    fill: str = "interpolate"  # or "none": refuse gaps
    max_gap: int | None = None  # longest gap interpolated (steps); longer gaps split the series
    duplicates: str = "error"  # or "mean"
    scaling: str = "pooled"  # or "series": each series by its own training statistics (docs/forecasting.md)
    train: float = 0.7  # chronological fractions of the time span; test is the rest
    val: float = 0.1
    window: int = 24  # the article's window; every-step: the burn-in before the loss counts
    horizon: int = 1
    hidden_size: int = 50  # the article's LSTM(50)
    num_layers: int = 1
    cell: str = "lstm"
    dropout: float = 0.0
    quantiles: list[float] = field(default_factory=list)  # e.g. [0.1, 0.5, 0.9]; 0.5 is added
    scheme: str = "every-step"  # benchmarks/forecast.py: reaches a better RMSE faster than windows
    epochs: int = 100  # at most; early stopping on validation decides
    patience: int = 5  # epochs without a better validation loss before stopping (docs/forecasting.md)
    batch_size: int = 32  # the article's
    lr: float = 1e-3  # Adam, the article's
    chunk: int = 16  # every-step: steps per truncated-BPTT chunk (state carries on; see docs/forecasting.md)
    statistical: str = "auto"  # auto: statsforecast's models fitted, shown and tried as the base; off: not
    lstm_gate: str = "test"  # test: keep the LSTM's correction only if it beats the AR on validation
    # beyond chance (a Diebold-Mariano test); off: whenever early stopping found it better at all
    season: int | None = None  # seasonal naive and MASE; None: from the frequency
    max_lag: int | None = None  # largest AR lag tried; None: a week of sub-daily data, a year of daily
    seed: int = 0
    threads: int = 1  # intra-op threads: 1 is fastest for small models on small machines


def check_config(cfg: ForecastConfig) -> None:
    positive = ("window", "horizon", "hidden_size", "num_layers", "epochs", "patience", "batch_size", "chunk",
                "threads")  # fmt: skip
    optional = tuple(name for name in ("season", "max_lag") if getattr(cfg, name) is not None)  # None: chosen
    require_positive(cfg, positive + optional)
    if cfg.max_gap is not None and (not isinstance(cfg.max_gap, int) or cfg.max_gap < 0):
        raise LstmkitError(f"--max-gap: expected a number of steps, 0 or more, got {cfg.max_gap!r}")
    if not 0 <= cfg.dropout < 1:
        raise LstmkitError(f"--dropout: expected a value in [0, 1), got {cfg.dropout}")
    require_number(cfg, ("lr",))
    if cfg.scaling not in ("series", "pooled"):
        raise LstmkitError(f"--scaling: expected 'series' or 'pooled', got {cfg.scaling!r}")
    if cfg.scheme not in ("windows", "every-step"):
        raise LstmkitError(f"--scheme: expected 'windows' or 'every-step', got {cfg.scheme!r}")
    if not (0 < cfg.train < 1 and 0 < cfg.val < 1 and cfg.train + cfg.val < 1):
        test = round(1 - cfg.train - cfg.val, 10)
        raise LstmkitError(
            f"split (--val-fraction, --test-fraction): train={cfg.train:g}, val={cfg.val:g} and test={test:g} must "
            "each be in (0, 1)"
        )
    if cfg.duplicates not in ("error", "mean"):
        raise LstmkitError(f"--duplicates: expected 'error' or 'mean', got {cfg.duplicates!r}")
    if any(not 0 < q < 1 for q in cfg.quantiles):
        raise LstmkitError(f"--quantiles: each must be in (0, 1), got {cfg.quantiles}")
    twice = sorted({q for q in cfg.quantiles if cfg.quantiles.count(q) > 1})
    if twice:  # two heads for one predictions.csv column
        raise LstmkitError(f"--quantiles: each at most once, got {', '.join(map(str, twice))} more than once")
    if cfg.statistical not in ("auto", "off"):
        raise LstmkitError(f"--statistical: expected 'auto' or 'off', got {cfg.statistical!r}")
    if cfg.lstm_gate not in ("test", "off"):
        raise LstmkitError(f"--lstm-gate: expected 'test' or 'off', got {cfg.lstm_gate!r}")
    from ..cells import get_cell

    get_cell(cfg.cell)
