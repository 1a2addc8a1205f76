"""Typed configs with one source of defaults, their JSON round trip, and the error users see.

The bottom of the package: imports nothing from lstmkit.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["LayerConfig", "LstmkitError", "from_dict", "require_positive", "settings_of", "to_json"]


class LstmkitError(ValueError):
    """Bad input from a user. The message is one line: what (argument, file or column),
    what was expected and what was given. The CLI prints it without a traceback."""


@dataclass(frozen=True)
class LayerConfig:
    """Everything that defines an `lstmkit.LSTM`; `LSTM.from_config(cfg)` rebuilds it."""

    input_size: int
    hidden_size: int
    num_layers: int = 1  # stacked layers; each layer's output is the next one's input
    bias: bool = True  # two bias vectors (b_ih, b_hh), as torch.nn.LSTM, so weights interchange
    batch_first: bool = False  # False: (L, N, H_in) as torch.nn.LSTM; True: (N, L, H_in)
    dropout: float = 0.0  # between stacked layers, in training only (needs num_layers > 1)
    bidirectional: bool = False  # a second pass right to left, outputs concatenated
    cell: str = "lstm"  # a name from lstmkit.cells.CELLS
    forget_bias: float | None = 1.0  # Jozefowicz et al. 2015; None keeps torch's uniform init
    kernel: str = "auto"  # auto: torch's fused kernel where one exists, else the compiled loop


def from_dict(cls, data: dict[str, Any], where: str = "config"):
    """Build dataclass `cls` from `data`, rejecting unknown keys and wrong types by name."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise LstmkitError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(fields)}")
    return cls(**data)


def settings_of(cls, settings: dict[str, Any], owner: str):
    """A task's config from keyword settings, naming any it does not know."""
    unknown = set(settings) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise LstmkitError(f"{owner}: unknown setting(s) {sorted(unknown)}")
    return cls(**settings)


def require_positive(config, names) -> None:
    """Each named field must be an int above zero; the error names the command-line option."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise LstmkitError(f"--{name.replace('_', '-')}: expected a positive integer, got {value!r}")


def require_number(config, names, *, zero_allowed: bool = False) -> None:
    """Each named field must be a finite number above zero (or at least zero); the error names the
    command-line option (a negative learning rate would otherwise surface from inside torch.optim)."""
    for name in names:
        value = getattr(config, name)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value < 0 or (value == 0 and not zero_allowed):
            expected = "a number of 0 or more" if zero_allowed else "a positive number"
            raise LstmkitError(f"--{name.replace('_', '-')}: expected {expected}, got {value!r}")


def to_json(config) -> str:
    return json.dumps(dataclasses.asdict(config), indent=2, sort_keys=True)
