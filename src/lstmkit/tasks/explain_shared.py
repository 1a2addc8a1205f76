"""What both explanations (tasks/explain_classifier.py, tasks/explain_forecaster.py) build their
results from: per-unit statistics by layer and direction, the memory summary in
words, the share of an attribution that falls on a part of the input, and occlusion's groups of
time steps."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["memory_summary", "share", "steps_mask", "unit_layers"]


def unit_layers(stats_per_direction: list[list[dict]], num_directions: int) -> list[dict]:
    return [
        {"layer": k // num_directions, "direction": k % num_directions, "units": units}
        for k, units in enumerate(stats_per_direction)
    ]


def memory_summary(layers: list[dict]) -> str:
    first = layers[0]["units"]
    lives = [u["half_life"] for u in first if u["half_life"] is not None]
    if not lives:
        return "This cell has no gate that decides what to keep, so no memory half-life can be read from it."
    f = np.array([u["forget_mean"] for u in first])
    lives = np.array(lives)
    long = int((lives > 20).sum())
    still = sum(u["constant"] for u in first)
    finite = lives[np.isfinite(lives)]
    longest = f"{finite.max():.0f}" if len(finite) else "inf"
    return (
        f"Memory (layer 1, forward direction, {len(first)} units): the median unit keeps {np.median(f):.2f} of its "
        f"cell each step, so half of what it holds is gone after about {np.median(lives):.1f} steps; {long} "
        f"unit(s) hold on for more than 20 steps (longest {longest}); {still} unit(s) never change."
    )


def share(values: np.ndarray, mask: np.ndarray) -> float:
    total = np.abs(values).sum()
    return float(np.abs(values[mask]).sum() / total) if total > 0 else 0.0


def steps_mask(steps, shape) -> torch.Tensor:
    """A boolean mask of `shape` that selects the given time steps (the first axis): an occlusion group."""
    mask = torch.zeros(shape, dtype=torch.bool)
    mask[list(steps)] = True
    return mask
